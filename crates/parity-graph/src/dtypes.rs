//! The element type of every value of a graph, propagated in graph order from what the graph
//! declares (inputs, initializers, `value_info`, outputs) through per-op rules, so that values can
//! be declared as typed graph outputs (runtimes refuse an output without a type).
//!
//! The rules: an op's outputs take the type of its first input, except where ONNX says otherwise:
//! `Cast` (its `to`), `CastLike` (its second input), `Constant` and `ConstantOfShape` (their
//! value), ops that produce indices or shapes (`Shape`, `Size`, `ArgMax`, `NonZero`, `TopK`'s
//! second output, `MaxPool`'s indices: int64), comparisons and logic (bool), `Dropout`'s mask (bool),
//! `Where` (its second input), `OneHot` (its values), the quantisation ops (`MatMulInteger` and
//! `ConvInteger`: int32), and the random generators (their `dtype`, float by default). Sub-graph ops (`If`, `Loop`, `Scan`) are not entered; their outputs stay
//! untyped unless the graph declares them.

use std::collections::HashMap;

use parity_core::onnx::proto::tensor_proto::DataType;
use parity_core::onnx::proto::type_proto::Value as TypeValue;
use parity_core::onnx::proto::{AttributeProto, GraphProto, NodeProto, ValueInfoProto};

const BOOL_OPS: &[&str] = &[
    "Equal",
    "Less",
    "LessOrEqual",
    "Greater",
    "GreaterOrEqual",
    "Not",
    "And",
    "Or",
    "Xor",
    "IsNaN",
    "IsInf",
];
const INT64_OPS: &[&str] = &["Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression"];
const SUBGRAPH_OPS: &[&str] = &["If", "Loop", "Scan"];

/// The declared element type of a value, if it has one.
fn declared(v: &ValueInfoProto) -> Option<i32> {
    match v.r#type.as_ref()?.value.as_ref()? {
        TypeValue::TensorType(t) => t.elem_type.filter(|&e| e != DataType::Undefined as i32),
        _ => None,
    }
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name() == name)
}

/// Element type codes (`TensorProto.DataType`) of every value whose type is declared or follows
/// from the rules, by name.
pub fn infer(graph: &GraphProto) -> HashMap<String, i32> {
    let mut types: HashMap<String, i32> = HashMap::new();
    for v in graph.input.iter().chain(&graph.value_info).chain(&graph.output) {
        if let Some(t) = declared(v) {
            types.insert(v.name().to_string(), t);
        }
    }
    for t in &graph.initializer {
        types.insert(t.name().to_string(), t.data_type());
    }
    for node in &graph.node {
        let input = |k: usize| {
            node.input.get(k).filter(|n| !n.is_empty()).and_then(|n| types.get(n)).copied()
        };
        let first = node.input.iter().filter(|n| !n.is_empty()).find_map(|n| types.get(n)).copied();
        let op = node.op_type();
        let int64 = DataType::Int64 as i32;
        let boolean = DataType::Bool as i32;
        let float = DataType::Float as i32;
        let by_attr_dtype = || attr(node, "dtype").map(|a| a.i() as i32);
        let outputs: Vec<Option<i32>> = (0..node.output.len())
            .map(|k| match (op, k) {
                _ if SUBGRAPH_OPS.contains(&op) => None,
                ("Cast", _) => attr(node, "to").map(|a| a.i() as i32),
                ("CastLike", _) => input(1),
                ("Constant", _) => attr(node, "value")
                    .and_then(|a| a.t.as_ref())
                    .map(|t| t.data_type())
                    .or_else(|| {
                        if attr(node, "value_float").is_some()
                            || attr(node, "value_floats").is_some()
                        {
                            Some(float)
                        } else if attr(node, "value_int").is_some()
                            || attr(node, "value_ints").is_some()
                        {
                            Some(int64)
                        } else {
                            None
                        }
                    }),
                ("ConstantOfShape", _) => Some(
                    attr(node, "value").and_then(|a| a.t.as_ref()).map_or(float, |t| t.data_type()),
                ),
                (op, _) if INT64_OPS.contains(&op) => Some(int64),
                (op, _) if BOOL_OPS.contains(&op) => Some(boolean),
                ("TopK", 1) | ("MaxPool", 1) => Some(int64),
                ("Dropout", 1) => Some(boolean),
                ("Where", _) => input(1),
                ("OneHot", _) => input(2),
                ("MatMulInteger" | "ConvInteger", _) => Some(DataType::Int32 as i32),
                ("QLinearConv", _) => input(7),
                ("QLinearMatMul", _) => input(7),
                ("QuantizeLinear", _) => input(2).or(Some(DataType::Uint8 as i32)),
                ("DequantizeLinear", _) => input(1),
                ("DynamicQuantizeLinear", 1) => Some(float),
                ("DynamicQuantizeLinear", _) => Some(DataType::Uint8 as i32),
                ("RandomNormal" | "RandomUniform", _) => by_attr_dtype().or(Some(float)),
                ("RandomNormalLike" | "RandomUniformLike" | "EyeLike", _) => {
                    by_attr_dtype().or(first)
                }
                _ => first,
            })
            .collect();
        for (name, t) in node.output.iter().zip(outputs) {
            if let (false, Some(t)) = (name.is_empty(), t) {
                types.entry(name.clone()).or_insert(t);
            }
        }
    }
    types
}

#[cfg(test)]
mod tests {
    use parity_core::onnx::proto::TensorProto;

    use super::*;

    fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
        NodeProto {
            op_type: Some(op.into()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn types_follow_the_ops() {
        let x = crate::values::typed("x", DataType::Float as i32);
        let mut cast = node("Cast", &["s"], &["c"]);
        cast.attribute.push(AttributeProto {
            name: Some("to".into()),
            i: Some(DataType::Double as i64),
            ..Default::default()
        });
        let graph = GraphProto {
            input: vec![x],
            initializer: vec![TensorProto {
                name: Some("k".into()),
                data_type: Some(DataType::Int32 as i32),
                ..Default::default()
            }],
            node: vec![
                node("Relu", &["x"], &["r"]),
                node("Shape", &["r"], &["s"]),
                cast,
                node("Less", &["r", "r"], &["lt"]),
                node("Where", &["lt", "k", "k"], &["w"]),
                node("Dropout", &["r"], &["d", "mask"]),
                node("If", &["lt"], &["branch"]),
                node("OneHot", &["s", "s", "r"], &["hot"]),
                node("MatMulInteger", &["k", "k"], &["acc"]),
            ],
            ..Default::default()
        };
        let t = infer(&graph);
        let code = |n: &str| t.get(n).copied();
        assert_eq!(code("r"), Some(DataType::Float as i32));
        assert_eq!(code("s"), Some(DataType::Int64 as i32));
        assert_eq!(code("c"), Some(DataType::Double as i32));
        assert_eq!(code("lt"), Some(DataType::Bool as i32));
        assert_eq!(code("w"), Some(DataType::Int32 as i32));
        assert_eq!(code("d"), Some(DataType::Float as i32));
        assert_eq!(code("mask"), Some(DataType::Bool as i32));
        assert_eq!(code("branch"), None);
        assert_eq!(code("hot"), Some(DataType::Float as i32), "OneHot takes its values' type");
        assert_eq!(code("acc"), Some(DataType::Int32 as i32));
    }
}

//! One node of a graph cut out as a model of its own, to run it alone on given inputs.
//!
//! `localize` runs each node by itself on the reference backend's values of its inputs (the
//! node's *isolated* error), and writes the culprit node as a repro model. The node keeps its
//! attributes; inputs that are initializers of the graph stay initializers (so weights are
//! weights), every other input becomes a graph input, typed from the values that will be fed.

use std::collections::HashMap;

use parity_core::onnx::proto::tensor_shape_proto::{Dimension, dimension};
use parity_core::onnx::proto::{
    GraphProto, ModelProto, TensorShapeProto, TypeProto, ValueInfoProto, type_proto,
};
use parity_core::{DType, onnx::onnx_type_code};

/// A value's element type and shape.
pub type ValueType = (DType, Vec<usize>);

/// A tensor value declared with `dtype` and the fixed `shape`.
pub fn typed_value(name: &str, dtype: DType, shape: &[usize]) -> ValueInfoProto {
    let dim = shape
        .iter()
        .map(|&n| Dimension {
            value: Some(dimension::Value::DimValue(n as i64)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(onnx_type_code(dtype)),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Node `index` of `model`'s main graph as a one-node model, or `None` when it cannot stand alone
/// (a node with sub-graphs, `If` or `Loop`, may read values of the outer graph). Every input that
/// is not an initializer becomes a graph input typed from `types` (untyped when absent), and every
/// output is declared typed from `types` where known.
pub fn node_model(
    model: &ModelProto,
    index: usize,
    types: &HashMap<String, ValueType>,
) -> Option<ModelProto> {
    let graph = model.graph.as_ref()?;
    let node = graph.node.get(index)?;
    if node.attribute.iter().any(|a| a.g.is_some() || !a.graphs.is_empty()) {
        return None;
    }
    let declare = |name: &str| match types.get(name) {
        Some((dtype, shape)) => typed_value(name, *dtype, shape),
        None => ValueInfoProto { name: Some(name.to_string()), ..Default::default() },
    };
    let mut input = Vec::new();
    let mut initializer = Vec::new();
    for name in node.input.iter().filter(|n| !n.is_empty()) {
        if input.iter().any(|v: &ValueInfoProto| v.name() == name.as_str())
            || initializer
                .iter()
                .any(|t: &parity_core::onnx::proto::TensorProto| t.name() == name.as_str())
        {
            continue;
        }
        match graph.initializer.iter().find(|t| t.name() == name.as_str()) {
            Some(t) => initializer.push(t.clone()),
            None => input.push(declare(name)),
        }
    }
    let output = node.output.iter().filter(|n| !n.is_empty()).map(|n| declare(n)).collect();
    Some(ModelProto {
        ir_version: model.ir_version,
        opset_import: model.opset_import.clone(),
        producer_name: Some("ssrnet-parity localize".into()),
        graph: Some(GraphProto {
            name: Some(crate::values::node_name(node, index)),
            node: vec![node.clone()],
            input,
            output,
            initializer,
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use parity_core::onnx::proto::{NodeProto, TensorProto};

    use super::*;

    #[test]
    fn a_node_keeps_its_weights_and_takes_the_rest_as_inputs() {
        let conv = NodeProto {
            op_type: Some("Conv".into()),
            name: Some("conv".into()),
            input: vec!["x".into(), "w".into(), "x".into()],
            output: vec!["y".into()],
            ..Default::default()
        };
        let model = ModelProto {
            ir_version: Some(8),
            graph: Some(GraphProto {
                node: vec![conv],
                initializer: vec![TensorProto { name: Some("w".into()), ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let types = HashMap::from([("x".to_string(), (DType::F32, vec![1, 3, 8, 8]))]);
        let cut = node_model(&model, 0, &types).unwrap();
        let g = cut.graph.unwrap();
        let inputs: Vec<&str> = g.input.iter().map(|v| v.name()).collect();
        assert_eq!(inputs, ["x"], "each input once, weights not among them");
        assert_eq!(g.initializer.len(), 1);
        assert_eq!(g.output[0].name(), "y");
        assert!(g.input[0].r#type.is_some() && g.output[0].r#type.is_none());
        assert!(node_model(&model, 1, &types).is_none());
    }
}

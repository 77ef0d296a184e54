//! One node, or a chain of nodes, of a graph cut out as a model of its own, to run it alone on
//! given inputs.
//!
//! `localize` runs each node by itself on the reference backend's values of its inputs (the
//! node's *isolated* error), and writes the culprit node as a repro model. The node keeps its
//! attributes; inputs that are initializers of the graph stay initializers (so weights are
//! weights), every other input becomes a graph input, typed from the values that will be fed.

use std::collections::{HashMap, HashSet};

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
    let node = model.graph.as_ref()?.node.get(index)?;
    let outputs: Vec<String> = node.output.iter().filter(|n| !n.is_empty()).cloned().collect();
    subgraph_model(model, &[index], &outputs, types)
}

/// Nodes `indices` (in graph order) of `model`'s main graph as a model returning `outputs`, or
/// `None` when one of them cannot stand alone (sub-graphs). Values the nodes read but do not
/// compute become graph inputs (initializers stay initializers), typed from `types`.
pub fn subgraph_model(
    model: &ModelProto,
    indices: &[usize],
    outputs: &[String],
    types: &HashMap<String, ValueType>,
) -> Option<ModelProto> {
    let graph = model.graph.as_ref()?;
    let nodes: Vec<_> = indices.iter().map(|&i| graph.node.get(i)).collect::<Option<_>>()?;
    if nodes.iter().any(|n| n.attribute.iter().any(|a| a.g.is_some() || !a.graphs.is_empty())) {
        return None;
    }
    let declare = |name: &str| match types.get(name) {
        Some((dtype, shape)) => typed_value(name, *dtype, shape),
        None => ValueInfoProto { name: Some(name.to_string()), ..Default::default() },
    };
    let mut computed: HashSet<&str> = HashSet::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let (mut input, mut initializer) = (Vec::new(), Vec::new());
    for node in &nodes {
        for name in node.input.iter().filter(|n| !n.is_empty()) {
            if computed.contains(name.as_str()) || !seen.insert(name.as_str()) {
                continue;
            }
            match graph.initializer.iter().find(|t| t.name() == name.as_str()) {
                Some(t) => initializer.push(t.clone()),
                None => input.push(declare(name)),
            }
        }
        computed.extend(node.output.iter().map(String::as_str));
    }
    let first = indices.first().copied().unwrap_or(0);
    Some(ModelProto {
        ir_version: model.ir_version,
        opset_import: model.opset_import.clone(),
        producer_name: Some("ssrnet-parity localize".into()),
        graph: Some(GraphProto {
            name: Some(crate::values::node_name(nodes.first()?, first)),
            node: nodes.into_iter().cloned().collect(),
            input,
            output: outputs.iter().map(|n| declare(n)).collect(),
            initializer,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The nodes among `0..=last` whose outputs `last` depends on, and `last`, in graph order.
pub fn ancestors(graph: &GraphProto, last: usize) -> Vec<usize> {
    ancestors_until(graph, last, |_| false)
}

/// The nodes `last` depends on back to the values that are `known` (given, so not computed
/// again), and `last`, in graph order: the segment that computes `last`'s outputs from known
/// values. With every value known it is `[last]`.
pub fn ancestors_until(
    graph: &GraphProto,
    last: usize,
    known: impl Fn(&str) -> bool,
) -> Vec<usize> {
    let mut needed: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for (i, node) in graph.node.iter().enumerate().take(last + 1).rev() {
        if i == last || node.output.iter().any(|o| needed.contains(o.as_str())) {
            needed.extend(node.input.iter().map(String::as_str).filter(|n| !known(n)));
            out.push(i);
        }
    }
    out.reverse();
    out
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

    #[test]
    fn a_chain_keeps_its_inner_values_inside_and_its_ancestors_only() {
        let n = |op: &str, i: &[&str], o: &str| NodeProto {
            op_type: Some(op.into()),
            input: i.iter().map(|s| s.to_string()).collect(),
            output: vec![o.into()],
            ..Default::default()
        };
        let graph = GraphProto {
            node: vec![
                n("Relu", &["x"], "a"),
                n("Neg", &["x"], "side"),
                n("Mul", &["a", "a"], "b"),
                n("Add", &["b", "x"], "y"),
            ],
            ..Default::default()
        };
        assert_eq!(ancestors(&graph, 3), [0, 2, 3], "the side branch is not needed");
        assert_eq!(ancestors_until(&graph, 3, |v| v == "b"), [3], "b is given");
        assert_eq!(ancestors_until(&graph, 3, |v| v == "a"), [2, 3], "from a on");
        let model = ModelProto { graph: Some(graph), ..Default::default() };
        let cut = subgraph_model(&model, &[2, 3], &["y".to_string()], &HashMap::new()).unwrap();
        let g = cut.graph.unwrap();
        let inputs: Vec<&str> = g.input.iter().map(|v| v.name()).collect();
        assert_eq!(inputs, ["a", "x"], "b is computed inside; a and x come in");
        assert_eq!(g.node.len(), 2);
    }
}

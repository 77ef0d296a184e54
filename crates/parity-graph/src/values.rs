//! The values of a graph, in the order they are computed, and the graph rewritten to return them.
//!
//! A backend that cannot read intermediate values natively runs [`expose`]d: the same graph with
//! every named value appended to its outputs (Polygraphy's `--onnx-outputs mark all`). Extra
//! outputs can change what an optimising runtime computes (a fused Conv + Relu must now also write
//! the Conv's output), which is why callers compare the exposed graph's original outputs with the
//! plain graph's.

use std::collections::HashSet;

use parity_core::onnx::proto::{
    GraphProto, ModelProto, NodeProto, TypeProto, ValueInfoProto, type_proto,
};

/// One value a node computes: the node's index in the graph, its name and op, and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeValue {
    pub node: usize,
    pub node_name: String,
    pub op: String,
    pub value: String,
}

/// Every output value of every node of the main graph, in graph order (ONNX requires a graph's
/// nodes to be topologically sorted), skipping empty (omitted optional) outputs. A node without a
/// name is named `<op>_<index>`.
pub fn node_values(graph: &GraphProto) -> Vec<NodeValue> {
    graph
        .node
        .iter()
        .enumerate()
        .flat_map(|(i, node)| {
            let name = node_name(node, i);
            node.output.iter().filter(|o| !o.is_empty()).map(move |o| NodeValue {
                node: i,
                node_name: name.clone(),
                op: node.op_type().to_string(),
                value: o.clone(),
            })
        })
        .collect()
}

/// A node's name, or `<op>_<index>` when it has none.
pub fn node_name(node: &NodeProto, index: usize) -> String {
    match node.name() {
        "" => format!("{}_{index}", node.op_type()),
        name => name.to_string(),
    }
}

/// `model` with every value in `names` that is not already a graph output appended to the
/// graph's outputs, each typed from the graph's `value_info` or [`crate::dtypes::infer`] (without a
/// shape: runtimes infer it). Returns the names left out because their type is unknown (values of
/// sub-graph ops the graph does not declare).
pub fn expose(model: &ModelProto, names: &[String]) -> (ModelProto, Vec<String>) {
    let mut model = model.clone();
    let mut untyped = Vec::new();
    let Some(graph) = model.graph.as_mut() else { return (model, untyped) };
    let types = crate::dtypes::infer(graph);
    let mut present: HashSet<String> = graph.output.iter().map(|o| o.name().to_string()).collect();
    for name in names {
        if !present.insert(name.clone()) {
            continue;
        }
        if let Some(v) = graph.value_info.iter().find(|v| v.name() == name.as_str()) {
            graph.output.push(v.clone());
            continue;
        }
        match types.get(name) {
            Some(&code) => graph.output.push(typed(name, code)),
            None => untyped.push(name.clone()),
        }
    }
    (model, untyped)
}

/// A value declared with an element type and no shape.
pub(crate) fn typed(name: &str, code: i32) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(code),
                shape: None,
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
        NodeProto {
            op_type: Some(op.into()),
            name: Some(name.into()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn values_come_in_graph_order_and_exposing_adds_each_once() {
        let graph = GraphProto {
            node: vec![
                node("Relu", "r", &["x"], &["a"]),
                node("Dropout", "", &["a"], &["b", ""]),
                node("Add", "add", &["a", "b"], &["y"]),
            ],
            input: vec![typed("x", 1)],
            output: vec![ValueInfoProto { name: Some("y".into()), ..Default::default() }],
            ..Default::default()
        };
        let values = node_values(&graph);
        let names: Vec<&str> = values.iter().map(|v| v.value.as_str()).collect();
        assert_eq!(names, ["a", "b", "y"]);
        assert_eq!(values[1].node_name, "Dropout_1");
        let model = ModelProto { graph: Some(graph), ..Default::default() };
        let all: Vec<String> = values.iter().map(|v| v.value.clone()).collect();
        let (exposed, untyped) = expose(&model, &all);
        assert!(untyped.is_empty(), "typed from x: {untyped:?}");
        let outputs: Vec<&str> =
            exposed.graph.as_ref().unwrap().output.iter().map(|o| o.name()).collect();
        assert_eq!(outputs, ["y", "a", "b"]);
    }
}

//! Nodes of a graph cut out as a model of their own, fed given values: what `localize` runs a
//! node (or a chain of nodes) alone on.

use std::collections::{HashMap, HashSet};

use parity_core::onnx::proto::{ModelProto, TensorProto};
use parity_core::{DType, NamedTensors, Tensor};
use prost::Message;

use crate::extract::{ValueType, subgraph_model};

/// Nodes `indices` of `model` (one node, or a chain) as a model of their own, with what it is fed:
/// inputs typed from `feed`, the outputs named in `expected` typed from it; `None` when a node
/// cannot stand alone (sub-graphs). Integer inputs (axes, shapes, indices) and outputs of the graph's `Constant`
/// nodes become initializers holding the fed numbers: runtimes may need them constant (tract reads
/// `ReduceSum`'s axes only from a constant), and the node computes the same either way.
pub fn cut(
    model: &ModelProto,
    indices: &[usize],
    feed: &NamedTensors,
    expected: &NamedTensors,
) -> Option<(ModelProto, NamedTensors)> {
    let types: HashMap<String, ValueType> = feed
        .iter()
        .chain(expected)
        .map(|(name, t): (&String, &Tensor)| (name.clone(), (t.dtype(), t.shape().to_vec())))
        .collect();
    let outputs: Vec<String> = expected.keys().cloned().collect();
    let mut cut = subgraph_model(model, indices, &outputs, &types)?;
    let graph = cut.graph.as_mut().expect("subgraph_model builds a graph");
    let constants: HashSet<&str> = model
        .graph
        .iter()
        .flat_map(|g| &g.node)
        .filter(|n| n.op_type() == "Constant")
        .flat_map(|n| n.output.iter().map(String::as_str))
        .collect();
    let mut fed = NamedTensors::new();
    for input in std::mem::take(&mut graph.input) {
        let name = input.name().to_string();
        let Some(t) = feed.get(&name) else {
            graph.input.push(input);
            continue;
        };
        if constants.contains(name.as_str()) || matches!(t.dtype(), DType::I64 | DType::I32) {
            let bytes = parity_core::tensor_proto::encode(Some(&name), t);
            graph.initializer.push(TensorProto::decode(bytes.as_slice()).ok()?);
        } else {
            fed.insert(name, t.clone());
            graph.input.push(input);
        }
    }
    Some((cut, fed))
}

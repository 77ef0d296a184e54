//! One node run alone on given values of its inputs (the *isolated* run): a node whose isolated
//! error exceeds the tolerance computes differently itself, whatever its inputs did.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use parity_core::onnx::proto::ModelProto;
use parity_core::{NamedTensors, Options, Tensor};
use parity_graph::extract::{ValueType, node_model};
use prost::Message;

use super::model::Model;
use crate::backends::BackendName;

/// Node `index` of `model` as a one-node model: inputs typed from `feed`, outputs from `expected`
/// (only the outputs named there), or `None` when the node cannot stand alone (sub-graphs).
pub fn cut(
    model: &Model,
    index: usize,
    feed: &NamedTensors,
    expected: &NamedTensors,
) -> Option<ModelProto> {
    let types: HashMap<String, ValueType> = feed
        .iter()
        .chain(expected)
        .map(|(name, t): (&String, &Tensor)| (name.clone(), (t.dtype(), t.shape().to_vec())))
        .collect();
    let mut cut = node_model(&model.proto, index, &types)?;
    let graph = cut.graph.as_mut().expect("node_model builds a graph");
    graph.output.retain(|o| expected.contains_key(o.name()));
    Some(cut)
}

/// Runs `cut` (node `index`) on `backend`, fed `feed`; the model is written to `scratch` first.
/// An error is a message: a backend that cannot run a node alone leaves that node's isolated
/// error unknown, it does not end the run.
pub fn run(
    backend: BackendName,
    cut: &ModelProto,
    index: usize,
    feed: &NamedTensors,
    options: &Options,
    scratch: &Path,
) -> Result<NamedTensors, String> {
    let path: PathBuf = scratch.join(format!("node-{index}-{}.onnx", backend.as_str()));
    std::fs::write(&path, cut.encode_to_vec()).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut runnable = backend.runtime().prepare(&path, options).map_err(|e| e.to_string())?;
    runnable.run(feed).map_err(|e| e.to_string())
}

//! `inspect`: what a model declares (IO, opset, producer, metadata, ops, external data) and which
//! backends can run it, as each runtime tells.

use std::collections::BTreeMap;
use std::path::Path;

use parity_core::onnx::{OnnxModel, dtype_string, shape_string};
use serde::Serialize;

use crate::{BackendName, Result};

/// One declared input or output.
#[derive(Debug, Clone, Serialize)]
pub struct Io {
    /// Its name.
    pub name: String,
    /// Its element type (`float32`, ...).
    pub dtype: String,
    /// Its shape (`[N, 3, 64, 64]`).
    pub shape: String,
}

/// What one backend says of the model.
#[derive(Debug, Clone, Serialize)]
pub struct Support {
    /// The backend.
    pub backend: &'static str,
    /// Whether the backend has every op of the model (its runtime decides the rest when it loads).
    pub supported: bool,
    /// The default-domain opsets the backend declares, `[first, last]`.
    pub opsets: [i64; 2],
    /// Whether the model's opset is among them (outside them is a warning, not a refusal).
    pub opset_supported: bool,
    /// The op types it cannot run, as its runtime tells.
    pub unsupported_ops: Vec<String>,
    /// Why it could not tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a model declares, and which backends can run it.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The model file.
    pub model: String,
    /// Its size.
    pub file_bytes: u64,
    /// Its IR version.
    pub ir_version: i64,
    /// The default-domain opset it imports.
    pub opset: Option<i64>,
    /// The producer's name and version.
    pub producer: String,
    /// Its declared inputs.
    pub inputs: Vec<Io>,
    /// Its declared outputs.
    pub outputs: Vec<Io>,
    /// Its `metadata_props`.
    pub metadata: BTreeMap<String, String>,
    /// How many nodes its graph has.
    pub nodes: usize,
    /// How many parameters its initializers hold.
    pub parameters: u64,
    /// How many nodes of each op type.
    pub op_histogram: BTreeMap<String, usize>,
    /// Initializers per external data file.
    pub external_data: BTreeMap<String, usize>,
    /// Each backend's support.
    pub backends: Vec<Support>,
}

/// Inspects `model_path`, asking `backends` (none: all) about op support.
pub fn inspect(model_path: &Path, backends: &[BackendName]) -> Result<Inspection> {
    let model = OnnxModel::read(model_path)?;
    let io = |v: &&parity_core::onnx::proto::ValueInfoProto| Io {
        name: v.name().to_string(),
        dtype: dtype_string(v),
        shape: shape_string(v),
    };
    let backends = crate::registry::chosen(backends)
        .into_iter()
        .map(|b| {
            let runtime = b.runtime();
            let range = runtime.opsets();
            let opsets = [*range.start(), *range.end()];
            let opset_supported = model.opset().is_none_or(|v| range.contains(&v));
            match runtime.unsupported_ops(model_path) {
                Ok(ops) => Support {
                    backend: b.as_str(),
                    supported: ops.is_empty(),
                    opsets,
                    opset_supported,
                    unsupported_ops: ops,
                    error: None,
                },
                Err(e) => Support {
                    backend: b.as_str(),
                    supported: false,
                    opsets,
                    opset_supported,
                    unsupported_ops: Vec::new(),
                    error: Some(e.to_string()),
                },
            }
        })
        .collect();
    Ok(Inspection {
        model: model_path.display().to_string(),
        file_bytes: model.file_bytes,
        ir_version: model.proto.ir_version(),
        opset: model.opset(),
        producer: format!("{} {}", model.proto.producer_name(), model.proto.producer_version())
            .trim()
            .to_string(),
        inputs: model.inputs().iter().map(io).collect(),
        outputs: model.graph().output.iter().collect::<Vec<_>>().iter().map(io).collect(),
        metadata: model.metadata(),
        nodes: model.graph().node.len(),
        parameters: model.parameter_count(),
        op_histogram: model.op_histogram(),
        external_data: model.external_data(),
        backends,
    })
}

//! A model file read for inspection: IO signatures, opsets, producer, metadata, nodes and
//! initializers, over parity-core's ONNX types and its one ONNX-to-`ModelInfo` converter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::proto::{GraphProto, ModelProto, ValueInfoProto};
use super::{dtype_from_onnx, onnx_type_name};
use crate::{Error, Result};

/// A declared element type: numpy's name where ssrnet-parity can hold it, else ONNX's.
pub fn elem_type_name(code: i32) -> String {
    dtype_from_onnx(code).map_or_else(|| onnx_type_name(code), |d| d.name().to_string())
}

/// A model file read for inspection.
pub struct OnnxModel {
    /// Where it was read from.
    pub path: PathBuf,
    /// The decoded model, external data not loaded.
    pub proto: ModelProto,
    /// The model file's size.
    pub file_bytes: u64,
}

impl OnnxModel {
    /// Reads and decodes `path`; an empty, truncated or non-ONNX file is an error naming it.
    pub fn read(path: &Path) -> Result<Self> {
        let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let proto = super::read_model(path)?;
        Ok(OnnxModel { path: path.to_owned(), proto, file_bytes })
    }

    /// The model's graph ([`super::read_model`] guarantees one).
    pub fn graph(&self) -> &GraphProto {
        self.proto.graph.as_ref().expect("checked in read")
    }

    /// The default-domain opset version, if imported.
    pub fn opset(&self) -> Option<i64> {
        super::opset(&self.proto)
    }

    /// The model's `metadata_props`, by key.
    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.proto
            .metadata_props
            .iter()
            .map(|e| (e.key().to_string(), e.value().to_string()))
            .collect()
    }

    /// Op type -> count, with non-default domains written `domain::Op`.
    pub fn op_histogram(&self) -> BTreeMap<String, usize> {
        let mut hist = BTreeMap::new();
        for node in &self.graph().node {
            let key = match node.domain() {
                "" | "ai.onnx" => node.op_type().to_string(),
                domain => format!("{domain}::{}", node.op_type()),
            };
            *hist.entry(key).or_insert(0) += 1;
        }
        hist
    }

    /// Graph inputs that are not initializers.
    pub fn inputs(&self) -> Vec<&ValueInfoProto> {
        super::graph_inputs(self.graph())
    }

    /// External data files referenced by initializers, with how many initializers use each.
    pub fn external_data(&self) -> BTreeMap<String, usize> {
        let mut files = BTreeMap::new();
        for t in self.graph().initializer.iter().filter(|t| t.data_location == Some(1)) {
            let loc = t.external_data.iter().find(|e| e.key() == "location").map(|e| e.value());
            *files.entry(loc.unwrap_or("?").to_string()).or_insert(0) += 1;
        }
        files
    }

    /// Parameter count over all initializers.
    pub fn parameter_count(&self) -> u64 {
        self.graph().initializer.iter().map(|t| t.dims.iter().product::<i64>().max(0) as u64).sum()
    }

    /// The declared signature through parity-core's one converter; element types the core tensor
    /// cannot hold are an error naming the model.
    pub fn model_info(&self) -> Result<crate::ModelInfo> {
        super::model_info(self.graph()).map_err(|e| Error::invalid(&self.path, e))
    }
}

/// The tensor type of a declared value, if it has one.
fn tensor_type(v: &ValueInfoProto) -> Option<&super::proto::type_proto::Tensor> {
    match v.r#type.as_ref()?.value.as_ref()? {
        super::proto::type_proto::Value::TensorType(t) => Some(t),
        _ => None,
    }
}

/// `[N, 3, 64, 64]`-style rendering of a declared shape (`?` for an unknown dimension, or for no
/// declared shape at all).
pub fn shape_string(v: &ValueInfoProto) -> String {
    match tensor_type(v).and_then(|t| t.shape.as_ref()) {
        Some(shape) => crate::shape_string(&shape.dim.iter().map(super::dim).collect::<Vec<_>>()),
        None => "?".into(),
    }
}

/// The element type name of a declared value.
pub fn dtype_string(v: &ValueInfoProto) -> String {
    tensor_type(v).map_or_else(|| "unknown".to_string(), |t| elem_type_name(t.elem_type()))
}

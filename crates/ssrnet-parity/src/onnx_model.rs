//! Just enough of the ONNX protobuf schema (field numbers from onnx/onnx.proto) to inspect a model:
//! IO signatures, opsets, producer, metadata, nodes and initializers. Unknown fields (tensor payloads,
//! attributes) are skipped by prost, so reading even a large model is cheap.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use parity_core::tensor_proto::{
    StringStringEntryProto, TensorProto, dtype_from_onnx, onnx_type_name,
};
use prost::Message;

#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelProto {
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    #[prost(string, tag = "2")]
    pub producer_name: String,
    #[prost(string, tag = "3")]
    pub producer_version: String,
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    pub domain: String,
    #[prost(int64, tag = "2")]
    pub version: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeProto {
    #[prost(string, tag = "4")]
    pub op_type: String,
    #[prost(string, tag = "7")]
    pub domain: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueInfoProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeProto {
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<DimensionProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DimensionProto {
    #[prost(oneof = "DimValue", tags = "1, 2")]
    pub value: Option<DimValue>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum DimValue {
    #[prost(int64, tag = "1")]
    Value(i64),
    #[prost(string, tag = "2")]
    Param(String),
}

/// A declared element type: numpy's name where ssrnet-parity can hold it, else ONNX's.
pub fn elem_type_name(code: i32) -> String {
    dtype_from_onnx(code).map_or_else(|| onnx_type_name(code), |d| d.name().to_string())
}

/// A model file read for inspection.
pub struct OnnxModel {
    pub path: PathBuf,
    pub proto: ModelProto,
    pub file_bytes: u64,
}

impl OnnxModel {
    /// Reads and decodes `path`; an empty, truncated or non-ONNX file is an error naming it.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("{}: cannot read model", path.display()))?;
        if bytes.is_empty() {
            bail!("{}: empty file, not an ONNX model", path.display());
        }
        let proto = ModelProto::decode(bytes.as_slice())
            .map_err(|e| anyhow::anyhow!("{}: not a valid ONNX model ({e})", path.display()))?;
        let Some(graph) = &proto.graph else {
            bail!("{}: not a valid ONNX model (no graph)", path.display());
        };
        if graph.node.is_empty() || graph.output.is_empty() {
            bail!("{}: not a valid ONNX model (no nodes or no outputs)", path.display());
        }
        Ok(OnnxModel { path: path.to_owned(), proto, file_bytes: bytes.len() as u64 })
    }

    pub fn graph(&self) -> &GraphProto {
        self.proto.graph.as_ref().expect("checked in read")
    }

    /// The default-domain opset version, if imported.
    pub fn opset(&self) -> Option<i64> {
        self.proto
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map(|o| o.version)
    }

    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.proto.metadata_props.iter().map(|e| (e.key.clone(), e.value.clone())).collect()
    }

    /// True when the model's metadata says it carries demo (untrained) weights.
    pub fn has_demo_weights(&self) -> bool {
        self.proto.metadata_props.iter().any(|e| {
            e.key == "weights" && e.value.eq_ignore_ascii_case("demo")
                || e.value.to_ascii_lowercase().contains("demo weights")
        })
    }

    /// Op type -> count, with non-default domains written `domain::Op`.
    pub fn op_histogram(&self) -> BTreeMap<String, usize> {
        let mut hist = BTreeMap::new();
        for node in &self.graph().node {
            let key = if node.domain.is_empty() || node.domain == "ai.onnx" {
                node.op_type.clone()
            } else {
                format!("{}::{}", node.domain, node.op_type)
            };
            *hist.entry(key).or_insert(0) += 1;
        }
        hist
    }

    /// Graph inputs that are not initializers.
    pub fn inputs(&self) -> Vec<&ValueInfoProto> {
        let graph = self.graph();
        let inits: std::collections::HashSet<&str> =
            graph.initializer.iter().filter_map(|t| t.name.as_deref()).collect();
        graph.input.iter().filter(|v| !inits.contains(v.name.as_str())).collect()
    }

    /// External data files referenced by initializers, with how many initializers use each.
    pub fn external_data(&self) -> BTreeMap<String, usize> {
        let mut files = BTreeMap::new();
        for t in self.graph().initializer.iter().filter(|t| t.data_location == Some(1)) {
            let loc = t.external_data.iter().find(|e| e.key == "location").map(|e| e.value.clone());
            *files.entry(loc.unwrap_or_else(|| "?".into())).or_insert(0) += 1;
        }
        files
    }

    /// Parameter count over all initializers.
    pub fn parameter_count(&self) -> u64 {
        self.graph().initializer.iter().map(|t| t.dims.iter().product::<i64>().max(0) as u64).sum()
    }
}

/// `[N, 3, 64, 64]`-style rendering of a declared shape; `?` for an unknown dimension.
pub fn shape_string(v: &ValueInfoProto) -> String {
    let dims =
        v.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()).and_then(|t| t.shape.as_ref());
    let Some(shape) = dims else { return "?".into() };
    let parts: Vec<String> = shape
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(DimValue::Value(v)) => v.to_string(),
            Some(DimValue::Param(p)) => p.clone(),
            None => "?".into(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The element type name of a declared value.
pub fn dtype_string(v: &ValueInfoProto) -> String {
    v.r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .map(|t| elem_type_name(t.elem_type))
        .unwrap_or_else(|| "unknown".to_string())
}

impl OnnxModel {
    /// The declared signature as the backends describe it, for reading golden sets without a
    /// backend. Element types the core tensor cannot hold are an error naming the model.
    pub fn model_info(&self) -> Result<parity_core::ModelInfo> {
        let io = |v: &ValueInfoProto| -> Result<parity_core::IoInfo> {
            let tensor = v.r#type.as_ref().and_then(|t| t.tensor_type.as_ref());
            let code = tensor.map_or(0, |t| t.elem_type);
            let Some(dtype) = dtype_from_onnx(code) else {
                bail!(
                    "{}: '{}' has element type {}, which ssrnet-parity cannot hold",
                    self.path.display(),
                    v.name,
                    elem_type_name(code)
                );
            };
            let shape = tensor
                .and_then(|t| t.shape.as_ref())
                .map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match &d.value {
                            Some(DimValue::Value(n)) if *n >= 0 => {
                                parity_core::Dim::Fixed(*n as usize)
                            }
                            Some(DimValue::Param(p)) => parity_core::Dim::Symbolic(p.clone()),
                            _ => parity_core::Dim::Symbolic("?".into()),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(parity_core::IoInfo { name: v.name.clone(), dtype, shape })
        };
        Ok(parity_core::ModelInfo {
            inputs: self.inputs().into_iter().map(io).collect::<Result<_>>()?,
            outputs: self.graph().output.iter().map(io).collect::<Result<_>>()?,
        })
    }
}

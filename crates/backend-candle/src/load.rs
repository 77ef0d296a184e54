//! Reading a model file: decode the `ModelProto`, then resolve ONNX external data.
//!
//! candle-onnx 0.11.1 builds every initializer from `raw_data` / `*_data` and never looks at
//! `data_location`, so an initializer stored in `model.onnx.data` arrives as an empty tensor (and
//! then fails or computes garbage). [`read_model`] therefore reads each external tensor's bytes
//! (`location`, `offset`, `length` from its `external_data` entries, relative to the model's
//! directory) into `raw_data` and clears `external_data`, so the model that reaches candle is
//! self-contained.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use candle_onnx::onnx::tensor_proto::{DataLocation, DataType};
use candle_onnx::onnx::{GraphProto, ModelProto, TensorProto};
use parity_core::{Error, Result};
use prost::Message;

/// Read and decode the model at `path`, with every external-data tensor loaded into `raw_data`.
pub fn read_model(path: &Path) -> Result<ModelProto> {
    let bytes =
        std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let mut model = ModelProto::decode(bytes.as_slice()).map_err(|e| {
        Error::invalid(path, format!("not an onnx model (protobuf decode failed: {e})"))
    })?;
    let Some(graph) = model.graph.as_mut() else {
        return Err(Error::invalid(path, "not an onnx model (no graph)"));
    };
    if graph.node.is_empty() && graph.output.is_empty() {
        return Err(Error::invalid(path, "not an onnx model (empty graph)"));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut files = DataFiles { dir, model: path, cache: HashMap::new() };
    resolve_graph(graph, &mut files)?;
    Ok(model)
}

/// External data files, each read once.
struct DataFiles<'a> {
    dir: &'a Path,
    model: &'a Path,
    cache: HashMap<PathBuf, Vec<u8>>,
}

impl DataFiles<'_> {
    /// Bytes `[offset, offset + length)` of `location` (the rest of the file when no length).
    fn slice(
        &mut self,
        tensor: &str,
        location: &str,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Vec<u8>> {
        let rel = Path::new(location);
        if location.is_empty() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(Error::invalid(
                self.model,
                format!(
                    "tensor '{tensor}': external data location '{location}' must be a relative path inside the model's directory"
                ),
            ));
        }
        let file = self.dir.join(rel);
        if !self.cache.contains_key(&file) {
            let bytes = std::fs::read(&file).map_err(|e| {
                Error::invalid(
                    &file,
                    format!(
                        "cannot read external data of tensor '{tensor}' (referenced by {}): {e}",
                        self.model.display()
                    ),
                )
            })?;
            self.cache.insert(file.clone(), bytes);
        }
        let bytes = &self.cache[&file];
        let size = bytes.len() as u64;
        let end = match length {
            Some(len) => offset.checked_add(len),
            None => Some(size),
        };
        match end {
            Some(end) if offset <= size && end <= size && offset <= end => {
                Ok(bytes[offset as usize..end as usize].to_vec())
            }
            _ => Err(Error::invalid(
                &file,
                format!(
                    "tensor '{tensor}': external data offset {offset} length {} is out of range (file has {size} bytes)",
                    length.map_or("<rest>".to_string(), |l| l.to_string())
                ),
            )),
        }
    }
}

fn resolve_graph(graph: &mut GraphProto, files: &mut DataFiles) -> Result<()> {
    for t in &mut graph.initializer {
        resolve_tensor(t, files)?;
    }
    for node in &mut graph.node {
        for attr in &mut node.attribute {
            if let Some(t) = attr.t.as_mut() {
                resolve_tensor(t, files)?;
            }
            for t in &mut attr.tensors {
                resolve_tensor(t, files)?;
            }
            if let Some(g) = attr.g.as_mut() {
                resolve_graph(g, files)?;
            }
            for g in &mut attr.graphs {
                resolve_graph(g, files)?;
            }
        }
    }
    Ok(())
}

fn resolve_tensor(t: &mut TensorProto, files: &mut DataFiles) -> Result<()> {
    if t.data_location != DataLocation::External as i32 {
        return Ok(());
    }
    let name = t.name.clone();
    let mut location = None;
    let mut offset = 0u64;
    let mut length = None;
    for kv in &t.external_data {
        let number = |v: &str| {
            v.parse::<u64>().map_err(|_| {
                Error::invalid(
                    files.model,
                    format!("tensor '{name}': external data {} '{v}' is not a number", kv.key),
                )
            })
        };
        match kv.key.as_str() {
            "location" => location = Some(kv.value.clone()),
            "offset" => offset = number(&kv.value)?,
            "length" => length = Some(number(&kv.value)?),
            _ => {} // "checksum" and unknown keys carry no layout information.
        }
    }
    let Some(location) = location else {
        return Err(Error::invalid(
            files.model,
            format!("tensor '{name}': external data has no 'location'"),
        ));
    };
    let bytes = files.slice(&name, &location, offset, length)?;
    if let Some(elem) = elem_size(t.data_type) {
        let count: i64 = t.dims.iter().product();
        if count < 0 || bytes.len() as u64 != count as u64 * elem {
            return Err(Error::invalid(
                files.dir.join(&location),
                format!(
                    "tensor '{name}': external data has {} bytes, dims {:?} need {}",
                    bytes.len(),
                    t.dims,
                    count.max(0) as u64 * elem
                ),
            ));
        }
    }
    t.raw_data = bytes;
    t.external_data.clear();
    t.data_location = DataLocation::Default as i32;
    Ok(())
}

/// Bytes per element of the fixed-size ONNX data types.
fn elem_size(data_type: i32) -> Option<u64> {
    Some(match DataType::try_from(data_type).ok()? {
        DataType::Float | DataType::Int32 | DataType::Uint32 => 4,
        DataType::Double | DataType::Int64 | DataType::Uint64 | DataType::Complex64 => 8,
        DataType::Complex128 => 16,
        DataType::Int16 | DataType::Uint16 | DataType::Float16 | DataType::Bfloat16 => 2,
        DataType::Int8 | DataType::Uint8 | DataType::Bool => 1,
        _ => return None,
    })
}

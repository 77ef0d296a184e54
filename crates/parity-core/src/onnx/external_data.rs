//! ONNX external data (`model.onnx.data`), resolved safely: the one resolver every user of
//! parity-core shares.
//!
//! An initializer stored outside the model names a `location` relative to the model's directory,
//! an `offset` and a `length`. [`load_external_data`] reads each such tensor's bytes into
//! `raw_data`, so the model in memory is self-contained. A model file is untrusted input, so:
//! - the location must be a relative path made of plain components (no `..`, no root);
//! - once symbolic links are resolved it must still lie inside the model's (resolved) directory:
//!   a link to a file or directory elsewhere is refused;
//! - it must be a regular file (not a FIFO, a device such as `/dev/zero`, or a directory);
//! - `offset` and `length` must lie within the file's size, and only those bytes are read;
//! - the bytes must be exactly what the tensor's dims and element type need.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::proto::tensor_proto::{DataLocation, DataType};
use super::proto::{GraphProto, ModelProto, TensorProto};
use crate::{Error, Result};

/// Loads every external-data tensor of `model` (read from `path`) into `raw_data`, subgraphs
/// included; see the module docs for what is refused.
pub fn load_external_data(model: &mut ModelProto, path: &Path) -> Result<()> {
    resolve_model(model, path, true).map(|_| ())
}

/// Checks every external-data reference of `model` (read from `path`) as [`load_external_data`]
/// does (a regular file inside the model's directory, offset and length within it, the size the
/// dims need) without reading the bytes or changing the model: for a runtime that must open the
/// files itself (a model too large to hand over from memory). Returns how many bytes of external
/// data the model references.
pub fn check_external_data(model: &ModelProto, path: &Path) -> Result<u64> {
    resolve_model(&mut model.clone(), path, false)
}

/// Whether any tensor of `model` (sub-graphs included) stores its data externally.
pub fn has_external_data(model: &ModelProto) -> bool {
    fn graph(g: &GraphProto) -> bool {
        g.initializer.iter().any(external)
            || g.node.iter().flat_map(|n| &n.attribute).any(|a| {
                a.t.as_ref().is_some_and(external)
                    || a.tensors.iter().any(external)
                    || a.g.as_ref().is_some_and(graph)
                    || a.graphs.iter().any(graph)
            })
    }
    fn external(t: &TensorProto) -> bool {
        t.data_location() == DataLocation::External
    }
    model.graph.as_ref().is_some_and(graph)
}

/// Resolves (and with `read`, loads) every external-data tensor; the bytes referenced.
fn resolve_model(model: &mut ModelProto, path: &Path, read: bool) -> Result<u64> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut files =
        DataFiles { dir, model: path, root: None, open: HashMap::new(), read, bytes: 0 };
    if let Some(graph) = model.graph.as_mut() {
        resolve_graph(graph, &mut files)?;
    }
    Ok(files.bytes)
}

/// External data files, each opened once.
struct DataFiles<'a> {
    dir: &'a Path,
    model: &'a Path,
    /// The model's directory with links resolved, once needed.
    root: Option<PathBuf>,
    open: HashMap<PathBuf, (File, u64)>,
    /// Whether the bytes are read (else only checked).
    read: bool,
    /// The bytes referenced so far.
    bytes: u64,
}

impl DataFiles<'_> {
    /// The resolved path of `location`, checked to be a regular file inside the model's directory.
    fn resolve(&mut self, tensor: &str, location: &str) -> Result<PathBuf> {
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
        let cannot = |e: std::io::Error| {
            Error::invalid(
                &file,
                format!(
                    "cannot read external data of tensor '{tensor}' (referenced by {}): {e}",
                    self.model.display()
                ),
            )
        };
        let root = match &self.root {
            Some(root) => root.clone(),
            None => {
                let root = self
                    .dir
                    .canonicalize()
                    .map_err(|source| Error::Io { path: self.dir.into(), source })?;
                self.root = Some(root.clone());
                root
            }
        };
        let resolved = file.canonicalize().map_err(cannot)?;
        if !resolved.starts_with(&root) {
            return Err(Error::invalid(
                &file,
                format!(
                    "tensor '{tensor}': external data resolves to {}, outside the model's directory {}",
                    resolved.display(),
                    root.display()
                ),
            ));
        }
        Ok(resolved)
    }

    /// Bytes `[offset, offset + length)` of `location` (the rest of the file when no length);
    /// `None` when only checking.
    fn slice(
        &mut self,
        tensor: &str,
        location: &str,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Option<Vec<u8>>> {
        let resolved = self.resolve(tensor, location)?;
        let shown = self.dir.join(location);
        if !self.open.contains_key(&resolved) {
            // stat before open: opening a FIFO for reading would block until a writer comes.
            let meta = std::fs::metadata(&resolved)
                .map_err(|source| Error::Io { path: shown.clone(), source })?;
            if !meta.is_file() {
                return Err(Error::invalid(
                    &shown,
                    format!("tensor '{tensor}': external data is not a regular file"),
                ));
            }
            let file = File::open(&resolved)
                .map_err(|source| Error::Io { path: shown.clone(), source })?;
            self.open.insert(resolved.clone(), (file, meta.len()));
        }
        let (file, size) = self.open.get_mut(&resolved).expect("inserted above");
        let size = *size;
        let end = match length {
            Some(len) => offset.checked_add(len),
            None => Some(size),
        };
        let (start, end) = match end {
            Some(end) if offset <= end && end <= size => (offset, end),
            _ => {
                return Err(Error::invalid(
                    &shown,
                    format!(
                        "tensor '{tensor}': external data offset {offset} length {} is out of range (file has {size} bytes)",
                        length.map_or("<rest>".to_string(), |l| l.to_string())
                    ),
                ));
            }
        };
        self.bytes += end - start;
        if !self.read {
            return Ok(None);
        }
        let io = |source| Error::Io { path: shown.clone(), source };
        let mut bytes = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.read_exact(&mut bytes).map_err(io)?;
        Ok(Some(bytes))
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
    if t.data_location() != DataLocation::External {
        return Ok(());
    }
    let name = t.name().to_string();
    let mut location = None;
    let mut offset = 0u64;
    let mut length = None;
    for kv in &t.external_data {
        let number = |v: &str| {
            v.parse::<u64>().map_err(|_| {
                Error::invalid(
                    files.model,
                    format!("tensor '{name}': external data {} '{v}' is not a number", kv.key()),
                )
            })
        };
        match kv.key() {
            "location" => location = Some(kv.value().to_string()),
            "offset" => offset = number(kv.value())?,
            "length" => length = Some(number(kv.value())?),
            _ => {} // "checksum" and unknown keys carry no layout information.
        }
    }
    let Some(location) = location else {
        return Err(Error::invalid(
            files.model,
            format!("tensor '{name}': external data has no 'location'"),
        ));
    };
    // Check the size the dims need before reading, so a huge declared length is never allocated
    // for a tensor that could not use it.
    let need = elem_size(t.data_type()).map(|elem| {
        t.dims.iter().try_fold(elem, |acc, &d| u64::try_from(d).ok()?.checked_mul(acc))
    });
    if let (Some(len), Some(need)) = (length, need)
        && need != Some(len)
    {
        return Err(Error::invalid(
            files.dir.join(&location),
            format!(
                "tensor '{name}': external data has {len} bytes, dims {:?} need {}",
                t.dims,
                need.map_or("more than u64".to_string(), |n| n.to_string())
            ),
        ));
    }
    let Some(bytes) = files.slice(&name, &location, offset, length)? else {
        return Ok(());
    };
    if let Some(need) = need
        && need != Some(bytes.len() as u64)
    {
        return Err(Error::invalid(
            files.dir.join(&location),
            format!(
                "tensor '{name}': external data has {} bytes, dims {:?} need {}",
                bytes.len(),
                t.dims,
                need.map_or("more than u64".to_string(), |n| n.to_string())
            ),
        ));
    }
    t.raw_data = Some(bytes.into());
    t.external_data.clear();
    t.data_location = Some(DataLocation::Default as i32);
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

//! The npz layout: one `<case>.npz` per case, arrays keyed by ONNX tensor name.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, Write};
use std::path::Path;

use npyz::zip::{self, ZipArchive};

use super::spec::{Specs, check_case};
use super::{Case, Manifest, Spec, attach_source, io_err};
use crate::{Error, NamedTensors, Result, Tensor};

/// The case name of an npz file: its stem.
pub(super) fn npz_case_name(path: &Path) -> String {
    path.file_stem().unwrap_or_default().to_string_lossy().into_owned()
}

/// Fails when the manifest lists a case whose npz file is not among `names`.
pub(super) fn check_manifest_cases(
    manifest: Option<&Manifest>,
    names: &[String],
    manifest_path: &Path,
) -> Result<()> {
    if let Some(m) = manifest {
        let have: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        for name in m.cases.keys() {
            if !have.contains(name.as_str()) {
                return Err(Error::invalid(
                    manifest_path,
                    format!("lists case '{name}' but {name}.npz is missing"),
                ));
            }
        }
    }
    Ok(())
}

/// Reads the npz case at `path`: the model's inputs and outputs by name, dotted extras beside.
pub(super) fn read_npz_case(
    dir: &Path,
    path: &Path,
    specs: &Specs,
    manifest: Option<&Manifest>,
) -> Result<Case> {
    let name = npz_case_name(path);
    let mut arrays = read_npz(path)?;
    let mut take = |specs: &[Spec], what: &str| -> Result<NamedTensors> {
        let mut out = NamedTensors::new();
        for spec in specs {
            let tensor = arrays.remove(&spec.name).ok_or_else(|| {
                let have: Vec<&str> = arrays.keys().map(String::as_str).collect();
                Error::invalid(
                    path,
                    format!(
                        "missing {what} tensor '{}' (arrays present: {})",
                        spec.name,
                        have.join(", ")
                    ),
                )
            })?;
            out.insert(spec.name.clone(), tensor);
        }
        Ok(out)
    };
    let inputs = take(&specs.inputs, "input")?;
    let outputs = take(&specs.outputs, "output")?;
    let mut extras = NamedTensors::new();
    for (key, tensor) in arrays {
        if !key.contains('.') {
            let io: Vec<&str> =
                specs.inputs.iter().chain(&specs.outputs).map(|s| s.name.as_str()).collect();
            return Err(Error::invalid(
                path,
                format!(
                    "array '{key}' is neither a model input nor output ({}); extras need a dotted name",
                    io.join(", ")
                ),
            ));
        }
        extras.insert(key, tensor);
    }
    check_case(path, specs, &inputs, &outputs)?;
    let mut case = Case { path: path.to_path_buf(), extras, ..Case::new(name, inputs, outputs) };
    attach_source(&mut case, dir, manifest);
    Ok(case)
}

/// Reads every array of an `.npz` file, keyed by name. Each entry is read whole, so zip's CRC
/// check catches corrupted data.
///
/// The archive is untrusted: whatever sizes its directory declares, a member is inflated only up
/// to the size its own npy header declares, plus one byte to tell trailing data (an error), so
/// memory follows the declaration; at most [`MAX_NPZ_INFLATED_BYTES`] are inflated in all, and
/// nothing is allocated ahead of the bytes actually read.
pub fn read_npz(path: impl AsRef<Path>) -> Result<NamedTensors> {
    let path = path.as_ref();
    let (file, _) = crate::fsutil::open_regular(path, crate::fsutil::MAX_FILE_BYTES)?;
    read_npz_from(std::io::BufReader::new(file)).map_err(|m| Error::invalid(path, m))
}

/// The most bytes one `.npz` archive may inflate to (all its arrays together): 1 GiB.
pub const MAX_NPZ_INFLATED_BYTES: u64 = 1 << 30;

fn read_npz_from<R: Read + Seek>(reader: R) -> std::result::Result<NamedTensors, String> {
    let mut zip = ZipArchive::new(reader)
        .map_err(|e| format!("not a valid npz (zip) archive: {}", lowercase(e)))?;
    let mut arrays = NamedTensors::new();
    let mut budget = MAX_NPZ_INFLATED_BYTES;
    for i in 0..zip.len() {
        let mut entry =
            zip.by_index(i).map_err(|e| format!("corrupt npz entry {i}: {}", lowercase(e)))?;
        let entry_name = entry.name().to_string();
        let Some(name) = npyz::npz::array_name_from_file_name(&entry_name).map(str::to_string)
        else {
            continue;
        };
        let bytes = read_member(&mut entry, budget).map_err(|e| match e {
            Member::Io(e) => format!("corrupt npz entry '{entry_name}': {}", lowercase(e)),
            Member::Invalid(why) => format!("array '{name}': {why}"),
        })?;
        budget -= bytes.len() as u64;
        let tensor = crate::npy::decode(&bytes).map_err(|e| format!("array '{name}': {e}"))?;
        arrays.insert(name, tensor);
    }
    if arrays.is_empty() {
        return Err("npz archive holds no arrays".into());
    }
    Ok(arrays)
}

/// The most bytes an npy header may take (numpy writes headers of a few hundred bytes).
const MAX_NPY_HEADER_BYTES: u64 = 1 << 16;

/// Why a member could not be read: its stream failed, or its content is refused.
enum Member {
    Io(std::io::Error),
    Invalid(String),
}

/// The bytes of one npy member (header and data), read no further than its header declares plus
/// one byte, and at most `budget` bytes in all.
fn read_member(entry: &mut impl Read, budget: u64) -> std::result::Result<Vec<u8>, Member> {
    let mut header_bytes =
        Recorder { inner: (&mut *entry).take(MAX_NPY_HEADER_BYTES), bytes: Vec::new() };
    let header = npyz::NpyHeader::from_reader(&mut header_bytes).map_err(|e| {
        let e = e.to_string();
        Member::Invalid(format!(
            "not a valid npy array: {}",
            e.lines().next().unwrap_or_default().trim()
        ))
    })?;
    let mut bytes = header_bytes.bytes;
    let too_large = || Member::Invalid(format!("shape {:?} is too large", header.shape()));
    let item = header.dtype().num_bytes().ok_or_else(too_large)? as u64;
    let declared =
        header.shape().iter().try_fold(item, |acc, &d| acc.checked_mul(d)).ok_or_else(too_large)?;
    if bytes.len() as u64 + declared > budget {
        return Err(Member::Invalid(format!(
            "its header declares {declared} data bytes, past the {MAX_NPZ_INFLATED_BYTES}-byte limit for one npz"
        )));
    }
    let start = bytes.len();
    entry.take(declared + 1).read_to_end(&mut bytes).map_err(Member::Io)?;
    if (bytes.len() - start) as u64 > declared {
        return Err(Member::Invalid(format!(
            "holds data past the {declared} bytes its header declares (shape {:?})",
            header.shape()
        )));
    }
    Ok(bytes)
}

/// A reader that keeps a copy of what was read through it.
struct Recorder<R> {
    inner: R,
    bytes: Vec<u8>,
}

impl<R: Read> Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// A library's message with its first letter lowercased, to fit our error lines.
fn lowercase(e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

/// Writes one case as an `.npz` archive (deflated, fixed timestamps so output is reproducible).
pub(super) fn write_npz_file(path: &Path, case: &Case) -> Result<()> {
    let mut arrays: BTreeMap<&str, &Tensor> = BTreeMap::new();
    for (name, t) in case.inputs.iter().chain(&case.outputs).chain(&case.extras) {
        if arrays.insert(name.as_str(), t).is_some() {
            return Err(Error::invalid(
                path,
                format!("case '{}': tensor name '{name}' used twice", case.name),
            ));
        }
    }
    let file = fs::File::create(path).map_err(io_err(path))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::FileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .last_modified_time(zip::DateTime::default())
        .large_file(false);
    let zerr = |e: zip::result::ZipError| Error::invalid(path, format!("cannot write npz: {e}"));
    for (name, t) in arrays {
        let bytes = crate::npy::encode(t).map_err(io_err(path))?;
        let options =
            if bytes.len() as u64 >= u32::MAX as u64 { options.large_file(true) } else { options };
        zip.start_file(npyz::npz::file_name_from_array_name(name), options).map_err(zerr)?;
        zip.write_all(&bytes).map_err(io_err(path))?;
    }
    let mut inner = zip.finish().map_err(zerr)?;
    inner.flush().map_err(io_err(path))?;
    inner.get_ref().sync_all().map_err(io_err(path))?;
    Ok(())
}

//! Golden sets: inputs with the outputs a trusted reference computed for them, case by case.
//!
//! Two on-disk layouts are read, detected from the directory's content:
//!
//! - **npz** (this project's, like tract's `io.npz`): one `<case>.npz` per case, arrays keyed by
//!   ONNX tensor name; names with a `.` (`preprocess.resized_bgr_u8`) are extras, not model IO.
//!   An optional `manifest.json` ([`Manifest`]) adds the model, tolerances and each case's source
//!   image; unknown keys are kept, not rejected. A directory of bare npz files is a valid set.
//! - **ONNX test data** (`onnx_test_runner`'s): `test_data_set_N/input_K.pb` and `output_K.pb`
//!   TensorProto files; a tensor's name is its `name` field when set, else the model's K-th
//!   declared input/output. Case names come from an optional `cases.json` (`{"0": "name"}` or a
//!   list), else they are `test_data_set_N`. A `manifest.json` there is read too.
//!
//! Reading needs the model's IO names to split arrays into inputs and expected outputs; given a
//! [`ModelInfo`] it also checks every tensor's dtype and rank/fixed dimensions, and that a symbolic
//! dimension (`batch`) has one value across a case. Every error names the file and the problem.
//!
//! **NaN** is data like any other value: an input holding NaN is simply run, and an expected NaN
//! (PyTorch computes one for `sqrt(-1)`) is kept. [`crate::compare`] decides it: it fails against
//! anything unless NaN-equal comparison is asked for, and then passes only against NaN.
//! Infinities compare equal only to themselves.
//!
//! [`write_npz`] writes a set into a temporary directory beside the target and renames it into
//! place, so a failed write leaves nothing behind.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use npyz::zip::{self, ZipArchive};
use serde::{Deserialize, Serialize};

use crate::compare::{Tolerance, Tolerances};
use crate::{DType, Dim, Error, IoInfo, ModelInfo, NamedTensors, Result, Tensor};

/// The manifest file name in a golden directory.
pub const MANIFEST: &str = "manifest.json";
/// The case-name file of the ONNX test-data layout.
pub const CASES_JSON: &str = "cases.json";
/// Prefix of the ONNX test-data case directories.
pub const TEST_DATA_PREFIX: &str = "test_data_set_";

/// `manifest.json`: everything optional, unknown keys kept in `other`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ManifestModel>,
    /// Declared model inputs by name (a JSON object: declared order is not kept).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, ManifestTensor>,
    /// Declared model outputs by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, ManifestTensor>,
    /// Per-output tolerance the set was recorded for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tolerance: BTreeMap<String, Tolerance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocess: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cases: BTreeMap<String, ManifestCase>,
    /// Keys this crate does not know, preserved on rewrite.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The model a golden set was recorded from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManifestModel {
    /// Path relative to the golden directory.
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A declared model input or output: `{"dtype": "float32", "shape": ["N", 3, 64, 64]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManifestTensor {
    /// NumPy dtype name.
    pub dtype: String,
    /// Fixed sizes as numbers, symbolic axes as strings.
    pub shape: Vec<ManifestDim>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One axis of a [`ManifestTensor`] shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ManifestDim {
    Fixed(usize),
    Symbolic(String),
}

/// Where one case's input came from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManifestCase {
    /// Source image, relative to the golden directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Source images of a batched case, one per batch row, relative to the golden directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Free-form description of a synthetic input (e.g. `random-normal seed 3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Manifest {
    /// Reads and parses a manifest file.
    pub fn read(path: impl AsRef<Path>) -> Result<Manifest> {
        let path = path.as_ref();
        let text =
            fs::read_to_string(path).map_err(|source| Error::Io { path: path.into(), source })?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::invalid(path, format!("invalid manifest: {e}")))?;
        for (name, tol) in &manifest.tolerance {
            Tolerance::new(tol.atol, tol.rtol).map_err(|e| {
                Error::invalid(path, format!("invalid tolerance for '{name}': {e}"))
            })?;
        }
        Ok(manifest)
    }

    /// The declared inputs and outputs as a [`ModelInfo`] (each group in name order), or `None`
    /// when the manifest declares no outputs. `path` names the manifest in errors.
    pub fn model_info(&self, path: &Path) -> Result<Option<ModelInfo>> {
        if self.outputs.is_empty() {
            return Ok(None);
        }
        let convert = |group: &BTreeMap<String, ManifestTensor>| -> Result<Vec<IoInfo>> {
            group
                .iter()
                .map(|(name, t)| {
                    let dtype = DType::from_name(&t.dtype).ok_or_else(|| {
                        Error::invalid(
                            path,
                            format!("'{name}' has unsupported dtype '{}'", t.dtype),
                        )
                    })?;
                    let shape = t
                        .shape
                        .iter()
                        .map(|d| match d {
                            ManifestDim::Fixed(n) => Dim::Fixed(*n),
                            ManifestDim::Symbolic(s) => Dim::Symbolic(s.clone()),
                        })
                        .collect();
                    Ok(IoInfo { name: name.clone(), dtype, shape })
                })
                .collect()
        };
        Ok(Some(ModelInfo { inputs: convert(&self.inputs)?, outputs: convert(&self.outputs)? }))
    }

    /// Records `model`'s declared inputs and outputs (for a set written by `record`).
    pub fn set_model_info(&mut self, model: &ModelInfo) {
        let convert = |group: &[IoInfo]| -> BTreeMap<String, ManifestTensor> {
            group
                .iter()
                .map(|io| {
                    let shape = io
                        .shape
                        .iter()
                        .map(|d| match d {
                            Dim::Fixed(n) => ManifestDim::Fixed(*n),
                            Dim::Symbolic(s) => ManifestDim::Symbolic(s.clone()),
                        })
                        .collect();
                    let t = ManifestTensor {
                        dtype: io.dtype.name().to_string(),
                        shape,
                        other: Default::default(),
                    };
                    (io.name.clone(), t)
                })
                .collect()
        };
        self.inputs = convert(&model.inputs);
        self.outputs = convert(&model.outputs);
    }

    /// The manifest's tolerances over `default` for outputs it does not name.
    pub fn tolerances(&self, default: Tolerance) -> Tolerances {
        Tolerances { default, per_output: self.tolerance.clone() }
    }
}

/// Which on-disk layout a golden set was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `<case>.npz` files (+ `manifest.json`).
    Npz,
    /// `test_data_set_N/{input,output}_K.pb`.
    TestData,
}

/// One golden case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    /// The `.npz` file or `test_data_set_N` directory it was read from.
    pub path: PathBuf,
    pub inputs: NamedTensors,
    /// Expected outputs.
    pub outputs: NamedTensors,
    /// Dotted-name arrays that are neither input nor output (npz layout only).
    pub extras: NamedTensors,
    /// Source image from the manifest, resolved against the golden directory.
    pub image: Option<PathBuf>,
    /// Source images of a batched case (one per row), resolved against the golden directory.
    pub images: Vec<PathBuf>,
    /// Free-form source description from the manifest.
    pub source: Option<String>,
}

impl Case {
    /// A case with no extras and no source; handy for [`write_npz`].
    pub fn new(name: impl Into<String>, inputs: NamedTensors, outputs: NamedTensors) -> Case {
        Case {
            name: name.into(),
            path: PathBuf::new(),
            inputs,
            outputs,
            extras: NamedTensors::new(),
            image: None,
            images: Vec::new(),
            source: None,
        }
    }

    /// Batch size: axis 0 of the first input, or 1 for a rank-0 input or no inputs.
    pub fn batch(&self) -> usize {
        self.inputs.values().next().and_then(|t| t.shape().first().copied()).unwrap_or(1)
    }
}

/// A golden set: its cases in sorted order (npz: by file stem; test data: by N).
#[derive(Debug, Clone, PartialEq)]
pub struct GoldenSet {
    pub dir: PathBuf,
    pub layout: Layout,
    pub manifest: Option<Manifest>,
    pub cases: Vec<Case>,
}

impl GoldenSet {
    /// Reads `dir`, splitting and checking tensors against the model's declared IO.
    pub fn read(dir: impl AsRef<Path>, model: &ModelInfo) -> Result<GoldenSet> {
        let specs = Specs {
            inputs: model
                .inputs
                .iter()
                .map(|io| Spec { name: &io.name, dtype: Some(io.dtype), shape: Some(&io.shape) })
                .collect(),
            outputs: model
                .outputs
                .iter()
                .map(|io| Spec { name: &io.name, dtype: Some(io.dtype), shape: Some(&io.shape) })
                .collect(),
        };
        read_dir(dir.as_ref(), &specs)
    }

    /// Reads `dir` knowing only the model's input and output names, in declared order.
    pub fn read_with_names<S: AsRef<str>>(
        dir: impl AsRef<Path>,
        inputs: &[S],
        outputs: &[S],
    ) -> Result<GoldenSet> {
        fn spec<S: AsRef<str>>(n: &S) -> Spec<'_> {
            Spec { name: n.as_ref(), dtype: None, shape: None }
        }
        let specs = Specs {
            inputs: inputs.iter().map(spec).collect(),
            outputs: outputs.iter().map(spec).collect(),
        };
        read_dir(dir.as_ref(), &specs)
    }

    /// Reads `dir` without a model: the IO declared in its `manifest.json` (`inputs`, `outputs`)
    /// splits and checks the arrays. Fails when there is no manifest or it declares no outputs.
    pub fn read_described(dir: impl AsRef<Path>) -> Result<GoldenSet> {
        let dir = dir.as_ref();
        let path = dir.join(MANIFEST);
        check_is_dir(dir)?;
        if !path.is_file() {
            return Err(Error::invalid(
                dir,
                format!(
                    "has no {MANIFEST} declaring the model's inputs and outputs; give the model"
                ),
            ));
        }
        let info = Manifest::read(&path)?
            .model_info(&path)?
            .ok_or_else(|| Error::invalid(&path, "declares no outputs; give the model"))?;
        GoldenSet::read(dir, &info)
    }

    /// The model the manifest names, resolved against the golden directory; for the test-data
    /// layout without one, `model.onnx` beside the case directories when it exists.
    pub fn model_path(&self) -> Option<PathBuf> {
        if let Some(model) = self.manifest.as_ref().and_then(|m| m.model.as_ref()) {
            return Some(self.dir.join(&model.file));
        }
        let zoo = self.dir.join("model.onnx");
        (self.layout == Layout::TestData && zoo.is_file()).then_some(zoo)
    }

    /// Tolerances from the manifest over `default` (just `default` without a manifest).
    pub fn tolerances(&self, default: Tolerance) -> Tolerances {
        self.manifest
            .as_ref()
            .map_or_else(|| Tolerances::uniform(default), |m| m.tolerances(default))
    }

    /// The case named `name`.
    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.name == name)
    }
}

/// What a model declares for one tensor; dtype/shape unknown when only names were given.
struct Spec<'a> {
    name: &'a str,
    dtype: Option<DType>,
    shape: Option<&'a [Dim]>,
}

struct Specs<'a> {
    inputs: Vec<Spec<'a>>,
    outputs: Vec<Spec<'a>>,
}

impl Specs<'_> {
    fn check_names(&self, dir: &Path) -> Result<()> {
        if self.outputs.is_empty() {
            return Err(Error::invalid(
                dir,
                "cannot read a golden set for a model with no outputs",
            ));
        }
        Ok(())
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.into(), source }
}

/// Fails with the missing-directory or not-a-directory error.
fn check_is_dir(dir: &Path) -> Result<()> {
    let meta = fs::metadata(dir).map_err(io_err(dir))?;
    if !meta.is_dir() {
        return Err(Error::invalid(
            dir,
            "not a directory (a golden set is a directory of .npz files or test_data_set_N directories)",
        ));
    }
    Ok(())
}

fn read_dir(dir: &Path, specs: &Specs) -> Result<GoldenSet> {
    check_is_dir(dir)?;
    specs.check_names(dir)?;
    let mut npz = Vec::new();
    let mut sets = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if let Some(n) = file_name.strip_prefix(TEST_DATA_PREFIX) {
                let n: usize = n.parse().map_err(|_| {
                    Error::invalid(
                        &path,
                        format!("case directory name must be {TEST_DATA_PREFIX}<number>"),
                    )
                })?;
                sets.push((n, path));
            }
        } else if path.extension().is_some_and(|e| e == "npz") {
            npz.push(path);
        }
    }
    let manifest_path = dir.join(MANIFEST);
    let manifest =
        if manifest_path.exists() { Some(Manifest::read(&manifest_path)?) } else { None };
    let (layout, cases) = match (npz.is_empty(), sets.is_empty()) {
        (true, true) => {
            return Err(Error::invalid(
                dir,
                "no golden cases: no .npz files and no test_data_set_N directories",
            ));
        }
        (false, false) => {
            return Err(Error::invalid(
                dir,
                "holds both .npz files and test_data_set_N directories; use one layout",
            ));
        }
        (false, true) => {
            npz.sort();
            (Layout::Npz, read_npz_cases(dir, &npz, specs, manifest.as_ref(), &manifest_path)?)
        }
        (true, false) => {
            sets.sort();
            (Layout::TestData, read_test_data_cases(dir, &sets, specs, manifest.as_ref())?)
        }
    };
    Ok(GoldenSet { dir: dir.to_path_buf(), layout, manifest, cases })
}

fn attach_source(case: &mut Case, dir: &Path, manifest: Option<&Manifest>) {
    if let Some(entry) = manifest.and_then(|m| m.cases.get(&case.name)) {
        case.image = entry.image.as_ref().map(|i| dir.join(i));
        case.images = entry.images.iter().map(|i| dir.join(i)).collect();
        case.source = entry.source.clone();
    }
}

fn read_npz_cases(
    dir: &Path,
    files: &[PathBuf],
    specs: &Specs,
    manifest: Option<&Manifest>,
    manifest_path: &Path,
) -> Result<Vec<Case>> {
    let mut cases = Vec::with_capacity(files.len());
    for path in files {
        let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let mut arrays = read_npz(path)?;
        let mut take = |specs: &[Spec], what: &str| -> Result<NamedTensors> {
            let mut out = NamedTensors::new();
            for spec in specs {
                let tensor = arrays.remove(spec.name).ok_or_else(|| {
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
                out.insert(spec.name.to_string(), tensor);
            }
            Ok(out)
        };
        let inputs = take(&specs.inputs, "input")?;
        let outputs = take(&specs.outputs, "output")?;
        let mut extras = NamedTensors::new();
        for (key, tensor) in arrays {
            if !key.contains('.') {
                let io: Vec<&str> =
                    specs.inputs.iter().chain(&specs.outputs).map(|s| s.name).collect();
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
        let mut case = Case {
            name,
            path: path.clone(),
            inputs,
            outputs,
            extras,
            image: None,
            images: Vec::new(),
            source: None,
        };
        attach_source(&mut case, dir, manifest);
        cases.push(case);
    }
    if let Some(m) = manifest {
        for name in m.cases.keys() {
            if !cases.iter().any(|c| &c.name == name) {
                return Err(Error::invalid(
                    manifest_path,
                    format!("lists case '{name}' but {name}.npz is missing"),
                ));
            }
        }
    }
    Ok(cases)
}

/// Reads every array of an `.npz` file, keyed by name. Each entry is read whole, so zip's CRC
/// check catches corrupted data.
pub fn read_npz(path: impl AsRef<Path>) -> Result<NamedTensors> {
    let path = path.as_ref();
    let file = fs::File::open(path).map_err(io_err(path))?;
    if file.metadata().map_err(io_err(path))?.is_dir() {
        return Err(Error::invalid(path, "is a directory, expected an .npz file"));
    }
    read_npz_from(std::io::BufReader::new(file)).map_err(|m| Error::invalid(path, m))
}

fn read_npz_from<R: Read + Seek>(reader: R) -> std::result::Result<NamedTensors, String> {
    let mut zip = ZipArchive::new(reader)
        .map_err(|e| format!("not a valid npz (zip) archive: {}", lowercase(e)))?;
    let mut arrays = NamedTensors::new();
    for i in 0..zip.len() {
        let mut entry =
            zip.by_index(i).map_err(|e| format!("corrupt npz entry {i}: {}", lowercase(e)))?;
        let entry_name = entry.name().to_string();
        let Some(name) = npyz::npz::array_name_from_file_name(&entry_name).map(str::to_string)
        else {
            continue;
        };
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("corrupt npz entry '{entry_name}': {}", lowercase(e)))?;
        let tensor = crate::npy::decode(&bytes).map_err(|e| format!("array '{name}': {e}"))?;
        arrays.insert(name, tensor);
    }
    if arrays.is_empty() {
        return Err("npz archive holds no arrays".into());
    }
    Ok(arrays)
}

/// A library's message with its first letter lowercased, to fit our error lines.
fn lowercase(e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

/// Checks declared dtypes and shapes and consistent symbolic dims.
fn check_case(
    path: &Path,
    specs: &Specs,
    inputs: &NamedTensors,
    outputs: &NamedTensors,
) -> Result<()> {
    let mut symbols: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for (spec, tensor, what) in specs
        .inputs
        .iter()
        .map(|s| (s, &inputs[s.name], "input"))
        .chain(specs.outputs.iter().map(|s| (s, &outputs[s.name], "expected output")))
    {
        let name = spec.name;
        if let Some(dtype) = spec.dtype
            && dtype != tensor.dtype()
        {
            return Err(Error::invalid(
                path,
                format!("{what} '{name}' has dtype {}, the model declares {dtype}", tensor.dtype()),
            ));
        }
        if let Some(dims) = spec.shape {
            let shape = tensor.shape();
            if crate::backend::shape_misfit(dims, shape).is_some() {
                return Err(Error::invalid(
                    path,
                    format!(
                        "{what} '{name}' has shape {shape:?}, the model declares {}",
                        crate::shape_string(dims)
                    ),
                ));
            }
            for (d, &s) in dims.iter().zip(shape) {
                if let Dim::Symbolic(sym) = d
                    && !sym.is_empty()
                    && sym != "?"
                {
                    match symbols.get(sym.as_str()) {
                        Some(&(v, other)) if v != s => {
                            return Err(Error::invalid(
                                path,
                                format!(
                                    "dimension '{sym}' is {v} in '{other}' but {s} in '{name}'"
                                ),
                            ));
                        }
                        Some(_) => {}
                        None => {
                            symbols.insert(sym.as_str(), (s, name));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// `cases.json`: `{"0": "name", ...}` or `["name", ...]`, index = N of `test_data_set_N`.
fn read_cases_json(path: &Path) -> Result<BTreeMap<usize, String>> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::invalid(path, format!("invalid json: {e}")))?;
    let bad = || {
        Error::invalid(
            path,
            "expected an object mapping index to case name, or a list of case names",
        )
    };
    let mut map = BTreeMap::new();
    match value {
        serde_json::Value::Array(items) => {
            for (i, v) in items.into_iter().enumerate() {
                map.insert(i, v.as_str().ok_or_else(bad)?.to_string());
            }
        }
        serde_json::Value::Object(items) => {
            for (k, v) in items {
                let i: usize = k
                    .parse()
                    .map_err(|_| Error::invalid(path, format!("key '{k}' is not an index")))?;
                map.insert(i, v.as_str().ok_or_else(bad)?.to_string());
            }
        }
        _ => return Err(bad()),
    }
    Ok(map)
}

fn read_test_data_cases(
    dir: &Path,
    sets: &[(usize, PathBuf)],
    specs: &Specs,
    manifest: Option<&Manifest>,
) -> Result<Vec<Case>> {
    let cases_path = dir.join(CASES_JSON);
    let names = if cases_path.exists() { read_cases_json(&cases_path)? } else { BTreeMap::new() };
    let mut cases = Vec::with_capacity(sets.len());
    for (n, set_dir) in sets {
        let inputs = read_pb_group(set_dir, "input", &specs.inputs)?;
        let outputs = read_pb_group(set_dir, "output", &specs.outputs)?;
        check_case(set_dir, specs, &inputs, &outputs)?;
        let name = names.get(n).cloned().unwrap_or_else(|| format!("{TEST_DATA_PREFIX}{n}"));
        let mut case = Case {
            name,
            path: set_dir.clone(),
            inputs,
            outputs,
            extras: NamedTensors::new(),
            image: None,
            images: Vec::new(),
            source: None,
        };
        attach_source(&mut case, dir, manifest);
        cases.push(case);
    }
    let mut seen = BTreeMap::new();
    for c in &cases {
        if let Some(other) = seen.insert(c.name.as_str(), &c.path) {
            return Err(Error::invalid(
                &cases_path,
                format!(
                    "case name '{}' used twice ({} and {})",
                    c.name,
                    other.display(),
                    c.path.display()
                ),
            ));
        }
    }
    Ok(cases)
}

/// Reads `{prefix}_0.pb ... {prefix}_{K-1}.pb` of one test-data directory, naming each tensor by
/// its `name` field or else by position in `specs`.
fn read_pb_group(set_dir: &Path, prefix: &str, specs: &[Spec]) -> Result<NamedTensors> {
    let mut count = 0;
    while set_dir.join(format!("{prefix}_{count}.pb")).exists() {
        count += 1;
    }
    if count != specs.len() {
        let what = if prefix == "input" { "inputs" } else { "outputs" };
        return Err(Error::invalid(
            set_dir,
            format!("holds {count} {prefix}_K.pb files, the model has {} {what}", specs.len()),
        ));
    }
    let mut tensors = NamedTensors::new();
    for (k, spec) in specs.iter().enumerate() {
        let path = set_dir.join(format!("{prefix}_{k}.pb"));
        let (name, tensor) = crate::tensor_proto::read(&path)?;
        let name = name.unwrap_or_else(|| spec.name.to_string());
        if !specs.iter().any(|s| s.name == name) {
            let declared: Vec<&str> = specs.iter().map(|s| s.name).collect();
            return Err(Error::invalid(
                &path,
                format!(
                    "holds tensor '{name}', the model has no {prefix} of that name ({})",
                    declared.join(", ")
                ),
            ));
        }
        if tensors.insert(name.clone(), tensor).is_some() {
            return Err(Error::invalid(
                &path,
                format!("tensor '{name}' appears twice in {}", set_dir.display()),
            ));
        }
    }
    Ok(tensors)
}

/// Writes `cases` as an npz golden set in `dir` (one `<case>.npz` each, inputs, outputs and
/// extras under their names, plus `manifest` as `manifest.json` when given).
///
/// Everything is written into a temporary directory beside `dir`, then renamed to `dir`. An
/// existing `dir` is replaced only when it is empty or looks like a golden set (nothing but
/// `.npz` files and `manifest.json`); anything else is refused, so a mistyped `--out` cannot
/// delete unrelated files.
pub fn write_npz(dir: impl AsRef<Path>, cases: &[Case], manifest: Option<&Manifest>) -> Result<()> {
    let dir = dir.as_ref();
    if cases.is_empty() {
        return Err(Error::invalid(dir, "refusing to write a golden set with no cases"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for case in cases {
        let n = &case.name;
        if n.is_empty()
            || n.starts_with('.')
            || n.contains(['/', '\\'])
            || n.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                dir,
                format!("invalid case name '{n}' (must be a plain file stem)"),
            ));
        }
        if !seen.insert(n.as_str()) {
            return Err(Error::invalid(dir, format!("case name '{n}' used twice")));
        }
    }
    let existing = match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(Error::invalid(dir, "exists and is not a directory")),
        Ok(_) => {
            for entry in fs::read_dir(dir).map_err(io_err(dir))? {
                let entry = entry.map_err(io_err(dir))?;
                let p = entry.path();
                let ok = p.is_file()
                    && (p.extension().is_some_and(|e| e == "npz") || entry.file_name() == MANIFEST);
                if !ok {
                    return Err(Error::invalid(
                        dir,
                        format!(
                            "exists and holds '{}', which is not part of a golden set; refusing to replace it",
                            entry.file_name().to_string_lossy()
                        ),
                    ));
                }
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(dir)(e)),
    };
    let parent = crate::fsutil::parent_of(dir);
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".golden-tmp-")
        .tempdir_in(&parent)
        .map_err(io_err(&parent))?;
    for case in cases {
        let path = tmp.path().join(format!("{}.npz", case.name));
        write_npz_file(&path, case).map_err(|e| match e {
            Error::Io { source, .. } => {
                Error::Io { path: dir.join(format!("{}.npz", case.name)), source }
            }
            other => other,
        })?;
    }
    if let Some(m) = manifest {
        let mut text = serde_json::to_string_pretty(m)
            .map_err(|e| Error::invalid(dir, format!("cannot encode manifest: {e}")))?;
        text.push('\n');
        let path = tmp.path().join(MANIFEST);
        fs::write(&path, text).map_err(io_err(&dir.join(MANIFEST)))?;
    }
    let staged = tmp.keep();
    let result = if existing {
        let backup = tempfile::Builder::new()
            .prefix(".golden-old-")
            .tempdir_in(&parent)
            .map_err(io_err(&parent))?
            .keep();
        fs::remove_dir(&backup).ok();
        fs::rename(dir, &backup)
            .and_then(|()| {
                fs::rename(&staged, dir).inspect_err(|_| {
                    let _ = fs::rename(&backup, dir);
                })
            })
            .map(|()| {
                let _ = fs::remove_dir_all(&backup);
            })
    } else {
        fs::rename(&staged, dir)
    };
    result.map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        io_err(dir)(e)
    })
}

/// Writes one case as an `.npz` archive (deflated, fixed timestamps so output is reproducible).
fn write_npz_file(path: &Path, case: &Case) -> Result<()> {
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

/// Writes `cases` in the ONNX test-data layout (`test_data_set_N/input_K.pb`, `output_K.pb`
/// with `name` set, K in `input_names` / `output_names` order, N in slice order) plus
/// `cases.json`, atomically as [`write_npz`] does. `dir` must not exist yet.
pub fn write_test_data<S: AsRef<str>>(
    dir: impl AsRef<Path>,
    cases: &[Case],
    input_names: &[S],
    output_names: &[S],
) -> Result<()> {
    let dir = dir.as_ref();
    if dir.exists() {
        return Err(Error::invalid(dir, "already exists; refusing to overwrite"));
    }
    if cases.is_empty() {
        return Err(Error::invalid(dir, "refusing to write a golden set with no cases"));
    }
    let parent = crate::fsutil::parent_of(dir);
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".golden-tmp-")
        .tempdir_in(&parent)
        .map_err(io_err(&parent))?;
    let mut names = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let set = tmp.path().join(format!("{TEST_DATA_PREFIX}{n}"));
        fs::create_dir(&set).map_err(io_err(&set))?;
        for (prefix, wanted, map) in
            [("input", input_names, &case.inputs), ("output", output_names, &case.outputs)]
        {
            for (k, name) in wanted.iter().enumerate() {
                let name = name.as_ref();
                let t = map.get(name).ok_or_else(|| {
                    Error::invalid(dir, format!("case '{}' has no {prefix} '{name}'", case.name))
                })?;
                let path = set.join(format!("{prefix}_{k}.pb"));
                fs::write(&path, crate::tensor_proto::encode(Some(name), t))
                    .map_err(io_err(&path))?;
            }
        }
        names.push(case.name.clone());
    }
    let text =
        serde_json::to_string_pretty(&names).map_err(|e| Error::invalid(dir, e.to_string()))?;
    fs::write(tmp.path().join(CASES_JSON), text + "\n").map_err(io_err(&dir.join(CASES_JSON)))?;
    let staged = tmp.keep();
    fs::rename(&staged, dir).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        io_err(dir)(e)
    })
}

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

//!
//! | module | what |
//! |---|---|
//! | `manifest` | [`Manifest`]: `manifest.json` |
//! | `npz` | the npz layout: reading cases, [`read_npz`], writing one case |
//! | `test_data` | the ONNX test-data layout: reading cases, [`write_test_data`] |
//! | `spec` | what the model declares, and the checks of a case against it |
//! | `write` | [`write_npz`]: a whole set, atomically |

mod manifest;
mod npz;
mod spec;
mod test_data;
mod write;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use manifest::{Manifest, ManifestCase, ManifestDim, ManifestModel, ManifestTensor};
pub use npz::{MAX_NPZ_INFLATED_BYTES, read_npz};
use npz::{check_manifest_cases, npz_case_name, read_npz_case};
use spec::{Spec, Specs};
use test_data::{read_test_data_case, test_data_names};
pub use test_data::{write_test_data, write_test_data_with};
pub use write::{CaseSink, write_npz, write_npz_streaming};

use crate::compare::{Tolerance, Tolerances};
use crate::{Error, ModelInfo, NamedTensors, Result};

/// The manifest file name in a golden directory.
pub const MANIFEST: &str = "manifest.json";
/// The case-name file of the ONNX test-data layout.
pub const CASES_JSON: &str = "cases.json";
/// Prefix of the ONNX test-data case directories.
pub const TEST_DATA_PREFIX: &str = "test_data_set_";

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
        GoldenIndex::open(dir, model)?.read_all()
    }

    /// Reads `dir` knowing only the model's input and output names, in declared order.
    pub fn read_with_names<S: AsRef<str>>(
        dir: impl AsRef<Path>,
        inputs: &[S],
        outputs: &[S],
    ) -> Result<GoldenSet> {
        fn spec<S: AsRef<str>>(n: &S) -> Spec {
            Spec { name: n.as_ref().to_string(), dtype: None, shape: None }
        }
        let specs = Specs {
            inputs: inputs.iter().map(spec).collect(),
            outputs: outputs.iter().map(spec).collect(),
        };
        GoldenIndex::open_with(dir.as_ref(), specs)?.read_all()
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
        model_path(&self.dir, self.layout, self.manifest.as_ref())
    }

    /// Tolerances from the manifest over `default` (just `default` without a manifest).
    pub fn tolerances(&self, default: Tolerance) -> Tolerances {
        tolerances(self.manifest.as_ref(), default)
    }

    /// The case named `name`.
    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.name == name)
    }
}

/// A golden set listed but not read: its cases are read one at a time ([`GoldenIndex::read`]),
/// so a run over any number of cases holds one case at a time (per reader). Listing checks what
/// it can without reading a case: the layout, the manifest, case names used twice, cases the
/// manifest lists but the directory lacks.
#[derive(Debug, Clone)]
pub struct GoldenIndex {
    pub dir: PathBuf,
    pub layout: Layout,
    pub manifest: Option<Manifest>,
    /// `(case name, its npz file or test-data directory)`, in file order.
    entries: Vec<(String, PathBuf)>,
    specs: Specs,
}

impl GoldenIndex {
    /// Lists `dir` for a model with the declared IO `model`.
    pub fn open(dir: impl AsRef<Path>, model: &ModelInfo) -> Result<GoldenIndex> {
        let spec = |io: &crate::IoInfo| Spec {
            name: io.name.clone(),
            dtype: Some(io.dtype),
            shape: Some(io.shape.clone()),
        };
        let specs = Specs {
            inputs: model.inputs.iter().map(spec).collect(),
            outputs: model.outputs.iter().map(spec).collect(),
        };
        GoldenIndex::open_with(dir.as_ref(), specs)
    }

    fn open_with(dir: &Path, specs: Specs) -> Result<GoldenIndex> {
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
        let (layout, entries) = match (npz.is_empty(), sets.is_empty()) {
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
                let names: Vec<String> = npz.iter().map(|p| npz_case_name(p)).collect();
                check_manifest_cases(manifest.as_ref(), &names, &manifest_path)?;
                (Layout::Npz, names.into_iter().zip(npz).collect())
            }
            (true, false) => {
                sets.sort();
                let names = test_data_names(dir, &sets)?;
                (
                    Layout::TestData,
                    names.into_iter().zip(sets.into_iter().map(|(_, p)| p)).collect(),
                )
            }
        };
        Ok(GoldenIndex { dir: dir.to_path_buf(), layout, manifest, entries, specs })
    }

    /// How many cases the set holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the set holds no case (never, once opened).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The case names, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    /// Reads case `i` (in file order) and checks it against the model's IO.
    pub fn read(&self, i: usize) -> Result<Case> {
        let (name, path) = &self.entries[i];
        match self.layout {
            Layout::Npz => read_npz_case(&self.dir, path, &self.specs, self.manifest.as_ref()),
            Layout::TestData => {
                read_test_data_case(&self.dir, name, path, &self.specs, self.manifest.as_ref())
            }
        }
    }

    /// Reads every case.
    pub fn read_all(self) -> Result<GoldenSet> {
        let cases = (0..self.len()).map(|i| self.read(i)).collect::<Result<Vec<_>>>()?;
        Ok(GoldenSet { dir: self.dir, layout: self.layout, manifest: self.manifest, cases })
    }

    /// See [`GoldenSet::model_path`].
    pub fn model_path(&self) -> Option<PathBuf> {
        model_path(&self.dir, self.layout, self.manifest.as_ref())
    }

    /// See [`GoldenSet::tolerances`].
    pub fn tolerances(&self, default: Tolerance) -> Tolerances {
        tolerances(self.manifest.as_ref(), default)
    }
}

fn model_path(dir: &Path, layout: Layout, manifest: Option<&Manifest>) -> Option<PathBuf> {
    if let Some(model) = manifest.and_then(|m| m.model.as_ref()) {
        return Some(dir.join(&model.file));
    }
    let zoo = dir.join("model.onnx");
    (layout == Layout::TestData && zoo.is_file()).then_some(zoo)
}

fn tolerances(manifest: Option<&Manifest>, default: Tolerance) -> Tolerances {
    manifest.map_or_else(|| Tolerances::uniform(default), |m| m.tolerances(default))
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.into(), source }
}

/// Fails with the missing-directory or not-a-directory error.
pub(super) fn check_is_dir(dir: &Path) -> Result<()> {
    let meta = fs::metadata(dir).map_err(io_err(dir))?;
    if !meta.is_dir() {
        return Err(Error::invalid(
            dir,
            "not a directory (a golden set is a directory of .npz files or test_data_set_N directories)",
        ));
    }
    Ok(())
}

pub(super) fn attach_source(case: &mut Case, dir: &Path, manifest: Option<&Manifest>) {
    if let Some(entry) = manifest.and_then(|m| m.cases.get(&case.name)) {
        case.image = entry.image.as_ref().map(|i| dir.join(i));
        case.images = entry.images.iter().map(|i| dir.join(i)).collect();
        case.source = entry.source.clone();
    }
}

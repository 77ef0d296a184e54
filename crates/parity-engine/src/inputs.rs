//! Input sets for `compare`, `diff`, `record`, `localize` and `bench`: seeded random tensors shaped
//! from a model's declared inputs, images preprocessed exactly as cv2, tensor files, or the inputs
//! of a golden set ([`Source`]), each case read only when asked for ([`CaseSource`]).

use std::path::{Path, PathBuf};

use parity_core::tensor::f16;
use parity_core::{DType, Dim, ModelInfo, NamedTensors, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::Result;
use crate::error::invalid;
use crate::profile::Profile;
use crate::read_ahead::ReadAhead;

/// One named set of model inputs, with what a golden set records of where it came from.
pub struct InputCase {
    /// The case's name: an image's or file's stem, `random_s{seed}`, a golden case's.
    pub name: String,
    /// Every model input by name.
    pub inputs: NamedTensors,
    /// Dotted extra arrays kept beside the inputs (an image's `preprocess.resized_bgr_u8`).
    pub extras: NamedTensors,
    /// The image the case was made from.
    pub image: Option<PathBuf>,
    /// Where a case not made from an image came from (`random seed 3`, a file).
    pub source: Option<String>,
    /// A golden case's other arrays: its expected outputs and dotted extras (PyTorch's
    /// `intermediate.<value>` among them), read by `localize`; empty for other sources.
    pub golden_arrays: NamedTensors,
}

impl InputCase {
    fn plain(name: String, inputs: NamedTensors, source: String) -> InputCase {
        InputCase {
            name,
            inputs,
            extras: NamedTensors::new(),
            image: None,
            source: Some(source),
            golden_arrays: NamedTensors::new(),
        }
    }
}

/// The most elements one generated input tensor may have (2^28: 1 GiB of float32), checked before
/// anything is allocated, whatever the model declares or the batch asked for.
pub const MAX_GENERATED_ELEMENTS: usize = 1 << 28;

/// A concrete shape for a declared one: symbolic axes become `batch` (first axis) and fail
/// elsewhere; more than [`MAX_GENERATED_ELEMENTS`] elements is an error.
pub fn concrete_shape(name: &str, dims: &[Dim], batch: usize) -> Result<Vec<usize>> {
    let shape = dims
        .iter()
        .enumerate()
        .map(|(axis, d)| match d {
            Dim::Fixed(n) => Ok(*n),
            Dim::Symbolic(_) if axis == 0 => Ok(batch),
            Dim::Symbolic(s) => bail!("input '{name}' has a symbolic axis {axis} ('{s}'); only the batch axis may be symbolic"),
        })
        .collect::<Result<Vec<usize>>>()?;
    let elements = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match elements {
        Some(n) if n <= MAX_GENERATED_ELEMENTS => Ok(shape),
        _ => bail!(
            "input '{name}' of shape {shape:?} would hold more than {MAX_GENERATED_ELEMENTS} \
             elements (the limit for generated inputs)"
        ),
    }
}

/// Random inputs for every declared input, at `batch`, reproducible from `seed`: standard-normal
/// floats, integers drawn from {0, 1} (valid indices into any table of two or more rows, as
/// Polygraphy's default integer range is), and fair-coin booleans.
pub fn random_inputs(info: &ModelInfo, batch: usize, seed: u64) -> Result<NamedTensors> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = NamedTensors::new();
    for io in &info.inputs {
        let shape = concrete_shape(&io.name, &io.shape, batch)?;
        let n: usize = shape.iter().product();
        let mut ints = || (0..n).map(|_| rng.random_range(0..2i64)).collect::<Vec<i64>>();
        let data = match io.dtype {
            DType::F16 => TensorData::F16(
                (0..n).map(|_| f16::from_f32(StandardNormal.sample(&mut rng))).collect(),
            ),
            DType::F32 => {
                TensorData::F32((0..n).map(|_| StandardNormal.sample(&mut rng)).collect())
            }
            DType::F64 => {
                TensorData::F64((0..n).map(|_| StandardNormal.sample(&mut rng)).collect())
            }
            DType::I64 => TensorData::I64(ints()),
            DType::I32 => TensorData::I32(ints().into_iter().map(|v| v as i32).collect()),
            DType::U8 => TensorData::U8(ints().into_iter().map(|v| v as u8).collect()),
            DType::Bool => TensorData::Bool(ints().into_iter().map(|v| v == 1).collect()),
        };
        out.insert(io.name.clone(), Tensor::new(shape, data)?);
    }
    Ok(out)
}

/// One random batch-1 case named `random_s{seed}` (see [`random_inputs`]).
pub fn random_case(info: &ModelInfo, seed: u64) -> Result<InputCase> {
    let (name, inputs) = (format!("random_s{seed}"), random_inputs(info, 1, seed)?);
    Ok(InputCase::plain(name, inputs, format!("random seed {seed}")))
}

/// Where a run takes its inputs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Images, decoded and resized exactly as cv2, one case each: a directory (recursive), a glob
    /// pattern or `@LIST` ([`crate::corpus`]).
    Images(PathBuf),
    /// The inputs of a golden set (either layout).
    Golden(PathBuf),
    /// `count` seeded random batch-1 cases, case i from seed `seed + i`.
    Random {
        /// How many cases.
        count: usize,
        /// The first case's seed.
        seed: u64,
    },
    /// Tensor files, one case each, named by file stem: `.npz` holding every model input by name,
    /// or `.npy` for a model with one input.
    Tensors(Vec<PathBuf>),
}

impl Source {
    /// The cases, and a description of where they came from, all read now.
    pub fn cases(&self, info: &ModelInfo, profile: &Profile) -> Result<(String, Vec<InputCase>)> {
        let source = self.open(info, profile)?;
        let cases = (0..source.len()).map(|i| source.read(i)).collect::<Result<Vec<_>>>()?;
        Ok((source.what, cases))
    }

    /// The cases listed, each read (decoded, generated) only when asked for: a run over any
    /// number of them holds one at a time.
    pub fn open<'a>(&self, info: &'a ModelInfo, profile: &Profile) -> Result<CaseSource<'a>> {
        match self {
            Source::Images(spec) => Self::images(spec, info, profile),
            Source::Tensors(files) => Self::tensors(files, info),
            Source::Golden(dir) => Self::golden(dir, info),
            Source::Random { count, seed } => Ok(Self::random(*count, *seed, info)),
        }
    }

    fn images<'a>(spec: &Path, info: &'a ModelInfo, profile: &Profile) -> Result<CaseSource<'a>> {
        let pre = profile.preprocessor(info)?;
        let files = crate::corpus::expand_all(std::slice::from_ref(&spec.to_path_buf()))?;
        let what = format!("images in {}", spec.display());
        let len = files.len();
        let read = move |i: usize| image_case(&pre, info, &files[i]);
        Ok(CaseSource { what, len, corpus: len > 1, read: Box::new(read) })
    }

    fn tensors<'a>(files: &[PathBuf], info: &'a ModelInfo) -> Result<CaseSource<'a>> {
        let mut names: Vec<String> = files.iter().map(|p| file_stem(p)).collect();
        names.sort_unstable();
        if let Some(twice) = names.windows(2).find(|w| w[0] == w[1]) {
            bail!("--tensors: two files are named '{}' (case names are file stems)", twice[0]);
        }
        let files = files.to_vec();
        let what = format!("{} tensor file(s)", files.len());
        let len = files.len();
        let read = move |i: usize| tensor_case(info, &files[i]);
        Ok(CaseSource { what, len, corpus: false, read: Box::new(read) })
    }

    fn golden<'a>(dir: &Path, info: &'a ModelInfo) -> Result<CaseSource<'a>> {
        let golden = parity_core::GoldenIndex::open(dir, &crate::batch::batch_agnostic(info))?;
        let what = format!("inputs of goldens {}", dir.display());
        let len = golden.len();
        let read = move |i: usize| -> Result<InputCase> {
            let c = golden.read(i)?;
            let source = format!("inputs of {}", c.path.display());
            let mut case = InputCase::plain(c.name, c.inputs, source);
            case.golden_arrays = c.outputs.into_iter().chain(c.extras).collect();
            Ok(case)
        };
        Ok(CaseSource { what, len, corpus: false, read: Box::new(read) })
    }

    fn random(count: usize, seed: u64, info: &ModelInfo) -> CaseSource<'_> {
        let read = move |i: usize| random_case(info, seed.wrapping_add(i as u64));
        CaseSource {
            what: format!("{count} random inputs, seed {seed}"),
            len: count,
            corpus: false,
            read: Box::new(read),
        }
    }
}

/// Cases listed by [`Source::open`], read one at a time.
pub struct CaseSource<'a> {
    /// Where the cases come from, for reports.
    pub what: String,
    len: usize,
    /// Several images: one that cannot be read is noted and skipped, not the end of the run.
    corpus: bool,
    read: Box<dyn Fn(usize) -> Result<InputCase> + Send + Sync + 'a>,
}

impl CaseSource<'_> {
    /// How many cases there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no cases.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads (decodes, generates) case `i`.
    pub fn read(&self, i: usize) -> Result<InputCase> {
        (self.read)(i)
    }

    /// The cases at `positions`, read ahead in parallel chunks ([`ReadAhead`]); take each with
    /// [`CaseSource::noted`].
    pub fn ahead<'s>(&'s self, positions: &'s [usize]) -> ReadAhead<'s, Result<InputCase>> {
        ReadAhead::new(move |k| self.read(positions[k]), positions.len())
    }

    /// A read case, except that an image of a corpus that could not be read is noted in
    /// `unreadable` and gives `None` (the run goes on).
    pub fn noted(
        &self,
        read: Result<InputCase>,
        unreadable: &mut crate::corpus::Unreadable<'_>,
    ) -> Result<Option<InputCase>> {
        match read {
            Ok(case) => Ok(Some(case)),
            Err(e) if self.corpus => {
                unreadable.note(&e.to_string());
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// One `.npz` (every model input by name) or `.npy` (a one-input model's input) file as a case
/// named by its file stem.
fn tensor_case(info: &ModelInfo, path: &Path) -> Result<InputCase> {
    let name = file_stem(path);
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let inputs = match ext.as_deref() {
        Some("npz") => {
            let mut arrays = parity_core::golden::read_npz(path)?;
            let mut inputs = NamedTensors::new();
            for io in &info.inputs {
                let t = arrays.remove(&io.name).ok_or_else(|| {
                    invalid(format!(
                        "{}: holds no array '{}' (a model input)",
                        path.display(),
                        io.name
                    ))
                })?;
                inputs.insert(io.name.clone(), t);
            }
            inputs
        }
        Some("npy") => {
            let [io] = info.inputs.as_slice() else {
                bail!(
                    "{}: an .npy file feeds a model with one input; this one has {} (use .npz)",
                    path.display(),
                    info.inputs.len()
                );
            };
            NamedTensors::from([(io.name.clone(), parity_core::npy::read(path)?)])
        }
        _ => bail!("{}: not an .npz or .npy file", path.display()),
    };
    info.check_inputs(&parity_core::views(&inputs))
        .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    Ok(InputCase::plain(name, inputs, format!("tensors of {}", path.display())))
}

/// One image as a batch-1 case named by its file stem, with its resized BGR image as the extra
/// `preprocess.resized_bgr_u8`.
pub fn image_case(
    pre: &cv_preprocess::Preprocessor,
    info: &ModelInfo,
    path: &Path,
) -> Result<InputCase> {
    let batch = pre.run(&[path])?;
    let tensor = Tensor::from_f32(batch.shape.to_vec(), batch.tensor)?;
    let name = path
        .file_stem()
        .map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
    let mut inputs = NamedTensors::new();
    inputs.insert(info.inputs[0].name.clone(), tensor);
    let resized = batch.resized.into_iter().next().expect("one image in, one out");
    let shape = vec![1, resized.height, resized.width, resized.channels];
    let resized = Tensor::new(shape, TensorData::U8(resized.data))?;
    Ok(InputCase {
        name,
        inputs,
        extras: NamedTensors::from([("preprocess.resized_bgr_u8".to_string(), resized)]),
        image: Some(path.to_path_buf()),
        source: None,
        golden_arrays: NamedTensors::new(),
    })
}

//! The one small trait every backend implements.
//!
//! ## Design
//! Loading and optimising a model is expensive; running it is what is measured and repeated. So, as in
//! tract's `Runtime::prepare(model) -> Runnable`, a [`Runtime`] turns a model *path* into a
//! [`Runnable`] once, and the runnable is run many times with named tensors in and named tensors out
//! (candle-onnx's `simple_eval` convention, and the golden format's: tensors keyed by ONNX name).
//! A path, not bytes, because ONNX external data (`model.onnx.data`) is resolved relative to the
//! model's directory. A backend runs borrowed tensors ([`crate::TensorView`]: a caller's memory
//! where it lies, numpy's included); `run` on owned tensors borrows them. `run_views` takes
//! `&mut self` so a backend may cache per-input-shape plans without interior mutability. The
//! optional capability (`read_values`) has a default body that says it is not there.
//! Both traits are `Send` (and a [`Runtime`] `Sync`): a prepared model moves to the thread that
//! runs it, so front ends can run backends side by side and release a caller's lock (Python's GIL)
//! while they work.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::RangeInclusive;
use std::path::Path;

use crate::{DType, Error, NamedViews, Result, Tensor};

/// Tensors keyed by ONNX tensor name.
pub type NamedTensors = BTreeMap<String, Tensor>;

/// Options common to every backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Intra-op threads; `None` lets the backend choose. `Some(0)` is refused by every backend
    /// ([`Options::threads`]), never read as "all cores" by one and as an error by another.
    pub threads: Option<usize>,
    /// A batching hint: a backend that can split a batch (tract) runs batches larger than this as
    /// consecutive chunks of this size, when a model family is known to run faster so (SSRNet on
    /// tract). `None`: the backend runs a batch as one call.
    pub batch_chunk: Option<usize>,
    /// Other work runs on the same cores at the same time (an image decoder, other backends): a
    /// backend whose idle worker threads spin waiting for work (onnxruntime's do by default)
    /// should let them sleep instead, leaving the cores to that work.
    pub shared_cores: bool,
}

impl Options {
    /// Options with `threads`, no batching hint, cores not shared.
    pub fn with_threads(threads: Option<usize>) -> Options {
        Options { threads, ..Options::default() }
    }

    /// The requested thread count, checked the same way for every backend: `Some(0)`, or more
    /// than [`max_threads`], is an [`Error::Input`].
    pub fn threads(&self) -> Result<Option<usize>> {
        match self.threads {
            Some(0) => Err(Error::Input("threads must be at least 1, got 0".into())),
            Some(n) if n > max_threads() => Err(Error::Input(format!(
                "threads must be at most {} (four per core on this machine), got {n}",
                max_threads()
            ))),
            other => Ok(other),
        }
    }
}

/// The cores this process may use (1 when the system cannot say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The most intra-op threads a backend is given: four per core, so that a typo cannot spawn
/// thousands.
pub fn max_threads() -> usize {
    4 * cores()
}

/// One axis of a declared input or output shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    /// A named or unnamed dynamic axis (e.g. `batch`, or `?`).
    Symbolic(String),
}

/// A declared model input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoInfo {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<Dim>,
}

/// The model's declared inputs and outputs, in graph order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelInfo {
    pub inputs: Vec<IoInfo>,
    pub outputs: Vec<IoInfo>,
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbolic(s) => f.write_str(s),
        }
    }
}

/// `[N, 3, 64, 64]`-style rendering of a declared shape.
pub fn shape_string(dims: &[Dim]) -> String {
    let dims: Vec<String> = dims.iter().map(Dim::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// How a concrete shape fails to fit a declared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misfit {
    /// Another number of axes.
    Rank,
    /// A fixed axis of another size.
    Axis { axis: usize, declared: usize, got: usize },
}

/// Whether `shape` fits the declared `dims`: the same rank and every fixed axis equal (symbolic
/// axes take any size; an empty declaration, i.e. no declared shape, admits any shape). The one
/// shape-fit rule of the workspace.
pub fn shape_misfit(dims: &[Dim], shape: &[usize]) -> Option<Misfit> {
    if dims.is_empty() {
        return None;
    }
    if dims.len() != shape.len() {
        return Some(Misfit::Rank);
    }
    dims.iter().zip(shape).enumerate().find_map(|(axis, (d, &got))| match d {
        Dim::Fixed(declared) if *declared != got => {
            Some(Misfit::Axis { axis, declared: *declared, got })
        }
        _ => None,
    })
}

impl ModelInfo {
    /// Checks `inputs` against the declared inputs before a backend runs them: every declared name
    /// present and no other, the declared dtype, the declared rank and fixed dimensions, and one
    /// size per named symbolic axis across inputs (`?` axes are free). An input declared without a
    /// shape (empty `shape`) is not shape-checked. Every failure is an [`Error::Input`].
    pub fn check_inputs(&self, inputs: &NamedViews<'_>) -> Result<()> {
        let names = || self.inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
        if let Some(extra) = inputs.keys().find(|k| !self.inputs.iter().any(|i| &i.name == *k)) {
            return Err(Error::Input(format!(
                "unknown input '{extra}' (the model's inputs: {})",
                names()
            )));
        }
        let mut symbols: HashMap<&str, (usize, &str)> = HashMap::new();
        for decl in &self.inputs {
            let Some(t) = inputs.get(&decl.name) else {
                return Err(Error::Input(format!(
                    "missing input '{}' (the model's inputs: {})",
                    decl.name,
                    names()
                )));
            };
            if t.dtype() != decl.dtype {
                return Err(Error::Input(format!(
                    "input '{}': dtype {:?}, the model expects {:?}",
                    decl.name,
                    t.dtype(),
                    decl.dtype
                )));
            }
            if decl.shape.is_empty() {
                continue;
            }
            let misfit = |why: String| {
                Error::Input(format!(
                    "input '{}': shape {:?} does not fit the model's {}{why}",
                    decl.name,
                    t.shape(),
                    shape_string(&decl.shape)
                ))
            };
            match shape_misfit(&decl.shape, t.shape()) {
                None => {}
                Some(Misfit::Rank) => return Err(misfit(String::new())),
                Some(Misfit::Axis { axis, declared, got }) => {
                    return Err(misfit(format!(" (axis {axis} must be {declared}, got {got})")));
                }
            }
            for (&n, d) in t.shape().iter().zip(&decl.shape) {
                let Dim::Symbolic(s) = d else { continue };
                if s == "?" {
                    continue;
                }
                match symbols.get(s.as_str()) {
                    Some(&(m, other)) if m != n => {
                        return Err(Error::Input(format!(
                            "input '{}': axis '{s}' is {n} here but {m} in input '{other}'",
                            decl.name
                        )));
                    }
                    _ => {
                        symbols.insert(s.as_str(), (n, decl.name.as_str()));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Joins the outputs of consecutive batch chunks: each name's tensors concatenated along axis 0
/// (see [`Tensor::concat0`]).
pub fn concat_named<'a>(parts: impl IntoIterator<Item = &'a NamedTensors>) -> Result<NamedTensors> {
    let mut by_name: BTreeMap<&str, Vec<&Tensor>> = BTreeMap::new();
    for part in parts {
        for (name, t) in part {
            by_name.entry(name).or_default().push(t);
        }
    }
    by_name
        .into_iter()
        .map(|(name, ts)| {
            let joined =
                Tensor::concat0(&ts).map_err(|e| Error::Input(format!("output '{name}': {e}")))?;
            Ok((name.to_owned(), joined))
        })
        .collect()
}

/// A backend: prepares models for running.
pub trait Runtime: Send + Sync {
    /// Short lowercase name used on the command line and in reports (`ort`, `tract`, `candle`).
    fn name(&self) -> &'static str;

    /// The default-domain ONNX opsets this backend declares it implements. A declaration only:
    /// `prepare` hands a model outside them to the runtime, which decides, and a front end warns
    /// ([`crate::onnx::opset_note`]).
    fn opsets(&self) -> RangeInclusive<i64>;

    /// The dtype this runtime holds a value of the model's `declared` dtype in: `declared` itself
    /// where it computes in that type; a narrower one where it does not (RTen holds int64 as
    /// int32 and float64 as float32). A value outside the held type's range cannot be compared on
    /// this runtime ([`crate::TensorData::first_unrepresentable`]).
    fn holds(&self, declared: DType) -> DType;

    /// Load and optimise the model at `model` once.
    fn prepare(&self, model: &Path, options: &Options) -> Result<Box<dyn Runnable>>;

    /// The graph's op types this backend cannot run, sorted and deduplicated, as its runtime
    /// tells (every backend says how it asks); empty when it runs them all.
    fn unsupported_ops(&self, model: &Path) -> Result<Vec<String>>;
}

/// A prepared model, run many times.
pub trait Runnable: Send {
    /// Declared inputs and outputs.
    fn info(&self) -> &ModelInfo;

    /// Run once on borrowed inputs: every declared input by name in, every declared output by
    /// name out. A tensor whose name, dtype or shape does not fit is an [`crate::Error::Input`],
    /// never a panic. The caller's memory is read where it lies (onnxruntime and RTen run on it;
    /// tract and candle copy it once into their own tensors).
    fn run_views(&mut self, inputs: &NamedViews<'_>) -> Result<NamedTensors>;

    /// [`Runnable::run_views`] on tensors the caller owns.
    fn run(&mut self, inputs: &NamedTensors) -> Result<NamedTensors> {
        self.run_views(&crate::views(inputs))
    }

    /// Run once and return the values named in `names`, any value of the graph (not only its
    /// outputs), where the backend can read them out natively without rewriting the graph.
    /// `Ok(None)`, the default, says it cannot; a caller then exposes the values as graph outputs
    /// instead. A name the graph does not have is an [`crate::Error::Input`].
    fn read_values(
        &mut self,
        inputs: &NamedTensors,
        names: &[String],
    ) -> Result<Option<NamedTensors>> {
        let _ = (inputs, names);
        Ok(None)
    }
}

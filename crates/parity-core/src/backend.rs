//! The one small trait every backend implements.
//!
//! ## Design
//! Loading and optimising a model is expensive; running it is what is measured and repeated. So, as in
//! tract's `Runtime::prepare(model) -> Runnable`, a [`Runtime`] turns a model *path* into a
//! [`Runnable`] once, and the runnable is run many times with named tensors in and named tensors out
//! (candle-onnx's `simple_eval` convention, and the golden format's: tensors keyed by ONNX name).
//! A path, not bytes, because ONNX external data (`model.onnx.data`) is resolved relative to the
//! model's directory. `run` takes `&mut self` so a backend may cache per-input-shape plans without
//! interior mutability. Optional capabilities (`unsupported_ops`) have default bodies.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{DType, Result, Tensor};

/// Tensors keyed by ONNX tensor name.
pub type NamedTensors = BTreeMap<String, Tensor>;

/// Options common to every backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Intra-op threads; `None` lets the backend choose.
    pub threads: Option<usize>,
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

/// A backend: prepares models for running.
pub trait Runtime {
    /// Short lowercase name used on the command line and in reports (`ort`, `tract`, `candle`).
    fn name(&self) -> &'static str;

    /// Load and optimise the model at `model` once.
    fn prepare(&self, model: &Path, options: &Options) -> Result<Box<dyn Runnable>>;

    /// The graph's op types this backend cannot run, sorted and deduplicated; empty when all are
    /// supported. The default claims nothing is unsupported.
    fn unsupported_ops(&self, model: &Path) -> Result<Vec<String>> {
        let _ = model;
        Ok(Vec::new())
    }
}

/// A prepared model, run many times.
pub trait Runnable {
    /// Declared inputs and outputs.
    fn info(&self) -> &ModelInfo;

    /// Run once: every declared input by name in, every declared output by name out. A tensor whose
    /// name, dtype or shape does not fit is an [`crate::Error::Input`], never a panic.
    fn run(&mut self, inputs: &NamedTensors) -> Result<NamedTensors>;
}

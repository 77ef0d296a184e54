//! The [RTen](https://github.com/robertknight/rten) backend of ssrnet-parity: [`Rten`] implements
//! [`parity_core::Runtime`] with `rten` 0.27, a pure-Rust ONNX runtime independent of the other
//! three backends' code (its own kernels, its own AVX-512 GEMM, its own graph optimiser).
//!
//! What it does, and why:
//! - **Loading goes through parity-core.** The model is read and its external data resolved by
//!   parity-core's one safe resolver, and RTen gets the self-contained bytes
//!   (`ModelOptions::load`), so RTen opens no file itself and every hostile-file rule holds for it
//!   as for the other backends.
//! - **Unsupported ops are named before running**, every one of them, by asking RTen's own operator
//!   registry about each op type of the graph ([`support`]); a model beyond [`OPSETS`] is refused.
//! - **Threads.** RTen runs every model on a rayon pool of its own. `Options::threads = Some(n)`
//!   runs on an `n`-thread RTen pool (one per thread count, shared by the process's models, passed
//!   per run through `RunOptions`); `None` uses RTen's global pool, sized to the physical cores
//!   (or `RTEN_NUM_THREADS`).
//! - **Batches run as one call.** RTen's optimiser works on the graph with its declared, possibly
//!   symbolic shapes and plans nothing per shape, so there is no per-shape plan cache to build and
//!   no chunking: the measurements are in `benches/rten.rs`.
//! - **Any value can be read out** ([`Runnable::read_values`]): RTen's `Model::run` returns any
//!   value of the graph by name, so `localize` needs no graph rewrite for RTen. Read-outs run the
//!   unoptimised graph, because the optimiser fuses nodes and a fused value no longer exists.
//! - **dtypes**: RTen computes in `f32`, `i32`, `i8` and `u8`; `int64`/`bool` inputs are narrowed
//!   (an out-of-range `int64` is an error) and outputs come back in their declared dtype.
//! - A panic inside RTen becomes an error naming the model.
//!
//! ```no_run
//! use parity_core::{NamedTensors, Options, Runtime, Tensor};
//! let mut model = backend_rten::Rten.prepare("models/ssrnet_dynamo_dynamic.onnx".as_ref(), &Options::default())?;
//! let input = Tensor::from_f32(vec![1, 3, 64, 64], vec![0.0; 3 * 64 * 64])?;
//! let outputs = model.run(&NamedTensors::from([("input".to_string(), input)]))?;
//! println!("age {:?}", outputs["age"].as_f32());
//! # Ok::<(), parity_core::Error>(())
//! ```

mod convert;
mod model;
pub mod support;

use std::ops::RangeInclusive;
use std::path::Path;

use parity_core::{Options, Result, Runnable, Runtime};

pub use crate::model::RtenModel;

const NAME: &str = "rten";

/// The rten crate version this backend is built and documented against (must match Cargo.toml).
pub const RTEN_VERSION: &str = "0.27.0";

/// The default-domain opsets RTen 0.27 implements: the newest operator forms it reads are opset
/// 24's (`Swish`; opset 23's `Attention`, `RMSNormalization` and `RotaryEmbedding`). Older forms
/// it cannot read (opset 10 `Resize`, opset 1 `Tile`) are reported per op by [`support`].
pub const OPSETS: RangeInclusive<i64> = 1..=24;

/// The RTen backend (CPU).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rten;

impl Rten {
    /// Like [`Runtime::prepare`], returning the concrete type.
    pub fn prepare_model(&self, model: &Path, options: &Options) -> Result<RtenModel> {
        RtenModel::load(model, options)
    }
}

impl Runtime for Rten {
    fn name(&self) -> &'static str {
        NAME
    }

    fn opsets(&self) -> RangeInclusive<i64> {
        OPSETS
    }

    fn prepare(&self, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
        Ok(Box::new(self.prepare_model(model, options)?))
    }

    fn unsupported_ops(&self, model: &Path) -> Result<Vec<String>> {
        // The graph alone: op support needs no external data.
        Ok(support::unsupported_ops(&parity_core::onnx::read_model(model)?))
    }
}

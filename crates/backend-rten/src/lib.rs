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
//!   registry about each op type of the graph ([`support`]); a model beyond [`OPSETS`] is still
//!   handed to RTen, which decides (the range is a declaration that front ends warn about).
//! - **Threads.** RTen runs every model on a rayon pool of its own. `Options::threads = Some(n)`
//!   runs on an `n`-thread RTen pool (one per thread count, shared by the process's models, passed
//!   per run through `RunOptions`); `None` uses RTen's global pool, sized to the physical cores
//!   (or `RTEN_NUM_THREADS`).
//! - **Strategy: optimised graph, prepacked weights, a batch as one call** (the fastest measured,
//!   below). RTen plans nothing per input shape, so there is no plan cache to build, and splitting a
//!   batch never paid.
//!
//! ## Speed
//! SSRNet (`ssrnet_dynamo_dynamic.onnx`, 43.53 MFLOP per image), release build, the 2-core AVX-512
//! development VM. `cargo bench -p backend-rten` (RTen's strategies, two runs; medians in ms):
//!
//! | strategy | threads | batch 1 | batch 32 | batch 32 as 32 calls |
//! |---|---|---|---|---|
//! | optimised | 1 | 1.89 / 2.43 | 72.9 / 55.4 | 68.5 / 58.7 |
//! | optimised, prepacked weights | 1 | 1.84 / 1.74 | 60.1 / 55.9 | 79.7 / 57.0 |
//! | unoptimised | 1 | 2.37 / 1.91 | 59.1 / 58.8 | 79.9 / 60.1 |
//! | optimised | 2 | 1.71 / 1.45 | 37.6 / 32.1 | 45.6 / 44.3 |
//! | optimised, prepacked weights | 2 | 1.39 / 1.42 | 36.5 / 32.6 | 51.6 / 48.3 |
//! | unoptimised | 2 | 1.42 / 1.54 | 33.2 / 45.2 | 49.1 / 53.3 |
//!
//! Prepacking is as fast or faster at batch 1 and within the noise at batch 32, so runs use it
//! (it costs a copy of the weights in memory); one call per batch beats 32 single-sample calls in
//! every configuration. Beside the other backends, in one run of `ssrnet-parity bench --backend
//! ort,tract,candle,rten --batch 1,32 --threads 1,2` (release, prepacked RTen), median ms
//! (GFLOP/s):
//!
//! | backend | batch 1, 1 thread | batch 1, 2 threads | batch 32, 1 thread | batch 32, 2 threads |
//! |---|---|---|---|---|
//! | ort | 0.82 (52.9) | 0.49 (89.4) | 24.9 (55.9) | 14.0 (99.2) |
//! | tract | 2.69 (16.2) | 2.67 (16.3) | 106.8 (13.0) | 55.9 (24.9) |
//! | candle | 11.4 (3.8) | 10.3 (4.2) | 302 (4.6) | 256 (5.4) |
//! | rten | 2.53 (17.2) | 1.60 (27.1) | 59.2 (23.5) | 38.2 (36.5) |
//!
//! RTen is second to onnxruntime: 2.4-3.3x its latency, and 1.1-1.8x faster than tract.
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

    /// RTen computes in `f32`, `i32`, `i8` and `u8`: int64 and bool are held as
    /// int32, float64 and float16 as float32.
    fn holds(&self, declared: parity_core::DType) -> parity_core::DType {
        use parity_core::DType;
        match declared {
            DType::I64 | DType::Bool => DType::I32,
            DType::F64 | DType::F16 => DType::F32,
            other => other,
        }
    }

    fn prepare(&self, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
        Ok(Box::new(self.prepare_model(model, options)?))
    }

    fn unsupported_ops(&self, model: &Path) -> Result<Vec<String>> {
        // The graph alone: op support needs no external data.
        Ok(support::unsupported_ops(&parity_core::onnx::read_model(model)?))
    }
}

//! The [tract-onnx](https://github.com/sonos/tract) backend of ssrnet-parity: [`Tract`] implements
//! [`parity_core::Runtime`].
//!
//! What it does, and why (the measurements are in `benches/tract.rs`):
//! - **One optimised plan per concrete input shape.** tract optimises a graph whose shapes are all
//!   known much better than one with a symbolic batch axis (fixed-shape plans of SSRNet run ~30%
//!   faster), so the first run at a new input shape builds `into_optimized()?.into_runnable()` for
//!   exactly that shape and caches it (at most [`MAX_CACHED_PLANS`] shapes; beyond that one
//!   symbolic-shape plan serves every other shape).
//! - **Batches may be split.** On a dynamic-batch model, a batch larger than the chunk size
//!   (`Options::batch_chunk`, or [`TractModel::set_chunk`]; by default no split) runs as
//!   consecutive chunks of the same cached plan and the outputs are concatenated: tract's batch-32
//!   plan of SSRNet is slower than 32 batch-1 runs, so the CLI's SSRNet profile asks for chunks
//!   of one sample. This treats the leading symbolic axis shared by every input and output as an
//!   independent batch axis (true of any model exported with a `batch` dynamic axis that does not
//!   mix samples).
//! - **Threads.** tract parallelises inside matrix products through `tract_linalg::multithread`
//!   (rayon, feature `multithread-mm`, an [`Executor`](tract_linalg::multithread::Executor) installed per run). For SSRNet that only
//!   pays on multi-sample runs; a one-sample run is faster single-threaded. So with `threads > 1`
//!   a split batch runs its chunks on that many threads at once (one plan state per thread, each
//!   single-threaded inside), and only a run of several samples as one plan uses intra-op threads.
//!   `threads: None` means one thread.
//! - Inputs are checked against the ONNX graph's declared names, dtypes and shapes before running,
//!   so a static model fed batch 8 gives an [`Error::Input`](parity_core::Error::Input), not a tract error from deep inside.
//! - A dynamo export's `value_info` repeats the symbolic shapes (`N,32,64,64`), so pinning a concrete
//!   input fact on the ONNX-level model contradicts it ("impossible to unify Sym(N) with Val(1)").
//!   Per-shape plans therefore substitute the symbol in the typed model instead, and a model whose
//!   `value_info` contradicts tract's own analysis is re-read with `with_ignore_value_info(true)`.
//!
//! ```no_run
//! use parity_core::{Options, Runtime, Tensor};
//! use backend_tract::Tract;
//!
//! let mut model = Tract.prepare("models/ssrnet_legacy_dynamic.onnx".as_ref(), &Options::default())?;
//! let input = Tensor::from_f32(vec![2, 3, 64, 64], vec![0.0; 2 * 3 * 64 * 64])?;
//! let outputs = model.run(&[("input".to_string(), input)].into())?;
//! assert_eq!(outputs["age"].shape(), &[2]);
//! # Ok::<(), parity_core::Error>(())
//! ```

mod batch;
mod convert;
mod load;
mod model;

use std::collections::HashMap;
use std::path::Path;

use parity_core::{Options, Result, Runnable, Runtime};
use tract_onnx::prelude::{InferenceModelExt, OutletId, TractResult};

use crate::load::{
    backend_error, guard, parse, proto_for_tract, read_proto, unsupported, with_input_shapes,
};
pub use crate::model::TractModel;

const NAME: &str = "tract";

/// The default-domain opsets tract-onnx 0.23.9 implements: the newest operator version its
/// translation distinguishes is opset 21's (`GroupNormalization`'s per-channel affine).
pub const OPSETS: std::ops::RangeInclusive<i64> = 1..=21;

/// The tract-onnx this backend is built with (the engine's registry holds it to Cargo.lock).
pub const TRACT_VERSION: &str = "0.23.9";

/// How many concrete input shapes get their own optimised plan before the symbolic-shape plan
/// takes over (bounds memory when a caller feeds ever-new shapes).
pub const MAX_CACHED_PLANS: usize = 8;

/// The tract-onnx backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tract;

impl Tract {
    /// Like [`Runtime::prepare`], returning the concrete type (for tuning, e.g. in benchmarks).
    pub fn prepare_model(&self, model: &Path, options: &Options) -> Result<TractModel> {
        guard(model, || TractModel::load(model, options))
    }

    /// The concrete shape of every value of the ONNX graph when its inputs have `shapes` (one
    /// per declared input, in order), from tract's type analysis, keyed by ONNX value name. Values
    /// tract folds away during the analysis are absent. Runs nothing.
    pub fn value_shapes(
        &self,
        model: &Path,
        shapes: &[Vec<usize>],
    ) -> Result<HashMap<String, Vec<usize>>> {
        guard(model, || {
            let proto = read_proto(model)?;
            let analyse = || -> TractResult<HashMap<String, Vec<usize>>> {
                let typed = parse(&tract_onnx::onnx(), &proto)?.into_typed()?;
                let typed = with_input_shapes(typed, shapes)?;
                let mut out = HashMap::new();
                for node in typed.nodes() {
                    for (slot, outlet) in node.outputs.iter().enumerate() {
                        // Outlets carry their ONNX value name as a label; a graph input's
                        // source node is named after it instead.
                        let source =
                            node.inputs.is_empty() && typed.inputs.contains(&node.id.into());
                        let label = typed
                            .outlet_label(OutletId::new(node.id, slot))
                            .or(source.then_some(node.name.as_str()));
                        if let (Some(label), Some(shape)) = (label, outlet.fact.shape.as_concrete())
                        {
                            out.insert(label.to_string(), shape.to_vec());
                        }
                    }
                }
                Ok(out)
            };
            analyse().map_err(|e| backend_error(model, e))
        })
    }
}

impl Runtime for Tract {
    fn name(&self) -> &'static str {
        NAME
    }

    fn opsets(&self) -> std::ops::RangeInclusive<i64> {
        OPSETS
    }

    /// tract computes in every dtype a tensor here holds.
    fn holds(&self, declared: parity_core::DType) -> parity_core::DType {
        declared
    }

    fn prepare(&self, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
        Ok(Box::new(self.prepare_model(model, options)?))
    }

    fn unsupported_ops(&self, model: &Path) -> Result<Vec<String>> {
        // The graph alone: op support needs no external data.
        let proto = proto_for_tract(model, &parity_core::onnx::read_model(model)?)?;
        Ok(unsupported(&tract_onnx::onnx(), &proto))
    }
}

//! [`TractModel`]: a loaded model, its declared interface, and one optimised plan per concrete
//! input shape (cached, at most [`MAX_CACHED_PLANS`]), with a symbolic-shape plan for the rest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parity_core::{Dim, Error, ModelInfo, NamedTensors, NamedViews, Options, Result, TensorView};
use tract_linalg::multithread::{Executor, multithread_tract_scope};
use tract_onnx::prelude::{
    RunOptions, TValue, TractError, TractResult, TypedModel, TypedSimplePlan, TypedSimpleState,
};
use tract_onnx::tract_core::internal::{TVec, anyhow};

use crate::convert::{from_tract, to_tract};
use crate::load::{
    backend_error, batch_axis, guard, parse, proto_for_tract, typed, unsupported,
    with_analysed_shapes, with_input_shapes,
};
use crate::{MAX_CACHED_PLANS, NAME};

/// A prepared model: its declared interface, the parsed graph, and the cached plans.
pub struct TractModel {
    pub(crate) path: PathBuf,
    pub(crate) info: ModelInfo,
    /// The analysed, decluttered graph with its declared (possibly symbolic) shapes.
    pub(crate) typed: TypedModel,
    /// Name of the leading symbolic axis shared by every input and output, if there is one.
    pub(crate) batch_axis: Option<String>,
    pub(crate) chunk: usize,
    pub(crate) threads: usize,
    pub(crate) executor: Executor,
    pub(crate) pool: Option<Arc<rayon::ThreadPool>>,
    pub(crate) plans: HashMap<Vec<Vec<usize>>, Plan>,
    pub(crate) symbolic: Option<Plan>,
}

/// An optimised plan plus a reusable state (reusing the state avoids re-allocating per run).
pub(crate) struct Plan {
    pub(crate) plan: Arc<TypedSimplePlan>,
    pub(crate) state: TypedSimpleState,
}

impl std::fmt::Debug for TractModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractModel")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("batch_axis", &self.batch_axis)
            .field("chunk", &self.chunk)
            .field("threads", &self.threads)
            .field("cached_plans", &self.plans.len())
            .finish_non_exhaustive()
    }
}

impl TractModel {
    pub(crate) fn load(path: &Path, options: &Options) -> Result<Self> {
        let threads = options.threads()?.unwrap_or(1);
        // The declared interface through parity-core, before tract parses.
        let declared = parity_core::onnx::read_model_with_data(path)?;
        let proto = proto_for_tract(path, &declared)?;
        let onnx = tract_onnx::onnx();
        let missing = unsupported(&onnx, &proto);
        if !missing.is_empty() {
            return Err(Error::invalid(
                path,
                format!("tract cannot translate op(s): {}", missing.join(", ")),
            ));
        }
        // Value info is only a hint, and a contradicting one makes tract's analysis fail; a model
        // that fails with it is retried without it (none of the committed exports needs this with
        // tract 0.23.9: the conflict shows only when pinning a dynamo export's input shape on the
        // inference model, which `build_plan` avoids).
        let load = |onnx: &tract_onnx::Onnx| parse(onnx, &proto).and_then(|m| typed(&m));
        let typed = match load(&onnx) {
            Ok(typed) => typed,
            Err(first) => load(&onnx.with_ignore_value_info(true)).map_err(|e| {
                Error::invalid(
                    path,
                    format!("tract cannot load the model: {first:#}; without value_info: {e:#}"),
                )
            })?,
        };
        let declared = declared.graph.as_ref().expect("read_model guarantees a graph");
        let info = parity_core::onnx::model_info(declared).map_err(|m| Error::invalid(path, m))?;
        let info = with_analysed_shapes(info, &typed);
        let batch_axis = batch_axis(&info);
        let (executor, pool) = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("tract-{i}"))
                .build()
                .map_err(|e| {
                    Error::backend(NAME, format!("cannot start {threads} threads: {e}"))
                })?;
            let pool = Arc::new(pool);
            (Executor::MultiThread(pool.clone()), Some(pool))
        } else {
            (Executor::SingleThread, None)
        };
        let mut this = TractModel {
            path: path.to_owned(),
            info,
            typed,
            batch_axis,
            chunk: options.batch_chunk.unwrap_or(usize::MAX).max(1),
            threads,
            executor,
            pool,
            plans: HashMap::new(),
            symbolic: None,
        };
        // A fully static model has exactly one shape: build its plan now, so load errors surface
        // at prepare time and the first run is not slower than the rest.
        let fixed: Option<Vec<Vec<usize>>> = this
            .info
            .inputs
            .iter()
            .map(|i| {
                i.shape
                    .iter()
                    .map(|d| if let Dim::Fixed(n) = d { Some(*n) } else { None })
                    .collect()
            })
            .collect();
        if let Some(shapes) = fixed {
            let plan = this
                .build_plan(Some(&shapes))
                .map_err(|e| Error::invalid(path, format!("{e:#}")))?;
            this.plans.insert(shapes, plan);
        }
        Ok(this)
    }

    /// Largest batch run as one plan on a dynamic-batch model (at least 1); larger batches are
    /// split into chunks of this size. `usize::MAX` disables splitting.
    pub fn set_chunk(&mut self, chunk: usize) {
        self.chunk = chunk.max(1);
    }

    /// The current chunk size (see [`Self::set_chunk`]).
    pub fn chunk(&self) -> usize {
        self.chunk
    }

    /// Number of concrete-shape plans built so far.
    pub fn cached_plans(&self) -> usize {
        self.plans.len()
    }

    /// Run with the one symbolic-shape plan (no per-shape plan, no splitting): the reference the
    /// per-shape plans must agree with, and the fallback beyond [`MAX_CACHED_PLANS`].
    pub fn run_symbolic(&mut self, inputs: &NamedTensors) -> Result<NamedTensors> {
        let inputs = parity_core::views(inputs);
        let ordered = self.check(&inputs)?;
        if self.symbolic.is_none() {
            let plan = self.build_plan(None).map_err(|e| self.backend_error(e))?;
            self.symbolic = Some(plan);
        }
        let tensors = ordered.iter().map(|t| to_tract(t)).collect::<Result<Vec<_>>>()?;
        let shapes: Vec<Vec<usize>> = tensors.iter().map(|t| t.shape().to_vec()).collect();
        let executor = self.executor_for(&shapes);
        let plan = self.symbolic.as_mut().expect("built above");
        let out = multithread_tract_scope(executor, || run_state(&mut plan.state, tensors))
            .map_err(|e| backend_error(&self.path, e))?;
        self.name_outputs(out)
    }

    fn backend_error(&self, e: TractError) -> Error {
        backend_error(&self.path, e)
    }

    /// Build an optimised plan for `shapes` (one per input, see [`with_input_shapes`]), or for the
    /// declared symbolic shapes.
    pub(crate) fn build_plan(&self, shapes: Option<&[Vec<usize>]>) -> TractResult<Plan> {
        let model = match shapes {
            Some(shapes) => with_input_shapes(self.typed.clone(), shapes)?,
            None => self.typed.clone(),
        };
        let options = RunOptions::default();
        let plan = model.into_optimized()?.into_runnable_with_options(&options)?;
        let state = plan.spawn()?;
        Ok(Plan { plan, state })
    }

    /// Check `inputs` against the declared inputs; returns them in declared order.
    pub(crate) fn check<'a>(&self, inputs: &NamedViews<'a>) -> Result<Vec<TensorView<'a>>> {
        self.info
            .check_inputs(inputs)
            .map_err(|e| Error::Input(format!("{}: {e}", self.path.display())))?;
        Ok(self.info.inputs.iter().map(|io| inputs[&io.name]).collect())
    }

    /// Run one batch (already checked) through the plan for its shapes.
    pub(crate) fn run_one(
        &mut self,
        tensors: Vec<tract_onnx::prelude::Tensor>,
    ) -> Result<TVec<TValue>> {
        let key: Vec<Vec<usize>> = tensors.iter().map(|t| t.shape().to_vec()).collect();
        let executor = self.executor_for(&key);
        let plan = self.plan_for(key)?;
        multithread_tract_scope(executor, || run_state(&mut plan.state, tensors))
            .map_err(|e| backend_error(&self.path, e))
    }

    /// Threads inside one run: only for multi-sample runs. A one-sample SSRNet run is too small
    /// for tract's intra-op threading to pay (2.6 ms on 2 threads vs 2.1 ms on 1, measured), so
    /// with `threads > 1` the threads go to running chunks side by side instead.
    pub(crate) fn executor_for(&self, shapes: &[Vec<usize>]) -> Executor {
        match shapes.first().and_then(|s| s.first()) {
            Some(&rows) if rows > 1 => self.executor.clone(),
            _ => Executor::SingleThread,
        }
    }

    pub(crate) fn plan_for(&mut self, key: Vec<Vec<usize>>) -> Result<&mut Plan> {
        if !self.plans.contains_key(&key) {
            if self.plans.len() < MAX_CACHED_PLANS {
                let plan = guard(&self.path, || {
                    self.build_plan(Some(&key)).map_err(|e| self.backend_error(e))
                })?;
                self.plans.insert(key.clone(), plan);
            } else {
                if self.symbolic.is_none() {
                    let plan = guard(&self.path, || {
                        self.build_plan(None).map_err(|e| self.backend_error(e))
                    })?;
                    self.symbolic = Some(plan);
                }
                return Ok(self.symbolic.as_mut().expect("built above"));
            }
        }
        Ok(self.plans.get_mut(&key).expect("inserted above"))
    }

    pub(crate) fn name_outputs(&self, out: TVec<TValue>) -> Result<NamedTensors> {
        self.info
            .outputs
            .iter()
            .zip(out)
            .map(|(io, v)| Ok((io.name.clone(), from_tract(&io.name, &v)?)))
            .collect()
    }
}

/// Run a plan state, catching a panic inside tract as an error.
pub(crate) fn run_state(
    state: &mut TypedSimpleState,
    tensors: Vec<tract_onnx::prelude::Tensor>,
) -> TractResult<TVec<TValue>> {
    let inputs: TVec<TValue> = tensors.into_iter().map(TValue::from).collect();
    parity_core::panic::catch(|| state.run(inputs))
        .unwrap_or_else(|panic| Err(anyhow!("tract {panic}")))
}

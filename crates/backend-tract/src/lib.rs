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
//!   (rayon, feature `multithread-mm`, an [`Executor`] installed per run). For SSRNet that only
//!   pays on multi-sample runs; a one-sample run is faster single-threaded. So with `threads > 1`
//!   a split batch runs its chunks on that many threads at once (one plan state per thread, each
//!   single-threaded inside), and only a run of several samples as one plan uses intra-op threads.
//!   `threads: None` means one thread.
//! - Inputs are checked against the ONNX graph's declared names, dtypes and shapes before running,
//!   so a static model fed batch 8 gives an [`Error::Input`], not a tract error from deep inside.
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

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parity_core::{
    Dim, Error, IoInfo, ModelInfo, NamedTensors, Options, Result, Runnable, Runtime, Tensor,
    TensorData,
};
use rayon::prelude::*;
use tract_linalg::multithread::{Executor, multithread_tract_scope};
use tract_onnx::pb;
use tract_onnx::prelude::{
    DatumType, Framework, InferenceModel, InferenceModelExt, OutletId, RunOptions, TDim, TValue,
    TractError, TractResult, TypedModel, TypedSimplePlan, TypedSimpleState,
};
use tract_onnx::tract_core::internal::{TVec, anyhow, bail};

const NAME: &str = "tract";

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
                let typed = parse(&tract_onnx::onnx(), &proto, model)?.into_typed()?;
                let mut subs = HashMap::new();
                for (ix, shape) in shapes.iter().enumerate() {
                    for (dim, &n) in typed.input_fact(ix)?.shape.iter().zip(shape) {
                        if let TDim::Sym(symbol) = dim {
                            subs.insert(symbol.clone(), TDim::Val(n as i64));
                        }
                    }
                }
                let typed = if subs.is_empty() { typed } else { typed.set_symbols(&subs)? };
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

    fn prepare(&self, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
        Ok(Box::new(self.prepare_model(model, options)?))
    }

    fn unsupported_ops(&self, model: &Path) -> Result<Vec<String>> {
        let proto = read_proto(model)?;
        Ok(unsupported(&tract_onnx::onnx(), &proto))
    }
}

/// A prepared model: its declared interface, the parsed graph, and the cached plans.
pub struct TractModel {
    path: PathBuf,
    info: ModelInfo,
    /// The analysed, decluttered graph with its declared (possibly symbolic) shapes.
    typed: TypedModel,
    /// Name of the leading symbolic axis shared by every input and output, if there is one.
    batch_axis: Option<String>,
    chunk: usize,
    threads: usize,
    executor: Executor,
    pool: Option<Arc<rayon::ThreadPool>>,
    plans: HashMap<Vec<Vec<usize>>, Plan>,
    symbolic: Option<Plan>,
}

/// An optimised plan plus a reusable state (reusing the state avoids re-allocating per run).
struct Plan {
    plan: Arc<TypedSimplePlan>,
    state: TypedSimpleState,
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
    fn load(path: &Path, options: &Options) -> Result<Self> {
        let threads = options.threads()?.unwrap_or(1);
        let proto = read_proto(path)?;
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
        let load = |onnx: &tract_onnx::Onnx| parse(onnx, &proto, path).and_then(|m| typed(&m));
        let typed = match load(&onnx) {
            Ok(typed) => typed,
            Err(first) => load(&onnx.with_ignore_value_info(true)).map_err(|e| {
                Error::invalid(
                    path,
                    format!("tract cannot load the model: {first:#}; without value_info: {e:#}"),
                )
            })?,
        };
        let declared = parity_core::onnx::read_model(path)?;
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
        let ordered = self.check(inputs)?;
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

    /// Build an optimised plan for `shapes` (one per input), or for the declared symbolic shapes.
    /// Concrete shapes are applied by substituting the typed model's symbols (tract's `--set
    /// N=1`), not by re-typing the ONNX graph: a dynamo export's value_info repeats the symbolic
    /// shapes and would contradict a concrete input fact.
    fn build_plan(&self, shapes: Option<&[Vec<usize>]>) -> TractResult<Plan> {
        let mut model = self.typed.clone();
        if let Some(shapes) = shapes {
            let mut subs = HashMap::new();
            for (ix, shape) in shapes.iter().enumerate() {
                let fact = self.typed.input_fact(ix)?;
                for (dim, &n) in fact.shape.iter().zip(shape) {
                    if let TDim::Sym(symbol) = dim {
                        subs.insert(symbol.clone(), TDim::Val(n as i64));
                    }
                }
            }
            if !subs.is_empty() {
                model = model.set_symbols(&subs)?;
            }
        }
        let options = RunOptions::default();
        let plan = model.into_optimized()?.into_runnable_with_options(&options)?;
        let state = plan.spawn()?;
        Ok(Plan { plan, state })
    }

    /// Check `inputs` against the declared inputs; returns them in declared order.
    fn check<'a>(&self, inputs: &'a NamedTensors) -> Result<Vec<&'a Tensor>> {
        self.info
            .check_inputs(inputs)
            .map_err(|e| Error::Input(format!("{}: {e}", self.path.display())))?;
        Ok(self.info.inputs.iter().map(|io| &inputs[&io.name]).collect())
    }

    /// Run one batch (already checked) through the plan for its shapes.
    fn run_one(&mut self, tensors: Vec<tract_onnx::prelude::Tensor>) -> Result<TVec<TValue>> {
        let key: Vec<Vec<usize>> = tensors.iter().map(|t| t.shape().to_vec()).collect();
        let executor = self.executor_for(&key);
        let plan = self.plan_for(key)?;
        multithread_tract_scope(executor, || run_state(&mut plan.state, tensors))
            .map_err(|e| backend_error(&self.path, e))
    }

    /// Threads inside one run: only for multi-sample runs. A one-sample SSRNet run is too small
    /// for tract's intra-op threading to pay (2.6 ms on 2 threads vs 2.1 ms on 1, measured), so
    /// with `threads > 1` the threads go to running chunks side by side instead.
    fn executor_for(&self, shapes: &[Vec<usize>]) -> Executor {
        match shapes.first().and_then(|s| s.first()) {
            Some(&rows) if rows > 1 => self.executor.clone(),
            _ => Executor::SingleThread,
        }
    }

    fn plan_for(&mut self, key: Vec<Vec<usize>>) -> Result<&mut Plan> {
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

    fn name_outputs(&self, out: TVec<TValue>) -> Result<NamedTensors> {
        self.info
            .outputs
            .iter()
            .zip(out)
            .map(|(io, v)| Ok((io.name.clone(), from_tract(&io.name, &v)?)))
            .collect()
    }
}

impl Runnable for TractModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn run(&mut self, inputs: &NamedTensors) -> Result<NamedTensors> {
        let ordered = self.check(inputs)?;
        let batch = match self.batch_axis {
            Some(_) => ordered.first().map(|t| t.shape()[0]).unwrap_or(0),
            None => 0,
        };
        if batch <= self.chunk {
            let tensors = ordered.iter().map(|t| to_tract(t)).collect::<Result<Vec<_>>>()?;
            let out = self.run_one(tensors)?;
            return self.name_outputs(out);
        }
        // Split the batch axis into chunks of `self.chunk` (the last may be shorter).
        let chunk = self.chunk;
        let starts: Vec<usize> = (0..batch).step_by(chunk).collect();
        let slice = |start: usize| -> Result<Vec<tract_onnx::prelude::Tensor>> {
            let n = chunk.min(batch - start);
            ordered.iter().map(|t| to_tract_rows(t, start, n)).collect()
        };
        let mut parts: Vec<NamedTensors> = Vec::with_capacity(starts.len());
        if let Some(pool) = self.pool.clone() {
            // Inter-op parallelism: each thread runs whole chunks with its own state of the plan.
            // Make sure the plans exist first (plan building needs `&mut self`).
            let full = slice(0)?;
            let key: Vec<Vec<usize>> = full.iter().map(|t| t.shape().to_vec()).collect();
            let plan = self.plan_for(key)?.plan.clone();
            let last = *starts.last().expect("batch > chunk");
            let tail = if batch - last < chunk {
                let t = slice(last)?;
                let key: Vec<Vec<usize>> = t.iter().map(|t| t.shape().to_vec()).collect();
                Some(self.plan_for(key)?.plan.clone())
            } else {
                None
            };
            let path = &self.path;
            let outs: Vec<Result<TVec<TValue>>> = pool.install(|| {
                starts
                    .par_iter()
                    .map_init(
                        || None::<(bool, TypedSimpleState)>,
                        |state, &start| {
                            let is_tail = batch - start < chunk;
                            let plan =
                                if is_tail { tail.as_ref().expect("tail plan") } else { &plan };
                            if state.as_ref().is_none_or(|(t, _)| *t != is_tail) {
                                *state = Some((
                                    is_tail,
                                    plan.spawn().map_err(|e| backend_error(path, e))?,
                                ));
                            }
                            let tensors = slice(start)?;
                            let st = &mut state.as_mut().expect("spawned above").1;
                            // Run single-threaded inside: the pool's threads are busy with chunks.
                            multithread_tract_scope(Executor::SingleThread, || {
                                run_state(st, tensors)
                            })
                            .map_err(|e| backend_error(path, e))
                        },
                    )
                    .collect()
            });
            for out in outs {
                parts.push(self.name_outputs(out?)?);
            }
        } else {
            for &start in &starts {
                let tensors = slice(start)?;
                let out = self.run_one(tensors)?;
                parts.push(self.name_outputs(out)?);
            }
        }
        parity_core::concat_named(parts)
    }
}

/// Run a plan state, catching a panic inside tract as an error.
fn run_state(
    state: &mut TypedSimpleState,
    tensors: Vec<tract_onnx::prelude::Tensor>,
) -> TractResult<TVec<TValue>> {
    let inputs: TVec<TValue> = tensors.into_iter().map(TValue::from).collect();
    parity_core::panic::catch(|| state.run(inputs))
        .unwrap_or_else(|panic| Err(anyhow!("tract {panic}")))
}

/// Run `f`, turning a panic inside tract into an error naming `path`.
fn guard<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    parity_core::panic::catch(f)
        .unwrap_or_else(|panic| Err(Error::invalid(path, format!("tract {panic}"))))
}

fn backend_error(path: &Path, e: TractError) -> Error {
    Error::backend(NAME, format!("{}: {e:#}", path.display()))
}

/// Read and decode the ONNX protobuf at `path`.
fn read_proto(path: &Path) -> Result<pb::ModelProto> {
    let bytes =
        std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .map_err(|e| Error::invalid(path, format!("not an onnx model: {e:#}")))
}

/// Translate the protobuf into tract's inference model; external data is resolved relative to the
/// model's directory.
fn parse(
    onnx: &tract_onnx::Onnx,
    proto: &pb::ModelProto,
    path: &Path,
) -> TractResult<InferenceModel> {
    let dir = path.parent().map(|d| if d.as_os_str().is_empty() { Path::new(".") } else { d });
    let dir = dir
        .map(|d| d.to_str().ok_or_else(|| anyhow!("model directory {d:?} is not utf-8")))
        .transpose()?;
    let parsed = onnx.parse(proto, dir)?;
    if !parsed.unresolved_inputs.is_empty() {
        bail!("graph refers to undefined tensors {:?}", parsed.unresolved_inputs);
    }
    Ok(parsed.model)
}

/// Analyse, type and declutter the model with its declared (possibly symbolic) shapes.
fn typed(model: &InferenceModel) -> TractResult<TypedModel> {
    model.clone().into_typed()?.into_decluttered()
}

/// Op types in `proto` (including sub-graphs) that tract-onnx has no translation for.
fn unsupported(onnx: &tract_onnx::Onnx, proto: &pb::ModelProto) -> Vec<String> {
    fn walk(graph: &pb::GraphProto, onnx: &tract_onnx::Onnx, out: &mut BTreeSet<String>) {
        for node in &graph.node {
            if !onnx.op_register.0.contains_key(&node.op_type) {
                out.insert(node.op_type.clone());
            }
            for attr in &node.attribute {
                for g in attr.g.iter().chain(&attr.graphs) {
                    walk(g, onnx, out);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    if let Some(g) = &proto.graph {
        walk(g, onnx, &mut out);
    }
    out.into_iter().collect()
}

/// The declared interface (parity-core's converter) with tract's analysed shape for a value the
/// graph declares without one.
fn with_analysed_shapes(mut info: ModelInfo, typed: &TypedModel) -> ModelInfo {
    let fill = |io: &mut IoInfo, fact: Option<&tract_onnx::prelude::TypedFact>| {
        if io.shape.is_empty()
            && let Some(fact) = fact
        {
            io.shape = fact.shape.iter().map(dim_from_tdim).collect();
        }
    };
    for (i, io) in info.inputs.iter_mut().enumerate() {
        fill(io, typed.input_fact(i).ok());
    }
    for (i, io) in info.outputs.iter_mut().enumerate() {
        fill(io, typed.output_fact(i).ok());
    }
    info
}

fn dim_from_tdim(d: &TDim) -> Dim {
    match d.to_i64() {
        Ok(n) if n >= 0 => Dim::Fixed(n as usize),
        _ => Dim::Symbolic(d.to_string()),
    }
}

/// The batch axis: a named symbolic axis 0 shared by every input and output and used nowhere else.
fn batch_axis(info: &ModelInfo) -> Option<String> {
    let all: Vec<&IoInfo> = info.inputs.iter().chain(&info.outputs).collect();
    let first = match all.first()?.shape.first()? {
        Dim::Symbolic(s) if s != "?" => s.clone(),
        _ => return None,
    };
    let ok = all.iter().all(|io| {
        io.shape.first() == Some(&Dim::Symbolic(first.clone()))
            && !io.shape[1..].iter().any(|d| matches!(d, Dim::Symbolic(_)))
    });
    ok.then_some(first)
}

fn to_tract(t: &Tensor) -> Result<tract_onnx::prelude::Tensor> {
    to_tract_rows(t, 0, t.shape().first().copied().unwrap_or(1))
}

/// Rows `start..start + n` of axis 0 of `t` as a tract tensor (the whole tensor for a scalar).
fn to_tract_rows(t: &Tensor, start: usize, n: usize) -> Result<tract_onnx::prelude::Tensor> {
    use tract_onnx::prelude::Tensor as T;
    let mut shape = t.shape().to_vec();
    let row: usize = shape.iter().skip(1).product();
    let range = if shape.is_empty() {
        0..1
    } else {
        shape[0] = n;
        start * row..(start + n) * row
    };
    let r = match t.data() {
        TensorData::F32(v) => T::from_shape(&shape, &v[range]),
        TensorData::F64(v) => T::from_shape(&shape, &v[range]),
        TensorData::I64(v) => T::from_shape(&shape, &v[range]),
        TensorData::I32(v) => T::from_shape(&shape, &v[range]),
        TensorData::U8(v) => T::from_shape(&shape, &v[range]),
        TensorData::Bool(v) => T::from_shape(&shape, &v[range]),
    };
    r.map_err(|e| Error::Input(format!("cannot convert tensor of shape {shape:?}: {e:#}")))
}

fn from_tract(name: &str, t: &tract_onnx::prelude::Tensor) -> Result<Tensor> {
    let err = |e: TractError| Error::backend(NAME, format!("output '{name}': {e:#}"));
    let data = match t.datum_type() {
        DatumType::F32 => {
            TensorData::F32(t.to_plain_array_view::<f32>().map_err(err)?.iter().copied().collect())
        }
        DatumType::F64 => {
            TensorData::F64(t.to_plain_array_view::<f64>().map_err(err)?.iter().copied().collect())
        }
        DatumType::I64 => {
            TensorData::I64(t.to_plain_array_view::<i64>().map_err(err)?.iter().copied().collect())
        }
        DatumType::I32 => {
            TensorData::I32(t.to_plain_array_view::<i32>().map_err(err)?.iter().copied().collect())
        }
        DatumType::U8 => {
            TensorData::U8(t.to_plain_array_view::<u8>().map_err(err)?.iter().copied().collect())
        }
        DatumType::Bool => TensorData::Bool(
            t.to_plain_array_view::<bool>().map_err(err)?.iter().copied().collect(),
        ),
        other => {
            return Err(Error::backend(
                NAME,
                format!("output '{name}' has unsupported dtype {other:?}"),
            ));
        }
    };
    Tensor::new(t.shape().to_vec(), data)
}

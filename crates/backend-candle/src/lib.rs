//! The candle backend: runs ONNX models on CPU with `candle-onnx` 0.11.1 behind the
//! [`parity_core::Runtime`] trait.
//!
//! candle-onnx is a direct interpreter (`simple_eval` walks the `ModelProto` on every call), so
//! this crate adds what it lacks for parity work:
//! - **external data** (`model.onnx.data`) is read into the initializers before evaluation
//!   (candle-onnx reads such initializers as empty), with clear errors for a missing data file or
//!   an out-of-range offset;
//! - **op support is checked up front**: `prepare` fails naming every op candle-onnx lacks
//!   ([`support::SUPPORTED_OPS`], read from candle-onnx's source) and every pooling or `Clip`
//!   variant it would compute differently from the spec (`ceil_mode`, `count_include_pad` with
//!   padding, ...); attribute forms it ignores but that can be rewritten exactly (opset 11
//!   `ReduceSum` axes, ...) are rewritten;
//! - **once-only work**: initializers become candle tensors once, constant nodes are folded
//!   once ([`prepare`] module docs);
//! - **inputs are checked** (name, dtype, rank, fixed dims) before running, and a panic inside
//!   candle becomes an error;
//! - **threads**: `Options::threads = Some(n)` runs each call inside an `n`-thread rayon pool
//!   (one per thread count and calling thread, shared by the models that thread runs), which
//!   bounds candle's conv loops and
//!   its gemm calls. candle 0.11 also splits large
//!   element-wise ops (>= 65,536 elements) over a process-global pool sized once from
//!   `CANDLE_NUM_THREADS` (else `RAYON_NUM_THREADS`, else the physical core count); set
//!   `CANDLE_NUM_THREADS=1` in the environment for a strictly single-threaded process (the
//!   binary does, through [`keep_element_wise_on_caller`]).
//!   `None` uses candle's own pool (one thread per physical core).
//!
//! ## Speed (`cargo bench -p backend-candle`)
//! SSRNet (`ssrnet_dynamo_dynamic.onnx`, 42.9 MFLOP per image), median per call, on the 2-core
//! AMD EPYC (AVX-512) development VM while other builds were running (bench given scheduling
//! priority):
//!
//! | threads | batch 1 | batch 32 | batch 32 as 4 calls of 8 | as 32 calls of 1 |
//! |---------|---------|----------|--------------------------|------------------|
//! | 1       | 7.5 ms (5.7 GFLOP/s) | 247 ms (5.6 GFLOP/s) | 243 ms | 287 ms |
//! | 2       | 5.9 ms (7.3 GFLOP/s) | 168 ms (8.2 GFLOP/s) | 180 ms | 244 ms |
//!
//! The fastest configuration is one call per batch on every core (`threads: None` or `Some(2)`
//! here); splitting a batch never pays. Building the initializers once saves nothing measurable
//! on SSRNet (plain `simple_eval`: 7.5 ms / 244 ms on 1 thread), since its 178 KB of weights take
//! microseconds to copy; the time is candle's conv2d. It is kept because it is free and larger
//! models gain from it.
//!
//! ```no_run
//! use parity_core::{NamedTensors, Options, Runtime, Tensor};
//! let mut model = backend_candle::Candle.prepare("models/ssrnet_dynamo_dynamic.onnx".as_ref(), &Options::default())?;
//! let input = Tensor::from_f32(vec![1, 3, 64, 64], vec![0.0; 3 * 64 * 64])?;
//! let outputs = model.run(&NamedTensors::from([("input".to_string(), input)]))?;
//! println!("age {:?}", outputs["age"].as_f32());
//! # Ok::<(), parity_core::Error>(())
//! ```

pub mod load;
pub mod prepare;
pub mod support;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType as CDType, Device, Tensor as CTensor};
use candle_onnx::onnx::{ModelProto, ValueInfoProto};
use parity_core::onnx::proto::GraphProto;
use parity_core::{
    DType, DataView, Error, ModelInfo, NamedTensors, NamedViews, Options, Result, Runnable,
    Runtime, Tensor, TensorData, TensorView,
};

use crate::support::CeilCheck;

const NAME: &str = "candle";

/// The default-domain opsets candle-onnx 0.11.1 (with this crate's rewrites, see [`prepare`])
/// implements: its newest operator is opset 20's `Gelu`, and the attributes opsets 19 and 20
/// added to older ops (`Pad`'s `wrap`, `AveragePool`'s `dilations`, ...) default to the older
/// behaviour it implements (a node that sets one is refused by [`support`]'s variant checks or by
/// candle-onnx itself). Opset 21 changed operator semantics (`GroupNormalization`) and added
/// types it does not know.
pub const OPSETS: std::ops::RangeInclusive<i64> = 1..=20;

/// The candle-onnx backend (CPU).
#[derive(Debug, Clone, Copy, Default)]
pub struct Candle;

impl Runtime for Candle {
    fn name(&self) -> &'static str {
        NAME
    }

    fn opsets(&self) -> std::ops::RangeInclusive<i64> {
        OPSETS
    }

    /// candle computes in every dtype a tensor here holds.
    fn holds(&self, declared: DType) -> DType {
        declared
    }

    fn prepare(&self, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
        Ok(Box::new(CandleModel::load(model, options)?))
    }

    fn unsupported_ops(&self, model: &Path) -> Result<Vec<String>> {
        // The graph alone: op support needs no external data.
        Ok(support::unsupported_ops(graph(&parity_core::onnx::read_model(model)?)))
    }
}

/// A model prepared for candle: constants built once, checked and rewritten (see [`prepare`]).
pub struct CandleModel {
    path: PathBuf,
    model: ModelProto,
    consts: prepare::Consts,
    info: ModelInfo,
    ceil_checks: Vec<CeilCheck>,
    /// The intra-op threads asked for (`None`: candle's own pool).
    threads: Option<usize>,
}

/// Keeps candle's element-wise ops on the calling thread: candle 0.11 splits element-wise ops of
/// 65,536 elements or more over one process-wide spinning pool whose calls take a lock, so
/// instances running side by side on several threads queue behind each other there (measured on
/// SSRNet, 1,000 cases on two one-thread instances, 2 cores: 7.0 s with the pool, 4.6 s without).
/// This sets `CANDLE_NUM_THREADS=1`, which sizes that pool to the caller alone, unless the
/// caller's environment already gives it a value; conv and matmul still use the instance's
/// threads ([`Options::threads`]).
///
/// # Safety
///
/// Changes the process environment: call it before any other thread starts (at the top of
/// `main`), as for [`std::env::set_var`].
pub unsafe fn keep_element_wise_on_caller() {
    const VARIABLE: &str = "CANDLE_NUM_THREADS";
    if std::env::var_os(VARIABLE).is_none() {
        // SAFETY: the caller guarantees no other thread runs yet.
        unsafe { std::env::set_var(VARIABLE, "1") };
    }
}

thread_local! {
    /// The calling thread's rayon pools, one per thread count.
    static POOLS: RefCell<BTreeMap<usize, Arc<rayon::ThreadPool>>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// The calling thread's rayon pool of `threads` threads, made on its first call and kept for the
/// thread's lifetime. The models one thread runs share it: separate pools per model would leave
/// idle workers spinning against the busy ones (measured: +40% latency at batch 1 on 2 cores when
/// two 2-thread pools alternate). Threads never share one: two callers running side by side
/// would queue behind each other in it (measured on 1,000 SSRNet cases, two one-thread workers:
/// 8.4 s sharing one pool, 7.0 s with a pool each).
fn thread_pool(
    threads: usize,
) -> std::result::Result<Arc<rayon::ThreadPool>, rayon::ThreadPoolBuildError> {
    POOLS.with_borrow_mut(|pools| {
        if let Some(pool) = pools.get(&threads) {
            return Ok(pool.clone());
        }
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("candle-{i}"))
                .build()?,
        );
        pools.insert(threads, pool.clone());
        Ok(pool)
    })
}

/// The graph of a model as parity-core read it.
fn graph(model: &parity_core::onnx::proto::ModelProto) -> &GraphProto {
    model.graph.as_ref().expect("read_model guarantees a graph")
}

impl CandleModel {
    /// Read, check and prepare the model at `path`.
    pub fn load(path: &Path, options: &Options) -> Result<Self> {
        let mut declared = parity_core::onnx::read_model(path)?;
        let fail = |message: String| Error::backend(NAME, format!("{}: {message}", path.display()));
        // What candle-onnx cannot run is found on the graph as read, before its weights are
        // loaded and copied into candle-onnx's types.
        let g = graph(&declared);
        let unsupported = support::unsupported_ops(g);
        if !unsupported.is_empty() {
            return Err(fail(format!(
                "ops not supported by candle-onnx {}: {}",
                support::CANDLE_ONNX_VERSION,
                unsupported.join(", ")
            )));
        }
        let (problems, ceil_checks) = support::variant_problems(g, &support::declared_shapes(g));
        if !problems.is_empty() {
            return Err(fail(format!(
                "cannot run faithfully on candle-onnx: {}",
                problems.join("; ")
            )));
        }
        parity_core::onnx::load_external_data(&mut declared, path)?;
        let mut model = load::to_candle(path, &declared)?;
        // The declared interface through parity-core's one converter.
        let info = parity_core::onnx::model_info(declared.graph.as_ref().expect("checked by read"))
            .map_err(fail)?;
        for input in &info.inputs {
            if input.dtype == DType::I32 {
                return Err(fail(format!(
                    "input '{}': int32 inputs are not supported by candle-onnx",
                    input.name
                )));
            }
        }
        let consts = prepare::prepare(&mut model).map_err(fail)?;
        // Pools with ceil_mode=1 on shapes unknown until run time: return their inputs too.
        let graph = model.graph.as_mut().expect("checked");
        for check in &ceil_checks {
            if !graph.output.iter().any(|o| o.name == check.input) {
                graph
                    .output
                    .push(ValueInfoProto { name: check.input.clone(), ..Default::default() });
            }
        }
        let threads = options.threads()?;
        Ok(CandleModel { path: path.to_path_buf(), model, consts, info, ceil_checks, threads })
    }
}

impl Runnable for CandleModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn run_views(&mut self, inputs: &NamedViews<'_>) -> Result<NamedTensors> {
        self.info.check_inputs(inputs)?;
        let fail =
            |message: String| Error::backend(NAME, format!("{}: {message}", self.path.display()));
        let mut values: HashMap<String, CTensor> =
            HashMap::with_capacity(self.consts.len() + inputs.len());
        for (name, t) in inputs {
            values.insert(
                name.clone(),
                to_candle(t).map_err(|e| Error::Input(format!("input '{name}': {e}")))?,
            );
        }
        for (name, t) in &self.consts {
            values.insert(name.clone(), t.clone());
        }
        let model = &self.model;
        let eval = move || parity_core::panic::catch(|| candle_onnx::simple_eval(model, values));
        let result = match self.threads {
            Some(n) => {
                let pool =
                    thread_pool(n).map_err(|e| fail(format!("cannot start {n} threads: {e}")))?;
                pool.install(eval)
            }
            None => Device::Cpu.with_context(eval),
        };
        let mut outputs = match result {
            Ok(Ok(outputs)) => outputs,
            Ok(Err(e)) => return Err(fail(format!("candle-onnx: {e}"))),
            Err(panic) => return Err(fail(format!("candle-onnx {panic}"))),
        };
        for check in &self.ceil_checks {
            let dims = outputs.get(&check.input).map(|t| t.dims().to_vec()).unwrap_or_default();
            if let Some(message) = check.check(&dims) {
                return Err(fail(message));
            }
        }
        let mut result = BTreeMap::new();
        for decl in &self.info.outputs {
            let t = outputs
                .remove(&decl.name)
                .ok_or_else(|| fail(format!("output '{}' was not produced", decl.name)))?;
            let t = from_candle(&t, decl.dtype)
                .map_err(|e| fail(format!("output '{}': {e}", decl.name)))?;
            result.insert(decl.name.clone(), t);
        }
        Ok(result)
    }
}

/// A parity tensor as a candle CPU tensor (bool becomes u8, as candle-onnx expects).
fn to_candle(t: &TensorView<'_>) -> candle_core::Result<CTensor> {
    let shape = t.shape();
    let dev = &Device::Cpu;
    match t.data() {
        DataView::F16(v) => CTensor::from_slice(v, shape, dev),
        DataView::F32(v) => CTensor::from_slice(v, shape, dev),
        DataView::F64(v) => CTensor::from_slice(v, shape, dev),
        DataView::I64(v) => CTensor::from_slice(v, shape, dev),
        DataView::I32(v) => CTensor::from_slice(v, shape, dev),
        DataView::U8(v) => CTensor::from_slice(v, shape, dev),
        DataView::Bool(v) => {
            CTensor::from_vec(v.iter().map(|&b| b as u8).collect::<Vec<u8>>(), shape, dev)
        }
    }
}

/// A candle tensor as a parity tensor of the declared dtype (u8 to bool, integer widths converted).
fn from_candle(t: &CTensor, want: DType) -> std::result::Result<Tensor, String> {
    let shape = t.dims().to_vec();
    let flat = t.flatten_all().map_err(|e| e.to_string())?;
    let e = |e: candle_core::Error| e.to_string();
    let data = match (want, flat.dtype()) {
        (DType::F16, CDType::F16) => TensorData::F16(flat.to_vec1().map_err(e)?),
        (DType::F32, CDType::F32) => TensorData::F32(flat.to_vec1().map_err(e)?),
        (DType::F64, CDType::F64) => TensorData::F64(flat.to_vec1().map_err(e)?),
        (DType::I64, CDType::I64) => TensorData::I64(flat.to_vec1().map_err(e)?),
        (DType::I32, CDType::I32) => TensorData::I32(flat.to_vec1().map_err(e)?),
        (DType::I32, CDType::I64) => {
            let v: Vec<i64> = flat.to_vec1().map_err(e)?;
            TensorData::I32(v.into_iter().map(|x| x as i32).collect())
        }
        (DType::U8, CDType::U8) => TensorData::U8(flat.to_vec1().map_err(e)?),
        (DType::Bool, CDType::U8) => {
            TensorData::Bool(flat.to_vec1::<u8>().map_err(e)?.into_iter().map(|b| b != 0).collect())
        }
        (want, got) => return Err(format!("candle produced {got:?}, the model declares {want:?}")),
    };
    Tensor::new(shape, data).map_err(|e| e.to_string())
}

//! The onnxruntime backend: [`Ort`] runs ONNX models on onnxruntime 1.31.1 through the `ort` crate.
//!
//! The `ort` crate is built with `load-dynamic`: nothing is downloaded at build time, and the shared
//! library is `dlopen()`ed on first use. [`provision::library_path`] finds it: `ORT_DYLIB_PATH` when
//! set, else a sha256-verified copy in the ssrnet-parity cache, fetched from the pinned PyPI wheel
//! the first time (a fresh machine needs no environment variable, only `python3 -m pip` and PyPI).
//!
//! Sessions use every graph optimisation, `Options::threads` intra-op threads and one inter-op
//! thread. Inputs are checked against the declared names, dtypes and shapes before running, so a
//! batch-1 model fed batch 8 is an [`Error::Input`], not an onnxruntime error.
//!
//! ```no_run
//! use parity_core::{NamedTensors, Options, Runtime, Tensor};
//!
//! let mut model = backend_ort::Ort.prepare("models/ssrnet_legacy_dynamic.onnx".as_ref(), &Options::with_threads(Some(1)))?;
//! let mut inputs = NamedTensors::new();
//! inputs.insert("input".into(), Tensor::from_f32(vec![1, 3, 64, 64], vec![0.0; 3 * 64 * 64])?);
//! let outputs = model.run(&inputs)?;
//! println!("age {:?}", outputs["age"].as_f32());
//! # Ok::<(), parity_core::Error>(())
//! ```

pub mod provision;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use ort::environment::Environment;
use ort::logging::LogLevel;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, TensorElementType, TensorRef};
use parity_core::{
    DataView, Error, ModelInfo, NamedTensors, NamedViews, Options, Result, Runnable, Runtime,
    Tensor, TensorData, TensorView,
};

const NAME: &str = "ort";

/// The default-domain opsets onnxruntime 1.31.1 declares: 7 (the oldest it guarantees) to 26
/// (measured with its Python wheel on a one-`Relu` model relabelled opset 20 to 29: 26 loads and
/// runs, 27 fails in `ValidateOpsetForDomain`). A declaration only: onnxruntime itself decides, and
/// it runs ONNX's opset-6 PyTorch-converted test models.
pub const OPSETS: std::ops::RangeInclusive<i64> = 7..=26;

/// The onnxruntime backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ort;

/// Whether onnxruntime's own log lines reach stderr ([`set_verbose_logging`]).
static VERBOSE_LOG: AtomicBool = AtomicBool::new(false);

/// Lets onnxruntime's own log lines through to stderr (prefixed `onnxruntime:`), or not. Off by
/// default: onnxruntime logs every load or run failure in colour before the caller has reported
/// it, and the failure's text is in the error anyway.
pub fn set_verbose_logging(enabled: bool) {
    VERBOSE_LOG.store(enabled, Ordering::Relaxed);
}

/// Keeps onnxruntime from writing its telemetry store into the user's home: when its library
/// loads, onnxruntime 1.31 creates `$XDG_CACHE_HOME` (else `~/.cache`)
/// `/Microsoft/DeveloperTools/.onnxruntime/` with a `deviceid` and an `onnxruntime.db`, even with
/// telemetry events disabled on the environment (measured with the 1.31.1 wheel's library); only
/// its `ORT_DISABLE_TELEMETRY=1` stops it. This sets that variable unless the caller's
/// environment already gives it a value.
///
/// # Safety
///
/// Changes the process environment: call it before any other thread starts (at the top of
/// `main`), as for [`std::env::set_var`].
pub unsafe fn keep_telemetry_store_off() {
    const VARIABLE: &str = "ORT_DISABLE_TELEMETRY";
    if std::env::var_os(VARIABLE).is_none() {
        // SAFETY: the caller guarantees no other thread runs yet.
        unsafe { std::env::set_var(VARIABLE, "1") };
    }
}

/// onnxruntime's logger: its messages go through here instead of its own stderr writer.
fn forward_log(level: LogLevel, category: &str, _id: &str, location: &str, message: &str) {
    if VERBOSE_LOG.load(Ordering::Relaxed) {
        eprintln!("onnxruntime: {level:?} [{category}] {location}: {message}");
    }
}

/// The process-wide onnxruntime environment, loaded once; the error is kept so every later call
/// reports the same cause without trying again.
fn environment() -> Result<&'static Environment> {
    static ENV: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path = provision::library_path().map_err(|e| e.to_string())?;
        let builder = ort::init_from(&path)
            .map_err(|e| format!("{NAME}: cannot load {}: {e}", path.display()))?;
        builder
            .with_name("ssrnet-parity")
            .with_telemetry(false)
            .with_logger(Arc::new(forward_log))
            .build()
            .map_err(|e| {
                format!(
                    "{NAME}: cannot create the onnxruntime environment from {}: {e}",
                    path.display()
                )
            })
    })
    .as_ref()
    .map_err(|message| Error::Backend {
        backend: NAME,
        message: message.strip_prefix("ort: ").unwrap_or(message).to_string(),
    })
}

impl Runtime for Ort {
    fn name(&self) -> &'static str {
        NAME
    }

    fn opsets(&self) -> std::ops::RangeInclusive<i64> {
        OPSETS
    }

    /// onnxruntime computes in every dtype a tensor here holds.
    fn holds(&self, declared: parity_core::DType) -> parity_core::DType {
        declared
    }

    /// onnxruntime has no registry of kernels to ask through its C API; loading the model is
    /// asking it. A load that fails for an op (`No Op registered for X`, `Could not find an
    /// implementation for X(7)`) names that op, the first onnxruntime meets; any other failure to
    /// load is the error.
    fn unsupported_ops(&self, model: &Path) -> Result<Vec<String>> {
        match OrtModel::load(model, &Options::with_threads(Some(1))) {
            Ok(_) => Ok(Vec::new()),
            Err(e) => refused_op(&e.to_string()).map(|op| vec![op]).ok_or(e),
        }
    }

    fn prepare(&self, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
        Ok(Box::new(OrtModel::load(model, options)?))
    }
}

/// The op onnxruntime names when it refuses a model for it, from its message.
fn refused_op(message: &str) -> Option<String> {
    let patterns =
        [("No Op registered for ", " with"), ("Could not find an implementation for ", "(")];
    patterns.iter().find_map(|(before, after)| {
        let rest = message.split(before).nth(1)?;
        let op = rest.split(after).next()?.trim();
        (!op.is_empty()).then(|| op.to_string())
    })
}

/// A session plus its declared inputs and outputs.
pub struct OrtModel {
    session: Session,
    info: ModelInfo,
}

impl OrtModel {
    /// Loads `model` into an onnxruntime session.
    pub fn load(model: &Path, options: &Options) -> Result<Self> {
        if !model.is_file() {
            return Err(Error::Io {
                path: model.into(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        // The declared interface, through parity-core's one converter (and a clean error for a
        // file that is not a model, before onnxruntime sees it).
        let proto = parity_core::onnx::read_model(model)?;
        let graph = proto.graph.as_ref().expect("read_model guarantees a graph");
        let info = parity_core::onnx::model_info(graph)
            .map_err(|e| Error::backend(NAME, format!("{}: {e}", model.display())))?;
        let source = source(model, proto)?;
        let env = environment()?;
        let fail =
            |e: &dyn std::fmt::Display| Error::backend(NAME, format!("{}: {e}", model.display()));
        let mut builder = Session::builder(env)
            .map_err(|e| fail(&e))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| fail(&e))?
            .with_inter_threads(1)
            .map_err(|e| fail(&e))?
            .with_intra_op_spinning(!options.shared_cores)
            .map_err(|e| fail(&e))?;
        if let Some(threads) = options.threads()? {
            builder = builder.with_intra_threads(threads).map_err(|e| fail(&e))?;
        }
        let session = match &source {
            Source::File => builder.commit_from_file(model),
            Source::Memory(bytes) => builder.commit_from_memory(bytes),
        }
        .map_err(|e| fail(&e))?;
        Ok(OrtModel { session, info })
    }
}

/// What onnxruntime loads a model from.
enum Source {
    /// The file itself: it stores no external data, or is too large to hand over from memory and
    /// its external data was checked by parity-core's resolver first.
    File,
    /// The model with its external data read in by parity-core's resolver, encoded.
    Memory(Vec<u8>),
}

/// The most bytes a protobuf message may have (onnxruntime refuses larger in-memory models).
const MAX_PROTOBUF_BYTES: u64 = (1 << 31) - 1;

/// How `model` reaches onnxruntime: external data always goes through parity-core's one resolver
/// first (a regular file inside the model's directory, offset and length within it), so
/// onnxruntime never opens a file the resolver refuses (a FIFO would hang it).
fn source(model: &Path, mut proto: parity_core::onnx::proto::ModelProto) -> Result<Source> {
    use prost::Message;
    if !parity_core::onnx::has_external_data(&proto) {
        return Ok(Source::File);
    }
    let data_bytes = parity_core::onnx::check_external_data(&proto, model)?;
    let file_bytes = std::fs::metadata(model).map(|m| m.len()).unwrap_or(u64::MAX);
    if file_bytes.saturating_add(data_bytes) >= MAX_PROTOBUF_BYTES {
        return Ok(Source::File);
    }
    parity_core::onnx::load_external_data(&mut proto, model)?;
    Ok(Source::Memory(proto.encode_to_vec()))
}

fn tensor_ref<'a>(t: &TensorView<'a>) -> ort::Result<SessionInputValue<'a>> {
    let shape = t.shape().to_vec();
    Ok(match t.data() {
        DataView::F16(v) => TensorRef::from_array_view((shape, v))?.into(),
        DataView::F32(v) => TensorRef::from_array_view((shape, v))?.into(),
        DataView::F64(v) => TensorRef::from_array_view((shape, v))?.into(),
        DataView::I64(v) => TensorRef::from_array_view((shape, v))?.into(),
        DataView::I32(v) => TensorRef::from_array_view((shape, v))?.into(),
        DataView::U8(v) => TensorRef::from_array_view((shape, v))?.into(),
        DataView::Bool(v) => TensorRef::from_array_view((shape, v))?.into(),
    })
}

fn to_tensor(name: &str, value: &DynValue) -> std::result::Result<Tensor, String> {
    fn take<T: ort::value::PrimitiveTensorElementType + Clone>(
        v: &DynValue,
    ) -> ort::Result<(Vec<usize>, Vec<T>)> {
        let (shape, data) = v.try_extract_tensor::<T>()?;
        Ok((shape.iter().map(|&d| d as usize).collect(), data.to_vec()))
    }
    let ty =
        value.dtype().tensor_type().ok_or_else(|| format!("output '{name}' is not a tensor"))?;
    let err = |e: ort::Error| format!("output '{name}': {e}");
    // The value as `$t`, into `TensorData::$variant`.
    macro_rules! take {
        ($t:ty, $variant:ident) => {
            take::<$t>(value).map(|(s, d)| (s, TensorData::$variant(d))).map_err(err)?
        };
    }
    let (shape, data) = match ty {
        TensorElementType::Float16 => take!(parity_core::tensor::f16, F16),
        TensorElementType::Float32 => take!(f32, F32),
        TensorElementType::Float64 => take!(f64, F64),
        TensorElementType::Int64 => take!(i64, I64),
        TensorElementType::Int32 => take!(i32, I32),
        TensorElementType::Uint8 => take!(u8, U8),
        TensorElementType::Bool => take!(bool, Bool),
        other => {
            return Err(format!(
                "output '{name}' has element type {other}, which parity-core does not carry"
            ));
        }
    };
    Tensor::new(shape, data).map_err(|e| format!("output '{name}': {e}"))
}

impl Runnable for OrtModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn run_views(&mut self, inputs: &NamedViews<'_>) -> Result<NamedTensors> {
        self.info.check_inputs(inputs)?;
        let values = inputs
            .iter()
            .map(|(name, t)| Ok((name.as_str(), tensor_ref(t)?)))
            .collect::<ort::Result<Vec<_>>>()
            .map_err(|e| Error::backend(NAME, e))?;
        let outputs = self.session.run(values).map_err(|e| Error::backend(NAME, e))?;
        let mut out = NamedTensors::new();
        for io in &self.info.outputs {
            let value = outputs.get(io.name.as_str()).ok_or_else(|| {
                Error::backend(NAME, format!("onnxruntime returned no output '{}'", io.name))
            })?;
            out.insert(
                io.name.clone(),
                to_tensor(&io.name, value).map_err(|e| Error::backend(NAME, e))?,
            );
        }
        Ok(out)
    }
}

//! [`RtenModel`]: a model loaded into RTen, its declared interface, and the runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use parity_core::onnx::proto::ModelProto;
use parity_core::{DType, Error, ModelInfo, NamedTensors, NamedViews, Options, Result};
use prost::Message;
use rten::{Model, ModelOptions, NodeId, RunOptions, ThreadPool};

use crate::convert::{from_rten, to_rten};
use crate::{NAME, RTEN_VERSION, support};

/// A model prepared for RTen: the optimised graph every run uses, the ids of its declared inputs
/// and outputs, and the thread pool it runs on.
pub struct RtenModel {
    path: PathBuf,
    info: ModelInfo,
    model: Model,
    outputs: Vec<NodeId>,
    pool: Option<Arc<ThreadPool>>,
    /// The graph as written, unoptimised, loaded on the first `read_values`: RTen's
    /// optimiser fuses nodes (Conv + Relu, MatMul + Add, ...), and a fused value no longer exists.
    unoptimised: Option<Model>,
    /// The declared dtype of every value that has one, for read-outs.
    dtypes: BTreeMap<String, DType>,
}

impl std::fmt::Debug for RtenModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtenModel")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("threads", &self.pool.as_ref().map(|_| "own pool"))
            .finish_non_exhaustive()
    }
}

/// One RTen thread pool per thread count, shared by every model of the process and kept for its
/// lifetime (the reason is candle's: idle pools of other models would spin against the busy one).
fn shared_pool(threads: usize) -> Arc<ThreadPool> {
    static POOLS: Mutex<BTreeMap<usize, Arc<ThreadPool>>> = Mutex::new(BTreeMap::new());
    let mut pools = POOLS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    pools.entry(threads).or_insert_with(|| Arc::new(ThreadPool::with_num_threads(threads))).clone()
}

/// Run `f`, turning a panic inside RTen into an error naming `path`.
fn guard<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    parity_core::panic::catch(f)
        .unwrap_or_else(|panic| Err(Error::backend(NAME, format!("{}: {panic}", path.display()))))
}

impl RtenModel {
    /// Read, check and load the model at `path`: every op type is checked against what RTen
    /// implements first, external data goes through parity-core's one resolver, and the
    /// self-contained model is handed to RTen as bytes (so RTen itself opens no file).
    pub fn load(path: &Path, options: &Options) -> Result<Self> {
        let threads = options.threads()?;
        guard(path, || {
            let fail =
                |message: String| Error::backend(NAME, format!("{}: {message}", path.display()));
            let mut proto = parity_core::onnx::read_model(path)?;
            let missing = support::unsupported_ops(&proto);
            if !missing.is_empty() {
                return Err(fail(format!(
                    "ops not supported by rten {RTEN_VERSION}: {}",
                    missing.join(", ")
                )));
            }
            parity_core::onnx::load_external_data(&mut proto, path)?;
            let graph = proto.graph.as_ref().expect("read_model guarantees a graph");
            let info = parity_core::onnx::model_info(graph).map_err(fail)?;
            let dtypes = graph
                .input
                .iter()
                .chain(&graph.output)
                .chain(&graph.value_info)
                .filter_map(|v| {
                    Some((v.name().to_string(), parity_core::onnx::io_info(v).ok()?.dtype))
                })
                .collect();
            let model = load_bytes(path, &proto, true)?;
            let ids = |names: Vec<&str>| -> Result<Vec<NodeId>> {
                names
                    .into_iter()
                    .map(|n| {
                        model
                            .find_node(n)
                            .ok_or_else(|| fail(format!("rten's graph has no value named '{n}'")))
                    })
                    .collect()
            };
            ids(info.inputs.iter().map(|i| i.name.as_str()).collect())?;
            let outputs = ids(info.outputs.iter().map(|o| o.name.as_str()).collect())?;
            Ok(RtenModel {
                path: path.to_path_buf(),
                info,
                model,
                outputs,
                pool: threads.map(shared_pool),
                unoptimised: None,
                dtypes,
            })
        })
    }

    fn run_on(
        &self,
        model: &Model,
        outputs: &[NodeId],
        inputs: &NamedViews<'_>,
    ) -> Result<Vec<rten::Value>> {
        let fed = self
            .info
            .inputs
            .iter()
            .map(|decl| {
                let id = model.find_node(&decl.name).ok_or_else(|| {
                    Error::backend(
                        NAME,
                        format!(
                            "{}: rten's graph has no input '{}'",
                            self.path.display(),
                            decl.name
                        ),
                    )
                })?;
                Ok((id, to_rten(&decl.name, &inputs[&decl.name])?))
            })
            .collect::<Result<Vec<_>>>()?;
        let options = RunOptions::default().with_thread_pool(self.pool.clone());
        guard(&self.path, || {
            model
                .run(fed, outputs, Some(options))
                .map_err(|e| Error::backend(NAME, format!("{}: {e}", self.path.display())))
        })
    }
}

/// Hands RTen the self-contained `proto` (read from `path`): for running, optimised with weights
/// prepacked (the fastest strategy measured, see the crate docs); for read-outs, as written.
fn load_bytes(path: &Path, proto: &ModelProto, optimise: bool) -> Result<Model> {
    let mut options = ModelOptions::with_all_ops();
    options.enable_optimization(optimise).prepack_weights(optimise);
    options
        .load(proto.encode_to_vec())
        .map_err(|e| Error::invalid(path, format!("rten cannot load the model: {e}")))
}

impl parity_core::Runnable for RtenModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn run_views(&mut self, inputs: &NamedViews<'_>) -> Result<NamedTensors> {
        self.info.check_inputs(inputs)?;
        let values = self.run_on(&self.model, &self.outputs, inputs)?;
        self.info
            .outputs
            .iter()
            .zip(values)
            .map(|(decl, v)| Ok((decl.name.clone(), from_rten(&decl.name, v, Some(decl.dtype))?)))
            .collect()
    }

    /// Runs the graph as written (unoptimised, so that no value is fused away) and returns the
    /// values named in `names`, any value of the graph: RTen's own read-out, with no graph
    /// rewrite. A name the graph does not have is an [`Error::Input`].
    fn read_values(
        &mut self,
        inputs: &NamedTensors,
        names: &[String],
    ) -> Result<Option<NamedTensors>> {
        let inputs = &parity_core::views(inputs);
        self.info.check_inputs(inputs)?;
        if self.unoptimised.is_none() {
            let proto = parity_core::onnx::read_model_with_data(&self.path)?;
            self.unoptimised = Some(guard(&self.path, || load_bytes(&self.path, &proto, false))?);
        }
        let model = self.unoptimised.as_ref().expect("loaded above");
        let ids = names
            .iter()
            .map(|n| {
                model.find_node(n).ok_or_else(|| {
                    Error::Input(format!(
                        "{}: the graph has no value named '{n}'",
                        self.path.display()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let values = self.run_on(model, &ids, inputs)?;
        let read = names
            .iter()
            .zip(values)
            .map(|(name, v)| {
                Ok((name.clone(), from_rten(name, v, self.dtypes.get(name).copied())?))
            })
            .collect::<Result<NamedTensors>>()?;
        Ok(Some(read))
    }
}

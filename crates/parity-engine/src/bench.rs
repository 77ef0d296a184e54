//! Median and p90 latency, throughput and GFLOP/s per backend, batch and thread count, on seeded
//! random inputs. FLOPs are counted from the model's graph at each batch size
//! ([`parity_graph::flops`], with value shapes from tract's analysis and parity-graph's own
//! inference for its gaps); where a shape stays unknown, GFLOP/s is left out and the report says
//! why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parity_core::ModelInfo;
use parity_core::onnx::OnnxModel;
use parity_core::onnx::proto::GraphProto;
use serde::Serialize;

use crate::profile::{Profile, ProfileChoice};
use crate::sink::{Event, Sink};
use crate::{BackendName, Result};

/// What to time.
#[derive(Debug, Clone)]
pub struct Request {
    /// The model.
    pub model: PathBuf,
    /// The backends (empty: all).
    pub backends: Vec<BackendName>,
    /// Batch sizes.
    pub batches: Vec<usize>,
    /// Intra-op thread counts.
    pub threads: Vec<usize>,
    /// Measuring time per configuration, after warm-up.
    pub budget: Duration,
    /// The model family's profile (its batching hint).
    pub profile: ProfileChoice,
}

/// One configuration's timing.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The backend.
    pub backend: &'static str,
    /// Cases per call.
    pub batch: usize,
    /// Intra-op threads.
    pub threads: usize,
    /// Median milliseconds per call.
    pub median_ms: f64,
    /// 90th-percentile milliseconds per call.
    pub p90_ms: f64,
    /// Cases per second at the median.
    pub throughput_per_s: f64,
    /// FLOPs of one run at this batch, counted from the graph; `None` when uncountable.
    pub flops: Option<u64>,
    /// GFLOP/s at the median, when the FLOPs are counted.
    pub gflops: Option<f64>,
    /// Calls timed.
    pub iterations: usize,
}

/// What a bench measured: one row per backend, thread count and batch, and per batch the FLOPs
/// of one run or why they could not be counted.
#[derive(Debug, Clone)]
pub struct Timings {
    /// The rows, backend by backend, then threads, then batch.
    pub rows: Vec<Row>,
    /// Per batch size, the FLOPs of one run, or why they are not counted.
    pub flops: BTreeMap<usize, std::result::Result<u64, String>>,
}

/// Times `request`; one [`Event::Progress`] per configuration to `sink`.
pub fn run(request: &Request, sink: &dyn Sink) -> Result<Timings> {
    let onnx = OnnxModel::read(&request.model)?;
    let info = onnx.model_info()?;
    let profile = Profile::resolve(request.profile, &onnx, &info, None)?;
    let mut flops = BTreeMap::new();
    for &batch in &request.batches {
        // The shapes the timed runs will have, without generating their data twice.
        let shapes = info
            .inputs
            .iter()
            .map(|io| crate::inputs::concrete_shape(&io.name, &io.shape, batch))
            .collect::<Result<Vec<_>>>()?;
        flops.insert(batch, count_flops(&request.model, &info, onnx.graph(), &shapes));
    }
    let mut rows = Vec::new();
    for backend in crate::registry::chosen(&request.backends) {
        for &threads in &request.threads {
            let options = profile.options(Some(threads));
            let mut runnable = crate::load::prepare(backend, &request.model, &options, sink)?;
            for &batch in &request.batches {
                let inputs = crate::inputs::random_inputs(runnable.info(), batch, 0)?;
                let times = time_runs(request.budget, || runnable.run(&inputs).map(|_| ()))
                    .map_err(|e| {
                        crate::load::backend_error(
                            backend,
                            &request.model,
                            &format!("batch {batch}"),
                            e,
                        )
                    })?;
                rows.push(row(backend, batch, threads, &times, flops[&batch].as_ref().ok()));
                sink.event(Event::Progress(1));
            }
        }
    }
    Ok(Timings { rows, flops })
}

/// A row from the seconds each call took.
fn row(
    backend: BackendName,
    batch: usize,
    threads: usize,
    times: &[f64],
    flops: Option<&u64>,
) -> Row {
    let median = percentile(times, 0.5);
    Row {
        backend: backend.as_str(),
        batch,
        threads,
        median_ms: median * 1e3,
        p90_ms: percentile(times, 0.9) * 1e3,
        throughput_per_s: batch as f64 / median,
        flops: flops.copied(),
        gflops: flops.map(|&f| f as f64 / median / 1e9),
        iterations: times.len(),
    }
}

/// FLOPs of one run of `model` on inputs of these shapes (one per declared input), or why they
/// cannot be counted. Value shapes come from tract's analysis, with its gaps (or all of them,
/// where tract cannot analyse the model) filled by parity-graph's own inference.
pub fn count_flops(
    model: &Path,
    info: &ModelInfo,
    graph: &GraphProto,
    shapes: &[Vec<usize>],
) -> std::result::Result<u64, String> {
    let mut known = backend_tract::Tract.value_shapes(model, shapes).unwrap_or_default();
    for (io, shape) in info.inputs.iter().zip(shapes) {
        known.insert(io.name.clone(), shape.clone());
    }
    let values = parity_graph::shapes::infer(graph, &known);
    let count = parity_graph::flops::count(graph, &values);
    if count.uncounted.is_empty() {
        Ok(count.total)
    } else {
        Err(format!("unknown shapes at {}", count.uncounted.join(", ")))
    }
}

/// Seconds per call: three warm-up calls, then calls until `budget` is spent (at least 5, at
/// most 10,000).
fn time_runs(
    budget: Duration,
    mut f: impl FnMut() -> parity_core::Result<()>,
) -> parity_core::Result<Vec<f64>> {
    for _ in 0..3 {
        f()?;
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < 5 || (start.elapsed() < budget && times.len() < 10_000) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(times)
}

/// The `q` quantile (nearest rank) of `xs`.
fn percentile(xs: &[f64], q: f64) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

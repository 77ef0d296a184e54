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
    /// The process's CPU milliseconds (user and system, every thread) per call, on average.
    pub cpu_ms: f64,
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
                let timed = time_runs(request.budget, || runnable.run(&inputs).map(|_| ()))
                    .map_err(|e| {
                        crate::load::backend_error(
                            backend,
                            &request.model,
                            &format!("batch {batch}"),
                            e,
                        )
                    })?;
                rows.push(row(backend, batch, threads, &timed, flops[&batch].as_ref().ok()));
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
    timed: &Timed,
    flops: Option<&u64>,
) -> Row {
    let times = &timed.seconds;
    let median = percentile(times, 0.5);
    Row {
        backend: backend.as_str(),
        batch,
        threads,
        median_ms: median * 1e3,
        p90_ms: percentile(times, 0.9) * 1e3,
        throughput_per_s: batch as f64 / median,
        cpu_ms: timed.cpu_seconds / times.len() as f64 * 1e3,
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

/// What timing a configuration measured.
struct Timed {
    /// Each call's wall seconds.
    seconds: Vec<f64>,
    /// The process's CPU seconds over all the calls.
    cpu_seconds: f64,
}

/// Seconds per call: three warm-up calls, then calls until `budget` is spent (at least 5, at
/// most 10,000).
fn time_runs(
    budget: Duration,
    mut f: impl FnMut() -> parity_core::Result<()>,
) -> parity_core::Result<Timed> {
    for _ in 0..3 {
        f()?;
    }
    let start = Instant::now();
    let cpu_start = process_cpu_seconds();
    let mut seconds = Vec::new();
    while seconds.len() < 5 || (start.elapsed() < budget && seconds.len() < 10_000) {
        let t = Instant::now();
        f()?;
        seconds.push(t.elapsed().as_secs_f64());
    }
    Ok(Timed { seconds, cpu_seconds: process_cpu_seconds() - cpu_start })
}

/// The CPU seconds (user and system) every thread of this process has used so far.
fn process_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes only into the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// The shortest wall time a case can take in `check` or `compare` over the benched backends on
/// this machine: the larger of their least CPU time a case added up and spread over every core,
/// and the slowest backend's least time a case alone on the whole machine (one instance's wall
/// time, or its CPU time spread over an instance a core, whichever is less), each backend at its
/// best benched batch and thread count.
#[derive(Debug, Clone, Serialize)]
pub struct Bound {
    /// Milliseconds a case at best.
    pub ms_a_case: f64,
    /// The backends' least CPU milliseconds a case, added up.
    pub cpu_ms_a_case: f64,
    /// The cores the CPU time spreads over.
    pub cores: usize,
    /// The backend slowest at its fastest.
    pub slowest: &'static str,
    /// Its least milliseconds a case alone on the machine.
    pub slowest_ms_a_case: f64,
}

impl Timings {
    /// The machine bound of these rows (`None` without rows).
    pub fn bound(&self) -> Option<Bound> {
        let mut backends: Vec<&'static str> = self.rows.iter().map(|r| r.backend).collect();
        backends.dedup();
        let least = |backend: &str, per_call: fn(&Row) -> f64| {
            let rows = self.rows.iter().filter(|r| r.backend == backend);
            rows.map(|r| per_call(r) / r.batch as f64).fold(f64::INFINITY, f64::min)
        };
        let cores = parity_core::backend::cores();
        let cpu_ms_a_case = backends.iter().map(|b| least(b, |r| r.cpu_ms)).sum::<f64>();
        let alone = |b: &str| least(b, |r| r.median_ms).min(least(b, |r| r.cpu_ms) / cores as f64);
        let (slowest, slowest_ms_a_case) =
            backends.iter().map(|&b| (b, alone(b))).max_by(|a, b| a.1.total_cmp(&b.1))?;
        let ms_a_case = (cpu_ms_a_case / cores as f64).max(slowest_ms_a_case);
        Some(Bound { ms_a_case, cpu_ms_a_case, cores, slowest, slowest_ms_a_case })
    }
}

/// The `q` quantile (nearest rank) of `xs`.
fn percentile(xs: &[f64], q: f64) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

//! `ssrnet-parity bench`: median and p90 latency, throughput and GFLOP/s per backend, batch and
//! thread count, on seeded random inputs. FLOPs are counted from the model's graph at each batch
//! size (`parity_graph::flops`, with value shapes from tract's analysis and parity-graph's own
//! inference for its gaps); where a shape stays unknown, GFLOP/s is left out and the report says
//! why.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use crate::Verdict;
use crate::output::{Format, table};
use parity_engine::BackendName;

#[derive(clap::Args)]
pub struct Args {
    /// Model to time (default: the committed dynamic-batch demo model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Backends to time (default: all).
    #[arg(long, value_delimiter = ',', value_parser = crate::args::backend())]
    backend: Vec<BackendName>,
    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 32], value_parser = crate::output::at_least_one)]
    batch: Vec<usize>,
    /// Intra-op thread counts.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2], value_parser = crate::output::thread_count)]
    threads: Vec<usize>,
    /// Measuring time per configuration, after warm-up.
    #[arg(long, default_value_t = 1.0, value_parser = crate::output::positive_seconds)]
    seconds: f64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    profile: crate::args::ProfileArg,
}

#[derive(Serialize)]
struct Row {
    backend: &'static str,
    batch: usize,
    threads: usize,
    median_ms: f64,
    p90_ms: f64,
    throughput_per_s: f64,
    /// FLOPs of one run at this batch, counted from the graph; `None` when uncountable.
    flops: Option<u64>,
    gflops: Option<f64>,
    iterations: usize,
}

/// FLOPs of one run of `model` on inputs of these shapes (one per declared input), or why they
/// cannot be counted. Value shapes come from tract's analysis, with its gaps (or all of them,
/// where tract cannot analyse the model) filled by parity-graph's own inference.
fn count_flops(
    model: &std::path::Path,
    info: &parity_core::ModelInfo,
    graph: &parity_core::onnx::proto::GraphProto,
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

pub fn run(args: Args) -> Result<Verdict> {
    let model =
        args.model.clone().unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_MODEL));
    let onnx = parity_core::onnx::OnnxModel::read(&model)?;
    let info = onnx.model_info()?;
    let profile =
        parity_engine::profile::Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let mut flops_by_batch = std::collections::BTreeMap::new();
    for &batch in &args.batch {
        // The shapes the timed runs will have, without generating their data twice.
        let shapes = info
            .inputs
            .iter()
            .map(|io| parity_engine::inputs::concrete_shape(&io.name, &io.shape, batch))
            .collect::<parity_engine::Result<Vec<_>>>()?;
        flops_by_batch.insert(batch, count_flops(&model, &info, onnx.graph(), &shapes));
    }
    let backends = parity_engine::registry::chosen(&args.backend);
    let configs = backends.len() * args.threads.len() * args.batch.len();
    let bar = crate::output::progress(configs as u64, "benchmarking");
    let mut rows = Vec::new();
    for backend in backends {
        for &threads in &args.threads {
            let options = profile.options(Some(threads));
            let mut runnable = crate::parity::prepare(backend, &model, &options)?;
            for &batch in &args.batch {
                bar.set_message(format!("{} batch {batch} threads {threads}", backend.as_str()));
                let inputs = parity_engine::inputs::random_inputs(runnable.info(), batch, 0)?;
                let times = time_runs(Duration::from_secs_f64(args.seconds), || {
                    runnable.run(&inputs).map(|_| ())
                })
                .map_err(|e| {
                    crate::parity::backend_error(backend, &model, &format!("batch {batch}"), e)
                })?;
                let median = percentile(&times, 0.5);
                let p90 = percentile(&times, 0.9);
                rows.push(Row {
                    backend: backend.as_str(),
                    batch,
                    threads,
                    median_ms: median * 1e3,
                    p90_ms: p90 * 1e3,
                    throughput_per_s: batch as f64 / median,
                    flops: flops_by_batch[&batch].clone().ok(),
                    gflops: flops_by_batch[&batch].as_ref().ok().map(|&f| f as f64 / median / 1e9),
                    iterations: times.len(),
                });
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    match args.format {
        Format::Json => crate::output::print_json(&rows)?,
        Format::Jsonl => {
            for row in &rows {
                crate::output::print_json_line(row)?;
            }
        }
        format => {
            let mut t = table(
                format,
                &[
                    "backend",
                    "batch",
                    "threads",
                    "median ms",
                    "p90 ms",
                    "images/s",
                    "GFLOP/s",
                    "runs",
                ],
            );
            for r in &rows {
                t.add_row(vec![
                    r.backend.to_string(),
                    r.batch.to_string(),
                    r.threads.to_string(),
                    format!("{:.3}", r.median_ms),
                    format!("{:.3}", r.p90_ms),
                    format!("{:.0}", r.throughput_per_s),
                    r.gflops.map_or_else(|| "-".to_string(), |g| format!("{g:.1}")),
                    r.iterations.to_string(),
                ]);
            }
            println!("{t}");
            println!("model {}", model.display());
            for (batch, flops) in &flops_by_batch {
                match flops {
                    Ok(f) => println!(
                        "batch {batch}: {:.2} MFLOP per run, counted from the graph (README: FLOP count)",
                        *f as f64 / 1e6
                    ),
                    Err(why) => println!("batch {batch}: FLOPs not counted: {why}"),
                }
            }
        }
    }
    Ok(Verdict::Pass)
}

/// Seconds per call: three warm-up calls, then calls until `budget` is spent (at least 5, at most 10,000).
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

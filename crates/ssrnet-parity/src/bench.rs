//! `ssrnet-parity bench`: median and p90 latency, throughput and GFLOP/s per backend, batch and
//! thread count, on seeded random inputs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use crate::Verdict;
use crate::backends::BackendName;
use crate::output::{Format, table};

/// FLOP of one SSRNet forward pass for one 64x64 image (convolutions, 1x1 fusions, linear layers).
pub const SSRNET_MFLOP_PER_IMAGE: f64 = 42.9;

#[derive(clap::Args)]
pub struct Args {
    /// Model to time (default: the committed dynamic-batch demo model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Backends to time (default: all).
    #[arg(long, value_delimiter = ',')]
    backend: Vec<BackendName>,
    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 32], value_parser = crate::output::at_least_one)]
    batch: Vec<usize>,
    /// Intra-op thread counts.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2], value_parser = crate::output::at_least_one)]
    threads: Vec<usize>,
    /// Measuring time per configuration, after warm-up.
    #[arg(long, default_value_t = 1.0, value_parser = crate::output::positive_seconds)]
    seconds: f64,
    /// Work per image, for GFLOP/s.
    #[arg(long, default_value_t = SSRNET_MFLOP_PER_IMAGE)]
    mflop_per_image: f64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Serialize)]
struct Row {
    backend: &'static str,
    batch: usize,
    threads: usize,
    median_ms: f64,
    p90_ms: f64,
    throughput_per_s: f64,
    gflops: f64,
    iterations: usize,
}

pub fn run(args: Args) -> Result<Verdict> {
    let model =
        args.model.clone().unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_MODEL));
    crate::onnx_model::OnnxModel::read(&model)?;
    let backends = crate::backends::chosen(&args.backend);
    let configs = backends.len() * args.threads.len() * args.batch.len();
    let bar = crate::output::progress(configs as u64, "benchmarking");
    let mut rows = Vec::new();
    for backend in backends {
        for &threads in &args.threads {
            let mut runnable = crate::parity::prepare(backend, &model, Some(threads))?;
            for &batch in &args.batch {
                bar.set_message(format!("{} batch {batch} threads {threads}", backend.as_str()));
                let inputs = crate::inputs::random_inputs(runnable.info(), batch, 0)?;
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
                    gflops: args.mflop_per_image * 1e6 * batch as f64 / median / 1e9,
                    iterations: times.len(),
                });
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    match args.format {
        Format::Json => crate::output::print_json(&rows)?,
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
                    format!("{:.1}", r.gflops),
                    r.iterations.to_string(),
                ]);
            }
            println!("{t}");
            println!("model {} ({} MFLOP per image)", model.display(), args.mflop_per_image);
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

//! `ssrnet-parity bench`: median and p90 latency, throughput and GFLOP/s per backend, batch and
//! thread count ([`parity_engine::bench`]), printed as a table or JSON.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use parity_engine::BackendName;
use parity_engine::bench::Request;

use crate::Verdict;
use crate::print::Format;
use crate::print::terminal::with_progress;

#[derive(clap::Args)]
pub struct Args {
    /// Model to time (default: the committed dynamic-batch demo model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Backends to time (default: all).
    #[arg(long, value_delimiter = ',', value_parser = crate::args::backend())]
    backend: Vec<BackendName>,
    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 32], value_parser = crate::args::values::at_least_one)]
    batch: Vec<usize>,
    /// Intra-op thread counts.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2], value_parser = crate::args::values::thread_count)]
    threads: Vec<usize>,
    /// Measuring time per configuration, after warm-up.
    #[arg(long, default_value_t = 1.0, value_parser = crate::args::values::positive_seconds)]
    seconds: f64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    profile: crate::args::ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    crate::print::no_html(args.format)?;
    let model =
        args.model.clone().unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_MODEL));
    let request = Request {
        model,
        backends: args.backend,
        batches: args.batch,
        threads: args.threads,
        budget: Duration::from_secs_f64(args.seconds),
        profile: args.profile.profile,
    };
    let configs = parity_engine::registry::chosen(&request.backends).len()
        * request.threads.len()
        * request.batches.len();
    let timings = with_progress("benchmarking", configs as u64, false, |t| {
        parity_engine::bench::run(&request, t)
    })?;
    crate::print::bench::print(&timings, &request, args.format)?;
    Ok(Verdict::Pass)
}

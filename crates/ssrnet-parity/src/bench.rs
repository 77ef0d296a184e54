//! `ssrnet-parity bench`: median and p90 latency, throughput and GFLOP/s per backend, batch and
//! thread count ([`parity_engine::bench`]), printed as a table or JSON.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use parity_engine::BackendName;
use parity_engine::bench::{Request, Timings};

use crate::Verdict;
use crate::output::{Format, table};

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

pub fn run(args: Args) -> Result<Verdict> {
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
    let bar = crate::output::progress(configs as u64, "benchmarking");
    let timings = parity_engine::bench::run(&request, &crate::terminal::Terminal::new(&bar));
    bar.finish_and_clear();
    print(&timings?, &request, args.format)?;
    Ok(Verdict::Pass)
}

/// The rows as one JSON array, JSON lines, or a table with the FLOP counts under it.
fn print(timings: &Timings, request: &Request, format: Format) -> Result<()> {
    match format {
        Format::Json => return crate::output::print_json(&timings.rows),
        Format::Jsonl => {
            return timings.rows.iter().try_for_each(crate::output::print_json_line);
        }
        Format::Text | Format::Markdown => {}
    }
    let header =
        ["backend", "batch", "threads", "median ms", "p90 ms", "images/s", "GFLOP/s", "runs"];
    let mut t = table(format, &header);
    for r in &timings.rows {
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
    println!("model {}", request.model.display());
    for (batch, flops) in &timings.flops {
        match flops {
            Ok(f) => println!(
                "batch {batch}: {:.2} MFLOP per run, counted from the graph (README: FLOP count)",
                *f as f64 / 1e6
            ),
            Err(why) => println!("batch {batch}: FLOPs not counted: {why}"),
        }
    }
    Ok(())
}

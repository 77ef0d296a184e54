//! How the CLI prints `bench`'s timings: one JSON array, JSON lines, or a table.

use anyhow::Result;
use parity_engine::bench::{Request, Timings};

use crate::print::{Format, table};

/// The rows as one JSON array, JSON lines, or a table with the FLOP counts under it.
pub fn print(timings: &Timings, request: &Request, format: Format) -> Result<()> {
    match format {
        Format::Json => return crate::print::print_json(&timings.rows),
        Format::Jsonl => {
            return timings.rows.iter().try_for_each(crate::print::print_json_line);
        }
        Format::Text | Format::Markdown | Format::Html => {}
    }
    let header = [
        "backend",
        "batch",
        "threads",
        "median ms",
        "p90 ms",
        "images/s",
        "CPU ms",
        "GFLOP/s",
        "runs",
    ];
    let mut t = table(format, &header);
    for r in &timings.rows {
        t.add_row(vec![
            r.backend.to_string(),
            r.batch.to_string(),
            r.threads.to_string(),
            format!("{:.3}", r.median_ms),
            format!("{:.3}", r.p90_ms),
            format!("{:.0}", r.throughput_per_s),
            format!("{:.3}", r.cpu_ms),
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
    if let Some(b) = timings.bound() {
        println!(
            "machine bound of check/compare over these backends: {:.3} ms a case ({:.2} s per \
             1,000), the larger of their least CPU time a case, {:.3} ms, over {} cores, and \
             {}'s least time a case alone, {:.3} ms",
            b.ms_a_case, b.ms_a_case, b.cpu_ms_a_case, b.cores, b.slowest, b.slowest_ms_a_case
        );
    }
    Ok(())
}

//! Latency of SSRNet on tract, per configuration: batch 1 and 32, 1 and 2 threads, and the ways a
//! batch can be run (one plan for the whole batch, chunks of a smaller plan, the symbolic plan).
//!
//! Throughput is set to the model's FLOPs (42.9 MFLOP per image, from ARCHITECTURE.md's layer
//! shapes), so criterion's `elem/s` column reads as FLOP/s; a summary table of median latency and
//! GFLOP/s is printed at the end. Model: `models/ssrnet_legacy_dynamic.onnx`, or
//! `SSRNET_TRACT_BENCH_MODEL`.
//!
//! `cargo bench -p backend-tract --bench tract` (add `-- --quick` for a fast pass);
//! `SSRNET_TRACT_BENCH_INTERLEAVED=30 cargo bench -p backend-tract --bench tract` for the
//! round-robin comparison.
//!
//! Measured 2026-11-24 on the 2-core dev machine (shared with other builds, load 6-8), release,
//! legacy dynamic model, median ms (GFLOP/s):
//!
//! | threads | batch 1 fixed plan | batch 1 symbolic | batch 32 chunk 1 (default) | chunk 4 | one batch-32 plan |
//! |---------|--------------------|------------------|----------------------------|---------|-------------------|
//! | 1       | 1.77 (24.3)        | 2.41 (17.8)      | 55.8 (24.6)                | 92.2    | 136.5 (10.1)      |
//! | 2       | 1.91 (22.4)        | 2.69 (15.9)      | 66.9 (20.5)                | 102.4   | 132.9 (10.3)      |
//!
//! Hence the defaults: a fixed-shape plan per shape (1.4x the symbolic plan), batches split into
//! per-sample runs (2.4x one batch-32 plan), one thread (a second one did not help here).

use std::path::PathBuf;
use std::time::Duration;

use backend_tract::Tract;
use criterion::{BenchmarkId, Criterion, Throughput};
use parity_core::{NamedTensors, Options, Runnable};

const FLOP_PER_IMAGE: u64 = 42_900_000;

fn model_path() -> PathBuf {
    std::env::var_os("SSRNET_TRACT_BENCH_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/ssrnet_legacy_dynamic.onnx")
    })
}

/// Seeded input (inputs do not change the cost of this model).
fn input(batch: usize) -> NamedTensors {
    parity_testkit::ssrnet_input(batch, 1)
}

/// (label, chunk): how a batch is split; `usize::MAX` = one plan for the whole batch.
const STRATEGIES: &[(&str, usize)] =
    &[("chunk1", 1), ("chunk4", 4), ("chunk8", 8), ("whole", usize::MAX)];

fn bench(c: &mut Criterion) {
    let path = model_path();
    if !path.exists() {
        eprintln!("skipping: {} is missing", path.display());
        return;
    }
    let mut group = c.benchmark_group("ssrnet_tract");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    for threads in [1usize, 2] {
        let options = Options::with_threads(Some(threads));
        for batch in [1usize, 32] {
            let inputs = input(batch);
            group.throughput(Throughput::Elements(FLOP_PER_IMAGE * batch as u64));
            for &(label, chunk) in STRATEGIES {
                if batch == 1 && chunk != usize::MAX {
                    continue; // at batch 1 every strategy is the same single run
                }
                let mut model = Tract.prepare_model(&path, &options).expect("model loads");
                model.set_chunk(chunk);
                model.run(&inputs).expect("warm-up run builds the plan");
                let id = BenchmarkId::new(format!("t{threads}/{label}"), batch);
                group.bench_with_input(id, &inputs, |b, inputs| {
                    b.iter(|| model.run(inputs).unwrap())
                });
            }
            // The symbolic-batch plan, to show what fixed-shape plans buy.
            let mut model = Tract.prepare_model(&path, &options).expect("model loads");
            model.run_symbolic(&inputs).expect("warm-up run builds the plan");
            let id = BenchmarkId::new(format!("t{threads}/symbolic"), batch);
            group.bench_with_input(id, &inputs, |b, inputs| {
                b.iter(|| model.run_symbolic(inputs).unwrap())
            });
        }
    }
    group.finish();
}

/// Print median latency and GFLOP/s of every benchmark from criterion's saved estimates.
fn summary() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let root = target.join("criterion/ssrnet_tract");
    let Ok(configs) = std::fs::read_dir(&root) else {
        return;
    };
    let mut rows = Vec::new();
    for config in configs.flatten() {
        let Ok(batches) = std::fs::read_dir(config.path()) else {
            continue;
        };
        for batch in batches.flatten() {
            let file = batch.path().join("new/estimates.json");
            let (Ok(text), Ok(n)) = (
                std::fs::read_to_string(&file),
                batch.file_name().to_string_lossy().parse::<u64>(),
            ) else {
                continue;
            };
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let Some(ns) = json["median"]["point_estimate"].as_f64() else {
                continue;
            };
            let gflops = (FLOP_PER_IMAGE * n) as f64 / ns;
            rows.push((
                config.file_name().to_string_lossy().replace('_', "/"),
                n,
                ns / 1e6,
                gflops,
            ));
        }
    }
    rows.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    println!("\n{:<18} {:>5} {:>12} {:>9}", "config", "batch", "median ms", "GFLOP/s");
    for (config, batch, ms, gflops) in rows {
        println!("{config:<18} {batch:>5} {ms:>12.3} {gflops:>9.2}");
    }
}

/// With `SSRNET_TRACT_BENCH_INTERLEAVED=<rounds>`: run every configuration once per round, in
/// turn, and print each one's median. On a shared, loaded machine this compares configurations
/// fairly (load drifts affect all alike), where criterion's one-after-another runs do not.
fn interleaved(rounds: usize) {
    let path = model_path();
    let mut configs = Vec::new();
    for threads in [1usize, 2] {
        for batch in [1usize, 32] {
            for &(label, chunk) in STRATEGIES {
                if batch == 1 && chunk != usize::MAX {
                    continue;
                }
                let options = Options::with_threads(Some(threads));
                let mut model = Tract.prepare_model(&path, &options).expect("model loads");
                model.set_chunk(chunk);
                let inputs = input(batch);
                model.run(&inputs).expect("warm-up");
                configs.push((
                    format!("t{threads}/{label}"),
                    batch,
                    model,
                    inputs,
                    Vec::new(),
                    false,
                ));
            }
            let mut model =
                Tract.prepare_model(&path, &Options::with_threads(Some(threads))).unwrap();
            let inputs = input(batch);
            model.run_symbolic(&inputs).expect("warm-up");
            configs.push((format!("t{threads}/symbolic"), batch, model, inputs, Vec::new(), true));
        }
    }
    for _ in 0..rounds {
        for (_, batch, model, inputs, times, symbolic) in configs.iter_mut() {
            // Enough runs per round to last a few milliseconds.
            let reps = if *batch == 1 { 10 } else { 1 };
            let start = std::time::Instant::now();
            for _ in 0..reps {
                if *symbolic {
                    model.run_symbolic(inputs).unwrap()
                } else {
                    model.run(inputs).unwrap()
                };
            }
            times.push(start.elapsed().as_secs_f64() / reps as f64);
        }
    }
    println!(
        "{:<18} {:>5} {:>12} {:>9}   (interleaved, {rounds} rounds)",
        "config", "batch", "median ms", "GFLOP/s"
    );
    for (label, batch, _, _, times, _) in configs.iter_mut() {
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let gflops = (FLOP_PER_IMAGE * *batch as u64) as f64 / median / 1e9;
        println!("{label:<18} {batch:>5} {:>12.3} {gflops:>9.2}", median * 1e3);
    }
}

fn main() {
    if let Some(rounds) =
        std::env::var("SSRNET_TRACT_BENCH_INTERLEAVED").ok().and_then(|r| r.parse().ok())
    {
        interleaved(rounds);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}

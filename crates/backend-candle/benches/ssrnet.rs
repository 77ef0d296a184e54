//! SSRNet on candle: latency at batch 1 and 32 on 1 and 2 threads, plus batching strategies.
//!
//! `cargo bench -p backend-candle` runs each thread count in its own child process with
//! `CANDLE_NUM_THREADS` set, because candle 0.11 sizes its element-wise pool once per process from
//! that variable (see the crate docs); inside, `Options::threads` bounds conv and gemm. Criterion
//! reports its usual estimates (throughput in "elem/s" is FLOP/s: 42.9 MFLOP per image); at the end
//! each child prints a table of median latency per call and GFLOP/s from every timed call.
//! Model: `models/ssrnet_dynamo_dynamic.onnx`, or the path in `CANDLE_BENCH_MODEL`.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use backend_candle::Candle;
use criterion::{BenchmarkId, Criterion, Throughput};
use parity_core::{NamedTensors, Options, Runnable, Runtime};

/// SSRNet's cost per image (multiply-adds counted as 2 FLOP).
const FLOP_PER_IMAGE: f64 = 42.9e6;
const THREADS_ENV: &str = "CANDLE_NUM_THREADS";

fn model_path() -> PathBuf {
    std::env::var_os("CANDLE_BENCH_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/ssrnet_dynamo_dynamic.onnx")
    })
}

/// Seeded input (inputs do not change the cost of this model).
fn input(batch: usize) -> NamedTensors {
    parity_testkit::ssrnet_input(batch, 1)
}

/// Median per-call latency samples, keyed by benchmark id.
static SAMPLES: Mutex<Vec<(String, usize, Vec<Duration>)>> = Mutex::new(Vec::new());

fn record(id: &str, images: usize, d: Duration) {
    let mut all = SAMPLES.lock().unwrap();
    match all.iter_mut().find(|(i, _, _)| i == id) {
        Some((_, _, v)) => v.push(d),
        None => all.push((id.to_string(), images, vec![d])),
    }
}

/// Time `calls` runs of `model` per criterion iteration, recording each iteration's duration.
fn bench_calls(c: &mut Criterion, group: &str, id: &str, images: usize, mut step: impl FnMut()) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements((FLOP_PER_IMAGE * images as f64) as u64));
    g.sample_size(if images > 8 { 20 } else { 60 });
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(if images > 8 { 8 } else { 4 }));
    let key = format!("{group}/{id}");
    g.bench_function(BenchmarkId::from_parameter(id), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                step();
                let d = t.elapsed();
                record(&key, images, d);
                total += d;
            }
            total
        })
    });
    g.finish();
}

fn run_child(threads: usize) {
    let path = model_path();
    if !path.exists() {
        eprintln!("candle bench: {} not found; set CANDLE_BENCH_MODEL", path.display());
        std::process::exit(2);
    }
    let mut c = Criterion::default().configure_from_args();
    let opts = Options::with_threads(Some(threads));
    let mut model = Candle.prepare(&path, &opts).expect("prepare");
    for batch in [1usize, 32] {
        let x = input(batch);
        bench_calls(
            &mut c,
            &format!("candle/threads{threads}"),
            &format!("batch{batch}"),
            batch,
            || {
                std::hint::black_box(model.run(&x).unwrap());
            },
        );
    }
    // Batching strategies for 32 images: one call, or 4 calls of 8, or 32 calls of 1.
    for chunk in [8usize, 1] {
        let x = input(chunk);
        bench_calls(
            &mut c,
            &format!("candle/threads{threads}"),
            &format!("batch32_as_{}x{chunk}", 32 / chunk),
            32,
            || {
                for _ in 0..32 / chunk {
                    std::hint::black_box(model.run(&x).unwrap());
                }
            },
        );
    }
    // Baseline: candle-onnx's plain `simple_eval` on the same (external-data-resolved) model, which
    // rebuilds every initializer on every call, in the same thread pool.
    let proto = backend_candle::load::read_model(&path).expect("read model");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    for batch in [1usize, 32] {
        let x = input(batch);
        let data = x["input"].as_f32().unwrap().to_vec();
        bench_calls(
            &mut c,
            &format!("candle/threads{threads}"),
            &format!("plain_simple_eval_batch{batch}"),
            batch,
            || {
                let t = candle_core::Tensor::from_slice(
                    &data,
                    (batch, 3, 64, 64),
                    &candle_core::Device::Cpu,
                )
                .unwrap();
                let inputs = std::collections::HashMap::from([("input".to_string(), t)]);
                std::hint::black_box(
                    pool.install(|| candle_onnx::simple_eval(&proto, inputs)).unwrap(),
                );
            },
        );
    }
    // Default thread setting (candle's own pool) for comparison.
    if threads == 2 {
        let mut model: Box<dyn Runnable> =
            Candle.prepare(&path, &Options::default()).expect("prepare");
        for batch in [1usize, 32] {
            let x = input(batch);
            bench_calls(&mut c, "candle/threads_default", &format!("batch{batch}"), batch, || {
                std::hint::black_box(model.run(&x).unwrap());
            });
        }
    }
    c.final_summary();
    println!(
        "\n{:<44} {:>12} {:>10}",
        "benchmark (CANDLE_NUM_THREADS matches)", "median ms", "GFLOP/s"
    );
    for (id, images, mut v) in SAMPLES.lock().unwrap().drain(..) {
        v.sort();
        let median = v[v.len() / 2].as_secs_f64();
        println!(
            "{id:<44} {:>12.3} {:>10.2}",
            median * 1e3,
            FLOP_PER_IMAGE * images as f64 / median / 1e9
        );
    }
}

fn main() {
    if let Some(t) = std::env::var(THREADS_ENV).ok().and_then(|v| v.parse::<usize>().ok()) {
        run_child(t);
        return;
    }
    let exe = std::env::current_exe().expect("current exe");
    for threads in [1, 2] {
        let status = std::process::Command::new(&exe)
            .args(std::env::args_os().skip(1))
            .env(THREADS_ENV, threads.to_string())
            .status()
            .expect("spawn bench child");
        if !status.success() {
            std::process::exit(status.code().unwrap_or(1));
        }
    }
}

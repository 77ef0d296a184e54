//! RTen's strategies on SSRNet, to choose the backend's defaults: weights prepacked or not, graph
//! optimisation on or off, and a batch of 32 as one call or as 32 calls of one sample, on 1 and 2
//! threads. Median latency per 32 images (and per image at batch 1) from timed calls, GFLOP/s at
//! 43.53 MFLOP per image (`ssrnet-parity bench`'s count).
//!
//! `cargo bench -p backend-rten` (the model: `models/ssrnet_dynamo_dynamic.onnx`, or
//! `RTEN_BENCH_MODEL`). The side-by-side comparison with ort, tract and candle is the CLI's
//! `ssrnet-parity bench --backend ort,tract,candle,rten --batch 1,32 --threads 1,2`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message;
use rten::{Model, ModelOptions, RunOptions, ThreadPool, Value, ValueOrView};

const FLOP_PER_IMAGE: f64 = 43.53e6;

fn model_path() -> PathBuf {
    std::env::var_os("RTEN_BENCH_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/ssrnet_dynamo_dynamic.onnx")
    })
}

/// Seeded input (inputs do not change the cost of this model).
fn input(batch: usize) -> Value {
    let tensor = parity_testkit::seeded_f32(&[batch, 3, 64, 64], 1);
    Value::from_shape([batch, 3, 64, 64], tensor.as_f32().unwrap().to_vec()).unwrap()
}

/// Median seconds of `step` over calls for about `budget` (at least 7 calls), after 3 warm-ups.
fn median(budget: Duration, mut step: impl FnMut()) -> f64 {
    for _ in 0..3 {
        step();
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 7 || start.elapsed() < budget {
        let t = Instant::now();
        step();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let path = model_path();
    let proto = parity_core::onnx::read_model_with_data(&path).expect("model");
    let bytes = proto.encode_to_vec();
    println!(
        "{:<10} {:<10} {:>7} {:>12} {:>12} {:>14} {:>10}",
        "prepack", "optimise", "threads", "batch1 ms", "batch32 ms", "32 x batch1 ms", "GFLOP/s@32"
    );
    for threads in [1usize, 2] {
        let pool = Arc::new(ThreadPool::with_num_threads(threads));
        for (prepack, optimise) in [(false, true), (true, true), (false, false)] {
            let mut options = ModelOptions::with_all_ops();
            options.prepack_weights(prepack).enable_optimization(optimise);
            let model: Model = options.load(bytes.clone()).expect("load");
            let (x, y) = (model.node_id("input").unwrap(), model.node_id("age").unwrap());
            let run = |v: &Value| {
                let opts = RunOptions::default().with_thread_pool(Some(pool.clone()));
                std::hint::black_box(
                    model.run(vec![(x, ValueOrView::from(v))], &[y], Some(opts)).unwrap(),
                );
            };
            let (one, many) = (input(1), input(32));
            let budget = Duration::from_secs(2);
            let b1 = median(budget, || run(&one));
            let b32 = median(budget, || run(&many));
            let split = median(budget, || (0..32).for_each(|_| run(&one)));
            println!(
                "{:<10} {:<10} {:>7} {:>12.3} {:>12.3} {:>14.3} {:>10.2}",
                prepack,
                optimise,
                threads,
                b1 * 1e3,
                b32 * 1e3,
                split * 1e3,
                FLOP_PER_IMAGE * 32.0 / b32 / 1e9
            );
        }
    }
}

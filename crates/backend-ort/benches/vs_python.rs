//! backend-ort's per-inference latency against onnxruntime-python's `session.run`, side by side in
//! one run: same model, same batch, same intra-op thread count, same onnxruntime 1.31.1 build.
//!
//! ```text
//! cargo bench -p backend-ort --bench vs_python
//! ```
//!
//! `benches/vs_python.py` runs in a child process (`SSRNET_PARITY_PYTHON`, else `<repo>/.venv/bin/python`)
//! and the two sides take turns: for each configuration, `ROUNDS` rounds of a timed block on the Rust
//! side then one on the Python side, each block about 150 ms, so drift and the other side's idle
//! thread pool hit both equally. Reported: the median of every timed call per side and the ratio
//! Rust / Python (target: within 5%). The Rust side times `Runnable::run` as the CLI uses it: input
//! checks, tensor views, the run and the copy of the outputs into `parity_core::Tensor`s.
//!
//! Environment: `SSRNET_BENCH_MODEL` (default `models/ssrnet_legacy_dynamic.onnx`),
//! `SSRNET_BENCH_ROUNDS` (default 15).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use backend_ort::Ort;
use parity_core::{NamedTensors, Options, Runnable, Runtime};

const BLOCK: Duration = Duration::from_millis(150);

struct Python {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Python {
    fn start(python: &Path, script: &Path) -> Python {
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Python { child, stdin, stdout }
    }

    fn ask(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").and_then(|_| self.stdin.flush()).expect("python side gone");
        let mut reply = String::new();
        self.stdout.read_line(&mut reply).expect("python side gone");
        assert!(
            !reply.is_empty() && !reply.starts_with("error"),
            "python side: {line:?} -> {reply:?}"
        );
        reply.trim().to_string()
    }

    fn run(&mut self, batch: usize, iters: usize) -> Vec<f64> {
        self.ask(&format!("run {batch} {iters}"))
            .split(' ')
            .map(|t| t.parse::<f64>().unwrap() / 1e6)
            .collect()
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

/// Seeded input (the values do not change the work done).
fn input(batch: usize) -> NamedTensors {
    parity_testkit::ssrnet_input(batch, batch as u64)
}

fn run_rust(model: &mut dyn Runnable, inputs: &NamedTensors, iters: usize) -> Vec<f64> {
    (0..iters)
        .map(|_| {
            let t0 = Instant::now();
            let out = model.run(inputs).expect("ort run");
            let dt = t0.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(out);
            dt
        })
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = std::env::var_os("SSRNET_BENCH_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("models/ssrnet_legacy_dynamic.onnx"));
    let rounds: usize =
        std::env::var("SSRNET_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(15);
    let python = std::env::var_os("SSRNET_PARITY_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv/bin/python"));
    let mut py =
        Python::start(&python, &Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/vs_python.py"));

    println!("model {}", model.display());
    println!(
        "{:>5} {:>7} {:>12} {:>14} {:>12} {:>8}",
        "batch", "threads", "rust ms", "python ms", "rust/python", ""
    );
    for threads in [1usize, 2] {
        let mut rust = Ort.prepare(&model, &Options::with_threads(Some(threads))).expect("prepare");
        let version = py.ask(&format!("session {} {threads}", model.display()));
        if threads == 1 {
            println!(
                "python side: {version}; rust side: backend-ort, {}",
                backend_ort::provision::library_path().unwrap().display()
            );
        }
        for batch in [1usize, 32] {
            let inputs = input(batch);
            // Warm up both, then size the blocks to about BLOCK each.
            let mut warm = run_rust(rust.as_mut(), &inputs, 10);
            py.run(batch, 10);
            let iters = ((BLOCK.as_secs_f64() * 1e3 / median(&mut warm)).ceil() as usize).max(3);
            let (mut r, mut p) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                r.extend(run_rust(rust.as_mut(), &inputs, iters));
                p.extend(py.run(batch, iters));
            }
            let (rm, pm) = (median(&mut r), median(&mut p));
            let ratio = rm / pm;
            let verdict = if ratio <= 1.05 { "ok" } else { "SLOWER" };
            println!(
                "{batch:>5} {threads:>7} {rm:>12.4} {pm:>14.4} {ratio:>12.3} {verdict:>8}  ({} calls each)",
                r.len()
            );
        }
    }
}

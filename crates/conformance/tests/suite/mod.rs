//! The suite's one test body ([`check`]) and the macro that stamps it out per backend.
//!
//! Expected values come from the reference pipeline (`scripts/pipeline.py`: PyTorch in eval mode),
//! never from a backend. Every case is compared at [`TOLERANCE`] (atol 1e-4 years, rtol 0) with
//! `parity_core::compare`, which never lets NaN pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parity_core::compare::{CompareOptions, Tolerance, Tolerances, compare_outputs};
use parity_core::{Dim, Error, GoldenSet, IoInfo, Options, Runtime, Tensor};

/// The bar for every backend and every case: atol 1e-4 (years), rtol 0.
pub const TOLERANCE: Tolerance = Tolerance { atol: 1e-4, rtol: 0.0 };

/// The real checkpoint, read-only and never committed (no licence).
const CHECKPOINT: &str = "../shared/ssrnet/ssrnet_megaage_asian.pth";

/// Longest the checkpoint export may take before it is killed and the checkpoint tests fail.
const EXPORT_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// The workspace root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Every model variant the suite runs, as `ssrnet_<variant>.onnx`; `models/` must hold exactly these.
pub const VARIANTS: [&str; 9] = [
    "legacy_static",
    "legacy_static_sim",
    "legacy_dynamic",
    "legacy_dynamic_sim",
    "dynamo_static",
    "dynamo_static_sim",
    "dynamo_dynamic",
    "dynamo_dynamic_sim",
    "dynamo_dynamic_external",
];

/// `ssrnet_<variant>.onnx` in `dir`.
fn variant_file(dir: &Path, variant: &str) -> PathBuf {
    dir.join(format!("ssrnet_{variant}.onnx"))
}

/// A committed demo model against the committed npz goldens.
pub fn demo(rt: &dyn Runtime, variant: &str, threads: usize) {
    let repo = repo();
    check(rt, &variant_file(&repo.join("models"), variant), &repo.join("fixtures/golden"), threads);
}

/// A committed demo model against the same goldens in the ONNX test-data layout.
pub fn test_data(rt: &dyn Runtime, variant: &str, threads: usize) {
    let repo = repo();
    check(
        rt,
        &variant_file(&repo.join("models"), variant),
        &repo.join("fixtures/golden_pb"),
        threads,
    );
}

/// A model exported from the real checkpoint against goldens PyTorch computed with it; skipped with a
/// message when the checkpoint (or, outside strict mode, Python) is absent.
pub fn checkpoint(rt: &dyn Runtime, variant: &str, threads: usize) {
    let Some(out) = checkpoint_export() else {
        return;
    };
    check(rt, &variant_file(&out.join("models"), variant), &out.join("fixtures/golden"), threads);
}

/// Does `t` fit the declared input (rank, fixed dimensions)?
fn fits(io: &IoInfo, t: &Tensor) -> bool {
    t.shape().len() == io.shape.len()
        && t.shape().iter().zip(&io.shape).all(|(&n, d)| match d {
            Dim::Fixed(w) => n == *w,
            Dim::Symbolic(_) => true,
        })
}

/// The one test body: prepares `model` on `rt` once and runs every case of the golden set in
/// `golden`. A case the model's declared shape admits must match at [`TOLERANCE`]; one it does not
/// (batch 8 on a batch-1 model) must be refused with `Error::Input`. A dynamic model must run at least
/// one batched case and a static one must refuse one, so neither can pass by skipping them.
pub fn check(rt: &dyn Runtime, model: &Path, golden: &Path, threads: usize) {
    let what = format!("{} on {} (threads {threads})", rt.name(), model.display());
    assert!(model.is_file(), "{what}: model file missing");
    let unsupported = rt.unsupported_ops(model).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(unsupported.is_empty(), "{what}: unsupported ops {unsupported:?}");
    let mut runnable = rt
        .prepare(model, &Options { threads: Some(threads) })
        .unwrap_or_else(|e| panic!("{what}: prepare: {e}"));
    let info = runnable.info().clone();
    let inputs: Vec<&str> = info.inputs.iter().map(|io| io.name.as_str()).collect();
    let outputs: Vec<&str> = info.outputs.iter().map(|io| io.name.as_str()).collect();
    let set = GoldenSet::read_with_names(golden, &inputs, &outputs)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(!set.cases.is_empty(), "{what}: no cases in {}", golden.display());
    assert!(
        set.cases.iter().any(|c| c.batch() > 1),
        "{what}: {} has no batched case",
        golden.display()
    );
    let tols = Tolerances::uniform(TOLERANCE);

    let (mut passed, mut batched, mut refused, mut worst) = (0, 0, 0, 0.0f64);
    let mut failures = Vec::new();
    for case in &set.cases {
        let admitted =
            info.inputs.iter().all(|io| case.inputs.get(&io.name).is_none_or(|t| fits(io, t)));
        let result = runnable.run(&case.inputs);
        if !admitted {
            match result {
                Err(Error::Input(m)) if !m.is_empty() => refused += 1,
                Err(e) => failures.push(format!(
                    "{}: batch {}: expected an input error, got: {e}",
                    case.name,
                    case.batch()
                )),
                Ok(_) => failures.push(format!(
                    "{}: batch {} ran on a model that does not declare it",
                    case.name,
                    case.batch()
                )),
            }
            continue;
        }
        let actual = match result {
            Ok(actual) => actual,
            Err(e) => {
                failures.push(format!("{}: {e}", case.name));
                continue;
            }
        };
        let report =
            compare_outputs(&case.name, &actual, &case.outputs, &tols, CompareOptions::default());
        for o in &report.outputs {
            worst = worst.max(o.max_abs);
        }
        if report.pass {
            passed += 1;
            batched += usize::from(case.batch() > 1);
            continue;
        }
        for o in report.outputs.iter().filter(|o| !o.pass) {
            let detail = match (&o.problem, &o.worst) {
                (Some(p), _) => p.clone(),
                (None, Some(w)) => format!(
                    "{}/{} elements off, max |error| {:.3e}, worst at {:?}: got {} want {} (min atol {:?})",
                    o.mismatches, o.total, o.max_abs, w.index, w.actual, w.expected, o.min_atol
                ),
                (None, None) => format!("{}/{} elements off", o.mismatches, o.total),
            };
            failures.push(format!("{} '{}': {detail}", case.name, o.name));
        }
    }
    eprintln!(
        "{what}: {passed}/{} cases pass ({batched} batched, {refused} refused), max |error| {worst:.3e}",
        set.cases.len()
    );
    assert!(
        failures.is_empty(),
        "{what}: {} failures at {TOLERANCE}:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    let static_batch = info
        .inputs
        .first()
        .and_then(|io| io.shape.first())
        .is_some_and(|d| matches!(d, Dim::Fixed(_)));
    if static_batch {
        assert!(refused > 0, "{what}: static model refused no batched case");
    } else {
        assert!(batched > 0, "{what}: dynamic model ran no batched case");
    }
}

fn strict() -> bool {
    std::env::var_os("SSRNET_PARITY_STRICT").is_some_and(|v| v == "1")
}

/// `SSRNET_PARITY_PYTHON`, else `<repo>/.venv/bin/python`.
fn python() -> PathBuf {
    match std::env::var_os("SSRNET_PARITY_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo().join(".venv/bin/python"),
    }
}

/// Exports the real checkpoint once per test process (`scripts/pipeline.py all`) into the target's
/// scratch directory; `None` (after a message) when there is nothing to export with. Panics when the
/// export itself fails, or when Python is missing under `SSRNET_PARITY_STRICT=1`.
fn checkpoint_export() -> Option<PathBuf> {
    static EXPORT: OnceLock<Result<Option<PathBuf>, String>> = OnceLock::new();
    match EXPORT.get_or_init(export) {
        Ok(Some(dir)) => Some(dir.clone()),
        Ok(None) => None,
        Err(e) => panic!("{e}"),
    }
}

fn export() -> Result<Option<PathBuf>, String> {
    let repo = repo();
    let checkpoint = repo.join(CHECKPOINT);
    if !checkpoint.is_file() {
        eprintln!(
            "skipped: {} is absent (the real checkpoint is not distributed); demo models only",
            checkpoint.display()
        );
        return Ok(None);
    }
    let python = python();
    if !python.is_file() {
        let msg = format!(
            "{} is absent: cannot export the real checkpoint (run tools/venv, or set SSRNET_PARITY_PYTHON)",
            python.display()
        );
        if strict() {
            return Err(format!("SSRNET_PARITY_STRICT=1: {msg}"));
        }
        eprintln!("skipped: {msg}");
        return Ok(None);
    }
    // Cargo's scratch directory for integration tests: inside target/, never committed.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint-export");
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .map_err(|e| format!("{}: cannot clear: {e}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: cannot create: {e}", out.display()))?;
    let log_path = out.join("pipeline.log");
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| format!("{}: {e}", log_path.display()))?;
    eprintln!("exporting the real checkpoint into {} (once per test process)", out.display());
    let mut child = Command::new(&python)
        .arg(repo.join("scripts/pipeline.py"))
        .args(["all", "--checkpoint"])
        .arg(&checkpoint)
        .arg("--out")
        .arg(&out)
        .current_dir(&repo)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > EXPORT_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "scripts/pipeline.py all did not finish within {} s",
                    EXPORT_DEADLINE.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for scripts/pipeline.py: {e}")),
        }
    };
    if !status.success() {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> =
            log.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(format!(
            "scripts/pipeline.py all --checkpoint failed ({status}):\n{}",
            tail.join("\n")
        ));
    }
    eprintln!("exported the real checkpoint in {:.0} s", start.elapsed().as_secs_f64());
    Ok(Some(out))
}

/// Stamps out the suite for one backend as `mod $backend { ... }`. Every test must be listed, in this
/// order, so a backend cannot silently drop one; a known failure carries `#[ignore = "reason"]`.
macro_rules! conformance_suite {
    (
        $backend:ident = $runtime:expr;
        $(#[$a0:meta])* legacy_static,
        $(#[$a1:meta])* legacy_static_sim,
        $(#[$a2:meta])* legacy_dynamic,
        $(#[$a3:meta])* legacy_dynamic_sim,
        $(#[$a4:meta])* dynamo_static,
        $(#[$a5:meta])* dynamo_static_sim,
        $(#[$a6:meta])* dynamo_dynamic,
        $(#[$a7:meta])* dynamo_dynamic_sim,
        $(#[$a8:meta])* dynamo_dynamic_external,
        $(#[$b0:meta])* two_threads_legacy_dynamic,
        $(#[$b1:meta])* two_threads_dynamo_dynamic_external,
        $(#[$c0:meta])* test_data_legacy_dynamic,
        $(#[$c1:meta])* test_data_dynamo_static_sim,
        $(#[$d0:meta])* checkpoint_legacy_static,
        $(#[$d1:meta])* checkpoint_legacy_static_sim,
        $(#[$d2:meta])* checkpoint_legacy_dynamic,
        $(#[$d3:meta])* checkpoint_legacy_dynamic_sim,
        $(#[$d4:meta])* checkpoint_dynamo_static,
        $(#[$d5:meta])* checkpoint_dynamo_static_sim,
        $(#[$d6:meta])* checkpoint_dynamo_dynamic,
        $(#[$d7:meta])* checkpoint_dynamo_dynamic_sim,
        $(#[$d8:meta])* checkpoint_dynamo_dynamic_external $(,)?
    ) => {
        mod $backend {
            use super::suite;

            fn rt() -> impl parity_core::Runtime {
                $runtime
            }

            $(#[$a0])* #[test] fn legacy_static() { suite::demo(&rt(), "legacy_static", 1) }
            $(#[$a1])* #[test] fn legacy_static_sim() { suite::demo(&rt(), "legacy_static_sim", 1) }
            $(#[$a2])* #[test] fn legacy_dynamic() { suite::demo(&rt(), "legacy_dynamic", 1) }
            $(#[$a3])* #[test] fn legacy_dynamic_sim() { suite::demo(&rt(), "legacy_dynamic_sim", 1) }
            $(#[$a4])* #[test] fn dynamo_static() { suite::demo(&rt(), "dynamo_static", 1) }
            $(#[$a5])* #[test] fn dynamo_static_sim() { suite::demo(&rt(), "dynamo_static_sim", 1) }
            $(#[$a6])* #[test] fn dynamo_dynamic() { suite::demo(&rt(), "dynamo_dynamic", 1) }
            $(#[$a7])* #[test] fn dynamo_dynamic_sim() { suite::demo(&rt(), "dynamo_dynamic_sim", 1) }
            $(#[$a8])* #[test] fn dynamo_dynamic_external() { suite::demo(&rt(), "dynamo_dynamic_external", 1) }
            $(#[$b0])* #[test] fn two_threads_legacy_dynamic() { suite::demo(&rt(), "legacy_dynamic", 2) }
            $(#[$b1])* #[test] fn two_threads_dynamo_dynamic_external() { suite::demo(&rt(), "dynamo_dynamic_external", 2) }
            $(#[$c0])* #[test] fn test_data_legacy_dynamic() { suite::test_data(&rt(), "legacy_dynamic", 1) }
            $(#[$c1])* #[test] fn test_data_dynamo_static_sim() { suite::test_data(&rt(), "dynamo_static_sim", 1) }
            $(#[$d0])* #[test] fn checkpoint_legacy_static() { suite::checkpoint(&rt(), "legacy_static", 1) }
            $(#[$d1])* #[test] fn checkpoint_legacy_static_sim() { suite::checkpoint(&rt(), "legacy_static_sim", 2) }
            $(#[$d2])* #[test] fn checkpoint_legacy_dynamic() { suite::checkpoint(&rt(), "legacy_dynamic", 1) }
            $(#[$d3])* #[test] fn checkpoint_legacy_dynamic_sim() { suite::checkpoint(&rt(), "legacy_dynamic_sim", 2) }
            $(#[$d4])* #[test] fn checkpoint_dynamo_static() { suite::checkpoint(&rt(), "dynamo_static", 1) }
            $(#[$d5])* #[test] fn checkpoint_dynamo_static_sim() { suite::checkpoint(&rt(), "dynamo_static_sim", 2) }
            $(#[$d6])* #[test] fn checkpoint_dynamo_dynamic() { suite::checkpoint(&rt(), "dynamo_dynamic", 1) }
            $(#[$d7])* #[test] fn checkpoint_dynamo_dynamic_sim() { suite::checkpoint(&rt(), "dynamo_dynamic_sim", 2) }
            $(#[$d8])* #[test] fn checkpoint_dynamo_dynamic_external() { suite::checkpoint(&rt(), "dynamo_dynamic_external", 1) }
        }
    };
}
pub(crate) use conformance_suite;

//! The suite's one test body ([`check`]) and the macro that stamps it out per backend.
//!
//! Expected values come from the reference pipeline (`scripts/pipeline.py`: PyTorch in eval mode),
//! never from a backend. Every case is compared at the tolerance its golden manifest records, else
//! [`TOLERANCE`] (atol 1e-4 years, rtol 0), with `parity_core::compare`, which never lets NaN pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parity_core::compare::{CompareOptions, Tolerance, compare_outputs};
use parity_core::{Dim, Error, GoldenSet, Options, Runtime, shape_misfit};

/// The bar for a golden set whose manifest records no tolerance: atol 1e-4 (years), rtol 0.
pub const TOLERANCE: Tolerance = Tolerance { atol: 1e-4, rtol: 0.0 };

/// The real checkpoint, read-only and never committed (no licence).
/// The real checkpoint under ../shared (never committed).
const CHECKPOINT_IN_SHARED: &str = "ssrnet/ssrnet_megaage_asian.pth";

/// Longest the checkpoint export may take before it is killed and the checkpoint tests fail.
const EXPORT_DEADLINE: Duration = Duration::from_secs(15 * 60);

pub use parity_testkit::repo;

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
        .prepare(model, &Options::with_threads(Some(threads)))
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
    let tols = set.tolerances(TOLERANCE);

    let (mut passed, mut batched, mut refused, mut worst) = (0, 0, 0, 0.0f64);
    let mut failures = Vec::new();
    for case in &set.cases {
        let admitted = info.inputs.iter().all(|io| {
            case.inputs.get(&io.name).is_none_or(|t| shape_misfit(&io.shape, t.shape()).is_none())
        });
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
        "{what}: {} failures at {tols:?}:\n  {}",
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

/// The reference interpreter with torch (panics naming what is missing).
fn python() -> PathBuf {
    parity_testkit::python(&["torch", "onnx", "numpy"])
}

/// Exports the real checkpoint once per test process (`scripts/pipeline.py all`) into the target's
/// scratch directory. Panics when the checkpoint or Python is missing, or the export fails.
fn checkpoint_export() -> PathBuf {
    static EXPORT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    EXPORT.get_or_init(export_checkpoint).clone().unwrap_or_else(|e| panic!("{e}"))
}

/// Exports the zoo (`scripts/zoo.py`: torchvision architectures and a two-input module, legacy and
/// dynamo, with PyTorch goldens) once per test process, as [`checkpoint_export`] does.
fn zoo_export() -> PathBuf {
    static EXPORT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    EXPORT.get_or_init(export_zoo).clone().unwrap_or_else(|e| panic!("{e}"))
}

fn export_checkpoint() -> Result<PathBuf, String> {
    let checkpoint = parity_testkit::shared(CHECKPOINT_IN_SHARED);
    let python = python();
    // Cargo's scratch directory for integration tests: inside target/, never committed.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint-export");
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .map_err(|e| format!("{}: cannot clear: {e}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: cannot create: {e}", out.display()))?;
    let mut args = vec!["scripts/pipeline.py".into(), "all".into(), "--checkpoint".into()];
    args.extend([checkpoint.into_os_string(), "--out".into(), out.clone().into_os_string()]);
    run_python(&python, &args, &out.join("pipeline.log"))?;
    Ok(out)
}

fn export_zoo() -> Result<PathBuf, String> {
    let python = python();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = scratch.join("zoo");
    let args = vec!["scripts/zoo.py".into(), "--out".into(), out.clone().into_os_string()];
    run_python(&python, &args, &scratch.join("zoo.log"))?;
    Ok(out)
}

/// Runs `python args...` in the repository, its output into `log`, killed after
/// [`EXPORT_DEADLINE`]; an error carries the log's tail.
fn run_python(python: &Path, args: &[std::ffi::OsString], log_path: &Path) -> Result<(), String> {
    let what = args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
    let log =
        std::fs::File::create(log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| format!("{}: {e}", log_path.display()))?;
    eprintln!("running {what} (once per test process)");
    let mut child = Command::new(python)
        .args(args)
        .current_dir(repo())
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
                    "{what} did not finish within {} s",
                    EXPORT_DEADLINE.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for {what}: {e}")),
        }
    };
    if !status.success() {
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        let tail: Vec<&str> =
            log.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(format!("{what} failed ({status}):\n{}", tail.join("\n")));
    }
    eprintln!("{what}: done in {:.0} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// What one conformance line runs: a model and a golden set, at a thread count, with the backends
/// known to lack an op of the model.
pub struct Case {
    source: Source,
    variant: &'static str,
    threads: usize,
    /// `(backend, op)`: the backend cannot run the model because of `op`.
    known: &'static [(&'static str, &'static str)],
}

enum Source {
    Demo,
    TestData,
    Checkpoint,
    Zoo,
}

impl Case {
    /// A committed demo model (`models/ssrnet_<variant>.onnx`) against the committed npz goldens.
    pub fn demo(variant: &'static str) -> Case {
        Case { source: Source::Demo, variant, threads: 1, known: &[] }
    }

    /// A committed demo model against the same goldens in the ONNX test-data layout.
    pub fn test_data(variant: &'static str) -> Case {
        Case { source: Source::TestData, ..Case::demo(variant) }
    }

    /// The real checkpoint's export of `variant` against PyTorch's goldens of it.
    pub fn checkpoint(variant: &'static str) -> Case {
        Case { source: Source::Checkpoint, ..Case::demo(variant) }
    }

    /// A model of `scripts/zoo.py` (`<model>_<exporter>`, e.g. `resnet18_legacy`) against PyTorch's
    /// goldens of it, at the tolerance its manifest records.
    pub fn zoo(variant: &'static str) -> Case {
        Case { source: Source::Zoo, ..Case::demo(variant) }
    }

    pub fn threads(self, threads: usize) -> Case {
        Case { threads, ..self }
    }

    /// Backends that cannot run the model, each with the op (or op variant) it lacks: on them the
    /// case asserts that preparing the model fails naming it.
    pub fn known(self, known: &'static [(&'static str, &'static str)]) -> Case {
        Case { known, ..self }
    }
}

/// Runs `case` on `rt`: the full check, or, for a backend listed as lacking an op, the assertion
/// that it refuses the model naming that op (so a known failure that starts to pass is noticed).
pub fn run(rt: &dyn Runtime, case: Case) {
    let (model, golden) = match case.source {
        Source::Demo => (demo_model(case.variant), repo().join("fixtures/golden")),
        Source::TestData => (demo_model(case.variant), repo().join("fixtures/golden_pb")),
        Source::Checkpoint => {
            let out = checkpoint_export();
            (variant_file(&out.join("models"), case.variant), out.join("fixtures/golden"))
        }
        Source::Zoo => {
            let out = zoo_export();
            (out.join(format!("{}.onnx", case.variant)), out.join(case.variant))
        }
    };
    if let Some((_, op)) = case.known.iter().find(|(backend, _)| *backend == rt.name()) {
        let Err(err) = rt.prepare(&model, &Options::default()) else {
            panic!("{}: listed as failing on {op} for {}, but it loads", rt.name(), model.display())
        };
        assert!(err.to_string().contains(op), "{}: the error does not name {op}: {err}", rt.name());
        return;
    }
    check(rt, &model, &golden, case.threads);
}

/// A committed demo model, `models/ssrnet_<variant>.onnx`.
fn demo_model(variant: &str) -> PathBuf {
    variant_file(&repo().join("models"), variant)
}

/// The conformance suite: one line per case, `name => Case`, each stamped out once per backend as
/// `name::ort`, `name::tract`, `name::candle`, `name::rten`, so that no backend can skip a case and adding one
/// is one edit.
macro_rules! conformance {
    ($($name:ident => $case:expr;)*) => {
        $(
            mod $name {
                use super::suite::{Case, run};

                fn case() -> Case {
                    $case
                }

                #[test]
                fn ort() {
                    run(&backend_ort::Ort, case())
                }

                #[test]
                fn tract() {
                    run(&backend_tract::Tract, case())
                }

                #[test]
                fn candle() {
                    run(&backend_candle::Candle, case())
                }

                #[test]
                fn rten() {
                    run(&backend_rten::Rten, case())
                }
            }
        )*
    };
}
pub(crate) use conformance;

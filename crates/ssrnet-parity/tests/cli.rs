//! The `ssrnet-parity` binary end to end: exit codes (0 pass, 1 parity mismatch, 2 error), the
//! documented JSON keys, the text and Markdown reports, and one clean error line for every kind of
//! bad input. Expected values come from the committed PyTorch goldens (`fixtures/golden`), from the
//! ONNX files as the `onnx` Python package reads them, or from the fixtures themselves; never from
//! the CLI under test.
//!
//! Tests that build deliberately broken models need `$SSRNET_PARITY_PYTHON` (fallback
//! `.venv/bin/python`) with `onnx`; without it they fail, naming it (`tools/test` provisions it).

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod html;
mod real_exports;

const DEMO: &str = "models/ssrnet_legacy_dynamic.onnx";

use parity_testkit::repo;

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    args: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ssrnet-parity {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the binary in the repository root with colour off.
fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    run_with_backtrace(args, None)
}

/// [`run`] with `RUST_BACKTRACE` set to `backtrace` (removed when `None`).
fn run_with_backtrace<S: AsRef<std::ffi::OsStr>>(args: &[S], backtrace: Option<&str>) -> Run {
    run_with_env(args, &[("RUST_BACKTRACE", backtrace)])
}

/// [`run`] with each variable of `env` set to its value (removed when `None`).
fn run_with_env<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, Option<&str>)]) -> Run {
    let mut command = command(args);
    command.env_remove("RUST_BACKTRACE");
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    Run::of(args, command.output().expect("the binary runs"))
}

/// [`run`], killed and failed when it has not finished within `secs` seconds (a hang).
fn run_within<S: AsRef<std::ffi::OsStr>>(args: &[S], secs: u64) -> Run {
    let mut child = command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {secs} s (a hang)");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Run::of(args, child.wait_with_output().unwrap())
}

/// The binary with `args`, in the repository root, colour off.
fn command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ssrnet-parity"));
    command.args(args).current_dir(repo()).env("NO_COLOR", "1");
    // `--shard auto` must not pick up a batch engine the tests themselves run under.
    for engine in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "SSRNET_PARITY_SHARD_COUNT"] {
        command.env_remove(engine);
    }
    command
}

impl Run {
    /// What the run of `args` that gave `out` did.
    fn of<S: AsRef<std::ffi::OsStr>>(args: &[S], out: std::process::Output) -> Run {
        Run {
            code: out.status.code().expect("exited, not killed by a signal"),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
            args: args
                .iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Runs and parses stdout as exactly one JSON document (serde_json rejects trailing content).
fn run_json<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Run, Value) {
    let r = run(args);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {r:?}"));
    (r, v)
}

/// Exit 2, exactly one lowercase `error: ` line on stderr that contains every one of `names`,
/// no panic text, and nothing on stdout.
#[track_caller]
fn assert_error(r: &Run, names: &[&str]) {
    assert_error_after_report(r, names);
    assert!(r.stdout.is_empty(), "nothing expected on stdout: {r:?}");
}

/// [`assert_error`] for a run that printed its report before ending in the error (a backend that
/// could not run: the report says which).
#[track_caller]
fn assert_error_after_report(r: &Run, names: &[&str]) {
    assert_eq!(r.code, 2, "expected exit 2: {r:?}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected exactly one stderr line: {r:?}");
    let line = lines[0];
    assert!(line.starts_with("error: "), "stderr line must start with 'error: ': {r:?}");
    let first = line["error: ".len()..].chars().next().unwrap_or(' ');
    assert!(!first.is_uppercase(), "error message must start lowercase: {r:?}");
    for n in names {
        assert!(line.contains(n), "stderr line does not name '{n}': {r:?}");
    }
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!r.stderr.contains(bad), "panic text on stderr: {r:?}");
    }
}

#[track_caller]
fn assert_code(r: &Run, code: i32) {
    assert_eq!(r.code, code, "expected exit {code}: {r:?}");
    assert!(!r.stderr.contains("panicked"), "panic text on stderr: {r:?}");
}

/// Names of the committed golden cases (npz file stems), sorted.
fn golden_case_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("fixtures/golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "npz"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() > 10, "the committed goldens are missing");
    names
}

/// `age` of one committed golden case: PyTorch's output.
fn golden_ages(case: &str) -> Vec<f32> {
    let npz =
        parity_core::golden::read_npz(repo().join("fixtures/golden").join(format!("{case}.npz")))
            .unwrap();
    npz["age"].as_f32().expect("age is float32").to_vec()
}

/// Samples over all committed golden cases (sum of batch sizes).
fn golden_samples() -> usize {
    golden_case_names().iter().map(|c| golden_ages(c).len()).sum()
}

/// The interval rule of the issue, in f64: `[int(max(age-2, 0)), int(min(age+3, 100))]`.
fn interval_rule(age: f64) -> [i64; 2] {
    [(age - 2.0).max(0.0).trunc() as i64, (age + 3.0).min(100.0).trunc() as i64]
}

fn backend_names(v: &Value) -> Vec<&str> {
    v["backends"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect()
}

fn failed_cases(side: &Value) -> Vec<&str> {
    side["failed_cases"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect()
}

/// Checks a passing check/compare/diff JSON report: documented keys, verdicts, zero mismatches.
#[track_caller]
fn assert_pass_report(v: &Value, backends: &[&str], total: usize, max_abs: f64) {
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert_eq!(backend_names(v), backends, "{v:#}");
    for b in v["backends"].as_array().unwrap() {
        assert_eq!(b["verdict"], "pass", "{b:#}");
        let outputs = b["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), 1, "one output, age: {b:#}");
        let o = &outputs[0];
        assert_eq!(o["name"], "age");
        assert_eq!(o["mismatches"], 0);
        assert_eq!(o["total"].as_u64().unwrap() as usize, total, "{o:#}");
        let abs = o["max_abs"].as_f64().expect("max_abs is a number");
        assert!((0.0..=max_abs).contains(&abs), "max_abs {abs} > {max_abs}: {o:#}");
        assert!(o["max_rel"].as_f64().is_some(), "max_rel is a number: {o:#}");
        assert!(failed_cases(b).is_empty());
        // Every element's error is counted once, in a bin no higher than the largest error.
        let h = &o["abs_error_histogram"];
        let bins = h["bins"].as_array().unwrap();
        let counted: u64 = bins.iter().map(|b| b[2].as_u64().unwrap()).sum::<u64>()
            + h["zero"].as_u64().unwrap()
            + h["nonfinite"].as_u64().unwrap();
        assert_eq!(counted as usize, total, "{h:#}");
        assert!(bins.iter().all(|b| b[0].as_f64().unwrap() <= abs), "{h:#}");
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("ssrnet-parity-cli-").tempdir().unwrap()
}

/// Files directly in `dir` (to prove nothing was written).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Python (onnx) for deliberately broken models and independent model facts.

/// The reference interpreter with onnx and numpy (panics naming what is missing).
fn python() -> PathBuf {
    parity_testkit::python(&["onnx", "numpy"])
}

fn python_run(py: &Path, script: &str, args: &[&Path]) -> String {
    let out =
        Command::new(py).arg("-c").arg(script).args(args).current_dir(repo()).output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Copies `src` to `dst` with `age := age_before + VALUE` appended (VALUE a float, or nan).
const PERTURB: &str = r#"
import sys, numpy as np, onnx
from onnx import helper, numpy_helper
src, dst, value = sys.argv[1], sys.argv[2], float(sys.argv[3])
m = onnx.load(src)
g = m.graph
out = g.output[0].name
for n in g.node:
    for i, o in enumerate(n.output):
        if o == out:
            n.output[i] = out + "_before_perturbation"
g.initializer.append(numpy_helper.from_array(np.array(value, dtype=np.float32), "perturbation"))
g.node.append(helper.make_node("Add", [out + "_before_perturbation", "perturbation"], [out]))
onnx.checker.check_model(m)
onnx.save(m, dst)
"#;

fn perturbed(py: &Path, dir: &Path, name: &str, value: &str) -> PathBuf {
    let dst = dir.join(name);
    let out = Command::new(py)
        .arg("-c")
        .arg(PERTURB)
        .arg(repo().join(DEMO))
        .arg(&dst)
        .arg(value)
        .output()
        .unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    dst
}

// ---------------------------------------------------------------------------------------------
// check

#[test]
fn check_without_arguments_passes_on_all_four_backends() {
    let r = run(&["check"]);
    assert_code(&r, 0);
    assert!(r.stderr.is_empty(), "no progress or warnings when stderr is not a terminal: {r:?}");
    let cases = golden_case_names().len();
    assert!(r.stdout.contains(&format!("({cases} cases)")), "{r:?}");
    for b in ["ort", "tract", "candle", "rten"] {
        let row = r
            .stdout
            .lines()
            .find(|l| l.contains(&format!(" {b} ")))
            .unwrap_or_else(|| panic!("no {b} row: {r:?}"));
        assert!(
            row.contains("age")
                && row.contains("PASS")
                && row.contains(&format!("0/{}", golden_samples())),
            "{row}"
        );
    }
    assert!(r.stdout.lines().last().unwrap().starts_with("PASS: 4 backend(s)"), "{r:?}");
    assert!(!r.stdout.contains('\x1b'), "no colour when stdout is not a terminal");
}

#[test]
fn check_json_is_one_document_with_the_documented_keys() {
    let (r, v) = run_json(&["check", "--format", "json"]);
    assert_code(&r, 0);
    assert_pass_report(&v, &["ort", "tract", "candle", "rten"], golden_samples(), 1e-4);
    assert_eq!(v["command"], "check");
    assert_eq!(v["profile"], "ssrnet", "the demo model's metadata names SSRNet");
    assert_eq!(v["cases"].as_u64().unwrap() as usize, golden_case_names().len());
    for b in v["backends"].as_array().unwrap() {
        let o = &b["outputs"][0];
        // The manifest's tolerance for age (atol 1e-4, rtol 0), as committed in fixtures/golden.
        assert_eq!(o["tolerance"]["atol"], 1e-4);
        assert_eq!(o["tolerance"]["rtol"], 0.0);
        assert!(
            golden_case_names().contains(&o["worst_case"].as_str().unwrap().to_string()),
            "{o:#}"
        );
    }
}

#[test]
fn check_markdown_is_a_pull_request_comment() {
    let r = run(&["check", "--format", "markdown", "--backend", "ort"]);
    assert_code(&r, 0);
    assert!(r.stdout.starts_with("### ssrnet-parity check: PASS\n"), "{r:?}");
    assert!(
        r.stdout.lines().any(|l| l.starts_with("| backend") && l.contains("| verdict")),
        "a Markdown table header: {r:?}"
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("|--") || l.starts_with("|-")),
        "a Markdown separator row: {r:?}"
    );
    assert!(r.stdout.trim_end().ends_with("within tolerance"), "{r:?}");
    assert!(r.stdout.contains("**PASS**"), "{r:?}");
}

#[test]
fn check_backend_subset_and_output_tolerance() {
    let (r, v) = run_json(&[
        "check",
        "--backend",
        "ort,tract,ort",
        "--output-tol",
        "age:1e-3",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_pass_report(&v, &["ort", "tract"], golden_samples(), 1e-3);
    for b in v["backends"].as_array().unwrap() {
        assert_eq!(b["outputs"][0]["tolerance"]["atol"], 1e-3, "{b:#}");
    }
    // --atol 0 with a 1e-3 override for age: the override wins.
    let (r, v) = run_json(&[
        "check",
        "--backend",
        "tract",
        "--atol",
        "0",
        "--output-tol",
        "age:1e-3:0.5",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["backends"][0]["outputs"][0]["tolerance"]["rtol"], 0.5);
}

#[test]
fn check_onnx_test_data_layout_with_model() {
    let pb_cases = std::fs::read_dir(repo().join("fixtures/golden_pb"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("test_data_set_"))
        .count();
    let (r, v) =
        run_json(&["check", "--golden", "fixtures/golden_pb", "--model", DEMO, "--format", "json"]);
    assert_code(&r, 0);
    assert_eq!(v["cases"].as_u64().unwrap() as usize, pb_cases);
    assert_pass_report(&v, &["ort", "tract", "candle", "rten"], golden_samples(), 1e-4);
    // The test-data layout names no model: without --model it is an error that says so.
    assert_error(
        &run(&["check", "--golden", "fixtures/golden_pb"]),
        &["fixtures/golden_pb", "--model"],
    );
}

#[test]
fn check_static_model_splits_batched_cases() {
    let (r, v) =
        run_json(&["check", "--model", "models/ssrnet_legacy_static.onnx", "--format", "json"]);
    assert_code(&r, 0);
    // Every sample, including the 8 of batch8_images, was compared.
    assert_pass_report(&v, &["ort", "tract", "candle", "rten"], golden_samples(), 1e-4);
    assert!(golden_case_names().contains(&"batch8_images".to_string()));
}

// ---------------------------------------------------------------------------------------------
// Perturbed and NaN models (Python)

#[test]
fn perturbed_model_fails_check_and_diff_naming_the_cases() {
    let py = python();
    let dir = tempdir();
    let shifted = perturbed(&py, dir.path(), "shifted.onnx", "0.01");
    let all = golden_case_names();

    let m = shifted.to_str().unwrap();
    let (r, v) = run_json(&["check", "--model", m, "--format", "json"]);
    assert_code(&r, 1);
    assert_eq!(v["verdict"], "fail");
    assert_eq!(backend_names(&v), ["ort", "tract", "candle", "rten"]);
    for b in v["backends"].as_array().unwrap() {
        assert_eq!(b["verdict"], "fail");
        // Every age moved by 0.01 > atol 1e-4: every case fails, each named.
        assert_eq!(failed_cases(b), all.iter().map(String::as_str).collect::<Vec<_>>(), "{b:#}");
        let o = &b["outputs"][0];
        assert_eq!(o["mismatches"].as_u64().unwrap() as usize, golden_samples());
        let max_abs = o["max_abs"].as_f64().unwrap();
        assert!((0.0099..0.0102).contains(&max_abs), "max_abs {max_abs} should be ~0.01");
    }

    let r = run(&["check", "--model", m, "--backend", "tract"]);
    assert_code(&r, 1);
    assert!(r.stdout.contains("FAIL"), "{r:?}");
    assert!(
        r.stdout.contains(&format!("tract: {} failing case(s): astronaut_face,", all.len())),
        "{r:?}"
    );
    assert!(r.stdout.contains("  astronaut_face / age: 1 mismatches"), "{r:?}");
    // A tolerance above the shift passes the same model: the failure was the shift.
    assert_code(&run(&["check", "--model", m, "--backend", "tract", "--atol", "0.02"]), 0);

    let (r, v) = run_json(&["diff", DEMO, m, "--golden", "fixtures/golden", "--format", "json"]);
    assert_code(&r, 1);
    assert_eq!(v["verdict"], "fail");
    assert_eq!(failed_cases(&v["backends"][0]), all.iter().map(String::as_str).collect::<Vec<_>>());
    let r = run(&["diff", DEMO, m, "--random", "3"]);
    assert_code(&r, 1);
    assert!(r.stdout.contains("3 failing case(s): random_s0, random_s1, random_s2"), "{r:?}");
}

#[test]
fn record_refuses_non_finite_expected_outputs_unless_allowed() {
    let py = python();
    let dir = tempdir();
    let m = perturbed(&py, dir.path(), "nan.onnx", "nan");
    let m = m.to_str().unwrap();
    let out = dir.path().join("golden");
    let o = out.to_str().unwrap();
    // A golden set of NaN would fail against every later run: refused, naming case and output.
    let r = run(&["record", "--model", m, "--random", "2", "--out", o]);
    assert_error(&r, &["random_s0", "'age'", "NaN", "--allow-nonfinite"]);
    assert!(!out.exists(), "nothing written");
    let inf = perturbed(&py, dir.path(), "inf.onnx", "inf");
    let r = run(&["record", "--model", inf.to_str().unwrap(), "--random", "1", "--out", o]);
    assert_error(&r, &["random_s0", "'age'", "inf"]);
    // Allowed, it is recorded, and checks only with --nan-equal.
    let r = run(&["record", "--model", m, "--random", "2", "--out", o, "--allow-nonfinite"]);
    assert_code(&r, 0);
    let check = ["check", "--model", m, "--golden", o, "--backend", "ort"];
    assert_code(&run(&check), 1);
    assert_code(&run(&[&check[..], &["--nan-equal"]].concat()), 0);
}

#[test]
fn nan_output_never_passes() {
    let py = python();
    let dir = tempdir();
    let nan = perturbed(&py, dir.path(), "nan.onnx", "nan");
    let os = |s: &str| std::ffi::OsString::from(s);
    let m = nan.as_os_str().to_owned();

    let (r, v) = run_json(&[
        os("check"),
        os("--model"),
        m.clone(),
        os("--atol"),
        os("1e30"),
        os("--rtol"),
        os("1e30"),
        os("--format"),
        os("json"),
    ]);
    assert_code(&r, 1);
    assert_eq!(v["verdict"], "fail");
    for b in v["backends"].as_array().unwrap() {
        assert_eq!(b["verdict"], "fail", "{b:#}");
        assert_eq!(b["outputs"][0]["mismatches"].as_u64().unwrap() as usize, golden_samples());
    }
    // NaN against NaN is a mismatch too unless asked otherwise.
    assert_code(&run(&[os("diff"), m.clone(), m.clone(), os("--atol"), os("1e30")]), 1);
    assert_code(&run(&[os("diff"), m.clone(), m.clone(), os("--nan-equal")]), 0);
    assert_code(&run(&[os("compare"), os("--model"), m.clone(), os("--random"), os("2")]), 1);
    // predict refuses to print a NaN age.
    assert_error(
        &run(&[os("predict"), os("fixtures/images/astronaut_face.png"), os("--model"), m.clone()]),
        &["astronaut_face.png", "NaN"],
    );
}

/// A `torch.nn.ZeroPad2d((1, 1, 1, 1))` as the legacy exporter writes it at opset 10: `Pad` with its
/// pads as an attribute. candle-onnx 0.11.1 reads `node.input[1]` unconditionally (eval.rs:1193)
/// and panics with an index out of bounds.
const ZERO_PAD: &str = r#"
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 6, 6])
node = helper.make_node("Pad", ["x"], ["y"], mode="constant", pads=[0, 0, 1, 1, 0, 0, 1, 1])
g = helper.make_graph([node], "zero_pad_2d", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 10)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
"#;

#[test]
fn a_panic_inside_a_backend_is_one_error_line_naming_the_model_once() {
    let py = python();
    let dir = tempdir();
    let model = dir.path().join("zero_pad.onnx");
    python_run(&py, ZERO_PAD, &[&model]);
    let m = model.display().to_string();
    for backtrace in [None, Some("1"), Some("full")] {
        let r = run_with_backtrace(
            &["compare", "--model", &m, "--random", "1", "--backend", "candle", "--format", "json"],
            backtrace,
        );
        assert_eq!(r.code, 2, "{r:?}");
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "stderr must be the one error line: {r:?}");
        let line = lines[0];
        assert!(line.starts_with("error: candle: "), "{r:?}");
        assert!(line.contains("candle-onnx panic at") && line.contains("eval.rs"), "{r:?}");
        assert_eq!(line.matches("zero_pad.onnx").count(), 1, "the model is named once: {r:?}");
        assert_eq!(line.matches("candle: ").count(), 1, "the backend is named once: {r:?}");
        for bad in ["panicked", "stack backtrace", "RUST_BACKTRACE", "thread '"] {
            assert!(!r.stderr.contains(bad), "panic text on stderr: {r:?}");
        }
        // The report still says which backend failed, as clean JSON on stdout.
        let v: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
        assert_eq!(v["verdict"], "error");
        assert_eq!(v["backends"][0]["verdict"], "error");
    }
}

#[test]
fn onnxruntime_failures_are_one_line_without_its_own_log() {
    let py = python();
    let dir = tempdir();
    let model = dir.path().join("unknown_op.onnx");
    // A well-formed model whose op onnxruntime does not know: it fails to load the session.
    python_run(
        &py,
        r#"
import sys, onnx
from onnx import helper, TensorProto as T
x = helper.make_tensor_value_info("x", T.FLOAT, [1, 3])
y = helper.make_tensor_value_info("y", T.FLOAT, [1, 3])
g = helper.make_graph([helper.make_node("Frobnicate", ["x"], ["y"])], "g", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, sys.argv[1])
"#,
        &[&model],
    );
    let m = model.to_str().unwrap();
    let r = run(&["compare", "--model", m, "--random", "1", "--reference", "ort"]);
    assert_error(&r, &["ort", "unknown_op.onnx", "Frobnicate"]);
    assert!(!r.stderr.contains('\x1b'), "no terminal escapes: {r:?}");
    // --verbose lets onnxruntime's own lines through.
    let r = run(&["compare", "--model", m, "--random", "1", "--verbose"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.lines().any(|l| l.starts_with("onnxruntime: ")), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// Bad input

/// Every command that reads a model, with `model` in the model's place.
fn model_commands(model: &str) -> Vec<Vec<String>> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["check", "--model", model]),
        v(&["compare", "--model", model]),
        v(&["diff", model, DEMO]),
        v(&["diff", DEMO, model]),
        v(&["predict", "fixtures/images/astronaut_face.png", "--model", model]),
        v(&[
            "record",
            "--model",
            model,
            "--inputs",
            "fixtures/images",
            "--out",
            "target/never-written-golden",
        ]),
        v(&["inspect", model]),
        v(&[
            "bench",
            "--model",
            model,
            "--seconds",
            "0.01",
            "--backend",
            "tract",
            "--batch",
            "1",
            "--threads",
            "1",
        ]),
    ]
}

#[test]
fn missing_files_and_directories() {
    let dir = tempdir();
    let missing = dir.path().join("missing.onnx");
    let missing = missing.to_str().unwrap();
    for args in model_commands(missing) {
        assert_error(&run(&args), &[missing]);
    }
    let nodir = dir.path().join("no-such-dir");
    let nodir = nodir.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let npy = dir.path().join("x.npy");
    let npy = npy.to_str().unwrap();
    assert_error(&run(&["check", "--golden", nodir]), &[nodir]);
    assert_error(&run(&["check", "--golden", nodir, "--model", DEMO]), &[nodir]);
    assert_error(&run(&["compare", "--model", DEMO, "--golden", nodir]), &[nodir]);
    assert_error(&run(&["compare", "--model", DEMO, "--inputs", nodir]), &[nodir]);
    assert_error(&run(&["diff", DEMO, DEMO, "--inputs", nodir]), &[nodir]);
    assert_error(&run(&["record", "--model", DEMO, "--inputs", nodir, "--out", out]), &[nodir]);
    assert_error(
        &run(&["predict", "fixtures/images/missing.png"]),
        &["fixtures/images/missing.png"],
    );
    assert_error(
        &run(&["preprocess", "fixtures/images/missing.png", "--out", npy]),
        &["fixtures/images/missing.png"],
    );
    assert_eq!(listing(dir.path()), Vec::<String>::new(), "nothing written");
}

#[test]
fn a_directory_where_a_file_is_expected_and_the_reverse() {
    let dir = tempdir();
    for args in model_commands("models") {
        assert_error(&run(&args), &["models"]);
    }
    let npy = dir.path().join("x.npy");
    let out = dir.path().join("out");
    // predict takes a directory as a corpus; one without images is the error.
    assert_error(&run(&["predict", "models"]), &["models", "no images"]);
    assert_error(
        &run(&["preprocess", "fixtures/images", "--out", npy.to_str().unwrap()]),
        &["fixtures/images"],
    );
    // A file where a directory is expected.
    assert_error(&run(&["check", "--golden", DEMO]), &[DEMO]);
    assert_error(&run(&["compare", "--model", DEMO, "--inputs", DEMO]), &[DEMO]);
    assert_error(
        &run(&["record", "--model", DEMO, "--inputs", DEMO, "--out", out.to_str().unwrap()]),
        &[DEMO],
    );
    assert_eq!(listing(dir.path()), Vec::<String>::new(), "nothing written");
}

#[test]
fn empty_truncated_and_corrupt_models() {
    let dir = tempdir();
    let bytes = std::fs::read(repo().join(DEMO)).unwrap();
    let empty = dir.path().join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.path().join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let corrupt = dir.path().join("corrupt.onnx");
    std::fs::write(&corrupt, b"this is not an onnx model, just text\n").unwrap();
    for m in [&empty, &truncated, &corrupt] {
        let m = m.to_str().unwrap();
        for args in model_commands(m) {
            assert_error(&run(&args), &[m]);
        }
    }
    assert!(!repo().join("target/never-written-golden").exists(), "record wrote nothing");
}

/// Writes an npz holding `arrays` (raw, so it may hold what the golden writer refuses, e.g. NaN).
fn write_raw_npz(path: &Path, arrays: &[(&str, parity_core::Tensor)]) {
    use std::io::Write;
    let mut zip = npyz::zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, t) in arrays {
        zip.start_file(format!("{name}.npy"), npyz::zip::write::FileOptions::default()).unwrap();
        zip.write_all(&parity_core::npy::encode(t).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

fn image_input(shape: [usize; 4]) -> parity_core::Tensor {
    let n: usize = shape.iter().product();
    parity_core::Tensor::from_f32(
        shape.to_vec(),
        (0..n).map(|i| (i % 97) as f32 / 97.0 - 0.5).collect(),
    )
    .unwrap()
}

#[test]
fn bad_golden_sets() {
    use parity_core::Tensor;
    let root = tempdir();
    let make = |name: &str, arrays: &[(&str, Tensor)]| -> (PathBuf, String) {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        write_raw_npz(&dir.join("case.npz"), arrays);
        let file = dir.join("case.npz").to_str().unwrap().to_string();
        (dir, file)
    };
    let age = || Tensor::from_f32(vec![1], vec![30.0]).unwrap();
    let bad = [
        make("missing_tensor", &[("input", image_input([1, 3, 64, 64]))]),
        make(
            "wrong_dtype",
            &[
                ("input", Tensor::from_f64(vec![1, 3, 64, 64], vec![0.0; 3 * 64 * 64]).unwrap()),
                ("age", age()),
            ],
        ),
        make("wrong_shape", &[("input", image_input([1, 3, 32, 32])), ("age", age())]),
    ];
    let truncated = root.path().join("truncated");
    std::fs::create_dir(&truncated).unwrap();
    let bytes = std::fs::read(repo().join("fixtures/golden/astronaut_face.npz")).unwrap();
    std::fs::write(truncated.join("astronaut_face.npz"), &bytes[..bytes.len() / 2]).unwrap();
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();

    for (dir, file) in &bad {
        let d = dir.to_str().unwrap();
        assert_error(&run(&["check", "--golden", d, "--model", DEMO]), &[file]);
        assert_error(&run(&["compare", "--model", DEMO, "--golden", d]), &[file]);
        assert_error(&run(&["diff", DEMO, DEMO, "--golden", d]), &[file]);
    }
    let r = run(&["check", "--golden", bad[0].0.to_str().unwrap(), "--model", DEMO]);
    assert!(r.stderr.contains("'age'"), "names the missing tensor: {r:?}");
    let t = truncated.join("astronaut_face.npz");
    assert_error(
        &run(&["check", "--golden", truncated.to_str().unwrap(), "--model", DEMO]),
        &[t.to_str().unwrap()],
    );
    let e = empty.to_str().unwrap();
    assert_error(&run(&["check", "--golden", e, "--model", DEMO]), &[e]);
    assert_error(&run(&["check", "--golden", e]), &[e]);
    assert_error(&run(&["compare", "--model", DEMO, "--golden", e]), &[e]);
}

#[test]
fn an_expected_nan_fails_unless_nan_equal_and_a_nan_input_is_run() {
    use parity_core::Tensor;
    let root = tempdir();
    // The demo model maps an all-NaN input to a NaN age on every backend (PyTorch does too).
    let nan_input = Tensor::from_f32(vec![1, 3, 64, 64], vec![f32::NAN; 3 * 64 * 64]).unwrap();
    let golden = root.path().join("nan");
    std::fs::create_dir(&golden).unwrap();
    let nan_age = Tensor::from_f32(vec![1], vec![f32::NAN]).unwrap();
    write_raw_npz(&golden.join("nan_case.npz"), &[("input", nan_input), ("age", nan_age)]);
    let g = golden.to_str().unwrap();

    let r = run(&["check", "--golden", g, "--model", DEMO]);
    assert_code(&r, 1);
    assert!(r.stdout.contains("expected NaN in failing case(s): nan_case"), "{r:?}");
    let (r, v) = run_json(&["check", "--golden", g, "--model", DEMO, "--format", "json"]);
    assert_code(&r, 1);
    for b in v["backends"].as_array().unwrap() {
        assert_eq!(b["failed_cases"], serde_json::json!(["nan_case"]), "{b:#}");
        assert_eq!(b["outputs"][0]["expected_nan"], 1, "{b:#}");
    }
    // NaN against NaN passes only when asked for (onnxruntime computes NaN as PyTorch does; tract
    // and candle pool the NaN away and compute an age).
    let nan_equal = ["check", "--golden", g, "--model", DEMO, "--nan-equal", "--backend", "ort"];
    assert_code(&run(&nan_equal), 0);

    // An expected NaN against a number fails even with --nan-equal.
    let number = root.path().join("number");
    std::fs::create_dir(&number).unwrap();
    let age = Tensor::from_f32(vec![1], vec![f32::NAN]).unwrap();
    write_raw_npz(
        &number.join("real_input.npz"),
        &[("input", image_input([1, 3, 64, 64])), ("age", age)],
    );
    let n = number.to_str().unwrap();
    let r = run(&["check", "--golden", n, "--model", DEMO, "--nan-equal", "--atol", "1e30"]);
    assert_code(&r, 1);
    assert!(r.stdout.contains("expected NaN in failing case(s): real_input"), "{r:?}");
}

/// A model with several inputs of other types and several outputs: x float32 [N, 3], idx int64
/// [N] and flag bool [N] -> scaled = x * 2 [N, 3] and picked = flag ? float(idx) : -1 [N].
const MIXED_IO: &str = r#"
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
ins = [helper.make_tensor_value_info("x", T.FLOAT, ["N", 3]),
       helper.make_tensor_value_info("idx", T.INT64, ["N"]),
       helper.make_tensor_value_info("flag", T.BOOL, ["N"])]
outs = [helper.make_tensor_value_info("scaled", T.FLOAT, ["N", 3]),
        helper.make_tensor_value_info("picked", T.FLOAT, ["N"])]
inits = [numpy_helper.from_array(np.array(2.0, np.float32), "two"),
         numpy_helper.from_array(np.array(-1.0, np.float32), "minus_one")]
nodes = [helper.make_node("Mul", ["x", "two"], ["scaled"]),
         helper.make_node("Cast", ["idx"], ["idx_f"], to=T.FLOAT),
         helper.make_node("Where", ["flag", "idx_f", "minus_one"], ["picked"])]
m = helper.make_model(helper.make_graph(nodes, "mixed", ins, outs, inits),
                      opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
"#;

#[test]
fn several_inputs_of_every_type_through_record_check_compare_and_diff() {
    let py = python();
    let dir = tempdir();
    let model = dir.path().join("mixed.onnx");
    python_run(&py, MIXED_IO, &[&model]);
    let m = model.to_str().unwrap();
    let random = dir.path().join("random");
    let r = run(&[
        "record",
        "--model",
        m,
        "--random",
        "3",
        "--seed",
        "7",
        "--out",
        random.to_str().unwrap(),
    ]);
    assert_code(&r, 0);
    let (r, v) = run_json(&["check", "--golden", random.to_str().unwrap(), "--format", "json"]);
    assert_code(&r, 0);
    assert_eq!(backend_names(&v), ["ort", "tract", "candle", "rten"]);
    for b in v["backends"].as_array().unwrap() {
        let outputs: Vec<&str> =
            b["outputs"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
        assert_eq!(outputs, ["picked", "scaled"], "{b:#}");
        assert!(b["outputs"].as_array().unwrap().iter().all(|o| o["mismatches"] == 0), "{b:#}");
    }
    // The recorded values are the model's arithmetic on the recorded inputs, by hand.
    let case = parity_core::golden::read_npz(random.join("random_s7.npz")).unwrap();
    let parity_core::TensorData::I64(idx) = case["idx"].data() else { panic!("idx is int64") };
    let parity_core::TensorData::Bool(flag) = case["flag"].data() else { panic!("flag is bool") };
    let (idx, flag) = (idx[0], flag[0]);
    let picked = case["picked"].as_f32().unwrap()[0];
    assert_eq!(picked, if flag { idx as f32 } else { -1.0 }, "{case:?}");
    assert!(idx == 0 || idx == 1, "random integers come from {{0, 1}}: {idx}");
    let x = case["x"].as_f32().unwrap();
    assert_eq!(case["scaled"].as_f32().unwrap(), x.iter().map(|v| v * 2.0).collect::<Vec<_>>());

    // Re-recorded from that golden set's inputs, and from one of its files.
    let again = dir.path().join("again");
    let g = random.to_str().unwrap();
    assert_code(
        &run(&["record", "--model", m, "--golden", g, "--out", again.to_str().unwrap()]),
        0,
    );
    assert_code(&run(&["check", "--golden", again.to_str().unwrap()]), 0);
    let files = dir.path().join("files");
    let npz = random.join("random_s8.npz");
    let args = ["record", "--model", m, "--tensors", npz.to_str().unwrap(), "--out"];
    assert_code(&run(&[&args[..], &[files.to_str().unwrap(), "--backend", "tract"]].concat()), 0);
    assert_code(&run(&["check", "--golden", files.to_str().unwrap()]), 0);
    // An .npy feeds only a one-input model.
    let npy = dir.path().join("x.npy");
    parity_core::npy::write(&npy, &case["x"]).unwrap();
    let r = run(&["record", "--model", m, "--tensors", npy.to_str().unwrap(), "--out", "unused"]);
    assert_error(&r, &["x.npy", "one input"]);

    assert_code(&run(&["compare", "--model", m, "--random", "4"]), 0);
    // A plain model: no SSRNet finding, and images need a profile.
    let (r, v) =
        run_json(&["diff", m, m, "--random", "2", "--backend", "candle", "--format", "json"]);
    assert_code(&r, 0);
    assert_eq!(v["profile"], "plain", "{v:#}");
    assert!(v.get("extra").is_none(), "no age intervals for a plain model: {v:#}");
    let r = run(&["compare", "--model", m, "--inputs", "fixtures/images"]);
    assert_error(&r, &["mixed.onnx", "images need a preprocessing profile", "--profile ssrnet"]);
}

#[test]
fn a_run_that_compares_nothing_is_an_error_not_a_pass() {
    use parity_core::Tensor;
    let root = tempdir();
    let golden = root.path().join("batch0");
    std::fs::create_dir(&golden).unwrap();
    let input = Tensor::from_f32(vec![0, 3, 64, 64], vec![]).unwrap();
    let age = Tensor::from_f32(vec![0], vec![]).unwrap();
    write_raw_npz(&golden.join("empty.npz"), &[("input", input), ("age", age)]);
    let g = golden.to_str().unwrap();
    for backend in ["ort", "tract"] {
        let r = run(&["check", "--golden", g, "--model", DEMO, "--backend", backend]);
        assert_eq!(r.code, 2, "{r:?}");
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{r:?}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains("nothing was compared"),
            "{r:?}"
        );
        assert!(!r.stdout.contains("PASS"), "{r:?}");
    }
}

#[test]
fn a_golden_set_recorded_with_another_model_is_named() {
    let dir = tempdir();
    let golden = dir.path().join("golden");
    std::fs::create_dir(&golden).unwrap();
    for entry in std::fs::read_dir(repo().join("fixtures/golden")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, golden.join(path.file_name().unwrap())).unwrap();
    }
    // The manifest names the demo model by absolute path, with another model's digest.
    let manifest = golden.join("manifest.json");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let model = repo().join(DEMO);
    m["model"]["file"] = Value::from(model.to_str().unwrap());
    m["model"]["sha256"] = Value::from("0".repeat(64));
    std::fs::write(&manifest, serde_json::to_string(&m).unwrap()).unwrap();
    let g = golden.to_str().unwrap();
    // The manifest's model is another one's: an error naming both.
    assert_error(
        &run(&["check", "--golden", g, "--backend", "ort"]),
        &["ssrnet_legacy_dynamic.onnx", "recorded with", g],
    );
    // A model given explicitly is checked, with a warning.
    let r = run(&["check", "--golden", g, "--backend", "ort", "--model", DEMO]);
    assert_code(&r, 0);
    assert!(r.stderr.starts_with("warning: ") && r.stderr.contains("is not the model"), "{r:?}");
}

#[test]
fn special_files_are_refused_not_read() {
    let dir = tempdir();
    let fifo = dir.path().join("fifo.onnx");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let image_fifo = dir.path().join("fifo.png");
    assert!(Command::new("mkfifo").arg(&image_fifo).status().unwrap().success());
    let (f, i) = (fifo.to_str().unwrap(), image_fifo.to_str().unwrap());
    // A FIFO would hang the reader, /dev/zero would grow without end: each is one error line.
    for model in [f, "/dev/zero"] {
        assert_error(&run(&["inspect", model]), &[model, "not a regular file"]);
        assert_error(&run(&["compare", "--model", model, "--random", "1"]), &[model]);
        let r = run(&["predict", "fixtures/images/astronaut_face.png", "--model", model]);
        assert_error(&r, &[model, "not a regular file"]);
    }
    for image in [i, "/dev/zero"] {
        assert_error(&run(&["predict", image]), &[image, "not a regular file"]);
        let out = dir.path().join("x.npy");
        assert_error(&run(&["preprocess", image, "--out", out.to_str().unwrap()]), &[image]);
        assert!(!out.exists());
    }
}

/// A one-Add model whose initializer is stored in `ext.bin` beside it, and `ext.bin` then replaced
/// by a FIFO.
const EXTERNAL_FIFO: &str = r#"
import os, sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 256])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 256])
w = numpy_helper.from_array(np.ones((1, 256), np.float32), "w")
g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "ext", [x], [y], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
onnx.save_model(m, sys.argv[1], save_as_external_data=True, location="ext.bin", size_threshold=0)
data = os.path.join(os.path.dirname(sys.argv[1]), "ext.bin")
os.remove(data)
os.mkfifo(data)
"#;

#[test]
fn external_data_that_is_a_fifo_is_refused_before_any_runtime_opens_it() {
    let py = python();
    let dir = tempdir();
    let model = dir.path().join("ext.onnx");
    python_run(&py, EXTERNAL_FIFO, &[&model]);
    let m = model.to_str().unwrap();
    // tract and onnxruntime opened external data themselves, and a FIFO hung them.
    for backend in ["ort", "tract", "candle", "rten"] {
        let out = dir.path().join(format!("golden-{backend}"));
        let args = ["record", "--model", m, "--random", "1", "--backend", backend, "--out"];
        let r = run_within(&[&args[..], &[out.to_str().unwrap()]].concat(), 25);
        assert_error(&r, &["ext.bin", "not a regular file"]);
        assert!(!out.exists(), "nothing written: {r:?}");
    }
}

#[test]
fn outputs_never_replace_special_files_inputs_or_each_other() {
    let dir = tempdir();
    let image = dir.path().join("face.png");
    std::fs::copy(repo().join("fixtures/images/astronaut_face.png"), &image).unwrap();
    let before = std::fs::read(&image).unwrap();
    let fifo = dir.path().join("fifo.npy");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (img, f) = (image.to_str().unwrap(), fifo.to_str().unwrap());
    let same = dir.path().join("same.npy");
    let s = same.to_str().unwrap();
    for (args, names) in [
        (vec!["preprocess", img, "--out", f], vec![f, "not a regular file"]),
        (vec!["preprocess", img, "--out", img], vec![img, "also an input"]),
        (vec!["preprocess", img, "--out", s, "--resized-out", s], vec![s, "same file"]),
    ] {
        assert_error(&run(&args), &names);
    }
    assert_eq!(std::fs::read(&image).unwrap(), before, "the input is untouched");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still a FIFO");
    assert!(!same.exists());
    // record's --out may not be the golden set (or the tensors' directory) it reads from.
    let golden = dir.path().join("golden");
    assert_code(
        &run(&["record", "--model", DEMO, "--random", "2", "--out", golden.to_str().unwrap()]),
        0,
    );
    let listing_before = listing(&golden);
    let g = golden.to_str().unwrap();
    let r = run(&["record", "--model", DEMO, "--golden", g, "--out", g]);
    assert_error(&r, &[g, "inputs are read from"]);
    let npz = golden.join("random_s0.npz");
    let r = run(&["record", "--model", DEMO, "--tensors", npz.to_str().unwrap(), "--out", g]);
    assert_error(&r, &[g, "inputs are read from"]);
    assert_eq!(listing(&golden), listing_before, "the inputs are untouched");
    // A new output gets the umask's mode (0644 under umask 022), not a temporary file's 0600.
    let out = dir.path().join("x.npy");
    assert_code(&run(&["preprocess", img, "--out", out.to_str().unwrap()]), 0);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_ne!(mode & 0o044, 0, "readable by others as the umask allows: {mode:o}");
}

#[test]
fn control_bytes_from_files_are_escaped() {
    let py = python();
    let dir = tempdir();
    let model = dir.path().join("escape.onnx");
    // Metadata and an output name carrying ESC and CR, as a hostile file would.
    python_run(
        &py,
        r#"
import sys, onnx
from onnx import helper, TensorProto as T
x = helper.make_tensor_value_info("x", T.FLOAT, [1])
y = helper.make_tensor_value_info("y\x1b[31m\r", T.FLOAT, [1])
g = helper.make_graph([helper.make_node("Relu", ["x"], ["y\x1b[31m\r"])], "g", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="evil\x1b[2J")
m.ir_version = 8
helper.set_model_props(m, {"note": "\x1b]0;title\x07"})
onnx.save(m, sys.argv[1])
"#,
        &[&model],
    );
    let m = model.to_str().unwrap();
    let r = run(&["inspect", m, "--backend", "ort"]);
    assert_code(&r, 0);
    assert!(!r.stdout.contains('\x1b') && !r.stdout.contains('\r'), "{r:?}");
    assert!(r.stdout.contains("evil\\x1b[2J"), "{r:?}");
    // A golden set naming an output that does not exist: the error line names it, escaped.
    let r = run(&["check", "--golden", "fixtures/golden", "--model", m]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!r.stderr.contains('\x1b') && !r.stderr.contains('\r'), "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
}

#[test]
fn unreadable_images() {
    let dir = tempdir();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    std::fs::copy(repo().join("fixtures/images/astronaut_face.png"), images.join("a_good.png"))
        .unwrap();
    let bad = images.join("b_bad.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nnot really a png").unwrap();
    let bad = bad.to_str().unwrap();
    let images = images.to_str().unwrap();
    let out = dir.path().join("golden");
    let npy = dir.path().join("x.npy");
    // predict goes on past an unreadable image: the good one's row, the bad one named, the count,
    // and exit 2 unless --skip-unreadable.
    let r = run(&["predict", "fixtures/images/astronaut_face.png", bad, "--format", "jsonl"]);
    assert_code(&r, 2);
    let rows: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2, "{r:?}");
    assert!(rows.iter().any(|v| v["age"].is_number()) && rows.iter().any(|v| v["image"] == bad));
    let stderr: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(stderr.len(), 2, "{r:?}");
    assert!(stderr[0].starts_with("unreadable: ") && stderr[0].contains(bad), "{r:?}");
    assert_eq!(stderr[1], "error: 1 of 2 images could not be read (each named above)");
    let r = run(&["predict", images, "--skip-unreadable"]);
    assert_code(&r, 0);
    assert!(r.stderr.contains("skipped 1 of 2 unreadable images"), "{r:?}");
    assert!(r.stdout.contains("a_good.png") && !r.stdout.contains("b_bad"), "{r:?}");
    assert_error(
        &run(&[
            "preprocess",
            "fixtures/images/astronaut_face.png",
            bad,
            "--out",
            npy.to_str().unwrap(),
        ]),
        &[bad],
    );
    // compare too: the report of what was read, the bad image named, then the count (exit 2).
    let r = run(&["compare", "--model", DEMO, "--inputs", images, "--backend", "tract"]);
    assert_code(&r, 2);
    assert!(r.stdout.contains("1 cases"), "{r:?}");
    let stderr: Vec<&str> = r.stderr.lines().collect();
    assert!(stderr[0].starts_with("unreadable: ") && stderr[0].contains(bad), "{r:?}");
    assert_eq!(stderr.last(), Some(&"error: 1 of 2 images could not be read (each named above)"));
    let r = run(&["compare", "--model", DEMO, "--inputs", images, "--skip-unreadable"]);
    assert_code(&r, 0);
    assert!(r.stderr.contains("skipped 1 of 2 unreadable images"), "{r:?}");
    // Backends one wave after another read the cases again: the image is still named once,
    // counted once, and the good one still compared (with any batch).
    for batch in ["1", "2"] {
        let args =
            ["--jobs", "1", "--backend", "tract,rten", "--skip-unreadable", "--batch", batch];
        let r = run(&[&["compare", "--model", DEMO, "--inputs", images][..], &args].concat());
        assert_code(&r, 0);
        assert!(r.stdout.contains("2 backend(s) x 1 cases"), "{r:?}");
        assert_eq!(r.stderr.matches("unreadable: ").count(), 1, "{r:?}");
        assert!(r.stderr.contains("skipped 1 of 2 unreadable images"), "{r:?}");
    }
    // diff likewise.
    let r = run(&["diff", DEMO, DEMO, "--inputs", images]);
    assert_code(&r, 2);
    assert!(r.stdout.contains("1 cases"), "{r:?}");
    let stderr: Vec<&str> = r.stderr.lines().collect();
    assert!(stderr[0].starts_with("unreadable: ") && stderr[0].contains(bad), "{r:?}");
    assert_eq!(stderr.last(), Some(&"error: 1 of 2 images could not be read (each named above)"));
    let r = run(&["diff", DEMO, DEMO, "--inputs", images, "--skip-unreadable"]);
    assert_code(&r, 0);
    assert!(r.stderr.contains("skipped 1 of 2 unreadable images"), "{r:?}");
    // record names the unreadable image, goes on, and writes nothing unless --skip-unreadable.
    let o = out.to_str().unwrap();
    let r = run(&["record", "--model", DEMO, "--inputs", images, "--out", o]);
    assert_code(&r, 2);
    assert!(
        r.stderr.lines().next().is_some_and(|l| l.starts_with("unreadable: ") && l.contains(bad)),
        "{r:?}"
    );
    assert!(
        r.stderr.trim_end().ends_with("nothing written (--skip-unreadable records the rest)"),
        "{r:?}"
    );
    assert_eq!(listing(dir.path()), ["images"], "record and preprocess wrote nothing");
    let r = run(&["record", "--model", DEMO, "--inputs", images, "--out", o, "--skip-unreadable"]);
    assert_code(&r, 0);
    assert!(r.stderr.contains("skipped 1 of 2 unreadable images"), "{r:?}");
    assert_eq!(listing(&out), ["a_good.npz", "manifest.json"]);
    // A directory without images.
    let none = dir.path().join("none");
    std::fs::create_dir(&none).unwrap();
    assert_error(
        &run(&["compare", "--model", DEMO, "--inputs", none.to_str().unwrap()]),
        &[none.to_str().unwrap()],
    );
}

#[test]
fn unknown_backend_and_bad_values() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for args in [
        vec!["check", "--backend", "ort,nosuch"],
        vec!["compare", "--model", DEMO, "--backend", "nosuch"],
        vec!["compare", "--model", DEMO, "--reference", "nosuch"],
        vec!["diff", DEMO, DEMO, "--backend", "nosuch"],
        vec!["predict", "fixtures/images/astronaut_face.png", "--backend", "nosuch"],
        vec![
            "record",
            "--model",
            DEMO,
            "--inputs",
            "fixtures/images",
            "--out",
            out,
            "--backend",
            "nosuch",
        ],
        vec!["inspect", DEMO, "--backend", "nosuch"],
        vec!["bench", "--backend", "nosuch"],
    ] {
        let r = run(&args);
        assert_error(&r, &["nosuch"]);
        assert!(
            r.stderr.contains("ort") && r.stderr.contains("candle"),
            "lists the valid backends: {r:?}"
        );
    }
    for (args, names) in [
        (vec!["check", "--atol", "nan"], vec!["atol", "NaN"]),
        (vec!["check", "--atol=-1"], vec!["-1"]),
        (vec!["check", "--output-tol", "age"], vec!["age"]),
        (vec!["check", "--format", "yaml"], vec!["yaml"]),
        (vec!["check", "--no-such-flag"], vec!["--no-such-flag"]),
        (vec!["compare", "--model", DEMO, "--random", "0"], vec!["--random"]),
        (vec!["compare", "--model", DEMO, "--backend", "ort"], vec!["ort"]),
        (vec!["bench", "--seconds=-1"], vec!["--seconds"]),
        (vec!["bench", "--seconds", "nan"], vec!["--seconds"]),
        (vec!["bench", "--batch", "0"], vec!["--batch"]),
        (vec!["bench", "--threads", "0"], vec!["--threads"]),
        // Absurd sizes are refused before anything is allocated or spawned (README: Limits).
        (vec!["check", "--threads", "100000"], vec!["--threads", "at most"]),
        (vec!["bench", "--threads", "100000"], vec!["--threads", "at most"]),
        (vec!["compare", "--model", DEMO, "--random", "1000000000"], vec!["--random", "100000"]),
        (vec!["bench", "--batch", "1000000000", "--backend", "ort"], vec!["'input'", "elements"]),
        (
            vec![
                "preprocess",
                "fixtures/images/astronaut_face.png",
                "--out",
                out,
                "--size",
                "100000x100000",
            ],
            vec!["--size", "16384"],
        ),
        (vec!["check", "--output-tol", "agee:1e-3"], vec!["agee", "no output"]),
        (vec!["record", "--model", DEMO, "--inputs", "fixtures/images"], vec!["--out"]),
        (vec!["predict"], vec!["IMAGES"]),
        (vec!["nosuchcommand"], vec!["nosuchcommand"]),
    ] {
        assert_error(&run(&args), &names);
    }
    assert_eq!(listing(dir.path()), Vec::<String>::new());
    let help = run(&["check", "--help"]);
    assert_code(&help, 0);
    assert!(help.stdout.contains("--output-tol"), "{help:?}");
    assert_code(&run(&["--version"]), 0);
}

#[test]
fn record_refuses_to_replace_a_directory_that_is_not_a_golden_set() {
    let dir = tempdir();
    let precious = dir.path().join("notes.txt");
    std::fs::write(&precious, "keep me").unwrap();
    let d = dir.path().to_str().unwrap();
    assert_error(
        &run(&["record", "--model", DEMO, "--inputs", "fixtures/images", "--out", d]),
        &[d],
    );
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    assert_eq!(listing(dir.path()), ["notes.txt"]);
}

// ---------------------------------------------------------------------------------------------
// predict, record, compare, diff

#[test]
fn predict_matches_the_pytorch_goldens_and_the_interval_rule() {
    let mut images: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures/images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    images.sort();
    let mut args = vec!["predict".into(), "--format".into(), "json".into()];
    args.extend(images.iter().map(|p| p.clone().into_os_string()));
    let (r, v) = run_json::<std::ffi::OsString>(&args);
    assert_code(&r, 0);
    assert!(
        r.stderr.starts_with("warning: ")
            && r.stderr.contains("demo weights")
            && r.stderr.lines().count() == 1,
        "one demo-weights warning on stderr: {r:?}"
    );
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), images.len());
    for (row, path) in rows.iter().zip(&images) {
        assert_eq!(row["image"].as_str().unwrap(), path.to_str().unwrap());
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let want = golden_ages(stem)[0] as f64;
        let age = row["age"].as_f64().unwrap();
        assert!((age - want).abs() <= 1e-4, "{stem}: predicted {age}, PyTorch {want}");
        let interval: Vec<i64> =
            row["interval"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        // The interval of PyTorch's age (unless the age sits within 1e-4 of an integer boundary).
        let near_boundary = (want.fract() - 0.0).abs() < 1e-4 || (want.fract() - 1.0).abs() < 1e-4;
        if !near_boundary {
            assert_eq!(interval, interval_rule(want), "{stem}: age {want}");
        }
        assert_eq!(interval, interval_rule(age), "{stem}: the rule on the printed age {age}");
    }

    // astronaut_face: PyTorch says 46.967064 (fixtures/golden/astronaut_face.npz) -> [44, 49].
    let want = golden_ages("astronaut_face")[0] as f64;
    let [lo, hi] = interval_rule(want);
    let r = run(&["predict", "fixtures/images/astronaut_face.png", "--backend", "tract"]);
    assert_code(&r, 0);
    let row =
        r.stdout.lines().find(|l| l.contains("astronaut_face.png")).expect("a row for the image");
    assert!(row.contains(&format!("{want:.3}")) && row.contains(&format!("{lo}-{hi}")), "{r:?}");
    assert!(r.stderr.contains("demo weights"), "{r:?}");
}

#[test]
fn predict_static_model_and_candle() {
    let (r, v) = run_json(&[
        "predict",
        "fixtures/images/chelsea.png",
        "--model",
        "models/ssrnet_dynamo_static.onnx",
        "--backend",
        "candle",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    let age = v[0]["age"].as_f64().unwrap();
    let want = golden_ages("chelsea")[0] as f64;
    assert!((age - want).abs() <= 1e-4, "candle {age} vs PyTorch {want}");
}

#[test]
fn record_then_check_against_the_recording() {
    let dir = tempdir();
    let golden = dir.path().join("golden");
    let g = golden.to_str().unwrap();
    let r = run(&["record", "--model", DEMO, "--inputs", "fixtures/images", "--out", g]);
    assert_code(&r, 0);
    let images = std::fs::read_dir(repo().join("fixtures/images")).unwrap().count();
    assert!(r.stderr.contains(&format!("wrote {images} cases")), "{r:?}");
    let mut files = listing(&golden);
    assert!(files.contains(&"manifest.json".to_string()));
    files.retain(|f| f != "manifest.json");
    assert_eq!(files.len(), images);
    // The recording holds onnxruntime's ages, within the manifest tolerance of PyTorch's.
    let recorded = parity_core::golden::read_npz(golden.join("astronaut_face.npz")).unwrap();
    let got = recorded["age"].as_f32().unwrap()[0];
    let want = golden_ages("astronaut_face")[0];
    assert!((got - want).abs() <= 1e-4, "recorded {got}, PyTorch {want}");

    // The manifest names the model relative to the golden directory: check finds it.
    let (r, v) = run_json(&["check", "--golden", g, "--format", "json"]);
    assert_code(&r, 0);
    assert_eq!(v["cases"].as_u64().unwrap() as usize, images);
    assert_pass_report(&v, &["ort", "tract", "candle", "rten"], images, 1e-4);
    // ort against its own recording is exact.
    assert_eq!(v["backends"][0]["outputs"][0]["max_abs"], 0.0);
    // Recording again over an existing golden set replaces it.
    assert_code(
        &run(&[
            "record",
            "--model",
            DEMO,
            "--inputs",
            "fixtures/images",
            "--out",
            g,
            "--backend",
            "tract",
        ]),
        0,
    );
}

#[test]
fn compare_random_and_images() {
    let (r, v) = run_json(&[
        "compare",
        "--model",
        "models/ssrnet_dynamo_dynamic.onnx",
        "--random",
        "4",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["cases"], 4);
    assert_eq!(v["command"], "compare");
    assert_pass_report(&v, &["tract", "candle", "rten"], 4, 1e-4);
    assert!(v["reference"].as_str().unwrap().contains("ort"));

    let images = std::fs::read_dir(repo().join("fixtures/images")).unwrap().count();
    let (r, v) = run_json(&[
        "compare",
        "--model",
        DEMO,
        "--inputs",
        "fixtures/images",
        "--backend",
        "tract",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["cases"].as_u64().unwrap() as usize, images);
    assert_pass_report(&v, &["tract"], images, 1e-4);

    let r = run(&[
        "compare",
        "--model",
        DEMO,
        "--random",
        "2",
        "--reference",
        "tract",
        "--backend",
        "candle",
    ]);
    assert_code(&r, 0);
    assert!(r.stdout.contains("backend tract on 2 random inputs, seed 0"), "{r:?}");
}

#[test]
fn diff_of_a_model_against_itself_and_its_simplified_variant() {
    let (r, v) = run_json(&["diff", DEMO, DEMO, "--format", "json"]);
    assert_code(&r, 0);
    assert_eq!(v["command"], "diff");
    assert_eq!(
        v["backends"][0]["outputs"][0]["max_abs"], 0.0,
        "the same model on the same backend is exact"
    );
    assert_eq!(v["extra"]["age_interval_changes"], serde_json::json!([]));
    let (r, v) = run_json(&[
        "diff",
        DEMO,
        "models/ssrnet_legacy_dynamic_sim.onnx",
        "--golden",
        "fixtures/golden",
        "--backend",
        "tract",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["cases"].as_u64().unwrap() as usize, golden_case_names().len());
    assert_eq!(v["backends"][0]["verdict"], "pass");
    assert_code(
        &run(&[
            "diff",
            "models/ssrnet_dynamo_static.onnx",
            "models/ssrnet_dynamo_static_sim.onnx",
            "--inputs",
            "fixtures/images",
        ]),
        0,
    );
}

// ---------------------------------------------------------------------------------------------
// inspect, bench

#[test]
fn inspect_text_and_json() {
    let model = "models/ssrnet_dynamo_dynamic_external.onnx";
    let (r, v) = run_json(&["inspect", model, "--format", "json"]);
    assert_code(&r, 0);
    assert_eq!(v["model"], model);
    assert_eq!(
        v["file_bytes"].as_u64().unwrap(),
        std::fs::metadata(repo().join(model)).unwrap().len()
    );
    assert_eq!(v["inputs"][0]["name"], "input");
    assert_eq!(v["inputs"][0]["dtype"], "float32");
    assert!(v["inputs"][0]["shape"].as_str().unwrap().ends_with(", 3, 64, 64]"), "{v:#}");
    assert_eq!(v["outputs"][0]["name"], "age");
    assert_eq!(v["metadata"]["weights"], "demo");
    let ext = v["external_data"].as_object().unwrap();
    assert_eq!(ext.keys().collect::<Vec<_>>(), ["ssrnet_dynamo_dynamic_external.onnx.data"]);
    assert!(ext.values().next().unwrap().as_u64().unwrap() > 0);
    for b in v["backends"].as_array().unwrap() {
        assert_eq!(b["supported"], true, "{b:#}");
        assert_eq!(b["unsupported_ops"], serde_json::json!([]));
    }
    assert_eq!(v["backends"].as_array().unwrap().len(), 4);
    for key in ["ir_version", "opset", "producer", "nodes", "parameters", "op_histogram"] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }

    // Opset, op histogram and external-data initializers as the onnx package reads them.
    {
        let py = python();
        let facts: Value = serde_json::from_str(&python_run(
            &py,
            r#"
import sys, json, collections, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
ops = collections.Counter(n.op_type if n.domain in ("", "ai.onnx") else n.domain + "::" + n.op_type for n in m.graph.node)
ext = sum(1 for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL)
opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0]
print(json.dumps({"opset": opset, "ops": ops, "ext": ext, "nodes": len(m.graph.node)}))
"#,
            &[repo().join(model).as_path()],
        ))
        .unwrap();
        assert_eq!(v["opset"], facts["opset"]);
        assert_eq!(v["op_histogram"], facts["ops"]);
        assert_eq!(v["nodes"], facts["nodes"]);
        assert_eq!(ext.values().next().unwrap(), &facts["ext"]);
    }

    let r = run(&["inspect", "models/ssrnet_legacy_static.onnx", "--backend", "tract"]);
    assert_code(&r, 0);
    assert!(r.stdout.contains("opset 11"), "the legacy export is opset 11: {r:?}");
    assert!(r.stdout.contains("weights    inline"), "{r:?}");
    assert!(r.stdout.contains("[1, 3, 64, 64]"), "static batch 1: {r:?}");
    assert!(r.stdout.lines().any(|l| l.contains("tract") && l.contains("yes")), "{r:?}");
    assert!(r.stdout.lines().any(|l| l.contains(" Conv ")), "op histogram row: {r:?}");
    let r = run(&["inspect", model]);
    assert!(
        r.stdout.contains("external: ")
            && r.stdout.contains("ssrnet_dynamo_dynamic_external.onnx.data"),
        "{r:?}"
    );
}

#[test]
fn bench_smoke_json() {
    let (r, v) = run_json(&[
        "bench",
        "--seconds",
        "0.05",
        "--batch",
        "1,2",
        "--threads",
        "1",
        "--backend",
        "tract",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, batch) in rows.iter().zip([1, 2]) {
        assert_eq!(row["backend"], "tract");
        assert_eq!(row["batch"], batch);
        assert_eq!(row["threads"], 1);
        for key in ["median_ms", "p90_ms", "throughput_per_s", "gflops"] {
            let x = row[key].as_f64().unwrap_or_else(|| panic!("{key} is a number: {row:#}"));
            assert!(x.is_finite() && x > 0.0, "{key} = {x}");
        }
        assert!(row["p90_ms"].as_f64() >= row["median_ms"].as_f64());
        assert!(row["iterations"].as_u64().unwrap() >= 5);
        // Counted from the graph: SSRNet's hand count is 42.9 MFLOP per image.
        let flops = row["flops"].as_f64().unwrap();
        let per_image = flops / batch as f64 / 42.9e6;
        assert!((per_image - 1.0).abs() <= 0.02, "{flops} FLOPs at batch {batch}");
    }
}

#[test]
fn bench_counts_flops_of_any_model_from_its_graph() {
    let py = python();
    let dir = tempdir();
    let model = dir.path().join("matmul.onnx");
    // Y[1, 8, 16] = X[1, 8, 32] @ W[32, 16], then Relu: 2*8*16*32 + 8*16 FLOPs.
    python_run(
        &py,
        r#"
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8, 32])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8, 16])
w = numpy_helper.from_array(np.ones((32, 16), np.float32), "w")
nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Relu", ["m"], ["y"])]
m = helper.make_model(helper.make_graph(nodes, "mm", [x], [y], [w]), opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, sys.argv[1])
"#,
        &[&model],
    );
    let m = model.to_str().unwrap();
    let args = ["bench", "--model", m, "--seconds", "0.05", "--batch", "1,3", "--threads", "1"];
    let (r, v) = run_json(&[&args[..], &["--backend", "ort", "--format", "json"]].concat());
    assert_code(&r, 0);
    let flops: Vec<u64> =
        v.as_array().unwrap().iter().map(|r| r["flops"].as_u64().unwrap()).collect();
    assert_eq!(flops, [2 * 8 * 16 * 32 + 8 * 16, 3 * (2 * 8 * 16 * 32 + 8 * 16)]);
}

// ---------------------------------------------------------------------------------------------
// Interrupts

/// Starts `record` of `cases` random cases into `<dir>/out`, waits until its staging directory
/// appears beside `--out` (the output is being written), sends `signal`, and returns the run.
fn interrupt_record(dir: &Path, cases: &str, signal: libc::c_int) -> Run {
    let out = dir.join("out");
    let args = ["record", "--model", DEMO, "--random", cases, "--out", out.to_str().unwrap()];
    let child = command(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let staging = || {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".golden-tmp-"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !staging() {
        assert!(std::time::Instant::now() < deadline, "record never started writing");
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    // SAFETY: signalling our own child process by its pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    // Exited through the handler, not killed by the signal (Run::of expects an exit code).
    Run::of(&args, child.wait_with_output().unwrap())
}

#[test]
fn an_interrupted_record_leaves_nothing_behind() {
    // 2,000 cases of 48 KB: the golden set takes long enough to write that the signal lands while
    // the staging directory exists.
    for (signal, name, code) in [(libc::SIGINT, "SIGINT", 130), (libc::SIGTERM, "SIGTERM", 143)] {
        let dir = tempdir();
        let r = interrupt_record(dir.path(), "2000", signal);
        assert_code(&r, code);
        assert_eq!(
            r.stderr,
            format!("error: interrupted by {name}; removed 1 unfinished output\n"),
            "{r:?}"
        );
        assert!(listing(dir.path()).is_empty(), "no staging directory and no --out: {r:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// localize

/// `scripts/localize_cases.py ARGS...`, its stdout.
fn localize_case(py: &Path, args: &[&str]) -> String {
    let out = Command::new(py)
        .arg("scripts/localize_cases.py")
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "localize_cases.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The demo model with its 4th Conv's weights scaled by 1 + 1e-3, written into `dir`: its path,
/// and that Conv's node and output value names.
fn perturbed_conv(py: &Path, dir: &Path) -> (PathBuf, String, String) {
    let perturbed = dir.join("perturbed.onnx");
    let named = localize_case(
        py,
        &["perturb-conv", DEMO, perturbed.to_str().unwrap(), "--index", "3", "--scale", "1e-3"],
    );
    let (node, value) = named.trim().split_once('\t').unwrap();
    (perturbed, node.to_string(), value.to_string())
}

#[test]
fn localize_names_a_perturbed_conv_on_every_backend_and_its_repro_reproduces_it() {
    let py = python();
    let dir = tempdir();
    let (perturbed, node, value) = perturbed_conv(&py, dir.path());
    let (node, value) = (node.as_str(), value.as_str());
    let repro = dir.path().join("repro");
    let (r, v) = run_json(&[
        "localize",
        "--model",
        perturbed.to_str().unwrap(),
        "--against",
        DEMO,
        "--repro",
        repro.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_code(&r, 1);
    assert_eq!(v["verdict"], "culprit", "{r:?}");
    assert_eq!(v["culprit"]["node"], node, "{r:?}");
    assert_eq!(v["culprit"]["op"], "Conv");
    assert_eq!(v["culprit"]["value"], value);
    // The legacy exporter's scope names the module: `/stream1_stage1/stream1_stage1.4/Conv` is
    // the Conv of `stream1_stage1.4` (a level holding its whole path).
    assert_eq!(v["culprit"]["module"], node.rsplit('/').nth(1).unwrap(), "{r:?}");
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "every backend: {r:?}");
    for run in runs {
        assert_eq!(run["culprit"]["node"], node, "{run:#}");
        assert_eq!(run["aligned"]["values"], run["aligned"]["of"], "same names: all aligned");
        // Upstream of the Conv nothing differs at all.
        let first =
            run["nodes"].as_array().unwrap().iter().position(|n| n["node"] == node).unwrap();
        for n in &run["nodes"].as_array().unwrap()[..first] {
            assert_eq!(n["cumulative"]["max_abs"], 0.0, "{n:#}");
        }
    }
    // The repro: the Conv alone, with the original's values of its input and output.
    assert!(repro.join("model.onnx").is_file() && repro.join("test_data_set_0").is_dir());
    let m = repro.join("model.onnx");
    for backend in ["ort", "tract", "candle", "rten"] {
        let r = run(&[
            "check",
            "--model",
            m.to_str().unwrap(),
            "--golden",
            repro.to_str().unwrap(),
            "--backend",
            backend,
        ]);
        assert_code(&r, 1);
    }
    // The model against itself: no culprit, so no repro.
    let original = dir.path().join("original");
    let (r, v) = run_json(&[
        "localize",
        "--model",
        DEMO,
        "--against",
        DEMO,
        "--repro",
        original.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["verdict"], "none");
    assert!(!original.exists(), "no culprit, no repro");
}

#[test]
fn localize_blames_the_early_error_not_the_amplifier() {
    let py = python();
    let dir = tempdir();
    let early = localize_case(&py, &["amplify", dir.path().to_str().unwrap()]);
    let a = dir.path().join("amplify_perturbed.onnx");
    let b = dir.path().join("amplify_reference.onnx");
    let (r, v) = run_json(&[
        "localize",
        "--model",
        a.to_str().unwrap(),
        "--against",
        b.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_code(&r, 1);
    assert_eq!(v["culprit"]["node"], early.trim(), "{r:?}");
    for run in v["runs"].as_array().unwrap() {
        let amplify =
            run["nodes"].as_array().unwrap().iter().find(|n| n["node"] == "amplify").unwrap();
        // Run alone on the reference's input, the amplifier is exact; in the whole graph it is
        // where the error is largest.
        assert_eq!(amplify["isolated"]["max_abs"], 0.0, "{run:#}");
        assert!(amplify["cumulative"]["max_abs"].as_f64().unwrap() > 1.0, "{run:#}");
    }
}

#[test]
fn localize_legacy_against_dynamo_aligns_most_values_and_finds_no_culprit() {
    let (r, v) = run_json(&[
        "localize",
        "--model",
        "models/ssrnet_legacy_dynamic.onnx",
        "--against",
        "models/ssrnet_dynamo_dynamic.onnx",
        "--golden",
        "fixtures/golden",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["verdict"], "none", "{r:?}");
    assert!(v["culprit"].is_null());
    let (aligned, of) =
        (v["aligned"]["values"].as_u64().unwrap(), v["aligned"]["of"].as_u64().unwrap());
    assert!(aligned * 10 >= of * 9, "{aligned} of {of} aligned: {r:?}");
}

#[test]
fn localize_backends_against_ort_on_the_demo_model() {
    let r = run(&["localize", "--model", DEMO, "--golden", "fixtures/golden"]);
    assert_code(&r, 0);
    for b in ["tract vs ort", "candle vs ort", "rten vs ort"] {
        assert!(r.stdout.contains(&format!("{b}: NONE")), "{r:?}");
    }
    assert!(r.stdout.trim_end().ends_with("NONE: no divergence"), "{r:?}");
    let (r, v) = run_json(&["localize", "--model", DEMO, "--backend", "rten", "--format", "json"]);
    assert_code(&r, 0);
    let rten = &v["runs"][0];
    assert_eq!(rten["read_out"], "native", "rten reads values itself: {rten:#}");
    let nodes = rten["nodes"].as_array().unwrap();
    assert!(nodes.len() > 50, "every value of SSRNet: {}", nodes.len());
    for n in nodes {
        for k in ["node", "op", "value", "shape", "cumulative", "isolated"] {
            assert!(n.get(k).is_some(), "{k} missing: {n:#}");
        }
        // Every node runs alone, shape arithmetic included (its integer inputs become constants),
        // but for a node that computes from nothing computed (a Constant): never a culprit.
        if n["op"] == "Constant" {
            assert!(n["isolated"].is_null(), "{n:#}");
            assert!(n["isolated_note"].as_str().unwrap().contains("never a culprit"), "{n:#}");
        } else {
            assert!(!n["isolated"].is_null(), "{n:#}");
        }
    }
    let r = run(&["localize", "--model", DEMO, "--backend", "ort"]);
    assert_error(&r, &["nothing to compare"]);
}

#[test]
fn localize_markdown_and_bad_input() {
    let r = run(&[
        "localize",
        "--model",
        DEMO,
        "--backend",
        "tract",
        "--format",
        "markdown",
        "--top",
        "2",
    ]);
    assert_code(&r, 0);
    assert!(r.stdout.starts_with("### ssrnet-parity localize: NONE\n"), "{r:?}");
    assert!(r.stdout.contains("#### tract vs ort: NONE"), "{r:?}");
    assert!(r.stdout.lines().any(|l| l.starts_with("| node")), "a Markdown table: {r:?}");

    let dir = tempdir();
    let missing = dir.path().join("missing.onnx");
    let r = run(&["localize", "--model", missing.to_str().unwrap()]);
    assert_error(&r, &["missing.onnx"]);
    let r = run(&["localize", "--model", DEMO, "--repro", dir.path().to_str().unwrap()]);
    assert_error(&r, &["--repro", "refusing to overwrite"]);
    let r = run(&[
        "localize",
        "--model",
        DEMO,
        "--golden",
        "fixtures/golden",
        "--case",
        "no_such_case",
    ]);
    assert_error(&r, &["--case no_such_case"]);
    let r = run(&[
        "localize",
        "--model",
        DEMO,
        "--against",
        "models/ssrnet_legacy_static.onnx",
        "--atol=-1",
    ]);
    assert_error(&r, &["atol"]);
    // A static export takes the first sample of a batched golden case.
    let (r, v) = run_json(&[
        "localize",
        "--model",
        "models/ssrnet_legacy_static.onnx",
        "--golden",
        "fixtures/golden",
        "--backend",
        "rten",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["verdict"], "none", "{r:?}");
}

#[test]
fn localize_reports_an_accumulation_and_repros_the_smallest_failing_chain() {
    let py = python();
    let dir = tempdir();
    localize_case(&py, &["accumulate", dir.path().to_str().unwrap()]);
    let a = dir.path().join("accumulate_perturbed.onnx");
    let b = dir.path().join("accumulate_reference.onnx");
    let repro = dir.path().join("repro");
    let (r, v) = run_json(&[
        "localize",
        "--model",
        a.to_str().unwrap(),
        "--against",
        b.to_str().unwrap(),
        "--repro",
        repro.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_code(&r, 1);
    assert_eq!(v["verdict"], "accumulation", "{r:?}");
    assert!(v["culprit"].is_null());
    let crossing = v["crossing"]["node"].as_str().unwrap();
    assert_ne!(crossing, "mul_0", "the first node alone is within the tolerance: {r:?}");
    for run in v["runs"].as_array().unwrap() {
        for n in run["nodes"].as_array().unwrap() {
            assert_eq!(n["isolated"]["exceeds"], false, "{n:#}");
        }
    }
    // The repro is a chain of several nodes, and it fails.
    let (r, info) =
        run_json(&["inspect", repro.join("model.onnx").to_str().unwrap(), "--format", "json"]);
    assert_code(&r, 0);
    assert!(info["nodes"].as_u64().unwrap() >= 2, "{info:#}");
    let m = repro.join("model.onnx");
    let r = run(&[
        "check",
        "--model",
        m.to_str().unwrap(),
        "--golden",
        repro.to_str().unwrap(),
        "--backend",
        "ort",
    ]);
    assert_code(&r, 1);
}

/// `scripts/intermediates.py` on `models` into `out` (cases `cases`), extra arguments first.
fn record_intermediates(py: &Path, extra: &[&str], models: &[PathBuf], cases: &str, out: &Path) {
    let mut command = Command::new(py);
    command.arg("scripts/intermediates.py").args(extra).current_dir(repo());
    for m in models {
        command.arg("--model").arg(m);
    }
    let out = command.arg("--cases").arg(cases).arg("--out").arg(out).output().unwrap();
    assert!(
        out.status.success(),
        "intermediates.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `localize` of `model` against PyTorch's intermediates in `golden` on every backend: no
/// divergence, every compared value within 1e-4 on every backend, and what was left unmapped is
/// the Conv outputs the exporters fold a BatchNorm into (scripts/ssrnet.py: `_conv_bn`).
fn assert_localize_matches_pytorch(model: &Path, golden: &Path) -> f64 {
    let (r, v) = run_json(&[
        "localize",
        "--model",
        model.to_str().unwrap(),
        "--golden",
        golden.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["verdict"], "none", "{r:?}");
    assert_eq!(v["reference"], "pytorch");
    let info = &v["intermediates"];
    let compared = info["values"].as_u64().unwrap() as usize;
    assert!(compared > 50, "{model:?}: {info:#}");
    for (module, why) in info["unmapped"].as_object().unwrap() {
        let conv_before_bn =
            module.starts_with("stream") && (module.ends_with(".0") || module.ends_with(".4"));
        assert!(conv_before_bn, "{model:?}: {module} unmapped: {why}");
        assert!(why.as_str().unwrap().contains("fused"), "{why}");
    }
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "every backend: {r:?}");
    for run in runs {
        let nodes = run["nodes"].as_array().unwrap();
        let checked: Vec<&Value> = nodes.iter().filter(|n| !n["cumulative"].is_null()).collect();
        assert_eq!(checked.len(), compared, "{model:?} {}", run["name"]);
        for n in checked {
            let worst = n["cumulative"]["max_abs"].as_f64().unwrap();
            assert!(worst <= 1e-4, "{model:?} {}: {n:#}", run["name"]);
            assert!(!n["isolated"].is_null(), "a mapped value runs alone too: {n:#}");
        }
    }
    info["fraction"].as_f64().unwrap()
}

const DEMO_EXPORTS: [&str; 9] = [
    "ssrnet_legacy_static",
    "ssrnet_legacy_static_sim",
    "ssrnet_legacy_dynamic",
    "ssrnet_legacy_dynamic_sim",
    "ssrnet_dynamo_static",
    "ssrnet_dynamo_static_sim",
    "ssrnet_dynamo_dynamic",
    "ssrnet_dynamo_dynamic_sim",
    "ssrnet_dynamo_dynamic_external",
];

#[test]
fn localize_against_pytorch_intermediates_on_every_demo_export_and_backend() {
    let py = python();
    let dir = tempdir();
    let models: Vec<PathBuf> =
        DEMO_EXPORTS.iter().map(|m| repo().join(format!("models/{m}.onnx"))).collect();
    record_intermediates(&py, &[], &models, "astronaut_face,random_normal_s1", dir.path());
    for (stem, model) in DEMO_EXPORTS.iter().zip(&models) {
        let fraction = assert_localize_matches_pytorch(model, &dir.path().join(stem));
        eprintln!("{stem}: {:.1}% of module outputs mapped", 100.0 * fraction);
        assert!(fraction >= 0.9, "{stem}: {fraction}");
    }
    // A Conv perturbed by 1e-3 relative is the culprit against PyTorch too, on every backend.
    let (perturbed, node, value) = perturbed_conv(&py, dir.path());
    let (node, value) = (node.as_str(), value.as_str());
    let golden = dir.path().join("ssrnet_legacy_dynamic");
    let (r, v) = run_json(&[
        "localize",
        "--model",
        perturbed.to_str().unwrap(),
        "--golden",
        golden.to_str().unwrap(),
        "--case",
        "random_normal_s1",
        "--format",
        "json",
    ]);
    assert_code(&r, 1);
    for run in v["runs"].as_array().unwrap() {
        assert_eq!(run["culprit"]["node"], node, "{run:#}");
        assert_eq!(run["culprit"]["value"], value, "{run:#}");
    }
    // Intermediates recorded for another export are refused, naming both.
    let r = run(&[
        "localize",
        "--model",
        DEMO,
        "--golden",
        dir.path().join(DEMO_EXPORTS[6]).to_str().unwrap(),
    ]);
    assert_error(&r, &["ssrnet_dynamo_dynamic", "another export"]);
}

#[test]
fn checkpoint_localize_against_pytorch_intermediates() {
    let checkpoint = parity_testkit::shared("ssrnet/ssrnet_megaage_asian.pth");
    let py = python();
    let dir = tempdir();
    let out = Command::new(&py)
        .args(["scripts/pipeline.py", "export", "--checkpoint"])
        .arg(&checkpoint)
        .arg("--out")
        .arg(dir.path())
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed: {}", String::from_utf8_lossy(&out.stderr));
    let models: Vec<PathBuf> =
        DEMO_EXPORTS.iter().map(|m| dir.path().join(format!("models/{m}.onnx"))).collect();
    let inter = dir.path().join("intermediates");
    let args = ["--checkpoint", checkpoint.to_str().unwrap()];
    record_intermediates(&py, &args, &models, "astronaut_face,random_normal_s1", &inter);
    for (stem, model) in DEMO_EXPORTS.iter().zip(&models) {
        let fraction = assert_localize_matches_pytorch(model, &inter.join(stem));
        eprintln!("checkpoint {stem}: {:.1}% of module outputs mapped", 100.0 * fraction);
        assert!(fraction >= 0.9, "{stem}: {fraction}");
    }
}

// ---------------------------------------------------------------------------------------------
// shards and merge

/// `check ARGS --shard K/N --format json` for every K, each report written to `dir/shard-K.json`.
fn check_shards(dir: &Path, count: usize, args: &[&str]) -> Vec<PathBuf> {
    (0..count)
        .map(|k| {
            let shard = format!("{k}/{count}");
            let mut all = vec!["check", "--shard", shard.as_str(), "--format", "json"];
            all.extend(args);
            let r = run(&all);
            assert!(r.code == 0 || r.code == 1, "{r:?}");
            let path = dir.join(format!("shard-{k}.json"));
            std::fs::write(&path, &r.stdout).unwrap();
            path
        })
        .collect()
}

#[test]
fn four_shards_merged_give_the_report_of_one_run() {
    let dir = tempdir();
    // At atol 3e-5 some cases fail on every backend: counts, failures, worst case and min atol
    // all have something to fold.
    let args = ["--atol", "3e-5"];
    let shards = check_shards(dir.path(), 4, &args);
    let mut single = vec!["check", "--format", "json"];
    single.extend(args);
    let whole = run(&single);
    assert_code(&whole, 1);
    let mut merge = vec!["merge".to_string(), "--format".into(), "json".into()];
    merge.extend(shards.iter().map(|p| p.display().to_string()));
    let merged = run(&merge);
    assert_code(&merged, 1);
    assert_eq!(merged.stdout, whole.stdout, "byte for byte");
    // Every case is in exactly one shard.
    let mut seen: Vec<u64> = Vec::new();
    for path in &shards {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        seen.extend(
            v["shard"]["positions"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()),
        );
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..golden_case_names().len() as u64).collect::<Vec<_>>());
    // The text report too, and in the other order of files.
    let mut reversed = vec!["merge".to_string()];
    reversed.extend(shards.iter().rev().map(|p| p.display().to_string()));
    let text: Vec<&str> = vec!["check", "--atol", "3e-5"];
    assert_eq!(run(&reversed).stdout, run(&text).stdout);
}

#[test]
fn merge_refuses_shards_that_do_not_make_one_run() {
    let dir = tempdir();
    let shards = check_shards(dir.path(), 3, &[]);
    let p = |i: usize| shards[i].display().to_string();
    let r = run(&["merge", &p(0), &p(2)]);
    assert_error(&r, &["missing shard", "1/3"]);
    let r = run(&["merge", &p(0), &p(1), &p(1), &p(2)]);
    assert_error(&r, &["shard-1.json", "both shard 1/3"]);
    let other = tempdir();
    let tol = check_shards(other.path(), 3, &["--atol", "1e-3"]);
    let r = run(&["merge", &p(0), &p(1), tol[2].to_str().unwrap()]);
    assert_error(&r, &["shard-2.json", "tolerance"]);
    let model = check_shards(other.path(), 3, &["--model", "models/ssrnet_dynamo_dynamic.onnx"]);
    let r = run(&["merge", &p(0), model[1].to_str().unwrap(), &p(2)]);
    assert_error(&r, &["shard-1.json", "model"]);
    let four = check_shards(other.path(), 4, &[]);
    let r = run(&["merge", &p(0), &p(1), &p(2), four[3].to_str().unwrap()]);
    assert_error(&r, &["shard-3.json", "shard count"]);
    let single = dir.path().join("single.json");
    std::fs::write(&single, run(&["check", "--format", "json"]).stdout).unwrap();
    let r = run(&["merge", single.to_str().unwrap()]);
    assert_error(&r, &["single.json", "not a shard"]);
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, b"\x00not json").unwrap();
    let r = run(&["merge", garbage.to_str().unwrap()]);
    assert_error(&r, &["garbage.json"]);
    for bad in ["4/4", "1", "auto/0", "x/2"] {
        let r = run(&["check", "--shard", bad]);
        assert_code(&r, 2);
    }
    let r = run(&["check", "--shard", "auto"]);
    assert_error(&r, &["--shard auto", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]);
}

// ---------------------------------------------------------------------------------------------
// corpora

/// `predict ARGS --format jsonl`: (image, age) per line.
fn predict_lines(args: &[&str]) -> Vec<(String, f64)> {
    let mut all = vec!["predict", "--format", "jsonl"];
    all.extend(args);
    let r = run(&all);
    assert_code(&r, 0);
    r.stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["image"].as_str().unwrap().to_string(), v["age"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn predict_streams_a_corpus_given_as_a_directory_a_pattern_or_a_list() {
    let dir = tempdir();
    let root = dir.path().join("corpus");
    let stems = ["astronaut_face", "chelsea", "coffee", "camera", "lfw_face_000", "odd_37x53"];
    for (i, stem) in stems.iter().enumerate() {
        let sub = root.join(format!("part{}/deeper", i % 2));
        std::fs::create_dir_all(&sub).unwrap();
        let src = std::fs::read_dir(repo().join("fixtures/images"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_stem().unwrap() == *stem)
            .unwrap();
        std::fs::copy(&src, sub.join(src.file_name().unwrap())).unwrap();
    }
    let corpus = root.to_str().unwrap();
    // Batches of 4 over 6 images (the last batch short): ages are PyTorch's within 1e-4.
    let rows = predict_lines(&[corpus, "--batch", "4"]);
    assert_eq!(rows.len(), stems.len());
    for (image, age) in &rows {
        let stem = Path::new(image).file_stem().unwrap().to_str().unwrap();
        let want = golden_ages(stem)[0] as f64;
        assert!((age - want).abs() <= 1e-4, "{image}: {age} vs PyTorch {want}");
    }
    let mut sorted = rows.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(rows, sorted, "rows come in sorted path order");
    // The same files as a pattern and as a list (relative to the list's directory).
    let pattern = format!("{corpus}/**/*.*");
    assert_eq!(predict_lines(&[&pattern]), rows);
    let list = dir.path().join("list.txt");
    let listed: Vec<String> = rows
        .iter()
        .map(|(p, _)| p.strip_prefix(&format!("{}/", dir.path().display())).unwrap().to_string())
        .collect();
    std::fs::write(&list, format!("# the corpus\n{}\n", listed.join("\n"))).unwrap();
    let at = format!("@{}", list.display());
    assert_eq!(predict_lines(&[&at, "--batch", "1"]), rows);
    // Batches of one on three sessions at once (they finish out of order): the same rows, in
    // order; one session of two threads likewise.
    for sessions in [["--jobs", "3"], ["--threads", "2"]] {
        let again = predict_lines(&[corpus, "--batch", "1", sessions[0], sessions[1]]);
        let paths = |rows: &[(String, f64)]| rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&again), paths(&rows), "{sessions:?}");
        for ((image, age), (_, want)) in again.iter().zip(&rows) {
            assert!((age - want).abs() <= 1e-5, "{sessions:?} {image}: {age} vs {want}");
        }
    }
    // Three shards partition it.
    let mut union: Vec<(String, f64)> =
        (0..3).flat_map(|k| predict_lines(&[corpus, "--shard", &format!("{k}/3")])).collect();
    union.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(union, rows);
    // An absurd batch, an empty pattern, an empty list.
    assert_code(&run(&["predict", corpus, "--batch", "100000"]), 2);
    assert_error(&run(&["predict", &format!("{corpus}/*.gif")]), &["matches no file"]);
    std::fs::write(&list, "# nothing\n").unwrap();
    assert_error(&run(&["predict", &at]), &["list.txt", "lists no path"]);
}

#[test]
fn compare_shards_merge_to_the_single_run_and_jobs_do_not_change_the_report() {
    let dir = tempdir();
    let args = ["compare", "--model", DEMO, "--random", "10", "--atol", "2e-6", "--format", "json"];
    let single = run(&args);
    assert!(single.code == 0 || single.code == 1, "{single:?}");
    let mut files = Vec::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let mut with = args.to_vec();
        with.extend(["--shard", shard.as_str()]);
        let path = dir.path().join(format!("c{k}.json"));
        std::fs::write(&path, run(&with).stdout).unwrap();
        files.push(path.display().to_string());
    }
    let mut merge = vec!["merge".to_string(), "--format".into(), "json".into()];
    merge.extend(files);
    assert_eq!(run(&merge).stdout, single.stdout);
    let mut sequential = args.to_vec();
    sequential.extend(["--jobs", "1"]);
    assert_eq!(run(&sequential).stdout, single.stdout, "one backend at a time, the same report");
    let check = ["check", "--format", "json"];
    let check_sequential = ["check", "--format", "json", "--jobs", "1"];
    assert_eq!(run(&check_sequential).stdout, run(&check).stdout);
    // Cases failing all along (atol 0), on more workers than cores, taking chunks out of order
    // across backends: the same failures, in case order, as one worker gives.
    let strict = ["check", "--format", "json", "--atol", "0", "--batch", "3"];
    let sequential = run(&[&strict[..], &["--jobs", "1"]].concat());
    assert_code(&sequential, 1);
    assert!(sequential.stdout.contains("\"failures\""), "{sequential:?}");
    for jobs in ["2", "5"] {
        let spread = run(&[&strict[..], &["--jobs", jobs]].concat());
        assert_eq!(spread.stdout, sequential.stdout, "--jobs {jobs}");
    }
}

#[test]
fn batched_inference_gives_the_per_case_report() {
    // The demo goldens (38 cases, some of several rows), 8 cases to a call on every backend.
    let (r, one) = run_json(&["check", "--format", "json"]);
    assert_code(&r, 0);
    for batch in ["8", "auto"] {
        let (r, eight) = run_json(&["check", "--format", "json", "--batch", batch]);
        assert_code(&r, 0);
        assert_eq!(eight["cases"], one["cases"]);
        let (sides_one, sides_eight) =
            (one["backends"].as_array().unwrap(), eight["backends"].as_array().unwrap());
        assert_eq!(sides_one.len(), 4);
        for (a, b) in sides_one.iter().zip(sides_eight) {
            let (a, b) = (&a["outputs"][0], &b["outputs"][0]);
            for key in ["pass", "cases", "total", "mismatches"] {
                assert_eq!(a[key], b[key], "--batch {batch}: {key}: {a} one by one, {b} batched");
            }
            let gap = (a["max_abs"].as_f64().unwrap() - b["max_abs"].as_f64().unwrap()).abs();
            assert!(gap <= 1e-5, "--batch {batch}: max_abs {a} one by one, {b} batched");
        }
    }
    // With `auto`, a case that fails in a batched call is run again alone: at a tolerance most
    // cases fail, the failed cases and their reports are the batch-1 run's.
    let failures = |batch: &str| {
        let (r, v) = run_json(&["check", "--format", "json", "--atol", "1e-6", "--batch", batch]);
        assert_code(&r, 1);
        let sides = v["backends"].as_array().unwrap().iter();
        sides.map(|side| side["failures"].clone()).collect::<Vec<_>>()
    };
    let alone = failures("1");
    assert!(alone.iter().all(|f| !f.as_array().unwrap().is_empty()), "{alone:?}");
    assert_eq!(failures("auto"), alone);
    // Recorded 5 to a call, checked 1 to a call: every case got its own outputs back (random
    // inputs give every case different ages).
    let dir = tempdir();
    let out = dir.path().join("golden");
    let o = out.to_str().unwrap();
    assert_code(
        &run(&["record", "--model", DEMO, "--random", "12", "--out", o, "--batch", "5"]),
        0,
    );
    let (r, v) = run_json(&[
        "check",
        "--model",
        DEMO,
        "--golden",
        o,
        "--backend",
        "ort",
        "--atol",
        "1e-5",
        "--format",
        "json",
    ]);
    assert_code(&r, 0);
    assert_eq!(v["cases"], 12);
    // compare batches its reference too; a model whose batch axis is fixed to 1 runs case by case.
    for model in [DEMO, "models/ssrnet_legacy_static.onnx"] {
        let args =
            ["compare", "--model", model, "--random", "7", "--batch", "3", "--format", "json"];
        let (r, v) = run_json(&args);
        assert_code(&r, 0);
        assert_eq!((v["verdict"].as_str(), v["cases"].as_u64()), (Some("pass"), Some(7)), "{r:?}");
    }
}

#[test]
fn check_jsonl_is_one_record_per_case_and_backend_then_the_summary() {
    let r = run(&["check", "--format", "jsonl", "--backend", "ort,tract"]);
    assert_code(&r, 0);
    let lines: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let cases = golden_case_names().len();
    assert_eq!(lines.len(), 2 * cases + 1, "{r:?}");
    for backend in ["ort", "tract"] {
        let mine: Vec<&Value> = lines.iter().filter(|l| l["backend"] == backend).collect();
        assert_eq!(mine.len(), cases);
        assert!(mine.iter().all(|l| l["record"] == "case" && l["pass"] == true));
    }
    let summary = lines.last().unwrap();
    assert_eq!(summary["record"], "summary");
    assert_eq!(summary["verdict"], "pass");
    assert!(summary["backends"][0].get("case_reports").is_none());
}

//! Helpers: the reference Python interpreter and small tensor builders.

use std::path::{Path, PathBuf};
use std::process::Command;

use parity_core::{DType, Dim, IoInfo, ModelInfo};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

fn strict() -> bool {
    std::env::var("SSRNET_PARITY_STRICT").is_ok_and(|v| v == "1")
}

/// The venv's Python with numpy and onnx, or `None` (after printing why) when it is missing and
/// `SSRNET_PARITY_STRICT` is not 1; panics under strict mode.
pub fn python() -> Option<PathBuf> {
    let path = std::env::var_os("SSRNET_PARITY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    if path.exists() {
        return Some(path);
    }
    let msg = format!(
        "python with numpy/onnx not found at {} (set SSRNET_PARITY_PYTHON or run tools/venv)",
        path.display()
    );
    assert!(!strict(), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

/// Runs `script` with the reference Python in `cwd`; panics with its stderr on failure.
pub fn run_python(python: &Path, cwd: &Path, script: &str) -> String {
    let out =
        Command::new(python).arg("-c").arg(script).current_dir(cwd).output().expect("run python");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// SSRNet's declared IO: `input` f32 [batch, 3, 64, 64] -> `age` f32 [batch].
pub fn ssrnet_info(batch: Option<usize>) -> ModelInfo {
    let b = || batch.map_or_else(|| Dim::Symbolic("batch".into()), Dim::Fixed);
    ModelInfo {
        inputs: vec![IoInfo {
            name: "input".into(),
            dtype: DType::F32,
            shape: vec![b(), Dim::Fixed(3), Dim::Fixed(64), Dim::Fixed(64)],
        }],
        outputs: vec![IoInfo { name: "age".into(), dtype: DType::F32, shape: vec![b()] }],
    }
}

/// The message of an error, for assertions.
pub fn msg<T: std::fmt::Debug>(r: parity_core::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

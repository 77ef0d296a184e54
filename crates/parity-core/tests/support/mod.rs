//! Helpers: the reference Python interpreter and small tensor builders.

use std::path::{Path, PathBuf};
use std::process::Command;

use parity_core::{DType, Dim, IoInfo, ModelInfo};

pub use parity_testkit::repo;

/// The reference interpreter with numpy and onnx (panics naming what is missing).
pub fn python() -> PathBuf {
    parity_testkit::python(&["numpy", "onnx"])
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

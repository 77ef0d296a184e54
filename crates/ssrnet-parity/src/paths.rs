//! Where the committed demo model and goldens are when no path is given.

use std::path::{Path, PathBuf};

/// The demo model `check`, `bench` and `predict` use by default.
pub const DEMO_MODEL: &str = "models/ssrnet_legacy_dynamic.onnx";
/// The committed golden set `check` uses by default.
pub const DEMO_GOLDEN: &str = "fixtures/golden";

/// `rel` under the current directory when it exists there, else under the workspace this binary was
/// built from (so `cargo run -- check` works from any folder of the checkout), else `rel` unchanged
/// (and the error that follows names it).
pub fn repo_default(rel: &str) -> PathBuf {
    let here = Path::new(rel);
    if here.exists() {
        return here.to_path_buf();
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
    if built.exists() { built } else { here.to_path_buf() }
}

//! One node run alone on given values of its inputs (the *isolated* run): a node whose isolated
//! error exceeds the tolerance computes differently itself, whatever its inputs did.

use std::path::{Path, PathBuf};

use parity_core::onnx::proto::ModelProto;
use parity_core::{NamedTensors, Options};
use prost::Message;

use crate::BackendName;

/// Runs `cut` on `backend`, fed `feed`; the model is written to `scratch` first, named by `tag`.
/// An error is a message: a backend that cannot run a node alone leaves that node's isolated
/// error unknown, it does not end the run.
pub fn run(
    backend: BackendName,
    cut: &ModelProto,
    tag: &str,
    feed: &NamedTensors,
    options: &Options,
    scratch: &Path,
) -> Result<NamedTensors, String> {
    let path: PathBuf = scratch.join(format!("{tag}-{}.onnx", backend.as_str()));
    std::fs::write(&path, cut.encode_to_vec()).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut runnable = backend.runtime().prepare(&path, options).map_err(|e| e.to_string())?;
    runnable.run(feed).map_err(|e| e.to_string())
}

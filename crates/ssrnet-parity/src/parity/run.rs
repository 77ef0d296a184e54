//! Loading a model on a backend for the CLI: its errors as one line naming backend and model, and
//! the declared-opset warning kept for the end of the run.

use std::path::Path;

use anyhow::Result;
use parity_core::{Options, Runnable};

use parity_engine::BackendName;

/// Loads `model` on `backend`, naming both in the error. A model outside the opsets the backend
/// declares is still handed to its runtime, which decides: the declaration is a warning printed
/// at the end of a run that ends without an error, and a note beside the runtime's own error.
pub fn prepare(backend: BackendName, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
    let runtime = backend.runtime();
    let note = || {
        let proto = parity_core::onnx::read_model(model).ok()?;
        parity_core::onnx::opset_note(&proto, backend.as_str(), &runtime.opsets())
    };
    match runtime.prepare(model, options) {
        Ok(runnable) => {
            if let Some(note) = note() {
                crate::output::warn_at_end(format!("{}: {note}", model.display()));
            }
            Ok(runnable)
        }
        Err(e) => {
            let e = backend_error(backend, model, "cannot load", e);
            Err(match note() {
                Some(note) => anyhow::anyhow!("{e:#} ({note})"),
                None => e,
            })
        }
    }
}

/// `backend`'s error on `model` as one line that names each once:
/// `candle: m.onnx: case face_01: candle-onnx panicked at ...`. A backend's own message may already
/// start with its name and the model's path; neither is repeated.
pub fn backend_error(
    backend: BackendName,
    model: &Path,
    what: &str,
    e: parity_core::Error,
) -> anyhow::Error {
    let detail = match e {
        parity_core::Error::Backend { message, .. } => message,
        other => other.to_string(),
    };
    let model = model.display().to_string();
    let detail = detail.strip_prefix(&format!("{model}: ")).unwrap_or(&detail);
    anyhow::anyhow!("{}: {model}: {what}: {detail}", backend.as_str())
}

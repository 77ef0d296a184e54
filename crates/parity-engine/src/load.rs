//! Loading a model on a backend: a refusal as one line naming the backend and the model once, and
//! the backend's declared opsets as a warning, never a refusal (the runtime decides).

use std::path::Path;

use parity_core::{Options, Runnable};

use crate::sink::{Event, Sink};
use crate::{BackendName, Error, Result};

/// Loads `model` on `backend`. A model outside the opsets the backend declares is still handed
/// to its runtime: the declaration is an [`Event::Warning`] when it loads, and a note beside the
/// runtime's own error when it does not.
pub fn prepare(
    backend: BackendName,
    model: &Path,
    options: &Options,
    sink: &dyn Sink,
) -> Result<Box<dyn Runnable>> {
    let runtime = backend.runtime();
    let note = || {
        let opset = parity_core::onnx::read_opset(model).ok()?;
        parity_core::onnx::opset_note(opset, backend.as_str(), &runtime.opsets())
    };
    match runtime.prepare(model, options) {
        Ok(runnable) => {
            if let Some(note) = note() {
                sink.event(Event::Warning(&format!("{}: {note}", model.display())));
            }
            Ok(runnable)
        }
        Err(e) => {
            let e = backend_error(backend, model, "cannot load", e);
            Err(match note() {
                Some(note) => Error::Backend(format!("{e} ({note})")),
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
) -> Error {
    let detail = match e {
        parity_core::Error::Backend { message, .. } => message,
        other => other.to_string(),
    };
    let model = model.display().to_string();
    let detail = detail.strip_prefix(&format!("{model}: ")).unwrap_or(&detail);
    Error::Backend(format!("{}: {model}: {what}: {detail}", backend.as_str()))
}

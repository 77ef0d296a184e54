//! Loading a model on a backend for the commands that run one outside the engine's streams: the
//! engine's [`parity_engine::load`], its warnings kept for the end of the run.

use std::path::Path;

use anyhow::Result;
use parity_core::{Options, Runnable};
use parity_engine::BackendName;

/// Loads `model` on `backend` ([`parity_engine::load::prepare`]).
pub fn prepare(backend: BackendName, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
    Ok(parity_engine::load::prepare(backend, model, options, &crate::terminal::AtEnd)?)
}

/// `backend`'s error on `model` ([`parity_engine::load::backend_error`]).
pub fn backend_error(
    backend: BackendName,
    model: &Path,
    what: &str,
    e: parity_core::Error,
) -> anyhow::Error {
    parity_engine::load::backend_error(backend, model, what, e).into()
}

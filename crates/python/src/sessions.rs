//! The models `run` has loaded, kept for the next call: loading (tract's optimisation, candle's
//! graph, onnxruntime's session) costs far more than a run, and a Python loop calls `run` on the
//! same model again and again. A model is known by its path, size and modification time (a file
//! rewritten in place is loaded again), its backend and its thread count; the [`KEPT`] most recently
//! used are kept.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use parity_core::{NamedTensors, NamedViews, Runnable};
use parity_engine::profile::{Profile, ProfileChoice};
use parity_engine::{BackendName, Result};

/// How many loaded models are kept.
pub const KEPT: usize = 4;

#[derive(PartialEq, Eq, Clone)]
struct Key {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    backend: BackendName,
    threads: Option<usize>,
}

type Session = Arc<Mutex<Box<dyn Runnable>>>;

/// Most recently used first.
static SESSIONS: Mutex<Vec<(Key, Session)>> = Mutex::new(Vec::new());

/// `inputs` run on `model` loaded on `backend` (loaded now, or kept from an earlier call).
pub fn run(
    backend: BackendName,
    model: &Path,
    threads: Option<usize>,
    inputs: &NamedViews<'_>,
) -> Result<NamedTensors> {
    let session = session(backend, model, threads)?;
    let mut runnable = session.lock().unwrap_or_else(PoisonError::into_inner);
    runnable
        .run_views(inputs)
        .map_err(|e| parity_engine::load::backend_error(backend, model, "run", e))
}

fn session(backend: BackendName, model: &Path, threads: Option<usize>) -> Result<Session> {
    let meta = parity_core::fsutil::regular_metadata(model)?;
    let key = Key {
        path: model.to_path_buf(),
        len: meta.len(),
        modified: meta.modified().ok(),
        backend,
        threads,
    };
    if let Some(kept) = take(&key) {
        keep(key, Arc::clone(&kept));
        return Ok(kept);
    }
    let runnable = parity_engine::load::prepare(
        backend,
        model,
        &options(model, threads)?,
        &parity_engine::sink::Quiet,
    )?;
    let session = Arc::new(Mutex::new(runnable));
    keep(key, Arc::clone(&session));
    Ok(session)
}

/// The options a check gives `model`: its family's hints (SSRNet's batching on tract) with
/// `threads`.
pub fn options(model: &Path, threads: Option<usize>) -> Result<parity_core::Options> {
    let onnx = parity_core::onnx::OnnxModel::read(model)?;
    let profile = Profile::resolve(ProfileChoice::Auto, &onnx, &onnx.model_info()?, None)?;
    Ok(profile.options(threads))
}

/// The kept session of `key`, removed from the list.
fn take(key: &Key) -> Option<Session> {
    let mut sessions = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
    let at = sessions.iter().position(|(k, _)| k == key)?;
    Some(sessions.remove(at).1)
}

/// `session` kept first; the least recently used beyond [`KEPT`] dropped.
fn keep(key: Key, session: Session) {
    let mut sessions = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
    sessions.retain(|(k, _)| *k != key);
    sessions.insert(0, (key, session));
    sessions.truncate(KEPT);
}

//! The temporary files and directories this process is writing now, so that an interrupted run
//! (SIGINT, SIGTERM) leaves none of them behind.
//!
//! Every atomic write ([`crate::fsutil`]) stages its output beside the destination and renames it
//! into place. The staging path is created and recorded by `create`, and renamed into place
//! inside `commit`, both under the same lock that [`abandon_all`] takes. A signal handler calling
//! [`abandon_all`] therefore either finds a staging path and removes it (the destination is
//! untouched), or waits for a rename in progress to finish (the destination is complete): never a
//! half-written output. A process killed by SIGKILL cannot clean up; its staging directories carry
//! its pid and the next write beside them removes them.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn lock() -> MutexGuard<'static, Vec<PathBuf>> {
    IN_FLIGHT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Creates a staging file or directory with `make` and records its path (`path_of`) as being
/// written, atomically with respect to [`abandon_all`]: a signal between the two cannot leave an
/// unrecorded staging path behind.
pub(crate) fn create<T>(
    make: impl FnOnce() -> std::io::Result<T>,
    path_of: impl FnOnce(&T) -> &Path,
) -> std::io::Result<T> {
    let mut in_flight = lock();
    let made = make()?;
    in_flight.push(path_of(&made).to_path_buf());
    Ok(made)
}

/// Runs `finish` (the rename into place, or the clean-up after a failure) with `path` no longer
/// in flight, atomically with respect to [`abandon_all`].
pub(crate) fn commit<T>(path: &Path, finish: impl FnOnce() -> T) -> T {
    let mut in_flight = lock();
    in_flight.retain(|p| p != path);
    finish()
}

/// Removes every staging path still being written and returns how many there were. The lock is
/// then held for the rest of the process's life, so no write can be committed after it: call this
/// only on the way out (the CLI's SIGINT/SIGTERM handler).
pub fn abandon_all() -> usize {
    let mut in_flight = lock();
    let n = in_flight.len();
    for path in in_flight.drain(..) {
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
    std::mem::forget(in_flight);
    n
}

//! Atomic file and directory writes: write beside the target, then rename over it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The directory that holds `path` (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to a temporary file in `path`'s directory, syncs it and renames it to `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io { path: path.into(), source };
    if path.is_dir() {
        return Err(Error::invalid(path, "is a directory, expected a file path"));
    }
    let mut tmp =
        tempfile::Builder::new().prefix(".parity-tmp-").tempfile_in(parent_of(path)).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

//! Safe file access: bounded reads of regular files only, and atomic file and directory writes
//! (write beside the target, then rename over it).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result, staging};

/// The largest file any reader of this crate reads whole: 2 GiB, protobuf's own limit for a model.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// Opens `path` for reading after checking, without opening it, that it is a regular file (a FIFO
/// would block, `/dev/zero` would never end) of at most `max_bytes`; returns it with its size.
pub fn open_regular(path: &Path, max_bytes: u64) -> Result<(std::fs::File, u64)> {
    let io = |source| Error::Io { path: path.into(), source };
    let meta = regular_metadata(path)?;
    if meta.len() > max_bytes {
        return Err(Error::invalid(
            path,
            format!("is {} bytes, more than the {max_bytes} this reads", meta.len()),
        ));
    }
    Ok((std::fs::File::open(path).map_err(io)?, meta.len()))
}

/// The metadata of `path` when it is a regular file (following symlinks); a directory, device,
/// FIFO or socket is an [`Error::Invalid`] naming it.
pub fn regular_metadata(path: &Path) -> Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io { path: path.into(), source })?;
    if meta.is_dir() {
        return Err(Error::invalid(path, "is a directory, expected a file"));
    }
    if !meta.is_file() {
        return Err(Error::invalid(path, "is not a regular file (a device, FIFO or socket)"));
    }
    Ok(meta)
}

/// Reads a whole regular file of at most [`MAX_FILE_BYTES`] (see [`open_regular`]); never reads
/// more than the size it had when checked.
pub fn read_regular(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let (file, len) = open_regular(path, MAX_FILE_BYTES)?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io { path: path.into(), source })?;
    Ok(bytes)
}

/// Checks the files a command is about to write before anything is written: each is a new path
/// or an existing regular file (never a device, FIFO or directory, which would be replaced), no
/// two are the same file, and none is one of the `inputs` (which would be overwritten).
pub fn check_outputs(outputs: &[&Path], inputs: &[&Path]) -> Result<()> {
    // The file a path names: its directory resolved, then the path itself when it exists (a link).
    let identity = |p: &Path| -> Option<PathBuf> {
        let joined = parent_of(p).canonicalize().ok()?.join(p.file_name()?);
        Some(joined.canonicalize().unwrap_or(joined))
    };
    let inputs: Vec<PathBuf> = inputs.iter().filter_map(|p| identity(p)).collect();
    let mut seen: Vec<(PathBuf, &Path)> = Vec::new();
    for &out in outputs {
        if let Ok(meta) = std::fs::metadata(out)
            && !meta.is_file()
        {
            return Err(Error::invalid(
                out,
                "exists and is not a regular file; refusing to replace it",
            ));
        }
        let Some(id) = identity(out) else { continue };
        if inputs.contains(&id) {
            return Err(Error::invalid(out, "is also an input; refusing to overwrite it"));
        }
        if let Some((_, other)) = seen.iter().find(|(s, _)| *s == id) {
            return Err(Error::invalid(
                out,
                format!("is the same file as the output {}", other.display()),
            ));
        }
        seen.push((id, out));
    }
    Ok(())
}

/// The mode a new file gets before the umask, as `open(2)` gives it (temporary files would
/// otherwise keep tempfile's 0600 once renamed into place).
pub fn new_file_permissions() -> std::fs::Permissions {
    std::os::unix::fs::PermissionsExt::from_mode(0o666)
}

/// The mode a new directory gets before the umask, as `mkdir(2)` gives it.
pub fn new_dir_permissions() -> std::fs::Permissions {
    std::os::unix::fs::PermissionsExt::from_mode(0o777)
}

/// The directory that holds `path` (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to a temporary file in `path`'s directory, syncs it and renames it to `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io { path: path.into(), source };
    if path.is_dir() {
        return Err(Error::invalid(path, "is a directory, expected a file path"));
    }
    let make = || {
        tempfile::Builder::new()
            .prefix(".parity-tmp-")
            .permissions(new_file_permissions())
            .tempfile_in(parent_of(path))
    };
    let mut tmp = staging::create(make, |t| t.path()).map_err(io)?;
    let staged = tmp.path().to_path_buf();
    let written = tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all());
    // On failure the temporary file is removed when `tmp` drops, still inside `commit`.
    staging::commit(&staged, || written.and_then(|()| tmp.persist(path).map_err(|e| e.error)))
        .map_err(io)?;
    Ok(())
}

/// Writes a directory atomically: `fill` writes into a temporary directory beside `dir`, which is
/// then renamed to `dir`. With `replace`, an existing `dir` is moved aside first and removed only
/// once the new one is in place (and put back if the rename fails). On any failure nothing is
/// left behind by this process; a staging directory left by a process that was killed (its name
/// carries its pid) is removed by the next write beside it.
pub(crate) fn write_dir_atomic(
    dir: &Path,
    replace: bool,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let io = io_at;
    let parent = parent_of(dir);
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    remove_stale_staging(&parent);
    let prefix = format!("{STAGING_PREFIX}{}-", std::process::id());
    let make = || {
        tempfile::Builder::new()
            .prefix(&prefix)
            .permissions(new_dir_permissions())
            .tempdir_in(&parent)
    };
    let tmp = staging::create(make, |t| t.path()).map_err(io(&parent))?;
    let staged = tmp.path().to_path_buf();
    let filled = fill(&staged);
    staging::commit(&staged, || {
        // On failure the staging directory is removed as `tmp` drops, still inside `commit`.
        filled?;
        rename_into_place(&tmp.keep(), dir, &parent, replace)
    })
}

/// The [`Error::Io`] of a failed operation on `path`.
fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::Io { path, source }
}

/// Renames the complete `staged` directory to `dir` (moving an existing `dir` aside first when
/// `replace`); on failure removes `staged` and leaves `dir` as it was.
fn rename_into_place(staged: &Path, dir: &Path, parent: &Path, replace: bool) -> Result<()> {
    let io = io_at;
    let result = if replace {
        let backup = tempfile::Builder::new()
            .prefix(".golden-old-")
            .tempdir_in(parent)
            .map_err(io(parent))?
            .keep();
        std::fs::remove_dir(&backup).ok();
        std::fs::rename(dir, &backup)
            .and_then(|()| {
                std::fs::rename(staged, dir).inspect_err(|_| {
                    let _ = std::fs::rename(&backup, dir);
                })
            })
            .map(|()| {
                let _ = std::fs::remove_dir_all(&backup);
            })
    } else {
        std::fs::rename(staged, dir)
    };
    result.map_err(|e| {
        let _ = std::fs::remove_dir_all(staged);
        io(dir)(e)
    })
}

/// Staging directories are `.golden-tmp-<pid>-<random>`.
const STAGING_PREFIX: &str = ".golden-tmp-";

/// Removes the staging directories in `parent` whose process is gone (killed mid-write), leaving
/// those of live processes, which may be writing now. Best effort: errors are ignored.
fn remove_stale_staging(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        if !alive && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

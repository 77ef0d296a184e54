//! Writing an npz golden set atomically, whole or one case at a time.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::npz::write_npz_file;
use super::{Case, MANIFEST, Manifest, io_err};
use crate::{Error, Result};

/// Writes `cases` as an npz golden set in `dir` (one `<case>.npz` each, inputs, outputs and
/// extras under their names, plus `manifest` as `manifest.json` when given). See
/// [`write_npz_streaming`] for where and how.
pub fn write_npz(dir: impl AsRef<Path>, cases: &[Case], manifest: Option<&Manifest>) -> Result<()> {
    write_npz_streaming(dir, |sink| {
        for case in cases {
            sink.write(case)?;
        }
        Ok(manifest.cloned())
    })
}

/// Writes an npz golden set in `dir` one case at a time: `produce` hands each case to the sink,
/// which writes it at once (nothing is held), and returns the manifest to write last.
///
/// Everything is written into a temporary directory beside `dir`, then renamed to `dir`; an error
/// from `produce` or the sink (or an interrupt) leaves `dir` as it was. An existing `dir` is
/// replaced only when it is empty or looks like a golden set (nothing but `.npz` files and
/// `manifest.json`); anything else is refused, so a mistyped `--out` cannot delete unrelated
/// files. A set of no cases is refused.
pub fn write_npz_streaming(
    dir: impl AsRef<Path>,
    produce: impl FnOnce(&mut CaseSink<'_>) -> Result<Option<Manifest>>,
) -> Result<()> {
    let dir = dir.as_ref();
    let existing = replaceable(dir)?;
    crate::fsutil::write_dir_atomic(dir, existing, |staging| {
        let mut sink = CaseSink { dir, staging, seen: BTreeSet::new() };
        let manifest = produce(&mut sink)?;
        if sink.seen.is_empty() {
            return Err(Error::invalid(dir, "refusing to write a golden set with no cases"));
        }
        if let Some(m) = manifest {
            let mut text = serde_json::to_string_pretty(&m)
                .map_err(|e| Error::invalid(dir, format!("cannot encode manifest: {e}")))?;
            text.push('\n');
            fs::write(staging.join(MANIFEST), text).map_err(io_err(&dir.join(MANIFEST)))?;
        }
        Ok(())
    })
}

/// Where [`write_npz_streaming`] writes cases: each is checked (a plain file stem, used once) and
/// written as `<case>.npz` at once.
pub struct CaseSink<'a> {
    dir: &'a Path,
    staging: &'a Path,
    seen: BTreeSet<String>,
}

impl CaseSink<'_> {
    /// Writes `case` now.
    pub fn write(&mut self, case: &Case) -> Result<()> {
        let n = &case.name;
        if n.is_empty()
            || n.starts_with('.')
            || n.contains(['/', '\\'])
            || n.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                self.dir,
                format!("invalid case name '{n}' (must be a plain file stem)"),
            ));
        }
        if !self.seen.insert(n.clone()) {
            return Err(Error::invalid(self.dir, format!("case name '{n}' used twice")));
        }
        let path = self.staging.join(format!("{n}.npz"));
        write_npz_file(&path, case).map_err(|e| match e {
            Error::Io { source, .. } => {
                Error::Io { path: self.dir.join(format!("{n}.npz")), source }
            }
            other => other,
        })
    }

    /// Cases written so far.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True before the first case.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// Whether `dir` exists and may be replaced (empty, or only a golden set's files); an error when
/// it may not.
fn replaceable(dir: &Path) -> Result<bool> {
    match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(Error::invalid(dir, "exists and is not a directory")),
        Ok(_) => {
            for entry in fs::read_dir(dir).map_err(io_err(dir))? {
                let entry = entry.map_err(io_err(dir))?;
                let p = entry.path();
                let ok = p.is_file()
                    && (p.extension().is_some_and(|e| e == "npz") || entry.file_name() == MANIFEST);
                if !ok {
                    return Err(Error::invalid(
                        dir,
                        format!(
                            "exists and holds '{}', which is not part of a golden set; refusing to replace it",
                            entry.file_name().to_string_lossy()
                        ),
                    ));
                }
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(dir)(e)),
    }
}

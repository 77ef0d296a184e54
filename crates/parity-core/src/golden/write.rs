//! Writing a whole npz golden set atomically.

use std::fs;
use std::path::Path;

use super::npz::write_npz_file;
use super::{Case, MANIFEST, Manifest, io_err};
use crate::{Error, Result};

/// Writes `cases` as an npz golden set in `dir` (one `<case>.npz` each, inputs, outputs and
/// extras under their names, plus `manifest` as `manifest.json` when given).
///
/// Everything is written into a temporary directory beside `dir`, then renamed to `dir`. An
/// existing `dir` is replaced only when it is empty or looks like a golden set (nothing but
/// `.npz` files and `manifest.json`); anything else is refused, so a mistyped `--out` cannot
/// delete unrelated files.
pub fn write_npz(dir: impl AsRef<Path>, cases: &[Case], manifest: Option<&Manifest>) -> Result<()> {
    let dir = dir.as_ref();
    if cases.is_empty() {
        return Err(Error::invalid(dir, "refusing to write a golden set with no cases"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for case in cases {
        let n = &case.name;
        if n.is_empty()
            || n.starts_with('.')
            || n.contains(['/', '\\'])
            || n.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                dir,
                format!("invalid case name '{n}' (must be a plain file stem)"),
            ));
        }
        if !seen.insert(n.as_str()) {
            return Err(Error::invalid(dir, format!("case name '{n}' used twice")));
        }
    }
    let existing = match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(Error::invalid(dir, "exists and is not a directory")),
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
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(dir)(e)),
    };
    crate::fsutil::write_dir_atomic(dir, existing, |staging| {
        for case in cases {
            let path = staging.join(format!("{}.npz", case.name));
            write_npz_file(&path, case).map_err(|e| match e {
                Error::Io { source, .. } => {
                    Error::Io { path: dir.join(format!("{}.npz", case.name)), source }
                }
                other => other,
            })?;
        }
        if let Some(m) = manifest {
            let mut text = serde_json::to_string_pretty(m)
                .map_err(|e| Error::invalid(dir, format!("cannot encode manifest: {e}")))?;
            text.push('\n');
            fs::write(staging.join(MANIFEST), text).map_err(io_err(&dir.join(MANIFEST)))?;
        }
        Ok(())
    })
}

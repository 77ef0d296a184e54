//! Writing an npz golden set atomically, whole or one case at a time.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::npz::write_npz_file;
use super::{Case, MANIFEST, Manifest, ManifestCase, io_err};
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
/// which writes it at once (nothing is held), and returns the manifest to write last. Entries of
/// the manifest's `cases` given with [`CaseSink::write_with_entry`] are written to disk as they
/// come and joined into `manifest.json` at the end, so the manifest does not grow in memory either.
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
        let mut sink = CaseSink { dir, staging, seen: BTreeSet::new(), entries: None };
        let manifest = produce(&mut sink)?;
        if sink.seen.is_empty() {
            return Err(Error::invalid(dir, "refusing to write a golden set with no cases"));
        }
        let entries = sink.entries.take();
        if let Some(m) = manifest {
            write_manifest(dir, staging, &m, entries)?;
        }
        let _ = fs::remove_file(staging.join(ENTRIES_FILE));
        Ok(())
    })
}

/// The staging file of streamed manifest entries (removed before the set is renamed into place).
const ENTRIES_FILE: &str = ".manifest-cases.part";

/// Writes `manifest.json`: `m` as it is, or with `cases` from the streamed entries (each
/// `"name": {...}` on its own line, copied from the staging file, never held whole).
fn write_manifest(
    dir: &Path,
    staging: &Path,
    m: &Manifest,
    entries: Option<std::io::BufWriter<fs::File>>,
) -> Result<()> {
    use std::io::Write;
    let path = dir.join(MANIFEST);
    let encode = |e: serde_json::Error| Error::invalid(dir, format!("cannot encode manifest: {e}"));
    let Some(entries) = entries else {
        let mut text = serde_json::to_string_pretty(m).map_err(encode)?;
        text.push('\n');
        return fs::write(staging.join(MANIFEST), text).map_err(io_err(&path));
    };
    entries.into_inner().map_err(|e| io_err(&path)(e.into_error()))?;
    let mut head = serde_json::to_value(m).map_err(encode)?;
    if let Some(object) = head.as_object_mut() {
        object.remove("cases");
    }
    let head = serde_json::to_string_pretty(&head).map_err(encode)?;
    let open = head.trim_end().strip_suffix('}').unwrap_or("{").trim_end();
    let mut out =
        std::io::BufWriter::new(fs::File::create(staging.join(MANIFEST)).map_err(io_err(&path))?);
    let separator = if open == "{" { "\n" } else { ",\n" };
    writeln!(out, "{open}{separator}  \"cases\": {{").map_err(io_err(&path))?;
    let mut part = fs::File::open(staging.join(ENTRIES_FILE)).map_err(io_err(&path))?;
    std::io::copy(&mut part, &mut out).map_err(io_err(&path))?;
    writeln!(out, "\n  }}\n}}").map_err(io_err(&path))?;
    out.flush().map_err(io_err(&path))
}

/// Where [`write_npz_streaming`] writes cases: each is checked (a plain file stem, used once) and
/// written as `<case>.npz` at once.
pub struct CaseSink<'a> {
    dir: &'a Path,
    staging: &'a Path,
    seen: BTreeSet<String>,
    /// The manifest's `cases` entries written so far (one `"name": {...}` a line).
    entries: Option<std::io::BufWriter<fs::File>>,
}

impl CaseSink<'_> {
    /// Writes `case` now.
    pub fn write(&mut self, case: &Case) -> Result<()> {
        self.admit(&case.name)?;
        self.write_file(case)
    }

    /// Writes `case` now, and its entry of the manifest's `cases` (the manifest `produce`
    /// returns then gets its `cases` from these entries).
    pub fn write_with_entry(&mut self, case: &Case, entry: &ManifestCase) -> Result<()> {
        self.admit(&case.name)?;
        self.write_file(case)?;
        self.append_entry(&case.name, entry)
    }

    /// [`CaseSink::write_with_entry`] on each of `cases` in turn, except that their files are
    /// encoded and written in parallel on every core (rayon): npz compression is most of the
    /// cost of recording a case.
    pub fn write_all_with_entries(&mut self, cases: &[(Case, ManifestCase)]) -> Result<()> {
        use rayon::prelude::*;
        for (case, _) in cases {
            self.admit(&case.name)?;
        }
        let this = &*self;
        cases.par_iter().try_for_each(|(case, _)| this.write_file(case))?;
        for (case, entry) in cases {
            self.append_entry(&case.name, entry)?;
        }
        Ok(())
    }

    /// Checks a case's name (a plain file stem, not used before) and takes it.
    fn admit(&mut self, n: &str) -> Result<()> {
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
        if !self.seen.insert(n.to_string()) {
            return Err(Error::invalid(self.dir, format!("case name '{n}' used twice")));
        }
        Ok(())
    }

    /// Writes an admitted case's `<case>.npz` into the staging directory (errors name it in `dir`).
    fn write_file(&self, case: &Case) -> Result<()> {
        let n = &case.name;
        let path = self.staging.join(format!("{n}.npz"));
        write_npz_file(&path, case).map_err(|e| match e {
            Error::Io { source, .. } => {
                Error::Io { path: self.dir.join(format!("{n}.npz")), source }
            }
            other => other,
        })
    }

    /// Appends a case's entry to the streamed manifest `cases`.
    fn append_entry(&mut self, name: &str, entry: &ManifestCase) -> Result<()> {
        use std::io::Write;
        let path = self.dir.join(MANIFEST);
        let entries = match &mut self.entries {
            Some(file) => {
                file.write_all(b",\n").map_err(io_err(&path))?;
                file
            }
            None => {
                let file =
                    fs::File::create(self.staging.join(ENTRIES_FILE)).map_err(io_err(&path))?;
                self.entries.insert(std::io::BufWriter::new(file))
            }
        };
        let encode =
            |e: serde_json::Error| Error::invalid(self.dir, format!("cannot encode manifest: {e}"));
        let name = serde_json::to_string(name).map_err(encode)?;
        let value = serde_json::to_string(entry).map_err(encode)?;
        write!(entries, "    {name}: {value}").map_err(io_err(&path))
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

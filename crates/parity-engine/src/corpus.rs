//! Image corpora: what one argument naming images expands to.
//!
//! - a file: itself;
//! - a directory: every image file under it, recursively (by extension; symbolic links to
//!   directories are not followed, so a walk never leaves the directory named or loops);
//! - a glob pattern (`faces/**/*.jpg`, quoted so the shell leaves it alone): every file it matches;
//! - `@LIST`: the paths in the file LIST, one a line (blank lines and `#` comments skipped),
//!   relative ones taken from LIST's directory, so a list moves with its corpus.
//!
//! The result is sorted and without repeats: the order (and with it `--shard`) does not depend on
//! the file system's listing order.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::error::invalid;
use crate::sink::{Event, Sink};

/// The images of a corpus that could not be read: each reported to the sink as it is met
/// ([`Event::Unreadable`]), counted, and judged at the end of the run ([`Unreadable::verdict`]).
pub struct Unreadable<'s> {
    noted: std::collections::HashSet<String>,
    sink: &'s dyn Sink,
}

impl<'s> Unreadable<'s> {
    /// None met yet; each is reported to `sink`.
    pub fn new(sink: &'s dyn Sink) -> Unreadable<'s> {
        Unreadable { noted: Default::default(), sink }
    }

    /// Reports one unreadable image; `why` names the file. An image met again (the cases are
    /// read once per wave of backends) is neither reported nor counted twice.
    pub fn note(&mut self, why: &str) {
        if self.noted.insert(why.to_owned()) {
            self.sink.event(Event::Unreadable(why));
        }
    }

    /// How many were met.
    pub fn count(&self) -> usize {
        self.noted.len()
    }

    /// The run's end: an error with the count (and `consequence`) unless `skip`, else the count
    /// reported to the sink ([`Event::SkippedUnreadable`]); nothing when every image was read.
    pub fn verdict(&self, total: usize, skip: bool, consequence: &str) -> Result<()> {
        let n = self.count();
        if n == 0 {
            return Ok(());
        }
        if !skip {
            bail!("{n} of {total} images could not be read (each named above){consequence}");
        }
        self.sink.event(Event::SkippedUnreadable { skipped: n, total });
        Ok(())
    }
}

/// The most files a corpus may name (the list of paths is held in memory: about 100 bytes each).
pub const MAX_CORPUS_FILES: usize = 10_000_000;

/// Image file extensions a directory walk takes.
pub const IMAGE_EXTENSIONS: [&str; 9] =
    ["png", "jpg", "jpeg", "jpe", "bmp", "dib", "tif", "tiff", "webp"];

/// The files every argument of `specs` names (see the module docs), sorted, without repeats.
pub fn expand_all(specs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for spec in specs {
        files.extend(expand(spec)?);
        if files.len() > MAX_CORPUS_FILES {
            bail!("{}: the corpus names more than {MAX_CORPUS_FILES} files", spec.display());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The files one argument names; a directory or pattern naming no image is an error.
pub fn expand(spec: &Path) -> Result<Vec<PathBuf>> {
    let text = spec.to_string_lossy();
    if let Some(list) = text.strip_prefix('@') {
        return list_file(Path::new(list));
    }
    if spec.is_dir() {
        return walk(spec);
    }
    if !spec.exists() && text.contains(['*', '?', '[']) {
        return pattern(&text);
    }
    // A plain file; a missing one is reported when it is read, by name, like any unreadable image.
    Ok(vec![spec.to_path_buf()])
}

/// Image files under `dir`, recursively.
fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        let entry = entry.map_err(|e| {
            let at = e.path().unwrap_or(dir).display().to_string();
            invalid(format!(
                "{at}: cannot list: {}",
                e.io_error().map_or(e.to_string(), |io| io.to_string())
            ))
        })?;
        let path = entry.path();
        let image = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        // A symbolic link to a file is taken (as the user's own files often are); to a
        // directory it is not followed.
        if image && (entry.file_type().is_file() || path.is_file()) {
            files.push(path.to_path_buf());
            if files.len() > MAX_CORPUS_FILES {
                bail!("{}: holds more than {MAX_CORPUS_FILES} images", dir.display());
            }
        }
    }
    if files.is_empty() {
        bail!(
            "{}: no images ({}) in this directory or below",
            dir.display(),
            IMAGE_EXTENSIONS.join(", ")
        );
    }
    Ok(files)
}

/// Files a glob pattern matches: the walk starts at the pattern's leading directories without
/// wildcards and, as for a directory, does not follow symbolic links to directories (glob's own
/// walk would, and loops on a link to a parent).
fn pattern(text: &str) -> Result<Vec<PathBuf>> {
    let matcher = glob::Pattern::new(text)
        .map_err(|e| invalid(format!("{text}: not a valid pattern: {e}")))?;
    let options = glob::MatchOptions { require_literal_separator: true, ..Default::default() };
    let literal: PathBuf = Path::new(text)
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect();
    let start = if literal.as_os_str().is_empty() { PathBuf::from(".") } else { literal };
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&start).follow_links(false) {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        // Matched as written: `./x` walked from "." is `x` to a pattern without the dot.
        let candidate = if text.starts_with("./") || start != Path::new(".") {
            path
        } else {
            path.strip_prefix(".").unwrap_or(path)
        };
        if (entry.file_type().is_file() || path.is_file())
            && matcher.matches_path_with(candidate, options)
        {
            files.push(candidate.to_path_buf());
            if files.len() > MAX_CORPUS_FILES {
                bail!("{text}: matches more than {MAX_CORPUS_FILES} files");
            }
        }
    }
    if files.is_empty() {
        bail!("{text}: the pattern matches no file");
    }
    Ok(files)
}

/// The paths listed in `list`.
fn list_file(list: &Path) -> Result<Vec<PathBuf>> {
    let bytes = parity_core::fsutil::read_regular(list)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| invalid(format!("{}: a list of paths must be UTF-8 text", list.display())))?;
    let base = list.parent().unwrap_or(Path::new(""));
    let mut files = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        files.push(base.join(line));
        if files.len() > MAX_CORPUS_FILES {
            bail!("{}: lists more than {MAX_CORPUS_FILES} paths", list.display());
        }
    }
    if files.is_empty() {
        bail!("{}: lists no path", list.display());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_patterns_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        for f in ["z.jpg", "a/y.PNG", "a/b/x.jpeg", "a/notes.txt"] {
            std::fs::write(root.join(f), b"").unwrap();
        }
        std::os::unix::fs::symlink(root, root.join("a/loop")).unwrap();
        let walked = expand_all(&[root.to_path_buf()]).unwrap();
        let rel: Vec<String> =
            walked.iter().map(|p| p.strip_prefix(root).unwrap().display().to_string()).collect();
        assert_eq!(rel, ["a/b/x.jpeg", "a/y.PNG", "z.jpg"], "recursive, images only, no loop");

        let pattern = format!("{}/a/**/*.jp*g", root.display());
        assert_eq!(expand(Path::new(&pattern)).unwrap(), [root.join("a/b/x.jpeg")]);
        assert!(expand(Path::new(&format!("{}/*.gif", root.display()))).is_err());

        std::fs::write(root.join("list.txt"), "# faces\nz.jpg\n\na/y.PNG\nz.jpg\n").unwrap();
        let at = PathBuf::from(format!("@{}", root.join("list.txt").display()));
        let listed = expand_all(&[at]).unwrap();
        assert_eq!(listed, [root.join("a/y.PNG"), root.join("z.jpg")], "sorted, once each");
        std::fs::write(root.join("empty.txt"), "# nothing\n").unwrap();
        let empty = PathBuf::from(format!("@{}", root.join("empty.txt").display()));
        assert!(expand_all(&[empty]).is_err());
    }
}

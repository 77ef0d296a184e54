//! How the CLI writes `predict`'s rows as they come: text, Markdown, one JSON array, or JSON Lines.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::print::Format;

/// One image's row.
#[derive(Serialize)]
pub struct Prediction {
    pub image: String,
    pub age: f32,
    pub interval: [i64; 2],
}

#[derive(Serialize)]
struct Unreadable<'a> {
    image: String,
    error: &'a str,
}

/// Rows written as they come, in one of the formats; the header goes out with the first row (or
/// at the end), so a run that fails before any row prints nothing on stdout. Inside
/// [`crate::print::capture::capturing`], the rows are kept and given at the end as one JSON document.
pub struct Rows {
    format: Format,
    out: std::io::Stdout,
    started: bool,
    written: usize,
    kept: Option<Vec<String>>,
}

impl Rows {
    pub fn new(format: Format) -> Rows {
        let kept = crate::print::capture::is_capturing().then(Vec::new);
        Rows { format, out: std::io::stdout(), started: false, written: 0, kept }
    }

    fn start(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.started, true) {
            return Ok(());
        }
        let mut out = self.out.lock();
        match self.format {
            Format::Json => write!(out, "[")?,
            Format::Markdown => writeln!(out, "| image | age | interval |\n|---|---|---|")?,
            Format::Text | Format::Html => writeln!(out, "{:<8} {:<9} image", "age", "interval")?,
            Format::Jsonl => {}
        }
        Ok(())
    }

    pub fn row(&mut self, row: &Prediction) -> Result<()> {
        if let Some(kept) = &mut self.kept {
            kept.push(serde_json::to_string(row)?);
            return Ok(());
        }
        self.start()?;
        let mut out = self.out.lock();
        let interval = format!("{}-{}", row.interval[0], row.interval[1]);
        let image = crate::print::escape_control(&row.image);
        match self.format {
            Format::Json => {
                let sep = if self.written == 0 { "\n  " } else { ",\n  " };
                write!(out, "{sep}{}", serde_json::to_string(row)?)?;
            }
            Format::Jsonl => writeln!(out, "{}", serde_json::to_string(row)?)?,
            Format::Markdown => writeln!(out, "| {image} | {:.3} | {interval} |", row.age)?,
            Format::Text | Format::Html => writeln!(out, "{:<8.3} {interval:<9} {image}", row.age)?,
        }
        self.written += 1;
        Ok(())
    }

    /// An unreadable image as a record of its own in JSON Lines (stderr names it in every format).
    pub fn unreadable(&mut self, path: &Path, why: &str) -> Result<()> {
        if self.format == Format::Jsonl {
            let record = Unreadable { image: path.display().to_string(), error: why };
            writeln!(self.out.lock(), "{}", serde_json::to_string(&record)?)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        if let Some(kept) = &self.kept {
            crate::print::capture::keep_json(format!("[{}]", kept.join(",")));
            return Ok(());
        }
        self.start()?;
        let mut out = self.out.lock();
        if self.format == Format::Json {
            writeln!(out, "{}]", if self.written == 0 { "" } else { "\n" })?;
        }
        out.flush()?;
        Ok(())
    }
}

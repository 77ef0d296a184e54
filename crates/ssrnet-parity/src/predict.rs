//! `ssrnet-parity predict IMAGE...`: the age and the interval the original C++ `Age` type reports,
//! for a model with the SSRNet profile, over any number of images ([`parity_engine::predict`]). Rows are written in path order as soon as their batch is done;
//! an image that cannot be read is named on stderr (and in JSON Lines, as a record).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::Verdict;
use crate::output::Format;
use parity_engine::BackendName;
use parity_engine::predict::{Request, Row};

#[derive(clap::Args)]
pub struct Args {
    /// Face crops: files, directories (recursive), glob patterns (quoted: 'faces/**/*.jpg') or
    /// @LIST files (one path a line); decoded and resized exactly as cv2.
    #[arg(required = true, value_name = "IMAGES")]
    images: Vec<PathBuf>,
    /// The model (default: the committed demo model, which carries demo weights).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_parser = crate::args::backend(), default_value_t = BackendName::Ort)]
    backend: BackendName,
    /// text, markdown, json (one array) or jsonl (one record a line); all written as they come.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Images per inference call (a model whose batch axis is fixed to 1 runs them one by one).
    /// The default of 8 keeps a batch's activations in cache: on SSRNet it took 6% less CPU than 32.
    #[arg(long, default_value_t = 8, value_parser = crate::output::batch_size)]
    batch: usize,
    /// Inference sessions running batches at once, each holding its own copy of the model
    /// (default: one per core, at most 4; 1 when only --threads is given).
    #[arg(long, value_parser = crate::output::thread_count)]
    jobs: Option<usize>,
    /// Intra-op threads of each session (default: 1 with several sessions, else the backend's
    /// choice).
    #[arg(long, value_parser = crate::output::thread_count)]
    threads: Option<usize>,
    /// Go on past unreadable images without failing the run (they are still listed and counted).
    #[arg(long)]
    skip_unreadable: bool,
    /// Only part K of N of the images (0-based, in sorted path order), or `auto` from a Slurm
    /// job array or a Kubernetes Indexed Job.
    #[arg(long, value_name = "K/N|auto", value_parser = parity_engine::shard::parse)]
    shard: Option<parity_engine::shard::ShardArg>,
    #[command(flatten)]
    profile: crate::args::ProfileArg,
}

#[derive(Serialize)]
struct Prediction {
    image: String,
    age: f32,
    interval: [i64; 2],
}

#[derive(Serialize)]
struct Unreadable<'a> {
    image: String,
    error: &'a str,
}

pub fn run(args: Args) -> Result<Verdict> {
    let request = Request {
        images: args.images,
        model: args.model.unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_MODEL)),
        backend: args.backend,
        batch: args.batch,
        jobs: args.jobs,
        threads: args.threads,
        skip_unreadable: args.skip_unreadable,
        shard: args.shard,
        profile: args.profile.profile,
    };
    let bar = crate::output::progress(0, "predicting");
    let mut out = Rows::new(args.format);
    let mut row = |row: Row<'_>| -> Result<()> {
        match row {
            Row::Age { image, age, interval } => {
                let image = image.display().to_string();
                bar.suspend(|| out.row(&Prediction { image, age, interval }))
            }
            Row::Unreadable { image, why } => out.unreadable(image, why),
        }
    };
    let error =
        parity_engine::predict::run(&request, &crate::terminal::Terminal::new(&bar), &mut row)?;
    bar.finish_and_clear();
    out.finish()?;
    match error {
        Some(e) => Err(e.into()),
        None => Ok(Verdict::Pass),
    }
}

/// Rows written as they come, in one of the formats; the header goes out with the first row (or
/// at the end), so a run that fails before any row prints nothing on stdout. Inside
/// [`crate::output::capturing`], the rows are kept and given at the end as one JSON document.
struct Rows {
    format: Format,
    out: std::io::Stdout,
    started: bool,
    written: usize,
    kept: Option<Vec<String>>,
}

impl Rows {
    fn new(format: Format) -> Rows {
        let kept = crate::output::is_capturing().then(Vec::new);
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
            Format::Text => writeln!(out, "{:<8} {:<9} image", "age", "interval")?,
            Format::Jsonl => {}
        }
        Ok(())
    }

    fn row(&mut self, row: &Prediction) -> Result<()> {
        if let Some(kept) = &mut self.kept {
            kept.push(serde_json::to_string(row)?);
            return Ok(());
        }
        self.start()?;
        let mut out = self.out.lock();
        let interval = format!("{}-{}", row.interval[0], row.interval[1]);
        let image = crate::output::escape_control(&row.image);
        match self.format {
            Format::Json => {
                let sep = if self.written == 0 { "\n  " } else { ",\n  " };
                write!(out, "{sep}{}", serde_json::to_string(row)?)?;
            }
            Format::Jsonl => writeln!(out, "{}", serde_json::to_string(row)?)?,
            Format::Markdown => writeln!(out, "| {image} | {:.3} | {interval} |", row.age)?,
            Format::Text => writeln!(out, "{:<8.3} {interval:<9} {image}", row.age)?,
        }
        self.written += 1;
        Ok(())
    }

    /// An unreadable image as a record of its own in JSON Lines (stderr names it in every format).
    fn unreadable(&mut self, path: &Path, why: &str) -> Result<()> {
        if self.format == Format::Jsonl {
            let record = Unreadable { image: path.display().to_string(), error: why };
            writeln!(self.out.lock(), "{}", serde_json::to_string(&record)?)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        if let Some(kept) = &self.kept {
            crate::output::keep_json(format!("[{}]", kept.join(",")));
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

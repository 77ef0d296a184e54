//! `ssrnet-parity predict IMAGE...`: the age and the interval the original C++ `Age` type reports,
//! for a model with the SSRNet profile, over any number of images.
//!
//! The images stream: `--jobs` sessions (one per core by default) take the batches in turn, and
//! each decodes its batch's files, then runs them as one inference call, so every core decodes and
//! infers and no core waits on another (with fewer sessions than cores, a session decodes its batch
//! on every core with rayon). Rows are written in path order as soon as their batch is done.
//! Memory holds about one batch of images per session, whatever the corpus size.
//! An image that cannot be read is reported by name and the run goes on; the run is then an
//! error (exit 2) with the count, unless `--skip-unreadable`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{SyncSender, sync_channel};

use anyhow::{Result, bail};
use parity_core::{NamedTensors, Tensor};
use rayon::prelude::*;
use serde::Serialize;

use crate::Verdict;
use crate::output::Format;
use parity_core::onnx::OnnxModel;
use parity_engine::BackendName;

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
    let model =
        args.model.clone().unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_MODEL));
    let onnx = OnnxModel::read(&model)?;
    let info = onnx.model_info()?;
    let profile =
        parity_engine::profile::Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let Some(output) = profile.predicted_output() else {
        bail!(
            "{}: predict estimates ages with SSRNet models; this model's metadata and signature \
             are not SSRNet's (pass --profile ssrnet if it is one)",
            model.display()
        );
    };
    let pre = profile.preprocessor(&info)?;
    let mut files = parity_engine::corpus::expand_all(&args.images)?;
    if let Some(shard) = args.shard.map(|s| s.resolve()).transpose()? {
        files = shard.select(files.len()).into_iter().map(|i| files[i].clone()).collect();
    }
    let (jobs, threads) = sessions(args.jobs, args.threads);
    // Images are decoded between inference calls and beside other sessions: idle threads must not spin.
    let options = parity_core::Options { shared_cores: true, ..profile.options(threads) };
    let engine = Engine {
        backend: args.backend,
        model: &model,
        options: &options,
        input: &info.inputs[0].name,
        output,
        pre: &pre,
        decode_in_parallel: jobs < parity_core::backend::cores(),
    };

    let total = files.len();
    let bar = crate::output::progress(total as u64, "predicting");
    let mut out = Rows::new(args.format);
    let terminal = crate::terminal::Terminal::new(&bar);
    let mut unreadable = parity_engine::corpus::Unreadable::new(&terminal);
    // Sessions take the next batch in turn; each decodes its own batch, then runs it.
    let batches = Mutex::new(files.chunks(args.batch).enumerate());
    std::thread::scope(|scope| -> Result<()> {
        let (done_tx, done_rx) = sync_channel(jobs);
        for _ in 0..jobs {
            let (batches, done, engine) = (&batches, done_tx.clone(), &engine);
            scope.spawn(move || engine.serve(batches, &done));
        }
        drop(done_tx);
        // Batches finish out of order across sessions; rows go out in the corpus's order.
        let mut finished = BTreeMap::new();
        let mut next = 0;
        for report in done_rx {
            match report {
                Finished::Batch(index, result) => finished.insert(index, result),
                Finished::Unloadable(e) => return Err(e),
            };
            while let Some(result) = finished.remove(&next) {
                next += 1;
                let rows: Vec<(&PathBuf, Outcome)> = result?;
                bar.inc(rows.len() as u64);
                for (path, outcome) in rows {
                    match outcome {
                        Outcome::Age(age) => {
                            let interval = parity_engine::profile::ssrnet::age_interval(age);
                            let image = path.display().to_string();
                            bar.suspend(|| out.row(&Prediction { image, age, interval }))?;
                        }
                        // One image named alone: its error is the run's one error line.
                        Outcome::Unreadable(error) if total == 1 => bail!("{error}"),
                        Outcome::Unreadable(error) => {
                            let named = path.display().to_string();
                            let why = if error.contains(&named) {
                                error
                            } else {
                                format!("{named}: {error}")
                            };
                            unreadable.note(&why);
                            out.unreadable(path, &why)?;
                        }
                    }
                }
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    out.finish()?;
    unreadable.verdict(total, args.skip_unreadable, "")?;
    for warning in profile.warnings(&onnx) {
        crate::output::warn_at_end(warning);
    }
    Ok(Verdict::Pass)
}

/// The most inference sessions `predict` opens by default (each holds its own copy of the model).
pub const MAX_DEFAULT_JOBS: usize = 4;

/// Sessions and intra-op threads per session from `--jobs` and `--threads`: by default one
/// single-threaded session per core (up to [`MAX_DEFAULT_JOBS`]), since a one-thread session
/// never waits on its own workers (on 2 cores, SSRNet: 5.94 core-s for 10,000 crops against
/// 6.27 with one two-thread session); `--threads` alone keeps one session with that many.
fn sessions(jobs: Option<usize>, threads: Option<usize>) -> (usize, Option<usize>) {
    let cores = parity_core::backend::cores();
    match (jobs, threads) {
        (None, Some(t)) => (1, Some(t)),
        (jobs, threads) => {
            let jobs = jobs.unwrap_or(cores.min(MAX_DEFAULT_JOBS));
            (jobs, threads.or((jobs > 1).then_some(1)))
        }
    }
}

/// The corpus's batches in order, each with its place: what the sessions take from in turn.
type Batches<'a> = std::iter::Enumerate<std::slice::Chunks<'a, PathBuf>>;

/// What became of one file of a batch.
enum Outcome {
    Age(f32),
    Unreadable(String),
}

/// What a session hands back: a batch's rows in order or the error that ends the run (a backend
/// failure, a bad output), or the error that kept it from loading the model.
enum Finished<'a> {
    Batch(usize, Result<Vec<(&'a PathBuf, Outcome)>>),
    Unloadable(anyhow::Error),
}

/// What every inference session shares: the model, how it is loaded, fed and read.
struct Engine<'a> {
    backend: BackendName,
    model: &'a PathBuf,
    options: &'a parity_core::Options,
    input: &'a str,
    output: &'a str,
    pre: &'a cv_preprocess::Preprocessor,
    /// Whether a session decodes its batch on every core (rayon) rather than on its own thread:
    /// when there are fewer sessions than cores.
    decode_in_parallel: bool,
}

impl Engine<'_> {
    /// One session: loads the model, then runs the batches it takes until there are none, or
    /// until the run has stopped listening (after an error).
    fn serve<'a>(&self, batches: &Mutex<Batches<'a>>, done: &SyncSender<Finished<'a>>) {
        let mut runnable = match crate::parity::prepare(self.backend, self.model, self.options) {
            Ok(runnable) => runnable,
            Err(e) => {
                let _ = done.send(Finished::Unloadable(e));
                return;
            }
        };
        loop {
            // The lock is held only while taking a batch, never while running one.
            let next = batches.lock().ok().and_then(|mut batches| batches.next());
            let Some((index, paths)) = next else { return };
            let decoded = if self.decode_in_parallel {
                paths.par_iter().map(|p| self.pre.load(p)).collect()
            } else {
                paths.iter().map(|p| self.pre.load(p)).collect()
            };
            let result = self.predict(runnable.as_mut(), paths, decoded);
            if done.send(Finished::Batch(index, result)).is_err() {
                return;
            }
        }
    }

    /// A batch's rows: each decoded image's age (the images run as one call), each other file's
    /// error.
    fn predict<'a>(
        &self,
        runnable: &mut dyn parity_core::Runnable,
        paths: &'a [PathBuf],
        decoded: Vec<Result<cv_preprocess::Image, cv_preprocess::Error>>,
    ) -> Result<Vec<(&'a PathBuf, Outcome)>> {
        let mut images = Vec::with_capacity(paths.len());
        let mut errors = Vec::with_capacity(paths.len());
        for image in decoded {
            match image {
                Ok(image) => {
                    images.push(image);
                    errors.push(None);
                }
                Err(e) => errors.push(Some(e.to_string())),
            }
        }
        let first = paths.iter().zip(&errors).find(|(_, e)| e.is_none()).map(|(p, _)| p);
        let mut ages = match first {
            Some(first) => self.ages(runnable, &images, first)?.into_iter(),
            None => Vec::new().into_iter(),
        };
        let rows = paths.iter().zip(errors).map(|(path, error)| match error {
            Some(error) => Ok((path, Outcome::Unreadable(error))),
            None => {
                let age = ages.next().expect("one age per decoded image");
                if !age.is_finite() {
                    bail!("{}: the model produced a non-finite age ({age})", path.display());
                }
                Ok((path, Outcome::Age(age)))
            }
        });
        rows.collect()
    }

    /// The ages of `images` (the first from `first`) as one inference call.
    fn ages(
        &self,
        runnable: &mut dyn parity_core::Runnable,
        images: &[cv_preprocess::Image],
        first: &Path,
    ) -> Result<Vec<f32>> {
        let (tensor, shape) = self.pre.normalize.batch(images)?;
        let feed = NamedTensors::from([(
            self.input.to_owned(),
            Tensor::from_f32(shape.to_vec(), tensor)?,
        )]);
        let result = crate::parity::run_inputs(runnable, &feed).map_err(|e| {
            let what = format!("{} images from {}", images.len(), first.display());
            crate::parity::backend_error(self.backend, self.model, &what, e)
        })?;
        let output = self.output;
        match result.get(output).and_then(|t| t.as_f32()) {
            Some(ages) if ages.len() == images.len() => Ok(ages.to_vec()),
            _ => bail!(
                "{}: output '{output}' is not a float32 tensor with one value per image",
                self.model.display()
            ),
        }
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

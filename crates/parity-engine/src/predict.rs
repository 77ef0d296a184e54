//! `predict`: the age and the interval the original C++ `Age` type reports, for a model with the
//! SSRNet profile, over any number of images.
//!
//! The images stream: `jobs` sessions (one per core by default) take the batches in turn, and
//! each decodes its batch's files, then runs them as one inference call, so every core decodes and
//! infers and no core waits on another (with fewer sessions than cores, a session decodes its batch
//! on every core with rayon). Rows are handed out in path order as soon as their batch is done.
//! Memory holds about one batch of images per session, whatever the corpus size.
//! An image that cannot be read is reported by name and the run goes on; the run is then an
//! error with the count, unless `skip_unreadable`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{SyncSender, sync_channel};

use parity_core::onnx::OnnxModel;
use parity_core::{NamedTensors, Options, Runnable, Tensor};
use rayon::prelude::*;

use crate::corpus::Unreadable;
use crate::error::invalid;
use crate::load::{backend_error, prepare};
use crate::profile::{Profile, ProfileChoice};
use crate::shard::ShardArg;
use crate::sink::{Event, Sink};
use crate::{BackendName, Error, Result};

/// A prediction over images.
#[derive(Debug, Clone)]
pub struct Request {
    /// Files, directories, glob patterns or `@LIST` files ([`crate::corpus::expand`]).
    pub images: Vec<PathBuf>,
    /// The model.
    pub model: PathBuf,
    /// The backend that runs it.
    pub backend: BackendName,
    /// Images per inference call (a model whose batch axis is fixed to 1 runs them one by one).
    pub batch: usize,
    /// Inference sessions running batches at once (default: [`sessions`]).
    pub jobs: Option<usize>,
    /// Intra-op threads of each session (default: [`sessions`]).
    pub threads: Option<usize>,
    /// Go on past unreadable images without failing the run (they are still named and counted).
    pub skip_unreadable: bool,
    /// Only this part of the images (in sorted path order).
    pub shard: Option<ShardArg>,
    /// The model family's profile: it must be one that estimates ages.
    pub profile: ProfileChoice,
}

/// One row of the output, in path order.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    /// An image's age, and its interval ([`crate::profile::ssrnet::age_interval`]).
    Age {
        /// The image.
        image: &'a Path,
        /// The model's age.
        age: f32,
        /// The interval the original `Age` type reports.
        interval: [i64; 2],
    },
    /// An image that could not be read; `why` names it.
    Unreadable {
        /// The image.
        image: &'a Path,
        /// Why, naming the file.
        why: &'a str,
    },
}

/// The most inference sessions `predict` opens by default (each holds its own copy of the model).
pub const MAX_DEFAULT_JOBS: usize = 4;

/// Predicts `request`, each row handed to `row` in path order, each image done an
/// [`Event::Progress`] to `sink`. `Ok` holds the run's error judged after its rows (unreadable
/// images, without `skip_unreadable`); the profile's warnings go to `sink` at the end.
pub fn run<E: From<Error>>(
    request: &Request,
    sink: &dyn Sink,
    row: &mut dyn FnMut(Row<'_>) -> Result<(), E>,
) -> Result<Option<Error>, E> {
    let onnx = OnnxModel::read(&request.model).map_err(Error::from)?;
    let info = onnx.model_info().map_err(Error::from)?;
    let profile = Profile::resolve(request.profile, &onnx, &info, None)?;
    let Some(output) = profile.predicted_output() else {
        return Err(invalid(format!(
            "{}: predict estimates ages with SSRNet models; this model's metadata and signature \
             are not SSRNet's (pass --profile ssrnet if it is one)",
            request.model.display()
        ))
        .into());
    };
    let pre = profile.preprocessor(&info)?;
    let files = files(request)?;
    let (jobs, threads) = sessions(request.jobs, request.threads);
    // Images are decoded between inference calls and beside other sessions: idle threads must
    // not spin.
    let options = Options { shared_cores: true, ..profile.options(threads) };
    let engine = Engine {
        backend: request.backend,
        model: &request.model,
        options: &options,
        input: &info.inputs[0].name,
        output,
        pre: &pre,
        decode_in_parallel: jobs < parity_core::backend::cores(),
        sink,
    };
    sink.event(Event::Planned(files.len() as u64));
    let mut unreadable = Unreadable::new(sink);
    let mut rows = Rows { total: files.len(), unreadable: &mut unreadable, row };
    engine.run_all(&files, request.batch, jobs, &mut rows)?;
    let error = unreadable.verdict(files.len(), request.skip_unreadable, "").err();
    for warning in profile.warnings(&onnx) {
        sink.event(Event::Warning(&warning));
    }
    Ok(error)
}

/// The request's images: its corpus, expanded and sorted, or the shard's part of it.
fn files(request: &Request) -> Result<Vec<PathBuf>> {
    let files = crate::corpus::expand_all(&request.images)?;
    let Some(shard) = request.shard.map(ShardArg::resolve).transpose()? else {
        return Ok(files);
    };
    Ok(shard.select(files.len()).into_iter().map(|i| files[i].clone()).collect())
}

/// Sessions and intra-op threads per session from `jobs` and `threads`: by default one
/// single-threaded session per core (up to [`MAX_DEFAULT_JOBS`]), since a one-thread session
/// never waits on its own workers (on 2 cores, SSRNet: 5.94 core-s for 10,000 crops against
/// 6.27 with one two-thread session); `threads` alone keeps one session with that many.
pub fn sessions(jobs: Option<usize>, threads: Option<usize>) -> (usize, Option<usize>) {
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

/// A batch's files and what became of each, in order.
type BatchRows<'a> = Vec<(&'a PathBuf, Outcome)>;

/// What a session hands back: a batch's rows in order or the error that ends the run (a backend
/// failure, a bad output), or the error that kept it from loading the model.
enum Finished<'a> {
    Batch(usize, Result<BatchRows<'a>>),
    Unloadable(Error),
}

/// Where the rows go, in order: the caller's callback, the unreadable ones noted too.
struct Rows<'r, 's, E> {
    total: usize,
    unreadable: &'r mut Unreadable<'s>,
    row: &'r mut dyn FnMut(Row<'_>) -> Result<(), E>,
}

impl<E: From<Error>> Rows<'_, '_, E> {
    /// One file's row.
    fn put(&mut self, path: &Path, outcome: Outcome) -> Result<(), E> {
        match outcome {
            Outcome::Age(age) => {
                let interval = crate::profile::ssrnet::age_interval(age);
                (self.row)(Row::Age { image: path, age, interval })
            }
            // One image named alone: its error is the run's one error line.
            Outcome::Unreadable(error) if self.total == 1 => Err(invalid(error).into()),
            Outcome::Unreadable(error) => {
                let named = path.display().to_string();
                let why = if error.contains(&named) { error } else { format!("{named}: {error}") };
                self.unreadable.note(&why);
                (self.row)(Row::Unreadable { image: path, why: &why })
            }
        }
    }
}

/// What every inference session shares: the model, how it is loaded, fed and read.
struct Engine<'a> {
    backend: BackendName,
    model: &'a Path,
    options: &'a Options,
    input: &'a str,
    output: &'a str,
    pre: &'a cv_preprocess::Preprocessor,
    /// Whether a session decodes its batch on every core (rayon) rather than on its own thread:
    /// when there are fewer sessions than cores.
    decode_in_parallel: bool,
    sink: &'a dyn Sink,
}

impl Engine<'_> {
    /// Every file, `batch` a call, on `jobs` sessions; rows to `rows` in the corpus's order.
    fn run_all<E: From<Error>>(
        &self,
        files: &[PathBuf],
        batch: usize,
        jobs: usize,
        rows: &mut Rows<'_, '_, E>,
    ) -> Result<(), E> {
        // Sessions take the next batch in turn; each decodes its own batch, then runs it.
        let batches = Mutex::new(files.chunks(batch).enumerate());
        std::thread::scope(|scope| -> Result<(), E> {
            let (done_tx, done_rx) = sync_channel(jobs);
            for _ in 0..jobs {
                let (batches, done) = (&batches, done_tx.clone());
                scope.spawn(move || self.serve(batches, &done));
            }
            drop(done_tx);
            // Batches finish out of order across sessions; rows go out in the corpus's order.
            let mut finished = BTreeMap::new();
            let mut next = 0;
            for report in done_rx {
                match report {
                    Finished::Batch(index, result) => finished.insert(index, result),
                    Finished::Unloadable(e) => return Err(e.into()),
                };
                while let Some(result) = finished.remove(&next) {
                    next += 1;
                    let batch_rows = result?;
                    self.sink.event(Event::Progress(batch_rows.len() as u64));
                    for (path, outcome) in batch_rows {
                        rows.put(path, outcome)?;
                    }
                }
            }
            Ok(())
        })
    }

    /// One session: loads the model, then runs the batches it takes until there are none, or
    /// until the run has stopped listening (after an error).
    fn serve<'a>(&self, batches: &Mutex<Batches<'a>>, done: &SyncSender<Finished<'a>>) {
        let mut runnable = match prepare(self.backend, self.model, self.options, self.sink) {
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
        runnable: &mut dyn Runnable,
        paths: &'a [PathBuf],
        decoded: Vec<Result<cv_preprocess::Image, cv_preprocess::Error>>,
    ) -> Result<BatchRows<'a>> {
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
        runnable: &mut dyn Runnable,
        images: &[cv_preprocess::Image],
        first: &Path,
    ) -> Result<Vec<f32>> {
        let (tensor, shape) = self.pre.normalize.batch(images)?;
        let feed = NamedTensors::from([(
            self.input.to_owned(),
            Tensor::from_f32(shape.to_vec(), tensor)?,
        )]);
        let result = crate::batch::run_inputs(runnable, &feed).map_err(|e| {
            let what = format!("{} images from {}", images.len(), first.display());
            backend_error(self.backend, self.model, &what, e)
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

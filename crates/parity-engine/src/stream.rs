//! Cases streamed through several backends at once by a pool of workers: the reader puts the
//! cases up a chunk at a time (on the board of `schedule.rs`), and each worker takes any backend's
//! next chunk, runs it on one of that backend's instances and compares it, so every core stays
//! busy until the last case of the slowest backend. Only the comparisons are kept, folded in case
//! order per backend, so the report is the one a sequential run gives; the reports of failed cases
//! are kept (every case's with [`Comparison::keep_all`]). Memory holds at most two chunks per
//! worker, and each backend's instances, whatever the number of cases.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use parity_core::compare::{CaseReport, CompareOptions, Summary, Tolerances, compare_outputs};
use parity_core::{NamedTensors, Options, Runnable};

use crate::batch::{Batch, Batcher, run_inputs};
use crate::load::{backend_error, prepare};
use crate::report::SideReport;
use crate::schedule::{Board, Chunk, Task, lock};
use crate::sink::{Event, Sink};
use crate::{BackendName, Error};

/// Cases a chunk holds at least (rounded up to whole batches): enough that taking a chunk costs
/// little beside running it, few enough that the last chunks spread over every worker.
pub const CHUNK_CASES: usize = 8;

/// Chunks the board holds per worker: a case stays in memory until every backend has run it.
pub const CHUNKS_PER_WORKER: usize = 2;

/// Models up to this size (the file's bytes) get an instance per worker on every backend; a
/// larger one one instance per backend, so that memory holds each backend's weights once.
pub const SHARED_INSTANCE_LIMIT: u64 = 256 << 20;

/// One case: its name, the inputs, the expected outputs.
#[derive(Clone)]
pub struct StreamCase {
    /// The case's name.
    pub name: String,
    /// Every model input by name.
    pub inputs: NamedTensors,
    /// The outputs it should give, by name.
    pub expected: NamedTensors,
}

/// How a run's work is spread: workers at once, cases per inference call.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    /// Workers at once, each running a chunk of cases on one backend instance.
    pub workers: usize,
    /// Cases per inference call where the model's batch axis allows.
    pub batch: Batch,
}

impl Spread {
    /// `batch` cases a call, and `jobs` workers (default: one per core, or the cores divided by
    /// the intra-op `threads` asked for; at least one).
    pub fn new(jobs: Option<usize>, threads: Option<usize>, batch: Batch) -> Spread {
        let cores = parity_core::backend::cores();
        Spread { workers: jobs.unwrap_or(cores / threads.unwrap_or(1)).max(1), batch }
    }

    /// The intra-op threads of each instance: `threads` when asked for, else one when several
    /// workers share the cores (a one-thread instance per core runs small cases faster than
    /// instances whose threads contend), else the backend's choice.
    pub fn threads(&self, threads: Option<usize>) -> Option<usize> {
        threads.or((self.workers > 1).then_some(1))
    }

    /// Cases a chunk holds: [`CHUNK_CASES`] rounded up to whole batches.
    fn chunk_len(&self) -> usize {
        let most = self.batch.most();
        CHUNK_CASES.div_ceil(most) * most
    }
}

/// How the cases are compared, and what is kept of them.
#[derive(Clone, Copy)]
pub struct Comparison<'a> {
    /// Per output, the tolerance.
    pub tolerances: &'a Tolerances,
    /// How NaN compares.
    pub options: CompareOptions,
    /// Keep every case's report (a shard's report), not only the failed ones.
    pub keep_all: bool,
    /// A backend whose runtime refuses to load the model is skipped, not an error: the backends
    /// are the default set, not ones the user named.
    pub skip_refused: bool,
}

/// Why a backend stopped before its last case.
enum Stopped {
    /// Its runtime refused the model: it could not load it (with the model's ops it lacks), or
    /// failed on the first case it ran.
    Refused(Error, Vec<String>),
    /// It failed on a case.
    Failed(Error),
}

/// What running a chunk on a backend gave: a report per case up to the first error, if any.
struct Outcome {
    reports: Vec<CaseReport>,
    error: Option<Error>,
}

/// A backend's comparisons folded in case order as its chunks come back, in any order: the
/// summaries, the failed cases' reports, with [`Comparison::keep_all`] every case's report, or
/// why it stopped.
struct Fold {
    summary: Summary,
    failures: Vec<CaseReport>,
    all: Option<Vec<CaseReport>>,
    /// Cases folded.
    compared: usize,
    /// The next chunk to fold.
    next: usize,
    /// Chunks back before the ones ahead of them.
    waiting: BTreeMap<usize, Outcome>,
    stopped: Option<Stopped>,
}

impl Fold {
    fn new(keep_all: bool) -> Fold {
        Fold {
            summary: Summary::default(),
            failures: Vec::new(),
            all: keep_all.then(Vec::new),
            compared: 0,
            next: 0,
            waiting: BTreeMap::new(),
            stopped: None,
        }
    }

    /// Chunk `index`'s outcome; every chunk now in order is folded, each case an
    /// [`Event::Case`] and an [`Event::Progress`] to `sink`. Past the first error, nothing is.
    fn put(&mut self, index: usize, outcome: Outcome, backend: BackendName, sink: &dyn Sink) {
        self.waiting.insert(index, outcome);
        while self.stopped.is_none()
            && let Some(outcome) = self.waiting.remove(&self.next)
        {
            self.next += 1;
            for report in outcome.reports {
                self.summary.add(&report);
                self.compared += 1;
                sink.event(Event::Case { backend, report: &report });
                if let Some(all) = &mut self.all {
                    all.push(report.clone());
                }
                if !report.pass {
                    self.failures.push(report);
                }
                sink.event(Event::Progress(1));
            }
            if let Some(e) = outcome.error {
                // Failing before any case ran is the runtime refusing the model (candle-onnx
                // names an unsupported op variant only when it evaluates the node).
                let refused = self.compared == 0;
                self.stopped = Some(if refused {
                    Stopped::Refused(e, Vec::new())
                } else {
                    Stopped::Failed(e)
                });
            }
        }
        if self.stopped.is_some() {
            self.waiting.clear();
        }
    }

    /// The backend's side of the report.
    fn side(self, backend: BackendName, skip_refused: bool) -> SideReport {
        let name = backend.as_str();
        match self.stopped {
            None => {
                let mut side = SideReport::from_parts(name, self.summary.finish(), self.failures);
                side.case_reports = self.all;
                side
            }
            Some(Stopped::Refused(e, lacking)) if skip_refused => {
                SideReport { unsupported_ops: lacking, ..SideReport::skipped(name, e.to_string()) }
            }
            Some(Stopped::Refused(e, lacking)) => SideReport {
                unsupported_ops: lacking,
                ..SideReport::from_error(name, e.to_string())
            },
            Some(Stopped::Failed(e)) => SideReport::from_error(name, e.to_string()),
        }
    }
}

/// What every worker of a run shares.
struct Job<'a> {
    backends: &'a [BackendName],
    model: &'a Path,
    options: &'a Options,
    /// Per backend, how its cases share calls.
    batchers: Vec<Batcher>,
    comparison: Comparison<'a>,
    sink: &'a dyn Sink,
    board: Board,
    folds: Vec<Mutex<Fold>>,
}

/// Runs cases `0..count` (made by `read` on this thread, in order; `None` skips one) on every
/// backend, `spread.workers` workers taking chunks of them, `spread.batch` cases to a call, each
/// case on each backend reported to `sink`. Each backend's instances run with `options` (the
/// caller sets their threads, [`Spread::threads`]). Returns each backend's side of the report:
/// what its comparisons left (summaries and failed cases), or the error that stopped it (a
/// backend that cannot load or run a case stops, the others go on; one that cannot load is
/// skipped instead with [`Comparison::skip_refused`]); an error from `read` (an unreadable case)
/// ends the whole run. Each compared case is an [`Event::Case`] and an [`Event::Progress`] of one
/// to `sink`, in case order per backend, after an [`Event::Planned`] of every backend's cases.
#[allow(clippy::too_many_arguments)]
pub fn run_backends<E: Send>(
    backends: &[BackendName],
    model: &Path,
    options: &Options,
    count: usize,
    read: &mut dyn FnMut(usize) -> Result<Option<StreamCase>, E>,
    spread: Spread,
    comparison: Comparison<'_>,
    sink: &dyn Sink,
) -> Result<Vec<SideReport>, E> {
    sink.event(Event::Planned((backends.len() * count) as u64));
    let small = std::fs::metadata(model).is_ok_and(|m| m.len() <= SHARED_INSTANCE_LIMIT);
    let per_backend = if small { spread.workers } else { 1 };
    let window = CHUNKS_PER_WORKER * spread.workers;
    let job = Job {
        backends,
        model,
        options,
        batchers: backends.iter().map(|_| Batcher::new(spread.batch)).collect(),
        comparison,
        sink,
        board: Board::new(backends.len(), window, per_backend),
        folds: backends.iter().map(|_| Mutex::new(Fold::new(comparison.keep_all))).collect(),
    };
    std::thread::scope(|scope| {
        for _ in 0..spread.workers {
            scope.spawn(|| work(&job));
        }
        let fed = feed(&job.board, count, spread.chunk_len(), read);
        job.board.close(fed.is_err());
        fed
    })?;
    let folds = job.folds.into_iter().map(|f| f.into_inner().unwrap_or_else(|p| p.into_inner()));
    let sides = backends.iter().zip(folds);
    Ok(sides.map(|(&backend, fold)| fold.side(backend, comparison.skip_refused)).collect())
}

/// Reads cases `0..count` and puts them up `chunk` at a time, until every backend has stopped.
fn feed<E>(
    board: &Board,
    count: usize,
    chunk: usize,
    read: &mut dyn FnMut(usize) -> Result<Option<StreamCase>, E>,
) -> Result<(), E> {
    let mut cases = Vec::with_capacity(chunk);
    for i in 0..count {
        // A case the reader skipped (an unreadable image it noted) is not put up.
        if let Some(case) = read(i)? {
            cases.push(Arc::new(case));
        }
        let last = i + 1 == count;
        if (cases.len() == chunk || last && !cases.is_empty())
            && !board.put(std::mem::take(&mut cases))
        {
            break;
        }
    }
    Ok(())
}

/// A worker: takes tasks from the board until the run is over.
fn work(job: &Job<'_>) {
    let mut last = None;
    while let Some(task) = job.board.take(last) {
        last = Some(match task {
            Task::Load(b) => {
                load(job, b);
                b
            }
            Task::Run { backend, chunk, instance } => {
                run(job, backend, &chunk, instance);
                backend
            }
        });
    }
}

/// Loads backend `b`'s first instance; a refusal stops it, with the model's ops it lacks.
fn load(job: &Job<'_>, b: usize) {
    let backend = job.backends[b];
    match prepare(backend, job.model, job.options, job.sink) {
        Ok(instance) => job.board.loaded(b, Some(instance)),
        Err(e) => {
            let lacking = lacking(backend, job.model);
            lock(&job.folds[b]).stopped = Some(Stopped::Refused(e, lacking));
            job.board.loaded(b, None);
        }
    }
}

/// Runs `chunk` on backend `b`'s `instance` (or a new one), then folds its comparisons.
fn run(job: &Job<'_>, b: usize, chunk: &Chunk, instance: Option<Box<dyn Runnable>>) {
    let backend = job.backends[b];
    let instance = match instance {
        Some(instance) => Ok(instance),
        // Another instance of a backend already loaded: its warnings were given with the first.
        None => prepare(backend, job.model, job.options, &crate::sink::Quiet),
    };
    let (instance, outcome) = match instance {
        Ok(mut instance) => {
            let outcome =
                parity_core::panic::catch(|| compare_chunk(job, b, instance.as_mut(), chunk))
                    .unwrap_or_else(|panic| Outcome {
                        reports: Vec::new(),
                        error: Some(Error::Backend(format!(
                            "{}: {}: {panic}",
                            backend.as_str(),
                            job.model.display()
                        ))),
                    });
            (Some(instance), outcome)
        }
        Err(e) => (None, Outcome { reports: Vec::new(), error: Some(e) }),
    };
    job.board.ran(b, chunk.index, instance, outcome.error.is_some());
    lock(&job.folds[b]).put(chunk.index, outcome, backend, job.sink);
}

/// The chunk's cases through `runnable`, `batch` to a call, each compared with its expected
/// outputs; a case the backend fails ends the chunk.
fn compare_chunk(job: &Job<'_>, b: usize, runnable: &mut dyn Runnable, chunk: &Chunk) -> Outcome {
    let comparison = &job.comparison;
    let mut reports = Vec::with_capacity(chunk.cases.len());
    let batcher = &job.batchers[b];
    for group in chunk.cases.chunks(batcher.most()) {
        let inputs: Vec<&NamedTensors> = group.iter().map(|case| &case.inputs).collect();
        let outputs = batcher.run(runnable, &inputs, comparison.tolerances);
        for (case, actual) in group.iter().zip(outputs) {
            let actual = match actual {
                Ok(actual) => actual,
                Err(e) => {
                    let what = format!("case {}", case.name);
                    let error = backend_error(job.backends[b], job.model, &what, e);
                    return Outcome { reports, error: Some(error) };
                }
            };
            let (tolerances, options) = (comparison.tolerances, comparison.options);
            let compare = |actual: &NamedTensors| {
                compare_outputs(&case.name, actual, &case.expected, tolerances, options)
            };
            let mut report = compare(&actual);
            // A case failing in a call `--batch auto` chose is run again alone: a mismatch it
            // reports is never the batching's.
            if !report.pass
                && group.len() > 1
                && batcher.auto_batched()
                && let Ok(alone) = run_inputs(runnable, &case.inputs)
            {
                report = compare(&alone);
            }
            reports.push(report);
        }
    }
    Outcome { reports, error: None }
}

/// The ops of `model` that `backend`'s runtime lacks (none when it cannot tell), asked on the
/// worker that saw the backend refuse it, so the report says what it cannot run.
fn lacking(backend: BackendName, model: &Path) -> Vec<String> {
    backend.runtime().unsupported_ops(model).unwrap_or_default()
}

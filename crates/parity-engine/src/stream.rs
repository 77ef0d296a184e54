//! Cases streamed through several backends at once: one reader hands each case to every backend
//! of a wave, each backend runs and compares it on its own thread, and only the comparison is
//! kept. Memory holds at most [`QUEUE`] cases per backend, and the batch it runs, whatever the
//! number of cases; backends run `jobs` at a time, `batch` cases to an inference call. Each backend
//! sees the cases in order, so the report is the one a sequential run gives. Of each case only its
//! comparison is folded into a running summary; the reports of failed cases are kept (every
//! case's with [`Comparison::keep_all`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use parity_core::compare::{
    CaseReport, CompareOptions, OutputSummary, Summary, Tolerances, compare_outputs,
};
use parity_core::{NamedTensors, Options};

use crate::batch::run_together;
use crate::load::{backend_error, prepare};
use crate::report::SideReport;
use crate::sink::{Event, Sink};
use crate::{BackendName, Error};

/// Cases waiting per backend (read ahead of the slowest backend of a wave).
pub const QUEUE: usize = 4;

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

/// How a run's work is spread: backends at once, cases per inference call.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    /// Backends run at once (in waves of this many).
    pub jobs: usize,
    /// Cases per inference call where the model's batch axis allows.
    pub batch: usize,
}

impl Spread {
    /// `batch` cases a call, and `jobs` backends of `backends` at once: all of them when there is
    /// more than one core (measured on SSRNet with 4 backends on 2 cores: all four at once beat two
    /// waves of two, since loading dominates and the backends differ in speed), else one; at most
    /// `backends`, at least one.
    pub fn new(jobs: Option<usize>, backends: usize, batch: usize) -> Spread {
        let default = if parity_core::backend::cores() > 1 { backends } else { 1 };
        Spread { jobs: jobs.unwrap_or(default).min(backends).max(1), batch }
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

/// What a backend's run over the cases leaves: the summaries, the failed cases' reports, and
/// with [`Comparison::keep_all`] every case's report.
struct Compared {
    outputs: Vec<OutputSummary>,
    failures: Vec<CaseReport>,
    all: Option<Vec<CaseReport>>,
}

/// Why a backend stopped before its last case.
enum Stopped {
    /// Its runtime refused the model: it could not load it (with the model's ops it lacks), or
    /// failed on the first case it ran.
    Refused(Error, Vec<String>),
    /// It failed on a case.
    Failed(Error),
}

/// Runs cases `0..count` (made by `read` on this thread, in order, once per wave; `None` skips
/// one) on every backend, `spread.jobs` backends at a time and `spread.batch` cases to a call,
/// each case on each backend reported to `sink`. Returns each backend's side of the report: what its
/// comparisons left (summaries and failed cases), or the error that stopped it (a backend that cannot load or
/// run a case stops, the others go on; one that cannot load is skipped instead with
/// [`Comparison::skip_refused`]); an error from `read` (an unreadable case) ends the whole run.
/// Each compared case is an [`Event::Case`] and an [`Event::Progress`] of one to `sink`, after an
/// [`Event::Planned`] of every backend's cases.
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
    let mut results: Vec<Option<Result<Compared, Stopped>>> =
        backends.iter().map(|_| None).collect();
    let order: Vec<usize> = (0..backends.len()).collect();
    for wave in order.chunks(spread.jobs.max(1)) {
        std::thread::scope(|scope| -> Result<(), E> {
            let mut senders: Vec<Option<SyncSender<Arc<StreamCase>>>> = Vec::new();
            let mut workers = Vec::new();
            for &b in wave {
                let (tx, rx) = sync_channel(QUEUE);
                senders.push(Some(tx));
                let backend = backends[b];
                workers.push(scope.spawn(move || {
                    worker(backend, model, options, rx, spread.batch, comparison, sink)
                }));
            }
            let mut read_error = None;
            for i in 0..count {
                if senders.iter().all(Option::is_none) {
                    break;
                }
                match read(i) {
                    // A case the reader skipped (an unreadable image it noted).
                    Ok(None) => {}
                    Ok(Some(case)) => {
                        let case = Arc::new(case);
                        for slot in &mut senders {
                            // A backend that stopped (its error is its result) takes no more.
                            if slot.as_ref().is_some_and(|tx| tx.send(Arc::clone(&case)).is_err()) {
                                *slot = None;
                            }
                        }
                    }
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                }
            }
            drop(senders);
            for (worker, &b) in workers.into_iter().zip(wave) {
                let result = worker.join().unwrap_or_else(|_| {
                    Err(Stopped::Failed(Error::Backend(format!(
                        "{}: {}: the backend thread panicked",
                        backends[b].as_str(),
                        model.display()
                    ))))
                });
                results[b] = Some(result);
            }
            read_error.map_or(Ok(()), Err)
        })?;
    }
    let sides = backends.iter().zip(results).map(|(backend, result)| {
        match result.expect("every wave ran") {
            Ok(compared) => {
                let mut side =
                    SideReport::from_parts(backend.as_str(), compared.outputs, compared.failures);
                side.case_reports = compared.all;
                side
            }
            Err(Stopped::Refused(e, lacking)) if comparison.skip_refused => SideReport {
                unsupported_ops: lacking,
                ..SideReport::skipped(backend.as_str(), e.to_string())
            },
            Err(Stopped::Refused(e, lacking)) => SideReport {
                unsupported_ops: lacking,
                ..SideReport::from_error(backend.as_str(), e.to_string())
            },
            Err(Stopped::Failed(e)) => SideReport::from_error(backend.as_str(), e.to_string()),
        }
    });
    Ok(sides.collect())
}

/// The ops of `model` that `backend`'s runtime lacks (none when it cannot tell), asked on the
/// backend's own thread once it has refused the model, so the report says what it cannot run.
fn lacking(backend: BackendName, model: &Path) -> Vec<String> {
    backend.runtime().unsupported_ops(model).unwrap_or_default()
}

fn worker(
    backend: BackendName,
    model: &Path,
    options: &Options,
    cases: Receiver<Arc<StreamCase>>,
    batch: usize,
    comparison: Comparison<'_>,
    sink: &dyn Sink,
) -> Result<Compared, Stopped> {
    let mut runnable = prepare(backend, model, options, sink)
        .map_err(|e| Stopped::Refused(e, lacking(backend, model)))?;
    let mut summary = Summary::default();
    let mut failures = Vec::new();
    let mut all = comparison.keep_all.then(Vec::new);
    let mut compared = 0usize;
    let mut cases = cases.into_iter().peekable();
    while cases.peek().is_some() {
        let group: Vec<Arc<StreamCase>> = cases.by_ref().take(batch).collect();
        let inputs: Vec<&NamedTensors> = group.iter().map(|case| &case.inputs).collect();
        let outputs = run_together(runnable.as_mut(), &inputs);
        for (case, actual) in group.iter().zip(outputs) {
            let actual = actual.map_err(|e| {
                let e = backend_error(backend, model, &format!("case {}", case.name), e);
                // Failing before any case ran is the runtime refusing the model (candle-onnx
                // names an unsupported op variant only when it evaluates the node).
                if compared == 0 { Stopped::Refused(e, Vec::new()) } else { Stopped::Failed(e) }
            })?;
            let report = compare_outputs(
                &case.name,
                &actual,
                &case.expected,
                comparison.tolerances,
                comparison.options,
            );
            summary.add(&report);
            compared += 1;
            sink.event(Event::Case { backend, report: &report });
            if let Some(all) = &mut all {
                all.push(report.clone());
            }
            if !report.pass {
                failures.push(report);
            }
            sink.event(Event::Progress(1));
        }
    }
    Ok(Compared { outputs: summary.finish(), failures, all })
}

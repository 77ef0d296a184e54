//! `diff OLD NEW`: regression after a re-export - the same inputs through both models on one
//! backend; NEW is held to OLD's outputs, and the profile adds its task findings (SSRNet: samples
//! whose age interval changed).
//!
//! The inputs are read a chunk at a time on every core ([`crate::read_ahead`]) on a thread of
//! their own, and each case runs through both models, side by side on a thread each, before the
//! next; the outputs are kept for the findings. An unreadable image of a corpus is named and the
//! run goes on. NEW's outputs and inputs are paired with OLD's by name, by position or by the
//! user's map ([`crate::pairing`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use parity_core::compare::Tolerances;
use parity_core::onnx::OnnxModel;
use parity_core::{IoInfo, NamedTensors, Options, Tolerance};

use crate::batch::{compare_cases, run_inputs};
use crate::corpus::Unreadable;
use crate::error::{invalid, stop_point};
use crate::inputs::Source;
use crate::load::{backend_error, prepare};
use crate::pairing::{By, Pairing};
use crate::profile::{Profile, ProfileChoice};
use crate::report::{Concluded, ParityReport, SideReport};
use crate::settings::Criteria;
use crate::sink::{Event, Sink};
use crate::{BackendName, Error, Result};

/// A regression check of NEW against OLD.
#[derive(Debug, Clone)]
pub struct Request {
    /// The earlier export: its outputs are taken as expected.
    pub old: PathBuf,
    /// The new export.
    pub new: PathBuf,
    /// Where the cases come from.
    pub source: Source,
    /// Go on past images of a corpus that cannot be read (still named and counted).
    pub skip_unreadable: bool,
    /// The backend that runs both models.
    pub backend: BackendName,
    /// What NEW's outputs are held to, named by OLD's outputs.
    pub criteria: Criteria,
    /// Intra-op threads per model (default 1: the models run side by side).
    pub threads: Option<usize>,
    /// The model family's profile (OLD's).
    pub profile: ProfileChoice,
    /// `OLD=NEW` output pairs (else by name, else by position).
    pub output_map: Vec<String>,
    /// `OLD=NEW` input pairs (else by name, else by position).
    pub input_map: Vec<String>,
}

/// Runs `request`; each case read is an [`Event::Progress`] to `sink`, each unreadable image an
/// event too.
pub fn run(request: &Request, sink: &dyn Sink) -> Result<Concluded> {
    let old = OnnxModel::read(&request.old)?;
    let old_info = old.model_info()?;
    let new_info = OnnxModel::read(&request.new)?.model_info()?;
    let profile = Profile::resolve(request.profile, &old, &old_info, None)?;
    // The two models run side by side while the reader decodes: one intra-op thread each unless
    // asked, never spinning.
    let threads = Some(request.threads.unwrap_or(1));
    let options = Options { shared_cores: true, ..profile.options(threads) };
    let inputs = pairing(request, "inputs", &old_info.inputs, &new_info.inputs)?;
    let outputs = pairing(request, "outputs", &old_info.outputs, &new_info.outputs)?;
    let source = request.source.open(&old_info, &profile)?;
    // Tolerances name OLD's outputs: NEW's are compared under OLD's names.
    let tols = request.criteria.tolerances(Tolerances::uniform(Tolerance::DEFAULT), &old_info)?;
    let mut unreadable = Unreadable::new(sink);
    let pairs = Pairs { inputs: &inputs, outputs: &outputs };
    let runs = run_both(request, &options, &source, pairs, &mut unreadable, sink)?;
    let reports =
        compare_cases(&runs.names, &runs.actual, &runs.expected, &tols, request.criteria.options());
    let label = format!("{} ({})", request.new.display(), request.backend.as_str());
    let mut report = ParityReport::new(
        "diff",
        request.new.display().to_string(),
        format!("{} on {}", request.old.display(), source.what),
        runs.names.len(),
        profile.name(),
        vec![SideReport::from_cases(&label, reports)],
    );
    for (key, pairing) in [("input_pairing", &inputs), ("output_pairing", &outputs)] {
        if pairing.by != By::Name {
            let value = serde_json::to_value(pairing).map_err(|e| invalid(e.to_string()))?;
            report.extra.insert(key.into(), value);
        }
    }
    if let Some((key, finding)) = profile.findings(&runs.names, &runs.expected, &runs.actual) {
        report.extra.insert(key.into(), finding);
    }
    report.pairs = crate::samples::pairs(&runs.names, &runs.expected, &runs.actual, &tols);
    let error = unreadable.verdict(source.len(), request.skip_unreadable, "").err();
    Ok(Concluded { report, error })
}

/// NEW's `what` paired with OLD's ([`crate::pairing`]), the models named in the error.
fn pairing(request: &Request, what: &str, old: &[IoInfo], new: &[IoInfo]) -> Result<Pairing> {
    let map = if what == "inputs" { &request.input_map } else { &request.output_map };
    let flag = format!("--{}-map", what.trim_end_matches('s'));
    let map = crate::pairing::parse_map(map, &flag)?;
    crate::pairing::pair(what, old, new, &map).map_err(|e| {
        invalid(format!("{} vs {}: {e}", request.old.display(), request.new.display()))
    })
}

/// How NEW's inputs and outputs stand for OLD's.
#[derive(Clone, Copy)]
struct Pairs<'a> {
    inputs: &'a Pairing,
    outputs: &'a Pairing,
}

/// Every case's name and both models' outputs (NEW's under OLD's names), in order.
#[derive(Default)]
struct Runs {
    names: Vec<String>,
    expected: Vec<NamedTensors>,
    actual: Vec<NamedTensors>,
}

/// Every case of `source` through OLD and NEW, each model on a thread of its own.
fn run_both(
    request: &Request,
    options: &Options,
    source: &crate::inputs::CaseSource<'_>,
    pairs: Pairs<'_>,
    unreadable: &mut Unreadable<'_>,
    sink: &dyn Sink,
) -> Result<Runs> {
    let mut runs = Runs::default();
    let positions: Vec<usize> = (0..source.len()).collect();
    sink.event(Event::Planned(source.len() as u64));
    std::thread::scope(|scope| -> Result<()> {
        let cases = crate::read_ahead::in_background(scope, source.ahead(&positions));
        let old = Side::spawn(scope, request.backend, &request.old, options, sink);
        let new = Side::spawn(scope, request.backend, &request.new, options, sink);
        for read in cases {
            stop_point(sink)?;
            sink.event(Event::Progress(1));
            // An image of a corpus that cannot be read is named, and the run goes on.
            let Some(case) = source.noted(read, unreadable)? else { continue };
            let name: Arc<str> = Arc::from(case.name.as_str());
            let old_inputs = Arc::new(case.inputs);
            let new_inputs = match pairs.inputs.renames() {
                true => Arc::new(pairs.inputs.to_new(&old_inputs)),
                false => Arc::clone(&old_inputs),
            };
            old.send((Arc::clone(&name), old_inputs));
            new.send((Arc::clone(&name), new_inputs));
            runs.expected.push(old.receive()?);
            let got = new.receive()?;
            runs.actual.push(if pairs.outputs.renames() {
                pairs.outputs.to_old(&got)
            } else {
                got
            });
            runs.names.push(case.name);
        }
        // A model that could not load says so even when no case was read.
        old.finish()?;
        new.finish()
    })?;
    Ok(runs)
}

/// A case as a side runs it: its name and its inputs, keyed by that side's input names.
type SideCase = (Arc<str>, Arc<NamedTensors>);

/// One model on its own thread: cases in, its outputs (or the error that stopped it) out, in order.
struct Side {
    cases: SyncSender<SideCase>,
    outputs: Receiver<Result<NamedTensors>>,
}

impl Side {
    fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        backend: BackendName,
        model: &'scope Path,
        options: &'scope Options,
        sink: &'scope dyn Sink,
    ) -> Side {
        let (cases, to_run) = sync_channel::<SideCase>(1);
        let (done, outputs) = sync_channel(1);
        scope.spawn(move || {
            let mut runnable = match prepare(backend, model, options, sink) {
                Ok(r) => r,
                Err(e) => {
                    let _ = done.send(Err(e));
                    return;
                }
            };
            for (name, inputs) in to_run {
                let out = run_inputs(runnable.as_mut(), &inputs)
                    .map_err(|e| backend_error(backend, model, &format!("case {name}"), e));
                if done.send(out).is_err() {
                    break;
                }
            }
        });
        Side { cases, outputs }
    }

    /// Hands the side a case (a side that stopped has its error waiting in [`Side::receive`]).
    fn send(&self, case: SideCase) {
        let _ = self.cases.send(case);
    }

    fn receive(&self) -> Result<NamedTensors> {
        self.outputs.recv().unwrap_or_else(|_| Err(invalid("the backend thread stopped")))
    }

    /// Ends the side: an error it still holds (it could not load) is the result.
    fn finish(self) -> Result<(), Error> {
        drop(self.cases);
        match self.outputs.recv() {
            Ok(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

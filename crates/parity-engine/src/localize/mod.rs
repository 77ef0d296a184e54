//! `localize`: where two runs of a model part, node by node.
//!
//! Three comparisons, on one input case:
//! - **backends against a reference backend** (default: every backend against ort), on one model;
//! - **two exports on each backend** ([`Request::against`]): B's values are expected, A's are under test,
//!   and A's values are paired with B's by [`parity_graph::align`] (names may differ);
//! - **A on each backend against PyTorch** (a golden set whose cases hold PyTorch's intermediate
//!   values, [`pytorch`]).
//!
//! For every value, in topological order: the *cumulative* error (the whole graph run, every
//! value read out: [`mod@trace`]) and the *isolated* error (the node run alone on the expected
//! values of its inputs: [`parity_graph::cut`]; where an input has no expected value, as between
//! PyTorch's module outputs, the nodes computing it from expected values run with it). The
//! verdict: the first node whose isolated error exceeds the tolerance is the **culprit**; if none
//! does, the first value whose cumulative error exceeds it marks an
//! **accumulation**; else **none**.

mod isolate;
mod model;
pub mod pytorch;
pub mod report;
mod repro;
pub mod trace;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use parity_core::onnx::OnnxModel;
use parity_core::{ModelInfo, NamedTensors, Options, Tolerance};

use self::model::Model;
use self::report::{Aligned, LocalizeVerdict, Metrics, NodeRow, Report, Run, Timing};
use self::trace::{Trace, trace};
use crate::BackendName;
use crate::error::invalid;
use crate::inputs::Source;
use crate::profile::{Profile, ProfileChoice};
use crate::sink::{Event, Sink};
use crate::{Error, Result};

/// What to localize, and how.
#[derive(Debug, Clone)]
pub struct Request {
    /// The model under test (A).
    pub model: PathBuf,
    /// Another export of the same model, taken as expected: A and B compared on each backend.
    pub against: Option<PathBuf>,
    /// The backends named by the user; empty: every backend (without `against`, all but the
    /// reference), those whose runtime cannot run the model skipped.
    pub backends: Vec<BackendName>,
    /// The backend whose values are expected (without `against` or PyTorch's intermediates).
    pub reference: BackendName,
    /// Where the case comes from; a golden set holding PyTorch's intermediates makes PyTorch the
    /// expected side.
    pub source: Source,
    /// The case to localize (default: the first).
    pub case: Option<String>,
    /// The tolerance of every value.
    pub tolerance: Tolerance,
    /// Intra-op threads per backend.
    pub threads: Option<usize>,
    /// Backends localized at once.
    pub jobs: Option<usize>,
    /// A new directory to write the culprit (or the smallest failing chain) into.
    pub repro: Option<PathBuf>,
    /// How many of the worst nodes a text report lists per run.
    pub top: usize,
    /// The model family's profile.
    pub profile: ProfileChoice,
}

/// Where the expected values come from.
struct Expected {
    /// The backends under test.
    backends: Vec<BackendName>,
    /// The reference backend's trace (backend against backend).
    reference: Option<Trace>,
    /// Export B and its constants (export against export).
    against: Option<(Model, NamedTensors)>,
    /// PyTorch's intermediates (against PyTorch).
    pytorch: Option<(NamedTensors, pytorch::Intermediates)>,
}

/// Localizes `request`, one [`Event::Progress`] per backend to `sink`: the report, whose verdict
/// may be an error (a backend that could not run); `Err` for bad input.
pub fn run(request: &Request, sink: &dyn Sink) -> Result<Report> {
    let started = Instant::now();
    if let Some(dir) = &request.repro
        && dir.exists()
    {
        bail!("{}: --repro must name a new directory; refusing to overwrite", dir.display());
    }
    let onnx = OnnxModel::read(&request.model)?;
    let info = onnx.model_info()?;
    let profile = Profile::resolve(request.profile, &onnx, &info, None)?;
    let options = profile.options(request.threads);
    let (case, inputs, golden_arrays) = pick_case(request, &info, &profile)?;
    let mut a = Model::from_onnx(&onnx)?;
    let scratch = tempfile::Builder::new()
        .prefix("ssrnet-parity-localize-")
        .tempdir()
        .map_err(|e| invalid(format!("cannot make a scratch directory: {e}")))?;
    let mut timing = Timing::default();
    let expected = expected(
        request,
        &info,
        &a,
        &inputs,
        &golden_arrays,
        &options,
        scratch.path(),
        &mut timing,
        sink,
    )?;
    if let Some((_, intermediates)) = &expected.pytorch {
        a.learn_modules(&intermediates.origins);
    }
    let jobs = at_once(request.jobs, expected.backends.len());
    // Backends side by side share the cores: idle runtime threads must not spin.
    let options = Options { shared_cores: jobs > 1, ..options };
    let job = Job {
        request,
        a: &a,
        inputs: &inputs,
        expected: &expected,
        options,
        scratch: scratch.path(),
        sink,
    };
    let outcomes = job.all(jobs);
    let mut report = Report {
        command: "localize",
        verdict: LocalizeVerdict::None,
        culprit: None,
        crossing: None,
        aligned: None,
        model: request.model.display().to_string(),
        against: request.against.as_ref().map(|p| p.display().to_string()),
        reference: match &expected.pytorch {
            Some(_) => "pytorch".to_string(),
            None => request.reference.as_str().to_string(),
        },
        intermediates: expected.pytorch.as_ref().map(|(_, info)| info.clone()),
        case,
        tolerance: request.tolerance,
        runs: Vec::with_capacity(outcomes.len()),
        timing,
        repro: None,
        top: request.top,
    };
    let (culprit, accumulation) = report.fold(outcomes);
    let repro_parts = match report.verdict {
        LocalizeVerdict::Culprit => culprit,
        LocalizeVerdict::Accumulation => accumulation,
        _ => None,
    };
    if let (Some(dir), Some((cut, feed, expected))) = (&request.repro, &repro_parts) {
        repro::write(dir, cut, feed, expected)?;
        report.repro = Some(dir.display().to_string());
    }
    report.timing.total_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The expected side of the comparison: PyTorch's intermediates (a golden set holding them), the
/// reference backend's trace (one, shared), or export B, aligned later on each backend.
#[allow(clippy::too_many_arguments)]
fn expected(
    request: &Request,
    info: &ModelInfo,
    a: &Model,
    inputs: &NamedTensors,
    golden_arrays: &NamedTensors,
    options: &Options,
    scratch: &Path,
    timing: &mut Timing,
    sink: &dyn Sink,
) -> Result<Expected> {
    let chosen = crate::registry::chosen(&request.backends);
    let pytorch = match (&request.source, &request.against) {
        (Source::Golden(dir), None) => pytorch::expected(dir, a, golden_arrays)?,
        _ => None,
    };
    let none = Expected { backends: chosen, reference: None, against: None, pytorch: None };
    match &request.against {
        None if pytorch.is_some() => Ok(Expected { pytorch, ..none }),
        None => {
            let backends: Vec<BackendName> =
                none.backends.into_iter().filter(|b| *b != request.reference).collect();
            if backends.is_empty() {
                bail!(
                    "nothing to compare: --backend names only the reference '{}'",
                    request.reference.as_str()
                );
            }
            let reference = trace(request.reference, a, inputs, options, scratch, sink)?;
            timing.add(&reference);
            Ok(Expected { backends, reference: Some(reference), ..none })
        }
        Some(b_path) => {
            let b_onnx = OnnxModel::read(b_path)?;
            let names = |i: &ModelInfo| i.inputs.iter().map(|x| x.name.clone()).collect::<Vec<_>>();
            let b_inputs = names(&b_onnx.model_info()?);
            if names(info) != b_inputs {
                bail!(
                    "{}: its inputs ({}) are not {}'s ({}): localize compares exports of one model",
                    b_path.display(),
                    b_inputs.join(", "),
                    request.model.display(),
                    names(info).join(", ")
                );
            }
            let b = Model::from_onnx(&b_onnx)?;
            let constants = b.constants();
            Ok(Expected { against: Some((b, constants)), ..none })
        }
    }
}

/// One localize run over its backends.
struct Job<'a> {
    request: &'a Request,
    a: &'a Model,
    inputs: &'a NamedTensors,
    expected: &'a Expected,
    options: Options,
    scratch: &'a Path,
    sink: &'a dyn Sink,
}

/// Backends localized at once: `jobs`, else all of them when there is more than one core (they
/// differ in speed, and loading dominates), else one; at most `backends`, at least one.
fn at_once(jobs: Option<usize>, backends: usize) -> usize {
    let default = if parity_core::backend::cores() > 1 { backends } else { 1 };
    jobs.unwrap_or(default).min(backends).max(1)
}

impl Job<'_> {
    /// Every backend, `jobs` at a time, in the backends' order.
    fn all(&self, jobs: usize) -> Vec<BackendOutcome> {
        let mut outcomes = Vec::with_capacity(self.expected.backends.len());
        for wave in self.expected.backends.chunks(jobs) {
            std::thread::scope(|scope| {
                let handles: Vec<_> = wave
                    .iter()
                    .map(|&backend| {
                        scope.spawn(move || {
                            let outcome = self.one(backend);
                            self.sink.event(Event::Progress(1));
                            outcome
                        })
                    })
                    .collect();
                for (handle, backend) in handles.into_iter().zip(wave) {
                    outcomes
                        .push(handle.join().unwrap_or_else(|_| BackendOutcome::panicked(*backend)));
                }
            });
        }
        outcomes
    }

    /// The name of `backend`'s run in the report.
    fn name(&self, backend: BackendName) -> String {
        let e = self.expected;
        match (&e.reference, &e.against) {
            (Some(_), _) => format!("{} vs {}", backend.as_str(), self.request.reference.as_str()),
            (None, Some(_)) => format!("{}: A vs B", backend.as_str()),
            (None, None) => format!("{} vs pytorch", backend.as_str()),
        }
    }

    /// One backend's comparison: its run, the repros it found, what it cost.
    fn one(&self, backend: BackendName) -> BackendOutcome {
        let name = self.name(backend);
        let mut outcome = BackendOutcome {
            run: Run::judged(name.clone(), backend.as_str(), Vec::new()),
            culprit: None,
            accumulation: None,
            timing: Timing::default(),
        };
        outcome.run = match self.compare(backend, &name, &mut outcome) {
            Ok(run) => run,
            Err(e) => Run::failed(name, backend.as_str(), &e),
        };
        outcome
    }

    /// `backend`'s trace of A against the expected values, node by node.
    fn compare(
        &self,
        backend: BackendName,
        name: &str,
        outcome: &mut BackendOutcome,
    ) -> Result<Run> {
        let (a, tol, scratch) = (self.a, self.request.tolerance, self.scratch);
        // Without named backends, a backend whose runtime cannot run the model is skipped.
        let actual = match trace(backend, a, self.inputs, &self.options, scratch, self.sink) {
            Ok(actual) => actual,
            Err(e) if self.request.backends.is_empty() => {
                return Ok(Run::skipped(name.to_string(), backend.as_str(), &e));
            }
            Err(e) => return Err(e),
        };
        outcome.timing.add(&actual);
        let (expected, pairs) = self.expected_values(backend, &actual, &mut outcome.timing)?;
        let side = Side { model: a, actual: &actual, expected: &expected, inputs: self.inputs };
        let (mut rows, repro) =
            side.rows(backend, tol, &self.options, scratch, &mut outcome.timing);
        if let Some(pairs) = &pairs {
            for row in &mut rows {
                row.aligned_to = Some(pairs.get(&row.value).cloned());
            }
        }
        let mut run = Run::judged(name.to_string(), backend.as_str(), rows);
        run.read_out = Some(actual.read_out);
        run.exposure_drift = actual.exposure_drift;
        run.aligned = pairs.as_ref().map(|pairs| {
            let computed = a.values.iter().filter(|v| v.op != "Constant");
            Aligned {
                values: computed.clone().filter(|v| pairs.contains_key(&v.value)).count(),
                of: computed.count(),
            }
        });
        outcome.culprit = repro;
        if self.request.repro.is_some()
            && run.verdict == LocalizeVerdict::Accumulation
            && let Some(k) = &run.crossing
        {
            outcome.accumulation =
                side.smallest_failing(backend, &k.value, tol, &self.options, scratch);
        }
        Ok(run)
    }

    /// The values A's are compared with on `backend`, keyed by A's names, and with export B the
    /// pairing of A's values to B's.
    #[allow(clippy::type_complexity)]
    fn expected_values<'e>(
        &'e self,
        backend: BackendName,
        actual: &Trace,
        timing: &mut Timing,
    ) -> Result<(Cow<'e, NamedTensors>, Option<HashMap<String, String>>)> {
        let e = self.expected;
        match (&e.reference, &e.against, &e.pytorch) {
            (Some(r), ..) => Ok((Cow::Borrowed(&r.values), None)),
            (None, None, Some((values, _))) => Ok((Cow::Borrowed(values), None)),
            (None, Some((b, constants)), _) => {
                let tb = trace(backend, b, self.inputs, &self.options, self.scratch, self.sink)?;
                timing.add(&tb);
                let pairs = align(self.a, actual, b, &tb, constants, self.request.tolerance);
                let expected = pairs
                    .iter()
                    .filter_map(|(av, bv)| {
                        Some((av.clone(), tb.values.get(bv).or(constants.get(bv))?.clone()))
                    })
                    .collect();
                Ok((Cow::Owned(expected), Some(pairs)))
            }
            (None, None, None) => unreachable!("one source of expected values"),
        }
    }
}

impl Report {
    /// The runs of `outcomes` taken in, their timings added up and the verdict summarised; the
    /// first culprit repro and the first accumulation repro.
    fn fold(&mut self, outcomes: Vec<BackendOutcome>) -> (Option<ReproParts>, Option<ReproParts>) {
        let (mut culprit, mut accumulation) = (None, None);
        for outcome in outcomes {
            self.timing.add_up(&outcome.timing);
            culprit = culprit.or(outcome.culprit);
            accumulation = accumulation.or(outcome.accumulation);
            self.runs.push(outcome.run);
        }
        self.summarise();
        (culprit, accumulation)
    }
}

/// The case to localize: the one named, else the first; from the given source; its inputs and
/// its golden arrays (none for other sources). A model whose batch axis is fixed to 1 gets the
/// case's first sample.
fn pick_case(
    request: &Request,
    info: &ModelInfo,
    profile: &Profile,
) -> Result<(String, NamedTensors, NamedTensors)> {
    let (what, cases) = request.source.cases(info, profile)?;
    let case = match &request.case {
        Some(name) => cases
            .into_iter()
            .find(|c| &c.name == name)
            .ok_or_else(|| invalid(format!("--case {name}: no case of that name in the {what}")))?,
        None => {
            cases.into_iter().next().ok_or_else(|| invalid(format!("no cases in the {what}")))?
        }
    };
    let fixed_one =
        info.inputs.iter().all(|i| matches!(i.shape.first(), Some(parity_core::Dim::Fixed(1))));
    let (mut inputs, mut golden_arrays) = (case.inputs, case.golden_arrays);
    if fixed_one {
        for t in inputs.values_mut().chain(golden_arrays.values_mut()) {
            if t.shape().first().is_some_and(|&n| n > 1) {
                *t = t.split0()?.swap_remove(0);
            }
        }
    }
    Ok((case.name, inputs, golden_arrays))
}

/// The pairs `(A value, B value)` of two exports' values: first by sequence alignment of their
/// computed values (op kind, shape and numbers, [`parity_graph::align`]), then, for what is left,
/// any of B's values or constants holding the same numbers (an exporter may fold into a constant
/// what the other computes, e.g. index arithmetic). `constants` are B's initializers.
fn align(
    a: &Model,
    ta: &Trace,
    b: &Model,
    tb: &Trace,
    constants: &NamedTensors,
    tol: Tolerance,
) -> HashMap<String, String> {
    let slots = |m: &'_ Model, t: &'_ Trace| -> Vec<(String, String, Vec<usize>)> {
        m.values
            .iter()
            .filter(|v| v.op != "Constant")
            .map(|v| {
                let shape = t.values.get(&v.value).map(|x| x.shape().to_vec()).unwrap_or_default();
                (v.value.clone(), v.op.clone(), shape)
            })
            .collect()
    };
    let (sa, sb) = (slots(a, ta), slots(b, tb));
    let (va, vb) = (slot_views(&sa), slot_views(&sb));
    let pairs = parity_graph::align::align(&va, &vb, |i, j| {
        match (ta.values.get(&sa[i].0), tb.values.get(&sb[j].0)) {
            (Some(x), Some(y)) => same_numbers(x, y, tol),
            _ => false,
        }
    });
    let mut aligned: HashMap<String, String> =
        pairs.into_iter().map(|(i, j)| (sa[i].0.clone(), sb[j].0.clone())).collect();
    for v in &a.values {
        if aligned.contains_key(&v.value) {
            continue;
        }
        let Some(x) = ta.values.get(&v.value) else { continue };
        let equal = |y: &parity_core::Tensor| {
            y.dtype() == x.dtype()
                && y.shape() == x.shape()
                && !Metrics::of(x, y, Tolerance { atol: 0.0, rtol: 0.0 }).exceeds
        };
        // The value of the same name first, else the first of B's with the same numbers.
        let known = || tb.values.iter().chain(constants);
        let twin = known()
            .find(|(name, y)| **name == v.value && equal(y))
            .or_else(|| known().find(|(_, y)| equal(y)));
        if let Some((name, _)) = twin {
            aligned.insert(v.value.clone(), name.clone());
        }
    }
    aligned
}

fn slot_views(s: &[(String, String, Vec<usize>)]) -> Vec<parity_graph::align::Slot<'_>> {
    s.iter().map(|(n, o, sh)| parity_graph::align::Slot { name: n, op: o, shape: sh }).collect()
}

/// The fingerprint test of alignment: the same numbers up to a relative L2 difference of 1e-2, or
/// within the tolerance (values near zero).
fn same_numbers(x: &parity_core::Tensor, y: &parity_core::Tensor, tol: Tolerance) -> bool {
    let m = Metrics::of(x, y, tol);
    if !m.exceeds {
        return true;
    }
    let (a, b) = (x.data().to_f64_vec(), y.data().to_f64_vec());
    let diff: f64 = a.iter().zip(&b).map(|(p, q)| (p - q) * (p - q)).sum::<f64>().sqrt();
    let norm: f64 = b.iter().map(|q| q * q).sum::<f64>().sqrt();
    diff.is_finite() && norm > 0.0 && diff <= 1e-2 * norm
}

/// Why `expected` cannot be compared on `runtime`: it holds a number outside the range of the
/// dtype the runtime holds such a value in.
fn unrepresentable(
    expected: &parity_core::Tensor,
    runtime: &dyn parity_core::Runtime,
) -> Option<String> {
    let held = runtime.holds(expected.dtype());
    let (index, value) = expected.data().first_unrepresentable(held)?;
    Some(format!(
        "{} holds {} values as {held}, and the expected value holds {value} (element {index}), outside that range",
        runtime.name(),
        expected.dtype()
    ))
}

/// Bytes of a tensor's data.
fn tensor_bytes(t: &parity_core::Tensor) -> usize {
    t.len() * t.dtype().size()
}

/// The culprit's repro: its cut model, what it is fed, what it should give.
type ReproParts = (parity_core::onnx::proto::ModelProto, NamedTensors, NamedTensors);

/// What one backend's comparison gave: its run, the repro of its first culprit, the repro of its
/// accumulation (with `--repro`), and what it cost.
struct BackendOutcome {
    run: Run,
    culprit: Option<ReproParts>,
    accumulation: Option<ReproParts>,
    timing: Timing,
}

impl BackendOutcome {
    /// The outcome of a backend whose thread panicked.
    fn panicked(backend: BackendName) -> BackendOutcome {
        let error = Error::Backend(format!("{}: the backend thread panicked", backend.as_str()));
        BackendOutcome {
            run: Run::failed(backend.as_str().to_string(), backend.as_str(), &error),
            culprit: None,
            accumulation: None,
            timing: Timing::default(),
        }
    }
}

/// One side of a comparison: model A's values on a backend against the expected values, keyed by
/// A's value names (a value without one, unaligned, is not compared).
struct Side<'a> {
    model: &'a Model,
    actual: &'a Trace,
    expected: &'a NamedTensors,
    inputs: &'a NamedTensors,
}

impl Side<'_> {
    /// The node rows, cumulative and isolated, and the repro of the first culprit.
    fn rows(
        &self,
        backend: BackendName,
        tol: Tolerance,
        options: &Options,
        scratch: &Path,
        timing: &mut Timing,
    ) -> (Vec<NodeRow>, Option<ReproParts>) {
        let started = Instant::now();
        let runtime = backend.runtime();
        // Per value, why the backend cannot hold its expected numbers (then it is not compared).
        let unfit: Vec<Option<String>> = (self.model.values.iter())
            .map(|v| self.expected.get(&v.value).and_then(|e| unrepresentable(e, runtime.as_ref())))
            .collect();
        let isolated = self.isolate_all(backend, &unfit, options, scratch);
        let mut rows = Vec::with_capacity(self.model.values.len());
        let mut repro = None;
        for (v, unfit) in self.model.values.iter().zip(unfit) {
            let expected = self.expected.get(&v.value);
            let actual = self.actual.values.get(&v.value);
            let row = |cumulative, isolated, isolated_note, not_comparable| NodeRow {
                node: v.node_name.clone(),
                op: v.op.clone(),
                value: v.value.clone(),
                origin: self.model.origin(&v.value),
                shape: actual.map(|t| t.shape().to_vec()),
                aligned_to: None,
                cumulative,
                isolated,
                isolated_note,
                not_comparable,
            };
            if let Some(why) = unfit {
                rows.push(row(None, None, None, Some(why)));
                continue;
            }
            let cumulative = match (actual, expected) {
                (Some(a), Some(e)) => Some(Metrics::of(a, e, tol)),
                _ => None,
            };
            if self.model.computes_nothing(v.node) {
                let note = "the node computes from no computed value (a constant): never a culprit";
                rows.push(row(cumulative, None, Some(note.to_string()), None));
                continue;
            }
            let none = Err("the node was not run alone".to_string());
            let outcome = isolated.get(&v.node).unwrap_or(&none);
            let (iso, note) = match (outcome, expected) {
                (Ok(outputs), Some(e)) => match outputs.get(&v.value) {
                    Some(a) => (Some(Metrics::of(a, e, tol)), None),
                    None => {
                        (None, Some("the node run alone did not return this value".to_string()))
                    }
                },
                (Ok(_), None) => (None, Some("no expected value".to_string())),
                (Err(why), _) => (None, Some(why.clone())),
            };
            if repro.is_none() && iso.is_some_and(|m| m.exceeds) {
                repro = self.cut_node(v.node).ok();
            }
            rows.push(row(cumulative, iso, note, None));
        }
        timing.isolated_s += started.elapsed().as_secs_f64();
        (rows, repro)
    }

    /// Every node with a comparable value (`unfit`, per value, says why one is not) that computes
    /// from a computed value, run alone on the expected values of its inputs
    /// ([`isolate::run_all`]): its outputs, or why it could not be.
    fn isolate_all(
        &self,
        backend: BackendName,
        unfit: &[Option<String>],
        options: &Options,
        scratch: &Path,
    ) -> HashMap<usize, Result<NamedTensors, String>> {
        let mut nodes: Vec<usize> = (self.model.values.iter().zip(unfit))
            .filter(|(v, unfit)| unfit.is_none() && !self.model.computes_nothing(v.node))
            .map(|(v, _)| v.node)
            .collect();
        nodes.dedup();
        let mut isolated = HashMap::new();
        let cuts = nodes.into_iter().filter_map(|node| match self.cut_node(node) {
            Ok((model, feed, expected)) => {
                let bytes = feed.values().chain(expected.values()).map(tensor_bytes).sum();
                Some(isolate::Cut { node, model, feed, bytes })
            }
            Err(why) => {
                isolated.insert(node, Err(why));
                None
            }
        });
        let ran = isolate::run_all(backend, cuts, options, scratch);
        isolated.extend(ran);
        isolated
    }

    /// Node `index` cut out to run alone on the expected values of its inputs (with the nodes
    /// that compute an input without one from inputs with one): the cut model, what it is fed and
    /// what it should give (the culprit's repro); or why it cannot be.
    fn cut_node(&self, index: usize) -> Result<ReproParts, String> {
        let graph = self.model.proto.graph.as_ref().expect("checked at read");
        let expected: NamedTensors = graph.node[index]
            .output
            .iter()
            .filter_map(|o| Some((o.clone(), self.expected.get(o)?.clone())))
            .collect();
        if expected.is_empty() {
            return Err("no output of the node has an expected value".into());
        }
        let segment = parity_graph::extract::ancestors_until(graph, index, |v| {
            self.model.inputs.contains(v)
                || self.model.initializers.contains(v)
                || self.expected.contains_key(v)
        });
        let feed = self.feed(&segment)?;
        let (cut, feed) = parity_graph::cut::cut(&self.model.proto, &segment, &feed, &expected)
            .ok_or_else(|| "a node with sub-graphs cannot run alone".to_string())?;
        Ok((cut, feed, expected))
    }

    /// The expected values of what nodes `indices` read from outside themselves.
    fn feed(&self, indices: &[usize]) -> Result<NamedTensors, String> {
        let mut feed = NamedTensors::new();
        for name in self.model.fed_inputs(indices) {
            let value = if self.model.inputs.contains(&name) {
                self.inputs.get(&name)
            } else {
                self.expected.get(&name)
            };
            match value {
                Some(t) => {
                    feed.insert(name, t.clone());
                }
                None => return Err(format!("input '{name}' has no expected value (not aligned)")),
            }
        }
        Ok(feed)
    }

    /// With an accumulation crossing at `value`: the smallest chain of the nodes it depends on,
    /// ending at its node, that exceeds the tolerance when run on the expected values of its
    /// inputs (grown one ancestor at a time from the crossing node back), as a repro.
    fn smallest_failing(
        &self,
        backend: BackendName,
        value: &str,
        tol: Tolerance,
        options: &Options,
        scratch: &Path,
    ) -> Option<ReproParts> {
        let last = self.model.values.iter().find(|v| v.value == value)?.node;
        let graph = self.model.proto.graph.as_ref()?;
        let chain = parity_graph::extract::ancestors(graph, last);
        let expected = NamedTensors::from([(value.to_string(), self.expected.get(value)?.clone())]);
        for start in (0..chain.len()).rev() {
            let nodes = &chain[start..];
            let Ok(feed) = self.feed(nodes) else { continue };
            let (cut, feed) = parity_graph::cut::cut(&self.model.proto, nodes, &feed, &expected)?;
            let tag = format!("chain-{}-{last}", chain[start]);
            let Ok(out) = isolate::run(backend, &cut, &tag, &feed, options, scratch) else {
                continue;
            };
            if out.get(value).is_some_and(|a| Metrics::of(a, &expected[value], tol).exceeds) {
                return Some((cut, feed, expected));
            }
        }
        None
    }
}

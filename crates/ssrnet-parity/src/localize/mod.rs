//! `ssrnet-parity localize`: where two runs of a model part, node by node.
//!
//! Three comparisons, on one input case:
//! - **backends against a reference backend** (default: every backend against ort), on one model;
//! - **two exports on each backend** (`--against B`): B's values are expected, A's are under test,
//!   and A's values are paired with B's by [`parity_graph::align`] (names may differ);
//! - **A on each backend against PyTorch** (`--golden DIR` whose cases hold PyTorch's
//!   intermediate values, [`pytorch`]).
//!
//! For every value, in topological order: the *cumulative* error (the whole graph run, every value
//! read out: [`mod@trace`]) and the *isolated* error (the node run alone on the expected values of its
//! inputs: [`isolate`]; where an input has no expected value, as between PyTorch's module outputs,
//! the nodes computing it from expected values run with it). The verdict: the first node whose isolated error exceeds the tolerance is
//! the **culprit**; if none does, the first value whose cumulative error exceeds it marks an
//! **accumulation**; else **none**. Exit 0 for none, 1 for a culprit or an accumulation, 2 for an
//! error.

mod isolate;
mod model;
mod pytorch;
mod report;
mod repro;
mod trace;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use parity_core::{NamedTensors, Options, Tolerance};

use self::model::Model;
use self::report::{Aligned, LocalizeVerdict, Metrics, NodeRow, Report, Run, Timing};
use self::trace::{Trace, trace};
use crate::Verdict;
use crate::args::ProfileArg;
use crate::args::SourceArgs;
use crate::output::Format;
use parity_core::onnx::OnnxModel;
use parity_engine::BackendName;
use parity_engine::profile::Profile;

#[derive(clap::Args)]
pub struct Args {
    /// The model under test.
    #[arg(long)]
    model: PathBuf,
    /// Another export of the same model, taken as expected: A and B are compared on each backend.
    #[arg(long, value_name = "B.onnx")]
    against: Option<PathBuf>,
    /// Backends to run (default: all; without --against, all but the reference).
    #[arg(long, value_delimiter = ',', value_parser = crate::args::backend())]
    backend: Vec<BackendName>,
    /// The backend whose values are expected (without --against).
    #[arg(long, value_parser = crate::args::backend(), default_value_t = BackendName::Ort)]
    reference: BackendName,
    #[command(flatten)]
    source: SourceArgs,
    /// The case to localize (default: the first).
    #[arg(long, value_name = "NAME")]
    case: Option<String>,
    /// Absolute tolerance of every value.
    #[arg(long, default_value_t = 1e-4)]
    atol: f64,
    /// Relative tolerance of every value.
    #[arg(long, default_value_t = 0.0)]
    rtol: f64,
    /// How many of the worst nodes the text report lists per run.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Intra-op threads per backend (default: the backend's choice).
    #[arg(long, value_parser = crate::output::thread_count)]
    threads: Option<usize>,
    /// Backends localized at once (default: all of them on a machine with more than one core).
    #[arg(long, value_parser = crate::output::thread_count)]
    jobs: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the culprit node as DIR/model.onnx plus DIR/test_data_set_0 (must not exist).
    #[arg(long, value_name = "DIR")]
    repro: Option<PathBuf>,
    #[command(flatten)]
    profile: ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    let started = Instant::now();
    let tol = Tolerance::new(args.atol, args.rtol)?;
    if let Some(dir) = &args.repro
        && dir.exists()
    {
        bail!("{}: --repro must name a new directory; refusing to overwrite", dir.display());
    }
    let onnx = OnnxModel::read(&args.model)?;
    let info = onnx.model_info()?;
    let profile = Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let options = profile.options(args.threads);
    let (case, inputs, golden_arrays) = pick_case(&args, &info, &profile)?;
    let a = Model::from_onnx(&onnx)?;
    let pytorch = match (&args.source.golden, &args.against) {
        (Some(dir), None) => pytorch::expected(dir, &a, &golden_arrays)?,
        _ => None,
    };
    let scratch = tempfile::Builder::new().prefix("ssrnet-parity-localize-").tempdir()?;
    let mut timing = Timing::default();
    // The expected values come from PyTorch (a golden set's intermediates), from the reference
    // backend (one trace, shared) or, with --against, from B on each backend, aligned to A's values.
    let (backends, reference, b) = match &args.against {
        None if pytorch.is_some() => (parity_engine::registry::chosen(&args.backend), None, None),
        None => {
            let others: Vec<BackendName> = parity_engine::registry::chosen(&args.backend)
                .into_iter()
                .filter(|b| *b != args.reference)
                .collect();
            if others.is_empty() {
                bail!(
                    "nothing to compare: --backend names only the reference '{}'",
                    args.reference.as_str()
                );
            }
            let expected = trace(args.reference, &a, &inputs, &options, scratch.path())?;
            timing.add(&expected);
            (others, Some(expected), None)
        }
        Some(b_path) => {
            let b_onnx = OnnxModel::read(b_path)?;
            let names = |i: &parity_core::ModelInfo| {
                i.inputs.iter().map(|x| x.name.clone()).collect::<Vec<_>>()
            };
            let b_inputs = names(&b_onnx.model_info()?);
            if names(&info) != b_inputs {
                bail!(
                    "{}: its inputs ({}) are not {}'s ({}): localize compares exports of one model",
                    b_path.display(),
                    b_inputs.join(", "),
                    args.model.display(),
                    names(&info).join(", ")
                );
            }
            let b = Model::from_onnx(&b_onnx)?;
            let constants = b.constants();
            (parity_engine::registry::chosen(&args.backend), None, Some((b, constants)))
        }
    };
    let jobs = parity_engine::stream::Spread::new(args.jobs, backends.len(), 1).jobs;
    // Backends side by side share the cores: idle runtime threads must not spin.
    let options = Options { shared_cores: jobs > 1, ..options };
    let bar = crate::output::progress(backends.len() as u64, "localizing");
    // One backend's comparison: its run, the repros it found, what it cost.
    let localize_one = |backend: BackendName| -> BackendOutcome {
        let name = match (&reference, &b) {
            (Some(_), _) => format!("{} vs {}", backend.as_str(), args.reference.as_str()),
            (None, Some(_)) => format!("{}: A vs B", backend.as_str()),
            (None, None) => format!("{} vs pytorch", backend.as_str()),
        };
        let mut timing = Timing::default();
        let mut culprit = None;
        let mut accumulation = None;
        let run = (|| -> Result<Run> {
            // Without --backend, a backend whose runtime cannot run the model is skipped.
            let actual = match trace(backend, &a, &inputs, &options, scratch.path()) {
                Ok(actual) => actual,
                Err(e) if args.backend.is_empty() => {
                    return Ok(Run::skipped(name.clone(), backend.as_str(), &e));
                }
                Err(e) => return Err(e),
            };
            timing.add(&actual);
            let (expected, pairs) = match (&reference, &b, &pytorch) {
                (Some(r), ..) => (Cow::Borrowed(&r.values), None),
                (None, None, Some((values, _))) => (Cow::Borrowed(values), None),
                (None, Some((b, constants)), _) => {
                    let tb = trace(backend, b, &inputs, &options, scratch.path())?;
                    timing.add(&tb);
                    let pairs = align(&a, &actual, b, &tb, constants, tol);
                    let expected = pairs
                        .iter()
                        .filter_map(|(av, bv)| {
                            Some((av.clone(), tb.values.get(bv).or(constants.get(bv))?.clone()))
                        })
                        .collect();
                    (Cow::Owned(expected), Some(pairs))
                }
                (None, None, None) => unreachable!("one source of expected values"),
            };
            let side = Side { model: &a, actual: &actual, expected: &expected, inputs: &inputs };
            let (mut rows, repro) = side.rows(backend, tol, &options, scratch.path(), &mut timing);
            if let Some(pairs) = &pairs {
                for row in &mut rows {
                    row.aligned_to = Some(pairs.get(&row.value).cloned());
                }
            }
            let mut run = Run::judged(name.clone(), backend.as_str(), rows);
            run.read_out = Some(actual.read_out);
            run.exposure_drift = actual.exposure_drift;
            run.aligned = pairs.as_ref().map(|pairs| {
                let computed = a.values.iter().filter(|v| v.op != "Constant");
                Aligned {
                    values: computed.clone().filter(|v| pairs.contains_key(&v.value)).count(),
                    of: computed.count(),
                }
            });
            culprit = repro;
            if args.repro.is_some()
                && run.verdict == LocalizeVerdict::Accumulation
                && let Some(k) = &run.crossing
            {
                accumulation =
                    side.smallest_failing(backend, &k.value, tol, &options, scratch.path());
            }
            Ok(run)
        })();
        bar.inc(1);
        let run = run.unwrap_or_else(|e| Run::failed(name, backend.as_str(), &e));
        BackendOutcome { run, culprit, accumulation, timing }
    };
    // Backends run `jobs` at a time; the report keeps the backends' order.
    let mut outcomes: Vec<BackendOutcome> = Vec::with_capacity(backends.len());
    for wave in backends.chunks(jobs) {
        std::thread::scope(|scope| {
            let handles: Vec<_> =
                wave.iter().map(|&backend| scope.spawn(move || localize_one(backend))).collect();
            for (handle, backend) in handles.into_iter().zip(wave) {
                outcomes.push(handle.join().unwrap_or_else(|_| BackendOutcome {
                    run: Run::failed(
                        backend.as_str().to_string(),
                        backend.as_str(),
                        &anyhow::anyhow!("{}: the backend thread panicked", backend.as_str()),
                    ),
                    culprit: None,
                    accumulation: None,
                    timing: Timing::default(),
                }));
            }
        });
    }
    let mut culprit_repro = None;
    let mut accumulation_repro = None;
    let mut runs = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        timing.add_up(&outcome.timing);
        culprit_repro = culprit_repro.or(outcome.culprit);
        accumulation_repro = accumulation_repro.or(outcome.accumulation);
        runs.push(outcome.run);
    }
    bar.finish_and_clear();
    let mut report = Report {
        command: "localize",
        verdict: LocalizeVerdict::None,
        culprit: None,
        crossing: None,
        aligned: None,
        model: args.model.display().to_string(),
        against: args.against.as_ref().map(|p| p.display().to_string()),
        reference: match &pytorch {
            Some(_) => "pytorch".to_string(),
            None => args.reference.as_str().to_string(),
        },
        intermediates: pytorch.map(|(_, info)| info),
        case,
        tolerance: tol,
        runs,
        timing,
        repro: None,
        top: args.top,
    };
    report.summarise();
    let repro_parts = match report.verdict {
        LocalizeVerdict::Culprit => culprit_repro,
        LocalizeVerdict::Accumulation => accumulation_repro,
        _ => None,
    };
    if let (Some(dir), Some((cut, feed, expected))) = (&args.repro, &repro_parts) {
        repro::write(dir, cut, feed, expected)?;
        report.repro = Some(dir.display().to_string());
    }
    report.timing.total_s = started.elapsed().as_secs_f64();
    report.print(args.format)?;
    match report.verdict {
        LocalizeVerdict::None => Ok(Verdict::Pass),
        LocalizeVerdict::Culprit | LocalizeVerdict::Accumulation => Ok(Verdict::Fail),
        LocalizeVerdict::Error => {
            let errors: Vec<String> = report.runs.iter().filter_map(|r| r.error.clone()).collect();
            if errors.is_empty() {
                let skipped: Vec<String> =
                    report.runs.iter().filter_map(|r| r.skipped.clone()).collect();
                bail!("no backend could run the model: {}", skipped.join("; "))
            }
            bail!("{}", errors.join("; "))
        }
        LocalizeVerdict::Skipped => unreachable!("a report's verdict is never skipped"),
    }
}

/// The case to localize: `--case NAME`, else the first; from the given source, else one seeded
/// random input; its inputs and its golden arrays (none for other sources). A model whose batch
/// axis is fixed to 1 gets the case's first sample.
fn pick_case(
    args: &Args,
    info: &parity_core::ModelInfo,
    profile: &Profile,
) -> Result<(String, NamedTensors, NamedTensors)> {
    let (what, cases) = args.source.source_or_random(1).cases(info, profile)?;
    let case = match &args.case {
        Some(name) => cases
            .into_iter()
            .find(|c| &c.name == name)
            .ok_or_else(|| anyhow::anyhow!("--case {name}: no case of that name in the {what}"))?,
        None => {
            cases.into_iter().next().ok_or_else(|| anyhow::anyhow!("no cases in the {what}"))?
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
        let mut isolated: HashMap<usize, Result<(NamedTensors, ReproParts), String>> =
            HashMap::new();
        let mut rows = Vec::with_capacity(self.model.values.len());
        let mut repro = None;
        let runtime = backend.runtime();
        for v in &self.model.values {
            let expected = self.expected.get(&v.value);
            let actual = self.actual.values.get(&v.value);
            let row = |cumulative, isolated, isolated_note, not_comparable| NodeRow {
                node: v.node_name.clone(),
                op: v.op.clone(),
                value: v.value.clone(),
                shape: actual.map(|t| t.shape().to_vec()),
                aligned_to: None,
                cumulative,
                isolated,
                isolated_note,
                not_comparable,
            };
            if let Some(why) = expected.and_then(|e| unrepresentable(e, runtime.as_ref())) {
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
            let outcome = isolated
                .entry(v.node)
                .or_insert_with(|| self.isolate(backend, v.node, options, scratch));
            let (iso, note) = match (&*outcome, expected) {
                (Ok((outputs, _)), Some(e)) => match outputs.get(&v.value) {
                    Some(a) => (Some(Metrics::of(a, e, tol)), None),
                    None => {
                        (None, Some("the node run alone did not return this value".to_string()))
                    }
                },
                (Ok(_), None) => (None, Some("no expected value".to_string())),
                (Err(why), _) => (None, Some(why.clone())),
            };
            if repro.is_none()
                && iso.is_some_and(|m| m.exceeds)
                && let Ok((_, parts)) = &*outcome
            {
                repro = Some(parts.clone());
            }
            rows.push(row(cumulative, iso, note, None));
        }
        timing.isolated_s += started.elapsed().as_secs_f64();
        (rows, repro)
    }

    /// Node `index` run alone on the expected values of its inputs (with the nodes that compute
    /// an input without one from inputs with one): its outputs and its repro (cut model, feed,
    /// expected outputs); or why it could not be.
    fn isolate(
        &self,
        backend: BackendName,
        index: usize,
        options: &Options,
        scratch: &Path,
    ) -> Result<(NamedTensors, ReproParts), String> {
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
        let (cut, feed) = isolate::cut(self.model, &segment, &feed, &expected)
            .ok_or_else(|| "a node with sub-graphs cannot run alone".to_string())?;
        let outputs =
            isolate::run(backend, &cut, &format!("node-{index}"), &feed, options, scratch)?;
        Ok((outputs, (cut, feed, expected)))
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
            let (cut, feed) = isolate::cut(self.model, nodes, &feed, &expected)?;
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

//! Running cases through a prepared model: a batch on a model whose batch axis is fixed to 1 runs
//! sample by sample, and several cases share one inference call where their shapes allow, or, with
//! [`Batch::Auto`], where a backend's batched call stays within tolerance of its batch-1 runs
//! ([`Batcher`]); and the comparison of a run's outputs with the expected ones, case by case.

use std::sync::OnceLock;

use parity_core::compare::{CaseReport, CompareOptions, Tolerances, compare_outputs};
use parity_core::{Dim, ModelInfo, NamedTensors, Runnable, Tensor};

/// Cases a call with [`Batch::Auto`], once batching is found to keep the outputs within tolerance.
pub const AUTO_BATCH: usize = 8;

/// Cases per inference call on a model whose batch axis is dynamic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// This many (1: each case alone).
    Size(usize),
    /// [`AUTO_BATCH`] where the backend's batched call stays within the run's tolerance of its
    /// batch-1 runs on the first cases that can share a call, else one ([`Batcher`]).
    Auto,
}

impl Batch {
    /// The most cases a call takes.
    pub fn most(self) -> usize {
        match self {
            Batch::Size(n) => n.max(1),
            Batch::Auto => AUTO_BATCH,
        }
    }
}

/// One backend's way through a run's cases, as [`Batch`] says: [`run_together`] with a size, or
/// with [`Batch::Auto`] as it found on the first cases that can share a call whether the
/// backend's batched calls stay within tolerance of its batch-1 runs (decided once).
#[derive(Debug)]
pub struct Batcher {
    batch: Batch,
    batches: OnceLock<bool>,
}

impl Batcher {
    /// A batcher for `batch`.
    pub fn new(batch: Batch) -> Batcher {
        Batcher { batch, batches: OnceLock::new() }
    }

    /// Runs `cases` (at most [`Batch::most`]): with a size, as [`run_together`]; with
    /// [`Batch::Auto`], together once batching is known to hold, else one by one, and the first
    /// cases that can share a call are run together too: batching holds when every output is
    /// within `tolerances` of the batch-1 one (NaN where it has NaN equal). A model whose batch
    /// axis is not dynamic never batches. Until batching holds the results are the batch-1 runs'.
    pub fn run(
        &self,
        runnable: &mut dyn Runnable,
        cases: &[&NamedTensors],
        tolerances: &Tolerances,
    ) -> Vec<parity_core::Result<NamedTensors>> {
        let one_by_one = |runnable: &mut dyn Runnable| -> Vec<_> {
            cases.iter().map(|inputs| run_inputs(runnable, inputs)).collect()
        };
        match (self.batch, self.batches.get()) {
            (Batch::Size(_), _) | (Batch::Auto, Some(true)) => {
                return run_together(runnable, cases);
            }
            (Batch::Auto, Some(false)) => return one_by_one(runnable),
            (Batch::Auto, None) => {}
        }
        let alone = one_by_one(runnable);
        if !batch_axes_all(runnable.info(), |d| matches!(d, Some(Dim::Symbolic(_)))) {
            let _ = self.batches.set(false);
        } else if cases.len() > 1
            && stackable(runnable.info(), cases)
            && let Ok(alone) = alone.iter().map(|r| r.as_ref()).collect::<Result<Vec<_>, _>>()
        {
            let options = CompareOptions { nan_equal: true };
            let within = run_stacked(runnable, cases).is_some_and(|together| {
                let pairs = together.iter().zip(alone);
                pairs.into_iter().all(|(t, a)| compare_outputs("", t, a, tolerances, options).pass)
            });
            let _ = self.batches.set(within);
        }
        alone
    }

    /// The most cases a call takes.
    pub fn most(&self) -> usize {
        self.batch.most()
    }

    /// Whether [`Batch::Auto`] found that batching holds, so cases now share calls.
    pub fn auto_batched(&self) -> bool {
        self.batch == Batch::Auto && self.batches.get() == Some(&true)
    }
}

/// True when the model has inputs and every one's first axis is `batch` (`None`: a scalar input).
fn batch_axes_all(info: &ModelInfo, batch: impl Fn(Option<&Dim>) -> bool) -> bool {
    !info.inputs.is_empty() && info.inputs.iter().all(|io| batch(io.shape.first()))
}

/// True when the model's inputs all have a batch axis fixed to 1 (a static export).
fn fixed_batch_one(info: &ModelInfo) -> bool {
    batch_axes_all(info, |d| matches!(d, Some(Dim::Fixed(1))))
}

/// The model's signature with a batch axis fixed to 1 made symbolic: golden cases of any batch fit,
/// because [`run_inputs`] runs a static model one sample at a time.
pub fn batch_agnostic(info: &ModelInfo) -> ModelInfo {
    let mut info = info.clone();
    if fixed_batch_one(&info) {
        for io in info.inputs.iter_mut().chain(info.outputs.iter_mut()) {
            if let Some(d @ Dim::Fixed(1)) = io.shape.first_mut() {
                *d = Dim::Symbolic("batch".into());
            }
        }
    }
    info
}

/// Runs `inputs`; a batch of N on a model whose batch axis is fixed to 1 runs as N single-sample
/// calls whose outputs are concatenated (the same arithmetic, sample by sample).
pub fn run_inputs(
    runnable: &mut dyn Runnable,
    inputs: &NamedTensors,
) -> parity_core::Result<NamedTensors> {
    let batch = inputs.values().next().and_then(|t| t.shape().first().copied()).unwrap_or(1);
    if batch <= 1 || !fixed_batch_one(runnable.info()) {
        return runnable.run(inputs);
    }
    let mut rows: Vec<NamedTensors> = (0..batch).map(|_| NamedTensors::new()).collect();
    for (name, t) in inputs {
        for (row, part) in rows.iter_mut().zip(t.split0()?) {
            row.insert(name.clone(), part);
        }
    }
    let parts =
        rows.iter().map(|row| runnable.run(row)).collect::<parity_core::Result<Vec<_>>>()?;
    parity_core::concat_named(&parts)
}

/// Runs several cases' inputs, as one call when they can share it: the model's inputs all have a
/// dynamic batch axis and the cases' inputs agree in names, types and every axis but the first.
/// Their inputs are then concatenated on that axis and every output split back by each case's
/// rows; when the call fails, or an output does not carry one row per input row, the cases run
/// one by one instead (so a failure names its case). One result per case, in order.
pub fn run_together(
    runnable: &mut dyn Runnable,
    cases: &[&NamedTensors],
) -> Vec<parity_core::Result<NamedTensors>> {
    if cases.len() > 1
        && stackable(runnable.info(), cases)
        && let Some(outputs) = run_stacked(runnable, cases)
    {
        return outputs.into_iter().map(Ok).collect();
    }
    cases.iter().map(|inputs| run_inputs(runnable, inputs)).collect()
}

/// True when `cases` can be concatenated into one batch: the model's batch axis is dynamic and
/// the cases' inputs agree in names, types and every axis but the first.
fn stackable(info: &ModelInfo, cases: &[&NamedTensors]) -> bool {
    let first = cases[0];
    let agree = |a: &Tensor, b: &Tensor| {
        a.dtype() == b.dtype() && !a.shape().is_empty() && a.shape()[1..] == b.shape()[1..]
    };
    batch_axes_all(info, |d| matches!(d, Some(Dim::Symbolic(_))))
        && cases.iter().all(|case| {
            case.len() == first.len()
                && case.iter().all(|(name, t)| first.get(name).is_some_and(|f| agree(f, t)))
        })
}

/// The case's rows: the first axis its inputs all share.
fn rows(case: &NamedTensors) -> Option<usize> {
    let mut axes = case.values().map(|t| t.shape().first().copied());
    let first = axes.next()??;
    axes.all(|rows| rows == Some(first)).then_some(first)
}

/// The cases as one call, the outputs split back by each case's rows; `None` when that cannot be.
fn run_stacked(runnable: &mut dyn Runnable, cases: &[&NamedTensors]) -> Option<Vec<NamedTensors>> {
    let counts: Vec<usize> = cases.iter().map(|case| rows(case)).collect::<Option<_>>()?;
    let stacked = parity_core::concat_named(cases.iter().copied()).ok()?;
    let outputs = runnable.run(&stacked).ok()?;
    let mut split: Vec<NamedTensors> = counts.iter().map(|_| NamedTensors::new()).collect();
    for (name, tensor) in outputs {
        // An output without one row per input row (a scalar, a fixed axis) cannot be split back.
        for (case, part) in split.iter_mut().zip(tensor.split_rows(&counts).ok()?) {
            case.insert(name.clone(), part);
        }
    }
    Some(split)
}

/// Compares `actual` case outputs against `expected` ones, case by case.
pub fn compare_cases(
    names: &[String],
    actual: &[NamedTensors],
    expected: &[NamedTensors],
    tols: &Tolerances,
    opts: CompareOptions,
) -> Vec<CaseReport> {
    names
        .iter()
        .zip(actual.iter().zip(expected))
        .map(|(name, (a, e))| compare_outputs(name, a, e, tols, opts))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real backend, its calls counted; `nudge` is added to every float output of a call of
    /// more than one row (a backend whose batched calls drift).
    struct Counted {
        inner: Box<dyn Runnable>,
        calls: usize,
        nudge: f32,
    }

    impl Runnable for Counted {
        fn info(&self) -> &ModelInfo {
            self.inner.info()
        }

        fn run_views(
            &mut self,
            inputs: &parity_core::NamedViews<'_>,
        ) -> parity_core::Result<NamedTensors> {
            self.calls += 1;
            let rows = inputs.values().next().and_then(|t| t.shape().first().copied());
            let mut outputs = self.inner.run_views(inputs)?;
            if rows > Some(1) && self.nudge != 0.0 {
                for t in outputs.values_mut() {
                    if let Some(v) = t.as_f32() {
                        let v = v.iter().map(|x| x + self.nudge).collect();
                        *t = Tensor::from_f32(t.shape().to_vec(), v)?;
                    }
                }
            }
            Ok(outputs)
        }
    }

    fn counted(model: &str) -> Counted {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(model);
        let options = parity_core::Options::with_threads(Some(1));
        let inner = crate::BackendName::Tract.runtime().prepare(&path, &options).unwrap();
        Counted { inner, calls: 0, nudge: 0.0 }
    }

    fn random_cases(info: &ModelInfo, rows: &[usize]) -> Vec<NamedTensors> {
        let cases = rows.iter().enumerate();
        cases
            .map(|(seed, &n)| crate::inputs::random_inputs(info, n, seed as u64).unwrap())
            .collect()
    }

    #[test]
    fn cases_share_one_call_on_a_dynamic_batch_and_get_their_own_outputs_back() {
        let mut model = counted("models/ssrnet_legacy_dynamic.onnx");
        let cases = random_cases(&model.info().clone(), &[1, 2, 1, 3]);
        let alone: Vec<NamedTensors> = cases.iter().map(|c| model.run(c).unwrap()).collect();
        model.calls = 0;
        let refs: Vec<&NamedTensors> = cases.iter().collect();
        let together: Vec<NamedTensors> =
            run_together(&mut model, &refs).into_iter().map(Result::unwrap).collect();
        assert_eq!(model.calls, 1, "one call for the four cases");
        for (a, t) in alone.iter().zip(&together) {
            let (a, t) = (a["age"].as_f32().unwrap(), t["age"].as_f32().unwrap());
            assert_eq!(a.len(), t.len(), "each case gets its own rows back");
            for (x, y) in a.iter().zip(t) {
                assert!((x - y).abs() <= 1e-5, "{a:?} alone, {t:?} together");
            }
        }
        // Cases whose inputs differ beyond the batch axis run one by one.
        let mut odd = cases[1].clone();
        let input = odd.keys().next().unwrap().clone();
        odd.insert(input, Tensor::from_f32(vec![1, 3, 32, 32], vec![0.0; 3 * 32 * 32]).unwrap());
        model.calls = 0;
        let results = run_together(&mut model, &[&cases[0], &odd]);
        assert_eq!(model.calls, 2);
        assert!(results[0].is_ok());
    }

    #[test]
    fn auto_batches_once_a_batched_call_stays_within_tolerance_of_batch_one() {
        let tolerances = Tolerances::uniform(parity_core::Tolerance::DEFAULT);
        let mut model = counted("models/ssrnet_legacy_dynamic.onnx");
        let cases = random_cases(&model.info().clone(), &[1, 1, 1]);
        let refs: Vec<&NamedTensors> = cases.iter().collect();
        let alone: Vec<NamedTensors> = cases.iter().map(|c| model.run(c).unwrap()).collect();
        let batcher = Batcher::new(Batch::Auto);
        model.calls = 0;
        let first: Vec<_> = batcher.run(&mut model, &refs, &tolerances).into_iter().collect();
        assert_eq!(model.calls, 4, "three alone, then one together to compare");
        assert!(batcher.auto_batched());
        assert_eq!(first.into_iter().map(Result::unwrap).collect::<Vec<_>>(), alone);
        model.calls = 0;
        assert!(batcher.run(&mut model, &refs, &tolerances).iter().all(Result::is_ok));
        assert_eq!(model.calls, 1, "batched from then on");

        // A backend whose batched calls drift past the tolerance stays at one case a call.
        model.nudge = 1e-3;
        let batcher = Batcher::new(Batch::Auto);
        model.calls = 0;
        let first = batcher.run(&mut model, &refs, &tolerances);
        assert_eq!(model.calls, 4);
        assert!(!batcher.auto_batched());
        assert_eq!(first.into_iter().map(Result::unwrap).collect::<Vec<_>>(), alone);
        model.calls = 0;
        batcher.run(&mut model, &refs, &tolerances);
        assert_eq!(model.calls, 3, "one by one");

        // A static model never batches, and is never tried batched.
        let mut model = counted("models/ssrnet_legacy_static.onnx");
        let cases = random_cases(&batch_agnostic(model.info()), &[1, 1]);
        let refs: Vec<&NamedTensors> = cases.iter().collect();
        let batcher = Batcher::new(Batch::Auto);
        for _ in 0..2 {
            model.calls = 0;
            batcher.run(&mut model, &refs, &tolerances);
            assert_eq!(model.calls, 2);
        }
        assert!(!batcher.auto_batched());
    }

    #[test]
    fn a_static_batch_runs_case_by_case() {
        let mut model = counted("models/ssrnet_legacy_static.onnx");
        let cases = random_cases(&batch_agnostic(model.info()), &[1, 1, 1]);
        let refs: Vec<&NamedTensors> = cases.iter().collect();
        let results = run_together(&mut model, &refs);
        assert_eq!(model.calls, 3);
        assert!(results.iter().all(Result::is_ok));
    }
}

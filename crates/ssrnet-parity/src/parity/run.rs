//! Running inputs through a prepared model on a backend, and comparing the outputs case by case.

use std::path::Path;

use anyhow::Result;
use parity_core::compare::{CaseReport, CompareOptions, Tolerances, compare_outputs};
use parity_core::{Dim, ModelInfo, NamedTensors, Options, Runnable};

use crate::backends::BackendName;

/// True when the model's inputs all have a batch axis fixed to 1 (a static export).
fn fixed_batch_one(info: &ModelInfo) -> bool {
    !info.inputs.is_empty()
        && info.inputs.iter().all(|io| matches!(io.shape.first(), Some(Dim::Fixed(1))))
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
    parity_core::concat_named(parts)
}

/// Loads `model` on `backend`, naming both in the error.
pub fn prepare(backend: BackendName, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
    backend
        .runtime()
        .prepare(model, options)
        .map_err(|e| backend_error(backend, model, "cannot load", e))
}

/// `backend`'s error on `model` as one line that names each once:
/// `candle: m.onnx: case face_01: candle-onnx panicked at ...`. A backend's own message may already
/// start with its name and the model's path; neither is repeated.
pub fn backend_error(
    backend: BackendName,
    model: &Path,
    what: &str,
    e: parity_core::Error,
) -> anyhow::Error {
    let detail = match e {
        parity_core::Error::Backend { message, .. } => message,
        other => other.to_string(),
    };
    let model = model.display().to_string();
    let detail = detail.strip_prefix(&format!("{model}: ")).unwrap_or(&detail);
    anyhow::anyhow!("{}: {model}: {what}: {detail}", backend.as_str())
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

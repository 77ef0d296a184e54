//! `check_arrays`: a check whose goldens are numpy arrays in memory, not files. The engine's
//! stream runs the cases through each backend; the report is the one `check` gives.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parity_core::compare::{CompareOptions, Tolerance, Tolerances};
use parity_core::onnx::OnnxModel;
use parity_core::{NamedTensors, Options};
use parity_engine::profile::{Profile, ProfileChoice};
use parity_engine::report::ParityReport;
use parity_engine::stream::{Comparison, Spread, StreamCase, run_backends};
use parity_engine::{BackendName, Error, Result};

/// A check of in-memory cases.
pub struct Request {
    /// The model.
    pub model: PathBuf,
    /// Each case's inputs.
    pub cases: Vec<NamedTensors>,
    /// Each case's expected outputs.
    pub expected: Vec<NamedTensors>,
    /// The backends (none: all, those that cannot load the model skipped).
    pub backends: Vec<BackendName>,
    /// Absolute tolerance (default 1e-4).
    pub atol: Option<f64>,
    /// Relative tolerance (default 0).
    pub rtol: Option<f64>,
}

impl Request {
    /// The report, with the cases named `case_0000`, `case_0001`, ... in order; `stop` ends the
    /// run between cases.
    pub fn run(self, stop: &Arc<AtomicBool>) -> Result<ParityReport> {
        let onnx = OnnxModel::read(&self.model)?;
        let info = onnx.model_info()?;
        let profile = Profile::resolve(ProfileChoice::Auto, &onnx, &info, None)?;
        let default = Tolerance::DEFAULT;
        let tolerance =
            Tolerance::new(self.atol.unwrap_or(default.atol), self.rtol.unwrap_or(default.rtol))?;
        let tolerances = Tolerances::uniform(tolerance);
        let backends = parity_engine::registry::chosen(&self.backends);
        let spread = Spread::new(None, backends.len(), 1);
        let options = Options { shared_cores: spread.jobs > 1, ..profile.options(None) };
        let count = self.cases.len();
        let cases: Vec<StreamCase> = self
            .cases
            .into_iter()
            .zip(self.expected)
            .enumerate()
            .map(|(i, (inputs, expected))| StreamCase {
                name: format!("case_{i:04}"),
                inputs,
                expected,
            })
            .collect();
        let mut read = |k: usize| -> Result<Option<StreamCase>> {
            if stop.load(Ordering::Relaxed) {
                return Err(Error::Invalid("interrupted".into()));
            }
            // Each wave of backends reads the cases again.
            Ok(Some(cases[k].clone()))
        };
        let comparison = Comparison {
            tolerances: &tolerances,
            options: CompareOptions::default(),
            keep_all: false,
            skip_refused: self.backends.is_empty(),
        };
        let sides = run_backends(
            &backends,
            &self.model,
            &options,
            count,
            &mut read,
            spread,
            comparison,
            &parity_engine::sink::Quiet,
        )?;
        let reference = format!("arrays ({count} cases)");
        let model = self.model.display().to_string();
        Ok(ParityReport::new("check", model, reference, count, profile.name(), sides))
    }
}

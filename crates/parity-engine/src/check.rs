//! `check`: every case of a golden set on every chosen backend, against the goldens ([`run`]);
//! or cases and expected outputs held in memory, with no files ([`arrays`]).
//!
//! The cases stream from disk a chunk at a time ([`crate::read_ahead`]) through the backends,
//! which run concurrently ([`crate::stream`]); a shard runs part of the cases for `merge`.

use std::path::{Path, PathBuf};

use parity_core::golden::{GoldenIndex, MANIFEST, Manifest};
use parity_core::onnx::OnnxModel;
use parity_core::{NamedTensors, Tolerance};

use crate::batch::batch_agnostic;
use crate::error::stop_point;
use crate::profile::{Profile, ProfileChoice};
use crate::read_ahead::ReadAhead;
use crate::report::{ParityReport, ShardPart};
use crate::settings::{Criteria, Plan, Scale};
use crate::sink::{Event, Sink};
use crate::stream::StreamCase;
use crate::{BackendName, Result};

/// A check of a golden set.
#[derive(Debug, Clone)]
pub struct Request {
    /// The model (default: the one the golden set's manifest names, or `model.onnx` beside ONNX
    /// test data).
    pub model: Option<PathBuf>,
    /// The golden set: npz files (+ manifest.json) or the ONNX test-data layout.
    pub golden: PathBuf,
    /// The backends (none: all, those whose runtime refuses the model skipped).
    pub backends: Vec<BackendName>,
    /// What the outputs are held to (over the golden set's tolerances).
    pub criteria: Criteria,
    /// Intra-op threads per backend (default: the backend's choice).
    pub threads: Option<usize>,
    /// How the cases are spread, and which part of them runs.
    pub scale: Scale,
    /// The model family's profile.
    pub profile: ProfileChoice,
}

/// Checks `request`: each backend's side of the report (a backend that could not run is an
/// error side); `Err` for bad input. Each case on each backend is an event to `sink`, and a model
/// other than the one the golden set was recorded with is an [`Event::Warning`].
pub fn run(request: &Request, sink: &dyn Sink) -> Result<ParityReport> {
    let dir = &request.golden;
    if !dir.is_dir() {
        bail!("{}: golden set not found (expected a directory)", dir.display());
    }
    let model = match &request.model {
        Some(m) => m.clone(),
        None => model_of(dir)?,
    };
    let onnx = OnnxModel::read(&model)?;
    let info = onnx.model_info()?;
    let golden = GoldenIndex::open(dir, &batch_agnostic(&info))?;
    let model_sha = parity_core::digest::file_sha256(&model)?;
    let other = other_model(&golden, dir, &model, &model_sha, request.model.is_some())?;
    let profile = Profile::resolve(request.profile, &onnx, &info, golden.manifest.as_ref())?;
    let tolerances = request.criteria.tolerances(golden.tolerances(Tolerance::DEFAULT), &info)?;
    let (shard, positions) = request.scale.positions(golden.len())?;
    let plan = Plan {
        command: "check",
        model: &model,
        profile: &profile,
        backends: crate::registry::chosen(&request.backends),
        skip_refused: request.backends.is_empty(),
        criteria: &request.criteria,
        threads: request.threads,
        scale: request.scale,
        busy_reader: false,
    };
    // The golden files are read a chunk at a time on every core while the backends run.
    let mut ahead = ReadAhead::new(|k: usize| golden.read(positions[k]), positions.len());
    let mut read = |k: usize| -> Result<Option<StreamCase>> {
        stop_point(sink)?;
        let case = ahead.get(k)?;
        Ok(Some(StreamCase { name: case.name, inputs: case.inputs, expected: case.outputs }))
    };
    let keep_all = shard.is_some();
    let sides = plan.run(positions.len(), &mut read, &tolerances, keep_all, sink)?;
    drop(ahead);
    if let Some(why) = other {
        sink.event(Event::Warning(&why));
    }
    let reference = format!("goldens {}", dir.display());
    let count = positions.len();
    let mut report = plan.report(reference, count, sides);
    report.provenance = golden.manifest.as_ref().and_then(|m| m.provenance.clone());
    if let Some(shard) = shard {
        let nan_equal = request.criteria.nan_equal;
        let part =
            ShardPart::new(shard, golden.len(), positions, &tolerances, nan_equal, &plan.backends);
        let reference_sha256 = listing_sha256(&golden, dir)?;
        report.shard = Some(ShardPart { model_sha256: model_sha, reference_sha256, ..part });
    }
    Ok(report)
}

/// A check whose goldens are in memory.
#[derive(Debug, Clone)]
pub struct Arrays {
    /// The model.
    pub model: PathBuf,
    /// Each case's inputs.
    pub cases: Vec<NamedTensors>,
    /// Each case's expected outputs, in the order of `cases`.
    pub expected: Vec<NamedTensors>,
    /// The backends (none: all, those whose runtime refuses the model skipped).
    pub backends: Vec<BackendName>,
    /// What the outputs are held to (over the default tolerance).
    pub criteria: Criteria,
}

/// Checks in-memory cases, named `case_0000`, `case_0001`, ... in order: the report [`run`]
/// gives for a golden set holding them.
pub fn arrays(request: Arrays, sink: &dyn Sink) -> Result<ParityReport> {
    if request.cases.len() != request.expected.len() {
        bail!(
            "{} cases but {} expected outputs: give one set of expected outputs per case",
            request.cases.len(),
            request.expected.len()
        );
    }
    let onnx = OnnxModel::read(&request.model)?;
    let info = onnx.model_info()?;
    let profile = Profile::resolve(ProfileChoice::Auto, &onnx, &info, None)?;
    let base = parity_core::compare::Tolerances::uniform(Tolerance::DEFAULT);
    let tolerances = request.criteria.tolerances(base, &info)?;
    let cases: Vec<StreamCase> = (request.cases.into_iter().zip(request.expected).enumerate())
        .map(|(i, (inputs, expected))| StreamCase {
            name: format!("case_{i:04}"),
            inputs,
            expected,
        })
        .collect();
    let plan = Plan {
        command: "check",
        model: &request.model,
        profile: &profile,
        backends: crate::registry::chosen(&request.backends),
        skip_refused: request.backends.is_empty(),
        criteria: &request.criteria,
        threads: None,
        scale: Scale::default(),
        busy_reader: false,
    };
    let mut read = |k: usize| -> Result<Option<StreamCase>> {
        stop_point(sink)?;
        // Each wave of backends reads the cases again.
        Ok(Some(cases[k].clone()))
    };
    let sides = plan.run(cases.len(), &mut read, &tolerances, false, sink)?;
    Ok(plan.report(format!("arrays ({} cases)", cases.len()), cases.len(), sides))
}

/// Why `model` (sha256 `sha`) is not the model the golden set in `dir` was recorded with, when
/// it is not: a warning for a model the user `named`, an error for the set's own.
fn other_model(
    golden: &GoldenIndex,
    dir: &Path,
    model: &Path,
    sha: &str,
    named: bool,
) -> Result<Option<String>> {
    let recorded = golden.manifest.as_ref().and_then(|m| m.model.as_ref()?.sha256.clone());
    let Some(recorded) = recorded.filter(|r| !sha.eq_ignore_ascii_case(r)) else {
        return Ok(None);
    };
    let why = format!(
        "{} (sha256 {sha}) is not the model the golden set {} was recorded with (sha256 \
         {recorded})",
        model.display(),
        dir.display()
    );
    if !named {
        bail!("{why}");
    }
    Ok(Some(why))
}

/// sha256 of a golden set's case names (in order) and its manifest: the same for every shard of
/// one set, different for another set.
fn listing_sha256(golden: &GoldenIndex, dir: &Path) -> Result<String> {
    let mut listing: Vec<u8> = Vec::new();
    for name in golden.names() {
        listing.extend(name.as_bytes());
        listing.push(0);
    }
    let manifest = dir.join(MANIFEST);
    if manifest.is_file() {
        listing.extend(parity_core::digest::file_sha256(&manifest)?.as_bytes());
    }
    Ok(parity_core::digest::sha256(&listing))
}

/// The model a golden set names: the manifest's, else `model.onnx` beside ONNX test data.
fn model_of(dir: &Path) -> Result<PathBuf> {
    let manifest = dir.join(MANIFEST);
    if manifest.is_file()
        && let Some(m) = Manifest::read(&manifest)?.model
    {
        return Ok(dir.join(m.file));
    }
    let zoo = dir.join("model.onnx");
    if zoo.is_file() {
        return Ok(zoo);
    }
    bail!("{}: the golden set names no model; pass --model", dir.display())
}

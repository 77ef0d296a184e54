//! `ssrnet-parity check`: every case of a golden set on every chosen backend, against the goldens.
//!
//! The cases stream from disk one at a time ([`GoldenIndex`]) through the backends, which run
//! concurrently ([`parity_engine::stream`]); `--shard` runs part of the cases for `merge`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use parity_core::Tolerance;
use parity_core::golden::{GoldenIndex, MANIFEST, Manifest};

use crate::Verdict;
use crate::args::ProfileArg;
use crate::parity::{ParityArgs, ParityReport, ScaleArgs, ShardPart, batch_agnostic};
use parity_core::onnx::OnnxModel;
use parity_engine::BackendName;
use parity_engine::profile::Profile;
use parity_engine::read_ahead::ReadAhead;
use parity_engine::stream::{Comparison, StreamCase, run_backends};

#[derive(clap::Args)]
pub struct Args {
    /// Model to check (default: the model the golden set's manifest names).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Golden set: npz files (+ manifest.json) or the ONNX test-data layout (default: the committed
    /// demo goldens, fixtures/golden).
    #[arg(long)]
    golden: Option<PathBuf>,
    /// Backends to check (default: all).
    #[arg(long, value_delimiter = ',', value_parser = crate::args::backend())]
    backend: Vec<BackendName>,
    #[command(flatten)]
    run: ParityArgs,
    #[command(flatten)]
    scale: ScaleArgs,
    #[command(flatten)]
    profile: ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    let dir = args
        .golden
        .clone()
        .unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_GOLDEN));
    if !dir.is_dir() {
        bail!("{}: golden set not found (expected a directory)", dir.display());
    }
    let model = match &args.model {
        Some(m) => m.clone(),
        None => model_of(&dir)?,
    };
    let onnx = OnnxModel::read(&model)?;
    let info = onnx.model_info()?;
    let golden = GoldenIndex::open(&dir, &batch_agnostic(&info))?;
    let model_sha = parity_core::digest::file_sha256(&model)?;
    let other_model = other_model(&golden, &dir, &model, &model_sha, args.model.is_some())?;
    let profile = Profile::resolve(args.profile.profile, &onnx, &info, golden.manifest.as_ref())?;
    let backends = parity_engine::registry::chosen(&args.backend);
    let spread = args.scale.spread(backends.len());
    // Backends running side by side share the cores: idle runtime threads must not spin.
    let options =
        parity_core::Options { shared_cores: spread.jobs > 1, ..profile.options(args.run.threads) };
    let tols = args.run.resolve(golden.tolerances(Tolerance::DEFAULT), &info)?;
    let shard = args.scale.shard.map(|s| s.resolve()).transpose()?;
    let all_names: Vec<&str> = golden.names().collect();
    let positions: Vec<usize> = match shard {
        Some(s) => s.select(golden.len()),
        None => (0..golden.len()).collect(),
    };
    let names: Vec<String> = positions.iter().map(|&i| all_names[i].to_string()).collect();

    let bar = crate::output::progress((backends.len() * positions.len()) as u64, "checking");
    // The golden files are read a chunk at a time on every core while the backends run.
    let mut ahead = ReadAhead::new(|k: usize| golden.read(positions[k]), positions.len());
    let mut read = |k: usize| -> Result<Option<StreamCase>> {
        crate::output::stop_requested()?;
        let case = ahead.get(k)?;
        Ok(Some(StreamCase { name: case.name, inputs: case.inputs, expected: case.outputs }))
    };
    let comparison = Comparison {
        tolerances: &tols,
        options: args.run.options(),
        keep_all: shard.is_some(),
        skip_refused: args.backend.is_empty(),
    };
    let terminal = crate::terminal::Terminal::new(&bar)
        .with_case_lines(args.run.format == crate::output::Format::Jsonl);
    let sides = run_backends(
        &backends,
        &model,
        &options,
        positions.len(),
        &mut read,
        spread,
        comparison,
        &terminal,
    )?;
    drop(ahead);
    bar.finish_and_clear();
    if let Some(why) = other_model {
        crate::output::warn_at_end(why);
    }
    let reference = format!("goldens {}", dir.display());
    let mut report = ParityReport::new(
        "check",
        model.display().to_string(),
        reference,
        names.len(),
        profile.name(),
        sides,
    );
    if let Some(shard) = shard {
        let part =
            ShardPart::new(shard, golden.len(), positions, &tols, args.run.nan_equal, &backends);
        let reference_sha256 = listing_sha256(&golden, &dir)?;
        report.shard = Some(ShardPart { model_sha256: model_sha, reference_sha256, ..part });
    }
    crate::parity::report::finish(report, args.run.format)
}

/// Why `model` (sha256 `sha`) is not the model the golden set in `dir` was recorded with, when
/// it is not: a warning for a model the user `named`, an error for the set's own.
fn other_model(
    golden: &GoldenIndex,
    dir: &std::path::Path,
    model: &std::path::Path,
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
fn listing_sha256(golden: &GoldenIndex, dir: &std::path::Path) -> Result<String> {
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
fn model_of(dir: &std::path::Path) -> Result<PathBuf> {
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

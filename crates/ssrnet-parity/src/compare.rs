//! `ssrnet-parity compare`: backends against a reference backend on the same inputs; no goldens.
//! The cases stream: they are read a chunk at a time on every core ([`crate::read_ahead`]), each
//! is run on the reference, then handed to the other backends, which run concurrently
//! ([`crate::parity::stream`]).

use std::path::PathBuf;

use anyhow::Result;
use parity_core::Tolerance;
use parity_core::compare::Tolerances;

use crate::Verdict;
use crate::backends::BackendName;
use crate::inputs::SourceArgs;
use crate::onnx_model::OnnxModel;
use crate::parity::stream::{Comparison, StreamCase, run_backends};
use crate::parity::{
    ParityArgs, ParityReport, ScaleArgs, ShardPart, backend_error, prepare, run_inputs,
};
use crate::profile::{Profile, ProfileArg};

#[derive(clap::Args)]
pub struct Args {
    /// The model every backend runs.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    source: SourceArgs,
    /// Backends to compare against the reference (default: all but the reference).
    #[arg(long, value_delimiter = ',')]
    backend: Vec<BackendName>,
    /// The backend whose outputs are taken as expected.
    #[arg(long, value_enum, default_value_t = BackendName::Ort)]
    reference: BackendName,
    #[command(flatten)]
    run: ParityArgs,
    #[command(flatten)]
    scale: ScaleArgs,
    #[command(flatten)]
    profile: ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    let onnx = OnnxModel::read(&args.model)?;
    let info = onnx.model_info()?;
    let profile = Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let source = args.source.open(&info, &profile)?;
    let tols = args.run.resolve(Tolerances::uniform(Tolerance::DEFAULT), &info)?;
    let others: Vec<BackendName> = crate::backends::chosen(&args.backend)
        .into_iter()
        .filter(|b| *b != args.reference)
        .collect();
    if others.is_empty() {
        anyhow::bail!(
            "nothing to compare: --backend names only the reference '{}'",
            args.reference.as_str()
        );
    }
    let jobs = args.scale.jobs(others.len());
    // The reference runs on the reader's thread while the others run on theirs.
    let options = parity_core::Options { shared_cores: true, ..profile.options(args.run.threads) };
    let mut reference = prepare(args.reference, &args.model, &options)?;
    let shard = args.scale.shard.map(|s| s.resolve()).transpose()?;
    let positions: Vec<usize> = match shard {
        Some(s) => s.select(source.len()),
        None => (0..source.len()).collect(),
    };
    let bar = crate::output::progress((others.len() * positions.len()) as u64, "comparing");
    let mut unreadable = crate::corpus::Unreadable::new(&bar);
    let mut ahead = source.ahead(&positions);
    let mut read = |k: usize| -> Result<Option<StreamCase>> {
        // An image of a corpus that cannot be read is named, and the run goes on.
        let Some(case) = source.noted(ahead.get(k), &mut unreadable)? else {
            return Ok(None);
        };
        let expected = run_inputs(reference.as_mut(), &case.inputs).map_err(|e| {
            backend_error(args.reference, &args.model, &format!("case {}", case.name), e)
        })?;
        Ok(Some(StreamCase { name: case.name, inputs: case.inputs, expected }))
    };
    let comparison = Comparison {
        tolerances: &tols,
        options: args.run.options(),
        keep_all: shard.is_some(),
        stream_lines: args.run.format == crate::output::Format::Jsonl,
    };
    let sides = run_backends(
        &others,
        &args.model,
        &options,
        positions.len(),
        &mut read,
        jobs,
        comparison,
        &bar,
    )?;
    drop(ahead);
    bar.finish_and_clear();
    let reference = format!("backend {} on {}", args.reference.as_str(), source.what);
    let mut report = ParityReport::new(
        "compare",
        args.model.display().to_string(),
        reference.clone(),
        positions.len() - unreadable.count(),
        profile.name(),
        sides,
    );
    if let Some(shard) = shard {
        let (total, nan_equal) = (source.len(), args.run.nan_equal);
        report.shard = Some(ShardPart {
            model_sha256: crate::digest::file_sha256(&args.model)?,
            reference_sha256: crate::digest::sha256(reference.as_bytes()),
            ..ShardPart::new(shard, total, positions, &tols, nan_equal, &others)
        });
    }
    let verdict = report.finish(args.run.format)?;
    // Judged after the report, which covers the cases that were read.
    unreadable.verdict(source.len(), args.source.skip_unreadable, "")?;
    Ok(verdict)
}

//! `ssrnet-parity compare`: backends against a reference backend on the same inputs; no goldens.
//! The cases stream: they are read a chunk at a time on every core
//! ([`parity_engine::read_ahead`]), each is run on the reference, then handed to the other
//! backends, which run concurrently ([`parity_engine::stream`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use anyhow::Result;
use parity_core::compare::Tolerances;
use parity_core::{NamedTensors, Runnable, Tolerance};

use crate::Verdict;
use crate::args::ProfileArg;
use crate::args::SourceArgs;
use crate::parity::{
    ParityArgs, ParityReport, ScaleArgs, ShardPart, backend_error, prepare, run_together,
};
use parity_core::onnx::OnnxModel;
use parity_engine::BackendName;
use parity_engine::inputs::InputCase;
use parity_engine::profile::Profile;
use parity_engine::stream::{Comparison, StreamCase, run_backends};

#[derive(clap::Args)]
pub struct Args {
    /// The model every backend runs.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    source: SourceArgs,
    /// Backends to compare against the reference (default: all but the reference).
    #[arg(long, value_delimiter = ',', value_parser = crate::args::backend())]
    backend: Vec<BackendName>,
    /// The backend whose outputs are taken as expected.
    #[arg(long, value_parser = crate::args::backend(), default_value_t = BackendName::Ort)]
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
    let source = args.source.source_or_random(8).open(&info, &profile)?;
    let tols = args.run.resolve(Tolerances::uniform(Tolerance::DEFAULT), &info)?;
    let others: Vec<BackendName> = parity_engine::registry::chosen(&args.backend)
        .into_iter()
        .filter(|b| *b != args.reference)
        .collect();
    if others.is_empty() {
        anyhow::bail!(
            "nothing to compare: --backend names only the reference '{}'",
            args.reference.as_str()
        );
    }
    let spread = args.scale.spread(others.len());
    // The reference runs on the reader's thread while the others run on theirs.
    let options = parity_core::Options { shared_cores: true, ..profile.options(args.run.threads) };
    let runnable = prepare(args.reference, &args.model, &options)?;
    let shard = args.scale.shard.map(|s| s.resolve()).transpose()?;
    let positions: Vec<usize> = match shard {
        Some(s) => s.select(source.len()),
        None => (0..source.len()).collect(),
    };
    let bar = crate::output::progress((others.len() * positions.len()) as u64, "comparing");
    let terminal = crate::terminal::Terminal::new(&bar)
        .with_case_lines(args.run.format == crate::output::Format::Jsonl);
    let mut unreadable = parity_engine::corpus::Unreadable::new(&terminal);
    let mut ahead = source.ahead(&positions);
    let mut reference = Reference {
        backend: args.reference,
        model: &args.model,
        runnable,
        size: spread.batch,
        count: positions.len(),
        batch: VecDeque::new(),
    };
    let mut read = |k: usize| -> Result<Option<StreamCase>> {
        crate::output::stop_requested()?;
        // An image of a corpus that cannot be read is named, and the run goes on.
        reference.case(k, |j| Ok(source.noted(ahead.get(j), &mut unreadable)?))
    };
    let comparison = Comparison {
        tolerances: &tols,
        options: args.run.options(),
        keep_all: shard.is_some(),
        skip_refused: args.backend.is_empty(),
    };
    let sides = run_backends(
        &others,
        &args.model,
        &options,
        positions.len(),
        &mut read,
        spread,
        comparison,
        &terminal,
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
            model_sha256: parity_core::digest::file_sha256(&args.model)?,
            reference_sha256: parity_core::digest::sha256(reference.as_bytes()),
            ..ShardPart::new(shard, total, positions, &tols, nan_equal, &others)
        });
    }
    let verdict = crate::parity::report::finish(report, args.run.format)?;
    // Judged after the report, which covers the cases that were read.
    unreadable.verdict(source.len(), args.source.skip_unreadable, "")?;
    Ok(verdict)
}

/// The reference backend over the cases: read and run `size` at a time, then handed out one by
/// one (again from the start for each wave of backends).
struct Reference<'a> {
    backend: BackendName,
    model: &'a Path,
    runnable: Box<dyn Runnable>,
    size: usize,
    count: usize,
    batch: VecDeque<(usize, Option<StreamCase>)>,
}

impl Reference<'_> {
    /// Case `k` with the reference's outputs as expected (`None`: a case `read` skipped).
    fn case(
        &mut self,
        k: usize,
        mut read: impl FnMut(usize) -> Result<Option<InputCase>>,
    ) -> Result<Option<StreamCase>> {
        if self.batch.front().is_none_or(|(j, _)| *j != k) {
            self.batch.clear();
            let cases = (k..(k + self.size).min(self.count))
                .map(|j| Ok((j, read(j)?)))
                .collect::<Result<Vec<_>>>()?;
            self.run(cases)?;
        }
        Ok(self.batch.pop_front().expect("a case read for every position").1)
    }

    /// `cases` through the reference in one call, into the batch handed out.
    fn run(&mut self, cases: Vec<(usize, Option<InputCase>)>) -> Result<()> {
        let inputs: Vec<&NamedTensors> =
            cases.iter().filter_map(|(_, c)| c.as_ref()).map(|c| &c.inputs).collect();
        let mut expected = run_together(self.runnable.as_mut(), &inputs).into_iter();
        for (j, case) in cases {
            let Some(case) = case else {
                self.batch.push_back((j, None));
                continue;
            };
            let outputs = expected.next().expect("one result per case").map_err(|e| {
                backend_error(self.backend, self.model, &format!("case {}", case.name), e)
            })?;
            let case = StreamCase { name: case.name, inputs: case.inputs, expected: outputs };
            self.batch.push_back((j, Some(case)));
        }
        Ok(())
    }
}

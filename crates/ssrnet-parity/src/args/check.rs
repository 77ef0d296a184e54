//! `ssrnet-parity check`: every case of a golden set on every chosen backend, against the goldens
//! ([`parity_engine::check`]); `--shard` runs part of the cases for `merge`.

use std::path::PathBuf;

use anyhow::Result;

use crate::Verdict;
use crate::args::ProfileArg;
use crate::args::parity::{ParityArgs, ScaleArgs};
use crate::print::terminal::with_progress;
use parity_engine::BackendName;
use parity_engine::check::Request;

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
    args.run.out.html_file()?;
    let request = Request {
        model: args.model,
        golden: args
            .golden
            .unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_GOLDEN)),
        backends: args.backend,
        criteria: args.run.criteria(),
        threads: args.run.threads,
        scale: args.scale.scale(),
        profile: args.profile.profile,
    };
    let case_lines = args.run.out.format == crate::print::Format::Jsonl;
    let report =
        with_progress("checking", 0, case_lines, |t| parity_engine::check::run(&request, t))?;
    crate::print::report::finish(report, &args.run.out)
}

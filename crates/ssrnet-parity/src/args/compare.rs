//! `ssrnet-parity compare`: backends against a reference backend on the same inputs; no goldens
//! ([`parity_engine::compare`]).

use std::path::PathBuf;

use anyhow::Result;

use crate::Verdict;
use crate::args::parity::{ParityArgs, ScaleArgs};
use crate::args::{ProfileArg, SourceArgs};
use crate::print::terminal::with_progress;
use parity_engine::BackendName;
use parity_engine::compare::Request;

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
    args.run.out.html_file()?;
    let request = Request {
        model: args.model,
        source: args.source.source_or_random(8),
        skip_unreadable: args.source.skip_unreadable,
        backends: args.backend,
        reference: args.reference,
        criteria: args.run.criteria(),
        threads: args.run.threads,
        scale: args.scale.scale(),
        profile: args.profile.profile,
    };
    let case_lines = args.run.out.format == crate::print::Format::Jsonl;
    let concluded =
        with_progress("comparing", 0, case_lines, |t| parity_engine::compare::run(&request, t))?;
    crate::print::report::conclude(concluded, &args.run.out)
}

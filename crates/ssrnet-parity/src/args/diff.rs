//! `ssrnet-parity diff OLD NEW`: regression after a re-export - the same inputs through both models
//! on one backend, NEW held to OLD's outputs ([`parity_engine::diff`]).

use std::path::PathBuf;

use anyhow::Result;

use crate::Verdict;
use crate::args::parity::ParityArgs;
use crate::args::{ProfileArg, SourceArgs};
use crate::print::terminal::with_progress;
use parity_engine::BackendName;
use parity_engine::diff::Request;

#[derive(clap::Args)]
pub struct Args {
    /// The earlier export (its outputs are taken as expected).
    old: PathBuf,
    /// The new export.
    new: PathBuf,
    #[command(flatten)]
    source: SourceArgs,
    /// The backend that runs both models.
    #[arg(long, value_parser = crate::args::backend(), default_value_t = BackendName::Ort)]
    backend: BackendName,
    #[command(flatten)]
    run: ParityArgs,
    #[command(flatten)]
    profile: ProfileArg,
    /// Pair OLD's output OLD with NEW's output NEW (repeatable); without it, outputs of the same
    /// names pair by name, else by position when count, dtypes and shapes agree.
    #[arg(long = "output-map", value_name = "OLD=NEW")]
    output_map: Vec<String>,
    /// Pair OLD's input OLD with NEW's input NEW (repeatable), as --output-map does outputs.
    #[arg(long = "input-map", value_name = "OLD=NEW")]
    input_map: Vec<String>,
}

pub fn run(args: Args) -> Result<Verdict> {
    args.run.out.html_file()?;
    let request = Request {
        source: args.source.source_or_random(8),
        skip_unreadable: args.source.skip_unreadable,
        old: args.old,
        new: args.new,
        backend: args.backend,
        criteria: args.run.criteria(),
        threads: args.run.threads,
        profile: args.profile.profile,
        output_map: args.output_map,
        input_map: args.input_map,
    };
    let concluded = with_progress("diffing", 0, false, |t| parity_engine::diff::run(&request, t))?;
    crate::print::report::conclude(concluded, &args.run.out)
}

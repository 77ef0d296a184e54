//! `ssrnet-parity record`: write a golden set from a trusted backend ([`parity_engine::record`]),
//! so a later export can be regressed against this one.

use std::path::PathBuf;

use anyhow::Result;
use parity_engine::BackendName;
use parity_engine::record::Request;

use crate::Verdict;
use crate::print::terminal::with_progress;

#[derive(clap::Args)]
pub struct Args {
    /// The model to record.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    source: crate::args::SourceArgs,
    #[command(flatten)]
    profile: crate::args::ProfileArg,
    /// The golden directory to write (replaced only if it is empty or already a golden set).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The trusted backend.
    #[arg(long, value_parser = crate::args::backend(), default_value_t = BackendName::Ort)]
    backend: BackendName,
    /// Intra-op threads of the backend (default 1: reading and writing the cases keep the other
    /// cores busy; a large model may want more).
    #[arg(long, value_parser = crate::args::values::thread_count)]
    threads: Option<usize>,
    /// Cases per inference call on a model whose batch axis is dynamic (default 1: each case
    /// alone); the outputs are split back and recorded case by case. `auto`: 8 a call when the
    /// batched call, tried on the first cases, stays within the default tolerance of batch-1 runs.
    #[arg(long, default_value = "1", value_name = "N|auto", value_parser = crate::args::values::batch_or_auto)]
    batch: parity_engine::batch::Batch,
    /// Record NaN and infinite outputs as expected values (refused by default: such a golden set
    /// fails against every later run, unless checked with --nan-equal).
    #[arg(long)]
    allow_nonfinite: bool,
}

pub fn run(args: Args) -> Result<Verdict> {
    let Some(source) = args.source.source() else {
        anyhow::bail!(
            "record needs inputs: --inputs DIR (images), --golden DIR, --random N or --tensors FILE..."
        );
    };
    let request = Request {
        model: args.model,
        source,
        skip_unreadable: args.source.skip_unreadable,
        out: args.out,
        backend: args.backend,
        threads: args.threads,
        batch: args.batch,
        allow_nonfinite: args.allow_nonfinite,
        profile: args.profile.profile,
    };
    let recorded =
        with_progress("recording", 0, false, |t| parity_engine::record::run(&request, t))?;
    crate::print::note(&format!("wrote {recorded} cases to {}", request.out.display()));
    Ok(Verdict::Pass)
}

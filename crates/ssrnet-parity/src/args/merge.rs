//! `ssrnet-parity merge REPORT...`: the JSON reports of the N shards of one run folded into the
//! report one run over every case would have printed ([`parity_engine::merge`]).

use std::path::PathBuf;

use anyhow::Result;

use crate::Verdict;
use crate::print::Output;

#[derive(clap::Args)]
pub struct Args {
    /// The shards' JSON reports (`check --shard K/N --format json`), all N of them.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    #[command(flatten)]
    out: Output,
}

pub fn run(args: Args) -> Result<Verdict> {
    args.out.html_file()?;
    let report = parity_engine::merge::merge(&args.reports)?;
    crate::print::report::finish(report, &args.out)
}

//! `ssrnet-parity localize`: where two runs of a model part, node by node ([`parity_engine::localize`]).
//! Exit 0 for none, 1 for a culprit or an accumulation, 2 for an error.

use std::path::PathBuf;

use anyhow::{Result, bail};
use parity_core::Tolerance;
use parity_engine::BackendName;
use parity_engine::localize::report::{LocalizeVerdict, Report};
use parity_engine::localize::{Request, run as localize};

use crate::Verdict;
use crate::args::{ProfileArg, SourceArgs};
use crate::print::Output;
use crate::print::terminal::with_progress;

#[derive(clap::Args)]
pub struct Args {
    /// The model under test.
    #[arg(long)]
    model: PathBuf,
    /// Another export of the same model, taken as expected: A and B are compared on each backend.
    #[arg(long, value_name = "B.onnx")]
    against: Option<PathBuf>,
    /// Backends to run (default: all; without --against, all but the reference).
    #[arg(long, value_delimiter = ',', value_parser = crate::args::backend())]
    backend: Vec<BackendName>,
    /// The backend whose values are expected (without --against).
    #[arg(long, value_parser = crate::args::backend(), default_value_t = BackendName::Ort)]
    reference: BackendName,
    #[command(flatten)]
    source: SourceArgs,
    /// The case to localize (default: the first).
    #[arg(long, value_name = "NAME")]
    case: Option<String>,
    /// Absolute tolerance of every value.
    #[arg(long, default_value_t = 1e-4)]
    atol: f64,
    /// Relative tolerance of every value.
    #[arg(long, default_value_t = 0.0)]
    rtol: f64,
    /// How many of the worst nodes the text report lists per run.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Intra-op threads per backend (default: the backend's choice).
    #[arg(long, value_parser = crate::args::values::thread_count)]
    threads: Option<usize>,
    /// Backends localized at once (default: all of them on a machine with more than one core).
    #[arg(long, value_parser = crate::args::values::thread_count)]
    jobs: Option<usize>,
    #[command(flatten)]
    out: Output,
    /// Write the culprit node as DIR/model.onnx plus DIR/test_data_set_0 (must not exist).
    #[arg(long, value_name = "DIR")]
    repro: Option<PathBuf>,
    #[command(flatten)]
    profile: ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    args.out.html_file()?;
    let request = Request {
        model: args.model,
        against: args.against,
        backends: args.backend,
        reference: args.reference,
        source: args.source.source_or_random(1),
        case: args.case,
        tolerance: Tolerance::new(args.atol, args.rtol)?,
        threads: args.threads,
        jobs: args.jobs,
        repro: args.repro,
        top: args.top,
        profile: args.profile.profile,
    };
    // One step per backend run (at most the backends chosen; the reference may not be one).
    let steps = parity_engine::registry::chosen(&request.backends).len();
    let report = with_progress("localizing", steps as u64, false, |t| localize(&request, t))?;
    crate::print::localize::print(&report, &args.out)?;
    verdict(&report)
}

/// The exit verdict of `report`; an `error` report is the command's error after it is printed.
fn verdict(report: &Report) -> Result<Verdict> {
    match report.verdict {
        LocalizeVerdict::None => Ok(Verdict::Pass),
        LocalizeVerdict::Culprit | LocalizeVerdict::Accumulation => Ok(Verdict::Fail),
        LocalizeVerdict::Error | LocalizeVerdict::Skipped => {
            let errors: Vec<String> = report.runs.iter().filter_map(|r| r.error.clone()).collect();
            if errors.is_empty() {
                let skipped: Vec<String> =
                    report.runs.iter().filter_map(|r| r.skipped.clone()).collect();
                bail!("no backend could run the model: {}", skipped.join("; "))
            }
            bail!("{}", errors.join("; "))
        }
    }
}

//! `ssrnet-parity compare`: backends against a reference backend on the same inputs; no goldens.

use std::path::PathBuf;

use anyhow::Result;
use parity_core::compare::Tolerances;
use parity_core::{NamedTensors, Tolerance};

use crate::Verdict;
use crate::backends::BackendName;
use crate::inputs::SourceArgs;
use crate::onnx_model::OnnxModel;
use crate::parity::{
    ParityArgs, ParityReport, SideReport, backend_error, compare_cases, prepare, run_inputs,
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
    profile: ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    let onnx = OnnxModel::read(&args.model)?;
    let info = onnx.model_info()?;
    let profile = Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let options = profile.options(args.run.threads);
    let (what, cases) = args.source.cases(&info, &profile)?;
    let tols = args.run.resolve(Tolerances::uniform(Tolerance::DEFAULT), &info)?;
    let names: Vec<String> = cases.iter().map(|c| c.name.clone()).collect();
    let run_all = |backend: BackendName| -> Result<Vec<NamedTensors>> {
        let mut runnable = prepare(backend, &args.model, &options)?;
        cases
            .iter()
            .map(|c| {
                run_inputs(runnable.as_mut(), &c.inputs).map_err(|e| {
                    backend_error(backend, &args.model, &format!("case {}", c.name), e)
                })
            })
            .collect()
    };
    let expected = run_all(args.reference)?;
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
    let bar = crate::output::progress(others.len() as u64, "comparing");
    let sides = others
        .into_iter()
        .map(|b| {
            bar.set_message(format!("running {}", b.as_str()));
            let side = match run_all(b) {
                Ok(actual) => SideReport::from_cases(
                    b.as_str(),
                    compare_cases(&names, &actual, &expected, &tols, args.run.options()),
                ),
                Err(e) => SideReport::from_error(b.as_str(), &e),
            };
            bar.inc(1);
            side
        })
        .collect();
    bar.finish_and_clear();
    let reference = format!("backend {} on {what}", args.reference.as_str());
    ParityReport::new(
        "compare",
        args.model.display().to_string(),
        reference,
        names.len(),
        profile.name(),
        sides,
    )
    .finish(args.run.format)
}

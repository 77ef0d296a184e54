//! `ssrnet-parity diff OLD NEW`: regression after a re-export - the same inputs through both models
//! on one backend; NEW is held to OLD's outputs, and the profile adds its task findings (SSRNet:
//! samples whose age interval changed).

use std::path::PathBuf;

use anyhow::{Result, bail};
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
    /// The earlier export (its outputs are taken as expected).
    old: PathBuf,
    /// The new export.
    new: PathBuf,
    #[command(flatten)]
    source: SourceArgs,
    /// The backend that runs both models.
    #[arg(long, value_enum, default_value_t = BackendName::Ort)]
    backend: BackendName,
    #[command(flatten)]
    run: ParityArgs,
    #[command(flatten)]
    profile: ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    let old = OnnxModel::read(&args.old)?;
    let old_info = old.model_info()?;
    let new_info = OnnxModel::read(&args.new)?.model_info()?;
    let profile = Profile::resolve(args.profile.profile, &old, &old_info, None)?;
    let options = profile.options(args.run.threads);
    let names_of = |info: &parity_core::ModelInfo| -> (Vec<String>, Vec<String>) {
        (
            info.inputs.iter().map(|i| i.name.clone()).collect(),
            info.outputs.iter().map(|o| o.name.clone()).collect(),
        )
    };
    if names_of(&old_info) != names_of(&new_info) {
        bail!(
            "{} and {} declare different inputs/outputs: {:?} vs {:?}",
            args.old.display(),
            args.new.display(),
            names_of(&old_info),
            names_of(&new_info)
        );
    }
    let (what, cases) = args.source.cases(&old_info, &profile)?;
    let tols = args.run.resolve(Tolerances::uniform(Tolerance::DEFAULT), &new_info)?;
    let names: Vec<String> = cases.iter().map(|c| c.name.clone()).collect();
    let backend = args.backend;
    let run_all = |model: &PathBuf| -> Result<Vec<NamedTensors>> {
        let mut runnable = prepare(backend, model, &options)?;
        cases
            .iter()
            .map(|c| {
                run_inputs(runnable.as_mut(), &c.inputs)
                    .map_err(|e| backend_error(backend, model, &format!("case {}", c.name), e))
            })
            .collect()
    };
    let expected = run_all(&args.old)?;
    let actual = run_all(&args.new)?;
    let reports = compare_cases(&names, &actual, &expected, &tols, args.run.options());
    let label = format!("{} ({})", args.new.display(), backend.as_str());
    let mut report = ParityReport::new(
        "diff",
        args.new.display().to_string(),
        format!("{} on {what}", args.old.display()),
        names.len(),
        profile.name(),
        vec![SideReport::from_cases(&label, reports)],
    );
    if let Some((key, finding)) = profile.findings(&names, &expected, &actual) {
        report.extra.insert(key.into(), finding);
    }
    report.finish(args.run.format)
}

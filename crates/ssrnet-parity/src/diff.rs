//! `ssrnet-parity diff OLD NEW`: regression after a re-export - the same inputs through both models
//! on one backend; NEW is held to OLD's outputs, and the profile adds its task findings (SSRNet:
//! samples whose age interval changed). The inputs are read a chunk at a time on every core
//! ([`crate::read_ahead`]) and each case runs through both models before the next; the outputs
//! are kept for the findings. An unreadable image of a corpus is named and the run goes on.

use std::path::PathBuf;

use anyhow::{Result, bail};
use parity_core::Tolerance;
use parity_core::compare::Tolerances;

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
    let source = args.source.open(&old_info, &profile)?;
    let tols = args.run.resolve(Tolerances::uniform(Tolerance::DEFAULT), &new_info)?;
    let backend = args.backend;
    let mut old_model = prepare(backend, &args.old, &options)?;
    let mut new_model = prepare(backend, &args.new, &options)?;
    let (mut names, mut expected, mut actual) = (Vec::new(), Vec::new(), Vec::new());
    let bar = crate::output::progress(source.len() as u64, "diffing");
    let mut unreadable = crate::corpus::Unreadable::new(&bar);
    let positions: Vec<usize> = (0..source.len()).collect();
    let mut ahead = source.ahead(&positions);
    for k in 0..positions.len() {
        bar.inc(1);
        // An image of a corpus that cannot be read is named, and the run goes on.
        let Some(case) = source.noted(ahead.get(k), &mut unreadable)? else { continue };
        let what = format!("case {}", case.name);
        let run = |runnable: &mut Box<dyn parity_core::Runnable>, model: &PathBuf| {
            run_inputs(runnable.as_mut(), &case.inputs)
                .map_err(|e| backend_error(backend, model, &what, e))
        };
        expected.push(run(&mut old_model, &args.old)?);
        actual.push(run(&mut new_model, &args.new)?);
        names.push(case.name);
    }
    bar.finish_and_clear();
    let reports = compare_cases(&names, &actual, &expected, &tols, args.run.options());
    let label = format!("{} ({})", args.new.display(), backend.as_str());
    let mut report = ParityReport::new(
        "diff",
        args.new.display().to_string(),
        format!("{} on {}", args.old.display(), source.what),
        names.len(),
        profile.name(),
        vec![SideReport::from_cases(&label, reports)],
    );
    if let Some((key, finding)) = profile.findings(&names, &expected, &actual) {
        report.extra.insert(key.into(), finding);
    }
    let verdict = report.finish(args.run.format)?;
    // Judged after the report, which covers the cases that were read.
    unreadable.verdict(source.len(), args.source.skip_unreadable, "")?;
    Ok(verdict)
}

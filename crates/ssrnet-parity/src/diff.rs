//! `ssrnet-parity diff OLD NEW`: regression after a re-export - the same inputs through both models
//! on one backend; NEW is held to OLD's outputs, and to its decoded age intervals.

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
}

pub fn run(args: Args) -> Result<Verdict> {
    let old_info = OnnxModel::read(&args.old)?.model_info()?;
    let new_info = OnnxModel::read(&args.new)?.model_info()?;
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
    let (what, cases) = args.source.cases(&old_info)?;
    let tols = args.run.resolve(Tolerances::uniform(Tolerance::DEFAULT))?;
    let names: Vec<String> = cases.iter().map(|c| c.name.clone()).collect();
    let backend = args.backend;
    let run_all = |model: &PathBuf| -> Result<Vec<NamedTensors>> {
        let mut runnable = prepare(backend, model, args.run.threads)?;
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
        vec![SideReport::from_cases(&label, reports)],
    );
    let changed = interval_changes(&names, &expected, &actual);
    if let Some(changed) = changed {
        report.extra.insert("age_interval_changes".into(), serde_json::json!(changed));
    }
    report.finish(args.run.format)
}

/// Samples whose decoded age interval differs between OLD and NEW outputs (`age` output only).
fn interval_changes(
    names: &[String],
    old: &[NamedTensors],
    new: &[NamedTensors],
) -> Option<Vec<String>> {
    let mut changed = Vec::new();
    for (name, (o, n)) in names.iter().zip(old.iter().zip(new)) {
        let (o, n) = (o.get("age")?.as_f32()?, n.get("age")?.as_f32()?);
        for (i, (a, b)) in o.iter().zip(n).enumerate() {
            if crate::predict::interval(*a) != crate::predict::interval(*b) {
                changed.push(if o.len() == 1 { name.clone() } else { format!("{name}[{i}]") });
            }
        }
    }
    Some(changed)
}

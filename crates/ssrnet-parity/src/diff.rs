//! `ssrnet-parity diff OLD NEW`: regression after a re-export - the same inputs through both models
//! on one backend; NEW is held to OLD's outputs, and the profile adds its task findings (SSRNet:
//! samples whose age interval changed). The inputs are read a chunk at a time on every core
//! ([`crate::read_ahead`]) on a thread of their own, and each case runs through both models, side
//! by side on a thread each, before the next; the outputs are kept for the findings. An unreadable image of a corpus is named and the run goes on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use anyhow::{Result, bail};
use parity_core::compare::Tolerances;
use parity_core::{NamedTensors, Tolerance};

use crate::Verdict;
use crate::backends::BackendName;
use crate::inputs::{InputCase, SourceArgs};
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

/// One model on its own thread: cases in, its outputs (or the error that stopped it) out, in order.
struct Side {
    cases: SyncSender<Arc<InputCase>>,
    outputs: Receiver<Result<NamedTensors>>,
}

impl Side {
    fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        backend: BackendName,
        model: &'scope Path,
        options: &'scope parity_core::Options,
    ) -> Side {
        let (cases, to_run) = sync_channel::<Arc<InputCase>>(1);
        let (done, outputs) = sync_channel(1);
        scope.spawn(move || {
            let mut runnable = match prepare(backend, model, options) {
                Ok(r) => r,
                Err(e) => {
                    let _ = done.send(Err(e));
                    return;
                }
            };
            for case in to_run {
                let out = run_inputs(runnable.as_mut(), &case.inputs)
                    .map_err(|e| backend_error(backend, model, &format!("case {}", case.name), e));
                if done.send(out).is_err() {
                    break;
                }
            }
        });
        Side { cases, outputs }
    }

    /// Hands the side a case (a side that stopped has its error waiting in [`Side::receive`]).
    fn send(&self, case: &Arc<InputCase>) {
        let _ = self.cases.send(Arc::clone(case));
    }

    fn receive(&self) -> Result<NamedTensors> {
        self.outputs.recv().unwrap_or_else(|_| bail!("the backend thread stopped"))
    }

    /// Ends the side: an error it still holds (it could not load) is the result.
    fn finish(self) -> Result<()> {
        drop(self.cases);
        match self.outputs.recv() {
            Ok(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

pub fn run(args: Args) -> Result<Verdict> {
    let old = OnnxModel::read(&args.old)?;
    let old_info = old.model_info()?;
    let new_info = OnnxModel::read(&args.new)?.model_info()?;
    let profile = Profile::resolve(args.profile.profile, &old, &old_info, None)?;
    // The two models run side by side while the reader decodes: one intra-op thread each unless
    // --threads, never spinning.
    let threads = Some(args.run.threads.unwrap_or(1));
    let options = parity_core::Options { shared_cores: true, ..profile.options(threads) };
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
    let (mut names, mut expected, mut actual) = (Vec::new(), Vec::new(), Vec::new());
    let bar = crate::output::progress(source.len() as u64, "diffing");
    let mut unreadable = crate::corpus::Unreadable::new(&bar);
    let positions: Vec<usize> = (0..source.len()).collect();
    std::thread::scope(|scope| -> Result<()> {
        let cases = crate::read_ahead::in_background(scope, source.ahead(&positions));
        let old = Side::spawn(scope, backend, &args.old, &options);
        let new = Side::spawn(scope, backend, &args.new, &options);
        for read in cases {
            bar.inc(1);
            // An image of a corpus that cannot be read is named, and the run goes on.
            let Some(case) = source.noted(read, &mut unreadable)? else { continue };
            let case = Arc::new(case);
            old.send(&case);
            new.send(&case);
            expected.push(old.receive()?);
            actual.push(new.receive()?);
            names.push(case.name.clone());
        }
        // A model that could not load says so even when no case was read.
        old.finish()?;
        new.finish()
    })?;
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

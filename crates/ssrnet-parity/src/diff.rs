//! `ssrnet-parity diff OLD NEW`: regression after a re-export - the same inputs through both models
//! on one backend; NEW is held to OLD's outputs, and the profile adds its task findings (SSRNet:
//! samples whose age interval changed). The inputs are read a chunk at a time on every core
//! ([`parity_engine::read_ahead`]) on a thread of their own, and each case runs through both
//! models, side by side on a thread each, before the next; the outputs are kept for the findings.
//! An unreadable image of a corpus is named and the run goes on. NEW's outputs and inputs are
//! paired with OLD's by name, by position or by the user's map ([`parity_engine::pairing`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use anyhow::{Result, bail};
use parity_core::compare::Tolerances;
use parity_core::{NamedTensors, Tolerance};

use crate::Verdict;
use crate::args::{ProfileArg, SourceArgs};
use crate::parity::{
    ParityArgs, ParityReport, SideReport, backend_error, compare_cases, prepare, run_inputs,
};
use parity_core::onnx::OnnxModel;
use parity_engine::BackendName;
use parity_engine::profile::Profile;

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

/// A case as a side runs it: its name and its inputs, keyed by that side's input names.
type SideCase = (Arc<str>, Arc<NamedTensors>);

/// One model on its own thread: cases in, its outputs (or the error that stopped it) out, in order.
struct Side {
    cases: SyncSender<SideCase>,
    outputs: Receiver<Result<NamedTensors>>,
}

impl Side {
    fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        backend: BackendName,
        model: &'scope Path,
        options: &'scope parity_core::Options,
    ) -> Side {
        let (cases, to_run) = sync_channel::<SideCase>(1);
        let (done, outputs) = sync_channel(1);
        scope.spawn(move || {
            let mut runnable = match prepare(backend, model, options) {
                Ok(r) => r,
                Err(e) => {
                    let _ = done.send(Err(e));
                    return;
                }
            };
            for (name, inputs) in to_run {
                let out = run_inputs(runnable.as_mut(), &inputs)
                    .map_err(|e| backend_error(backend, model, &format!("case {name}"), e));
                if done.send(out).is_err() {
                    break;
                }
            }
        });
        Side { cases, outputs }
    }

    /// Hands the side a case (a side that stopped has its error waiting in [`Side::receive`]).
    fn send(&self, case: SideCase) {
        let _ = self.cases.send(case);
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

/// NEW's `what` paired with OLD's ([`parity_engine::pairing`]), the models named in the error.
fn pairing(
    args: &Args,
    what: &str,
    old: &[parity_core::IoInfo],
    new: &[parity_core::IoInfo],
    map: &[String],
) -> Result<parity_engine::pairing::Pairing> {
    let flag = format!("--{}-map", what.trim_end_matches('s'));
    let map = parity_engine::pairing::parse_map(map, &flag)?;
    parity_engine::pairing::pair(what, old, new, &map)
        .map_err(|e| anyhow::anyhow!("{} vs {}: {e:#}", args.old.display(), args.new.display()))
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
    let inputs = pairing(&args, "inputs", &old_info.inputs, &new_info.inputs, &args.input_map)?;
    let outputs =
        pairing(&args, "outputs", &old_info.outputs, &new_info.outputs, &args.output_map)?;
    let source = args.source.source_or_random(8).open(&old_info, &profile)?;
    // Tolerances name OLD's outputs: NEW's are compared under OLD's names.
    let tols = args.run.resolve(Tolerances::uniform(Tolerance::DEFAULT), &old_info)?;
    let backend = args.backend;
    let (mut names, mut expected, mut actual) = (Vec::new(), Vec::new(), Vec::new());
    let bar = crate::output::progress(source.len() as u64, "diffing");
    let terminal = crate::terminal::Terminal::new(&bar);
    let mut unreadable = parity_engine::corpus::Unreadable::new(&terminal);
    let positions: Vec<usize> = (0..source.len()).collect();
    std::thread::scope(|scope| -> Result<()> {
        let cases = parity_engine::read_ahead::in_background(scope, source.ahead(&positions));
        let old = Side::spawn(scope, backend, &args.old, &options);
        let new = Side::spawn(scope, backend, &args.new, &options);
        for read in cases {
            bar.inc(1);
            // An image of a corpus that cannot be read is named, and the run goes on.
            let Some(case) = source.noted(read, &mut unreadable)? else { continue };
            let name: Arc<str> = Arc::from(case.name.as_str());
            let old_inputs = Arc::new(case.inputs);
            let new_inputs = match inputs.renames() {
                true => Arc::new(inputs.to_new(&old_inputs)),
                false => Arc::clone(&old_inputs),
            };
            old.send((Arc::clone(&name), old_inputs));
            new.send((Arc::clone(&name), new_inputs));
            expected.push(old.receive()?);
            let got = new.receive()?;
            actual.push(if outputs.renames() { outputs.to_old(&got) } else { got });
            names.push(case.name);
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
    for (key, pairing) in [("input_pairing", &inputs), ("output_pairing", &outputs)] {
        if pairing.by != parity_engine::pairing::By::Name {
            report.extra.insert(key.into(), serde_json::to_value(pairing)?);
        }
    }
    if let Some((key, finding)) = profile.findings(&names, &expected, &actual) {
        report.extra.insert(key.into(), finding);
    }
    let verdict = crate::parity::report::finish(report, args.run.format)?;
    // Judged after the report, which covers the cases that were read.
    unreadable.verdict(source.len(), args.source.skip_unreadable, "")?;
    Ok(verdict)
}

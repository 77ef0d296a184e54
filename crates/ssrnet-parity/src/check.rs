//! `ssrnet-parity check`: every case of a golden set on every chosen backend, against the goldens.

use std::path::PathBuf;

use anyhow::{Result, bail};
use parity_core::golden::{GoldenSet, MANIFEST, Manifest};
use parity_core::{NamedTensors, Tolerance};

use crate::Verdict;
use crate::backends::BackendName;
use crate::onnx_model::OnnxModel;
use crate::parity::{
    ParityArgs, ParityReport, SideReport, backend_error, batch_agnostic, compare_cases, prepare,
    run_inputs,
};
use crate::profile::{Profile, ProfileArg};

#[derive(clap::Args)]
pub struct Args {
    /// Model to check (default: the model the golden set's manifest names).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Golden set: npz files (+ manifest.json) or the ONNX test-data layout (default: the committed
    /// demo goldens, fixtures/golden).
    #[arg(long)]
    golden: Option<PathBuf>,
    /// Backends to check (default: all).
    #[arg(long, value_delimiter = ',')]
    backend: Vec<BackendName>,
    #[command(flatten)]
    run: ParityArgs,
    #[command(flatten)]
    profile: ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    let dir = args
        .golden
        .clone()
        .unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_GOLDEN));
    if !dir.is_dir() {
        bail!("{}: golden set not found (expected a directory)", dir.display());
    }
    let model = match &args.model {
        Some(m) => m.clone(),
        None => model_of(&dir)?,
    };
    let onnx = OnnxModel::read(&model)?;
    let info = onnx.model_info()?;
    let golden = GoldenSet::read(&dir, &batch_agnostic(&info))?;
    let recorded = golden.manifest.as_ref().and_then(|m| m.model.as_ref()?.sha256.clone());
    if let Some(recorded) = recorded {
        let actual = sha256_hex(&model)?;
        if !actual.eq_ignore_ascii_case(&recorded) {
            let why = format!(
                "{} (sha256 {actual}) is not the model the golden set {} was recorded with \
                 (sha256 {recorded})",
                model.display(),
                dir.display()
            );
            if args.model.is_none() {
                bail!("{why}");
            }
            eprintln!("warning: {}", crate::output::escape_control(&why));
        }
    }
    let profile = Profile::resolve(args.profile.profile, &onnx, &info, golden.manifest.as_ref())?;
    let options = profile.options(args.run.threads);
    let tols = args.run.resolve(golden.tolerances(Tolerance::DEFAULT), &info)?;
    let names: Vec<String> = golden.cases.iter().map(|c| c.name.clone()).collect();
    let expected: Vec<NamedTensors> = golden.cases.iter().map(|c| c.outputs.clone()).collect();

    let backends = crate::backends::chosen(&args.backend);
    let bar = crate::output::progress((backends.len() * golden.cases.len()) as u64, "checking");
    let mut sides = Vec::new();
    for backend in backends {
        bar.set_message(format!("checking {}", backend.as_str()));
        let outcome = (|| -> Result<Vec<NamedTensors>> {
            let mut runnable = prepare(backend, &model, &options)?;
            golden
                .cases
                .iter()
                .map(|case| {
                    let out = run_inputs(runnable.as_mut(), &case.inputs).map_err(|e| {
                        backend_error(backend, &model, &format!("case {}", case.name), e)
                    });
                    bar.inc(1);
                    out
                })
                .collect()
        })();
        sides.push(match outcome {
            Ok(actual) => SideReport::from_cases(
                backend.as_str(),
                compare_cases(&names, &actual, &expected, &tols, args.run.options()),
            ),
            Err(e) => SideReport::from_error(backend.as_str(), &e),
        });
    }
    bar.finish_and_clear();
    let reference = format!("goldens {}", dir.display());
    ParityReport::new(
        "check",
        model.display().to_string(),
        reference,
        names.len(),
        profile.name(),
        sides,
    )
    .finish(args.run.format)
}

/// The sha256 of the file at `path`, in lowercase hex.
pub fn sha256_hex(path: &std::path::Path) -> Result<String> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The model a golden set names: the manifest's, else `model.onnx` beside ONNX test data.
fn model_of(dir: &std::path::Path) -> Result<PathBuf> {
    let manifest = dir.join(MANIFEST);
    if manifest.is_file()
        && let Some(m) = Manifest::read(&manifest)?.model
    {
        return Ok(dir.join(m.file));
    }
    let zoo = dir.join("model.onnx");
    if zoo.is_file() {
        return Ok(zoo);
    }
    bail!("{}: the golden set names no model; pass --model", dir.display())
}

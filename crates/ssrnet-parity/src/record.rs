//! `ssrnet-parity record`: write a golden set from a trusted backend, so a later export can be
//! regressed against this one.

use std::path::{Path, PathBuf};

use anyhow::Result;
use parity_core::Tolerance;
use parity_core::golden::{Case, Manifest, ManifestCase, ManifestModel, write_npz};

use crate::Verdict;
use crate::backends::BackendName;
use crate::onnx_model::OnnxModel;

#[derive(clap::Args)]
pub struct Args {
    /// The model to record.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    source: crate::inputs::SourceArgs,
    #[command(flatten)]
    profile: crate::profile::ProfileArg,
    /// The golden directory to write (replaced only if it is empty or already a golden set).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The trusted backend.
    #[arg(long, value_enum, default_value_t = BackendName::Ort)]
    backend: BackendName,
}

pub fn run(args: Args) -> Result<Verdict> {
    if args.source.is_empty() {
        anyhow::bail!(
            "record needs inputs: --inputs DIR (images), --golden DIR, --random N or --tensors FILE..."
        );
    }
    refuse_output_over_inputs(&args.out, &args.source)?;
    let onnx = OnnxModel::read(&args.model)?;
    let info = onnx.model_info()?;
    let profile = crate::profile::Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let (_, inputs) = args.source.cases(&info, &profile)?;
    let from_images = inputs.iter().any(|c| c.image.is_some());
    let options = profile.options(None);
    let mut runnable = crate::parity::prepare(args.backend, &args.model, &options)?;
    let bar = crate::output::progress(inputs.len() as u64, "recording");
    let mut cases = Vec::new();
    let mut manifest_cases = std::collections::BTreeMap::new();
    for input in inputs {
        let outputs = crate::parity::run_inputs(runnable.as_mut(), &input.inputs).map_err(|e| {
            crate::parity::backend_error(
                args.backend,
                &args.model,
                &format!("case {}", input.name),
                e,
            )
        })?;
        let entry = ManifestCase {
            image: input.image.as_deref().map(|image| relative(image, &args.out)),
            source: input.source,
            ..Default::default()
        };
        manifest_cases.insert(input.name.clone(), entry);
        let mut case = Case::new(input.name, input.inputs, outputs);
        case.extras = input.extras;
        cases.push(case);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let sha = crate::check::sha256_hex(&args.model)?;
    let mut manifest = Manifest {
        format: Some("ssrnet-parity-golden".into()),
        version: Some(1),
        model: Some(ManifestModel {
            file: relative(&args.model, &args.out),
            sha256: Some(sha),
            ..Default::default()
        }),
        tolerance: info.outputs.iter().map(|o| (o.name.clone(), Tolerance::DEFAULT)).collect(),
        preprocess: from_images.then(|| {
            let pre = profile.preprocessor(&info).expect("images were preprocessed");
            serde_json::json!({
                "decode": "cv2.imread(path) (IMREAD_COLOR), reproduced by cv-preprocess",
                "resize": {"width": pre.size.0, "height": pre.size.1, "interpolation": "cv2.INTER_LINEAR"},
                "channel_order": "BGR",
                "mean": pre.normalize.mean,
                "std": pre.normalize.std,
            })
        }),
        provenance: Some(serde_json::json!({
            "recorded_by": format!("ssrnet-parity {} record", env!("CARGO_PKG_VERSION")),
            "backend": args.backend.as_str(),
            "model_metadata": onnx.metadata(),
        })),
        cases: manifest_cases,
        ..Default::default()
    };
    manifest.set_model_info(&info);
    write_npz(&args.out, &cases, Some(&manifest))?;
    eprintln!("wrote {} cases to {}", cases.len(), args.out.display());
    Ok(Verdict::Pass)
}

/// `path` relative to the directory `base` (for portable manifests), else absolute.
fn relative(path: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    pathdiff::diff_paths(abs(path), abs(base))
        .unwrap_or_else(|| abs(path))
        .to_string_lossy()
        .into_owned()
}

/// `--out` must not be, or hold, the inputs it is recorded from: replacing it would destroy them.
fn refuse_output_over_inputs(out: &Path, source: &crate::inputs::SourceArgs) -> Result<()> {
    let Ok(out_dir) = out.canonicalize() else { return Ok(()) };
    let dirs = source.golden.iter().chain(&source.inputs).cloned();
    let parents = source.tensors.iter().filter_map(|t| t.parent().map(Path::to_path_buf));
    for dir in dirs.chain(parents) {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        if dir.canonicalize().is_ok_and(|d| d == out_dir) {
            anyhow::bail!(
                "{}: is also where the inputs are read from; refusing to replace it",
                out.display()
            );
        }
    }
    Ok(())
}

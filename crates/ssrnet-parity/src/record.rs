//! `ssrnet-parity record`: write a golden set from a trusted backend, so a later export can be
//! regressed against this one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use parity_core::golden::{Case, Manifest, ManifestCase, ManifestModel, write_npz};
use parity_core::{NamedTensors, Tensor, Tolerance};
use sha2::{Digest, Sha256};

use crate::Verdict;
use crate::backends::BackendName;
use crate::onnx_model::OnnxModel;

#[derive(clap::Args)]
pub struct Args {
    /// The model to record.
    #[arg(long)]
    model: PathBuf,
    /// A directory of images (one case per image, named by its file stem).
    #[arg(long, value_name = "DIR")]
    inputs: PathBuf,
    /// The golden directory to write (replaced only if it is empty or already a golden set).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The trusted backend.
    #[arg(long, value_enum, default_value_t = BackendName::Ort)]
    backend: BackendName,
}

pub fn run(args: Args) -> Result<Verdict> {
    let onnx = OnnxModel::read(&args.model)?;
    let info = onnx.model_info()?;
    let pre = crate::inputs::preprocessor_for(&info)?;
    let images = crate::inputs::image_files(&args.inputs)?;
    let mut runnable = crate::parity::prepare(args.backend, &args.model, None)?;
    let bar = crate::output::progress(images.len() as u64, "recording");
    let mut cases = Vec::new();
    let mut manifest_cases = std::collections::BTreeMap::new();
    for path in &images {
        let (input, resized) = crate::inputs::image_case(&pre, &info, path)?;
        let outputs = runnable.run(&input.inputs).map_err(|e| {
            crate::parity::backend_error(args.backend, &args.model, &path.display().to_string(), e)
        })?;
        let mut case = Case::new(input.name.clone(), input.inputs, outputs);
        let shape = vec![1, resized.height, resized.width, resized.channels];
        let mut extras = NamedTensors::new();
        extras.insert(
            "preprocess.resized_bgr_u8".into(),
            Tensor::new(shape, parity_core::TensorData::U8(resized.data))?,
        );
        case.extras = extras;
        manifest_cases.insert(
            input.name,
            ManifestCase { image: Some(relative(path, &args.out)), ..Default::default() },
        );
        cases.push(case);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let sha = Sha256::digest(
        std::fs::read(&args.model)
            .with_context(|| format!("{}: cannot read", args.model.display()))?,
    );
    let manifest = Manifest {
        format: Some("ssrnet-parity-golden".into()),
        version: Some(1),
        model: Some(ManifestModel {
            file: relative(&args.model, &args.out),
            sha256: Some(sha.iter().map(|b| format!("{b:02x}")).collect()),
            ..Default::default()
        }),
        tolerance: info.outputs.iter().map(|o| (o.name.clone(), Tolerance::DEFAULT)).collect(),
        preprocess: Some(serde_json::json!({
            "decode": "cv2.imread(path) (IMREAD_COLOR), reproduced by cv-preprocess",
            "resize": {"width": pre.size.0, "height": pre.size.1, "interpolation": "cv2.INTER_LINEAR"},
            "channel_order": "BGR",
            "mean": pre.normalize.mean,
            "std": pre.normalize.std,
        })),
        provenance: Some(serde_json::json!({
            "recorded_by": format!("ssrnet-parity {} record", env!("CARGO_PKG_VERSION")),
            "backend": args.backend.as_str(),
            "model_metadata": onnx.metadata(),
        })),
        cases: manifest_cases,
        ..Default::default()
    };
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

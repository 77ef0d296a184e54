//! `ssrnet-parity predict IMAGE...`: the age and the interval the original C++ `Age` type reports,
//! for a model with the SSRNet profile.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Serialize;

use crate::Verdict;
use crate::backends::BackendName;
use crate::onnx_model::OnnxModel;
use crate::output::{Format, table};

#[derive(clap::Args)]
pub struct Args {
    /// Face crops to estimate (decoded and resized exactly as cv2).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// The model (default: the committed demo model, which carries demo weights).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = BackendName::Ort)]
    backend: BackendName,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    profile: crate::profile::ProfileArg,
}

#[derive(Serialize)]
struct Prediction {
    image: String,
    age: f32,
    interval: [i64; 2],
}

pub fn run(args: Args) -> Result<Verdict> {
    let model =
        args.model.clone().unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_MODEL));
    let onnx = OnnxModel::read(&model)?;
    let info = onnx.model_info()?;
    let profile = crate::profile::Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let Some(output) = profile.age_output() else {
        bail!(
            "{}: predict estimates ages with SSRNet models; this model's metadata and signature \
             are not SSRNet's (pass --profile ssrnet if it is one)",
            model.display()
        );
    };
    let pre = profile.preprocessor(&info)?;
    let mut runnable = crate::parity::prepare(args.backend, &model, &profile.options(None))?;
    let mut rows = Vec::new();
    for path in &args.images {
        let case = crate::inputs::image_case(&pre, &info, path)?;
        let out = runnable.run(&case.inputs).map_err(|e| {
            crate::parity::backend_error(args.backend, &model, &path.display().to_string(), e)
        })?;
        let age = out.get(output).and_then(|t| t.as_f32()).and_then(|v| v.first().copied());
        let Some(age) = age else {
            bail!("{}: output '{output}' is not a float32 tensor with one value", model.display());
        };
        if !age.is_finite() {
            bail!("{}: the model produced a non-finite age ({age})", path.display());
        }
        let interval = crate::profile::age_interval(age);
        rows.push(Prediction { image: path.display().to_string(), age, interval });
    }
    // Warned only once every image succeeded, so an error stays the one line on stderr.
    for warning in profile.warnings(&onnx) {
        eprintln!("warning: {}", crate::output::escape_control(&warning));
    }
    match args.format {
        Format::Json => crate::output::print_json(&rows)?,
        format => {
            let mut t = table(format, &["image", "age", "interval"]);
            for r in &rows {
                t.add_row(vec![
                    r.image.clone(),
                    format!("{:.3}", r.age),
                    format!("{}-{}", r.interval[0], r.interval[1]),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(Verdict::Pass)
}

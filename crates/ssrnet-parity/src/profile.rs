//! Profiles: everything specific to a model family, in one place, so that the engine stays generic.
//! A model without a profile is checked as plain tensors.
//!
//! A profile says how images become the model's input (cv-preprocess parameters), what
//! task-level finding to add to a report, what to warn about, and how a backend may best batch it.
//! Today there is one, **SSRNet**'s: 64x64 BGR crops, ImageNet mean/std applied in B, G, R order,
//! the age output `age` and its interval, demo-weight warnings, and batches split into single
//! samples on tract (measured faster there: `backend-tract`'s bench).
//!
//! Which profile applies (`--profile auto`, the default): SSRNet when the model's metadata names it
//! (`model: SSRNet ...`, as the reference pipeline writes) or its signature is SSRNet's (one float
//! `[N, 3, 64, 64]` input, one output `age`); otherwise plain tensors. A plain model can still take
//! images when a golden set's manifest states its preprocessing (`preprocess`: resize, mean, std,
//! channel order), as `record` writes it.

use anyhow::{Result, bail};
use cv_preprocess::{ChannelOrder, Interpolation, Normalize, Preprocessor};
use parity_core::golden::Manifest;
use parity_core::{DType, Dim, ModelInfo, NamedTensors};

use parity_core::onnx::OnnxModel;

/// `--profile`, for every command that runs a model.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct ProfileArg {
    /// The model family's profile: image preprocessing, task findings, batching hints.
    #[arg(long, value_enum, default_value_t = ProfileChoice::Auto)]
    pub profile: ProfileChoice,
}

/// The values of `--profile`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileChoice {
    /// SSRNet's when the model's metadata or signature says so, else plain tensors.
    #[default]
    Auto,
    /// SSRNet (age estimation from a 64x64 BGR face crop).
    Ssrnet,
    /// Plain tensors: no image preprocessing unless a golden manifest states it.
    Plain,
}

/// The profile a command runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The model, named in errors.
    model: std::path::PathBuf,
    ssrnet: bool,
    /// How images become the model's input, when known.
    image: Option<ImageSpec>,
}

/// How images become a model's `[N, 3, H, W]` input (cv2.imread, cv2.resize, `/255`, mean/std).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// Width and height; `None` takes them from the model's declared input.
    pub size: Option<(usize, usize)>,
    pub interpolation: Interpolation,
    pub normalize: Normalize,
}

/// SSRNet's output, an age in years.
pub const SSRNET_AGE: &str = "age";

/// SSRNet's preprocessing (ARCHITECTURE.md): 64x64, INTER_LINEAR, ImageNet mean/std on B, G, R.
pub fn ssrnet_image() -> ImageSpec {
    ImageSpec {
        size: Some((64, 64)),
        interpolation: Interpolation::Linear,
        normalize: Normalize {
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
            order: ChannelOrder::Bgr,
        },
    }
}

impl Profile {
    /// The profile for `model`, whose declared interface is `info` (see the module docs), a golden
    /// manifest's `preprocess` section
    /// giving the image preprocessing of a plain model.
    pub fn resolve(
        choice: ProfileChoice,
        model: &OnnxModel,
        info: &ModelInfo,
        manifest: Option<&Manifest>,
    ) -> Result<Profile> {
        let ssrnet = match choice {
            ProfileChoice::Ssrnet => true,
            ProfileChoice::Plain => false,
            ProfileChoice::Auto => names_ssrnet(model) || has_ssrnet_signature(info),
        };
        let image = match manifest.and_then(|m| m.preprocess.as_ref()) {
            Some(section) => Some(ImageSpec::from_manifest(section)?),
            None => ssrnet.then(ssrnet_image),
        };
        Ok(Profile { model: model.path.clone(), ssrnet, image })
    }

    /// `ssrnet` or `plain`, for reports.
    pub fn name(&self) -> &'static str {
        if self.ssrnet { "ssrnet" } else { "plain" }
    }

    /// The preprocessing that turns images into `info`'s single `[N, 3, H, W]` input.
    pub fn preprocessor(&self, info: &ModelInfo) -> Result<Preprocessor> {
        let Some(image) = &self.image else {
            bail!(
                "{}: images need a preprocessing profile, and this model has none (its metadata \
                 and signature are not SSRNet's): pass --profile ssrnet, or give tensors \
                 (--tensors, --random, --golden)",
                self.model.display()
            );
        };
        let [input] = info.inputs.as_slice() else {
            bail!(
                "images can only feed a model with one input; this one has {}",
                info.inputs.len()
            );
        };
        let declared = match input.shape.as_slice() {
            [_, Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(w)] => Some((*w, *h)),
            [_, Dim::Fixed(3), _, _] => None,
            other => bail!("input '{}' has shape {other:?}; images need [N, 3, H, W]", input.name),
        };
        let size = match (image.size, declared) {
            (_, Some(declared)) => declared,
            (Some(size), None) => size,
            (None, None) => bail!(
                "input '{}' has no fixed height and width, and the profile states no size",
                input.name
            ),
        };
        Ok(Preprocessor {
            size,
            interpolation: image.interpolation,
            normalize: image.normalize.clone(),
            ..Preprocessor::default()
        })
    }

    /// Backend options for this model family: SSRNet's batches run fastest on tract as
    /// single-sample runs (`Options::batch_chunk`).
    pub fn options(&self, threads: Option<usize>) -> parity_core::Options {
        parity_core::Options {
            threads,
            batch_chunk: self.ssrnet.then_some(1),
            ..parity_core::Options::default()
        }
    }

    /// The name of the output `predict` reports: SSRNet's age.
    pub fn age_output(&self) -> Option<&'static str> {
        self.ssrnet.then_some(SSRNET_AGE)
    }

    /// Task-level findings of a regression from `old` to `new` outputs: for SSRNet, the samples
    /// whose age interval changed (`case` or `case[i]` for a batched case).
    pub fn findings(
        &self,
        names: &[String],
        old: &[NamedTensors],
        new: &[NamedTensors],
    ) -> Option<(&'static str, serde_json::Value)> {
        if !self.ssrnet {
            return None;
        }
        let mut changed = Vec::new();
        for (name, (o, n)) in names.iter().zip(old.iter().zip(new)) {
            let (o, n) = (o.get(SSRNET_AGE)?.as_f32()?, n.get(SSRNET_AGE)?.as_f32()?);
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                if age_interval(*a) != age_interval(*b) {
                    changed.push(if o.len() == 1 { name.clone() } else { format!("{name}[{i}]") });
                }
            }
        }
        Some(("age_interval_changes", serde_json::json!(changed)))
    }

    /// Warnings a user should read about `model` (SSRNet: demo weights estimate nothing).
    pub fn warnings(&self, model: &OnnxModel) -> Vec<String> {
        let demo = model.metadata().iter().any(|(k, v)| {
            k == "weights" && v.eq_ignore_ascii_case("demo")
                || v.to_ascii_lowercase().contains("demo weights")
        });
        if self.ssrnet && demo {
            vec![format!(
                "{} carries demo weights (metadata), not a trained model: its ages mean nothing",
                model.path.display()
            )]
        } else {
            Vec::new()
        }
    }
}

/// `[int(max(age - 2, 0)), int(min(age + 3, 100))]`, as the seed's C++ `Age` computes it (Python
/// `int` truncates toward zero, as `as` does).
pub fn age_interval(age: f32) -> [i64; 2] {
    [(age - 2.0).max(0.0) as i64, (age + 3.0).min(100.0) as i64]
}

/// The model's metadata names SSRNet (`model: SSRNet ...`).
fn names_ssrnet(model: &OnnxModel) -> bool {
    model.metadata().get("model").is_some_and(|m| m.starts_with("SSRNet"))
}

/// One float32 `[N, 3, 64, 64]` input and one output named `age`.
fn has_ssrnet_signature(info: &ModelInfo) -> bool {
    let [input] = info.inputs.as_slice() else { return false };
    let [output] = info.outputs.as_slice() else { return false };
    input.dtype == DType::F32
        && matches!(input.shape.as_slice(), [_, Dim::Fixed(3), Dim::Fixed(64), Dim::Fixed(64)])
        && output.name == SSRNET_AGE
}

impl ImageSpec {
    /// A golden manifest's `preprocess` section: `resize` `{width, height, interpolation}`,
    /// `mean`, `std` (3 numbers each) and `channel_order` (`BGR` or `RGB`).
    fn from_manifest(section: &serde_json::Value) -> Result<ImageSpec> {
        let bad = |what: &str| anyhow::anyhow!("manifest 'preprocess' section: {what}");
        let three = |key: &str| -> Result<[f32; 3]> {
            let values = section[key].as_array().ok_or_else(|| bad(&format!("no '{key}' list")))?;
            let values: Vec<f32> =
                values.iter().filter_map(|v| v.as_f64()).map(|v| v as f32).collect();
            <[f32; 3]>::try_from(values).map_err(|_| bad(&format!("'{key}' needs 3 numbers")))
        };
        let resize = &section["resize"];
        let dim = |key: &str| resize[key].as_u64().map(|v| v as usize);
        let size = match (dim("width"), dim("height")) {
            (Some(w), Some(h)) if w > 0 && h > 0 => Some((w, h)),
            _ => None,
        };
        let interpolation = match resize["interpolation"].as_str().unwrap_or("cv2.INTER_LINEAR") {
            "cv2.INTER_LINEAR" | "linear" => Interpolation::Linear,
            "cv2.INTER_LINEAR_EXACT" | "linear-exact" => Interpolation::LinearExact,
            "cv2.INTER_AREA" | "area" => Interpolation::Area,
            other => return Err(bad(&format!("unknown interpolation '{other}'"))),
        };
        let order = match section["channel_order"].as_str().unwrap_or("BGR") {
            o if o.eq_ignore_ascii_case("bgr") => ChannelOrder::Bgr,
            o if o.eq_ignore_ascii_case("rgb") => ChannelOrder::Rgb,
            other => return Err(bad(&format!("unknown channel_order '{other}'"))),
        };
        Ok(ImageSpec {
            size,
            interpolation,
            normalize: Normalize { mean: three("mean")?, std: three("std")?, order },
        })
    }
}

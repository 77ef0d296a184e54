//! Profiles: everything specific to a model family, one module each behind one trait
//! ([`Family`]), so that the rest of the engine stays generic. A model of no known family is
//! checked as plain tensors ([`plain`]); the one family known today is SSRNet's ([`ssrnet`]).
//!
//! A profile says how images become the model's input (cv-preprocess parameters), what
//! task-level finding to add to a report, what to warn about, and how a backend may best batch it.
//!
//! Which profile applies ([`ProfileChoice::Auto`], the default): the first family that recognises
//! the model (SSRNet's by its metadata or its signature); otherwise plain tensors. A plain model can
//! still take images when a golden set's manifest states its preprocessing (`preprocess`: resize,
//! mean, std, channel order), as `record` writes it.

mod family;
pub mod plain;
pub mod ssrnet;

use std::str::FromStr;

use cv_preprocess::{ChannelOrder, Interpolation, Normalize, Preprocessor};
use parity_core::golden::Manifest;
use parity_core::onnx::OnnxModel;
use parity_core::{Dim, ModelInfo, NamedTensors};

pub use family::Family;

use crate::error::invalid;
use crate::{Error, Result};

/// The families `auto` tries, in order, before plain tensors.
const KNOWN: [&dyn Family; 1] = [&ssrnet::Ssrnet];

/// Which profile a run asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProfileChoice {
    /// The first family that recognises the model, else plain tensors.
    #[default]
    Auto,
    /// SSRNet (age estimation from a 64x64 BGR face crop).
    Ssrnet,
    /// Plain tensors: no image preprocessing unless a golden manifest states it.
    Plain,
}

impl ProfileChoice {
    /// Every choice, with its name and what it means (for help texts).
    pub const ALL: [(ProfileChoice, &'static str, &'static str); 3] = [
        (
            ProfileChoice::Auto,
            "auto",
            "SSRNet's when the model's metadata or signature says so, else plain tensors",
        ),
        (ProfileChoice::Ssrnet, "ssrnet", "SSRNet (age estimation from a 64x64 BGR face crop)"),
        (
            ProfileChoice::Plain,
            "plain",
            "plain tensors: no image preprocessing unless a golden manifest states it",
        ),
    ];
}

impl FromStr for ProfileChoice {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        ProfileChoice::ALL.iter().find(|(_, n, _)| *n == name).map(|(c, ..)| *c).ok_or_else(|| {
            invalid(format!("unknown profile '{name}' (known: auto, ssrnet, plain)"))
        })
    }
}

/// The profile a run uses.
#[derive(Clone)]
pub struct Profile {
    /// The model, named in errors.
    model: std::path::PathBuf,
    family: &'static dyn Family,
    /// How images become the model's input, when known.
    image: Option<ImageSpec>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("model", &self.model)
            .field("family", &self.family.name())
            .field("image", &self.image)
            .finish()
    }
}

/// How images become a model's `[N, 3, H, W]` input (cv2.imread, cv2.resize, `/255`, mean/std).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// Width and height; `None` takes them from the model's declared input.
    pub size: Option<(usize, usize)>,
    /// cv2's interpolation.
    pub interpolation: Interpolation,
    /// Scale, mean/std and channel order after `/255`.
    pub normalize: Normalize,
}

impl Profile {
    /// The profile for `model`, whose declared interface is `info` (see the module docs), a golden
    /// manifest's `preprocess` section giving the image preprocessing of a plain model.
    pub fn resolve(
        choice: ProfileChoice,
        model: &OnnxModel,
        info: &ModelInfo,
        manifest: Option<&Manifest>,
    ) -> Result<Profile> {
        let family: &'static dyn Family = match choice {
            ProfileChoice::Ssrnet => &ssrnet::Ssrnet,
            ProfileChoice::Plain => &plain::Plain,
            ProfileChoice::Auto => {
                KNOWN.into_iter().find(|f| f.recognises(model, info)).unwrap_or(&plain::Plain)
            }
        };
        let image = match manifest.and_then(|m| m.preprocess.as_ref()) {
            Some(section) => Some(ImageSpec::from_manifest(section)?),
            None => family.image(),
        };
        Ok(Profile { model: model.path.clone(), family, image })
    }

    /// `ssrnet` or `plain`, for reports.
    pub fn name(&self) -> &'static str {
        self.family.name()
    }

    /// The preprocessing that turns images into `info`'s single `[N, 3, H, W]` input.
    pub fn preprocessor(&self, info: &ModelInfo) -> Result<Preprocessor> {
        let usage = |m: String| Err(invalid(m));
        let Some(image) = &self.image else {
            return usage(format!(
                "{}: images need a preprocessing profile, and this model has none (its metadata \
                 and signature are not SSRNet's): pass --profile ssrnet, or give tensors \
                 (--tensors, --random, --golden)",
                self.model.display()
            ));
        };
        let [input] = info.inputs.as_slice() else {
            return usage(format!(
                "images can only feed a model with one input; this one has {}",
                info.inputs.len()
            ));
        };
        let declared = match input.shape.as_slice() {
            [_, Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(w)] => Some((*w, *h)),
            [_, Dim::Fixed(3), _, _] => None,
            other => {
                return usage(format!(
                    "input '{}' has shape {other:?}; images need [N, 3, H, W]",
                    input.name
                ));
            }
        };
        let size = match (image.size, declared) {
            (_, Some(declared)) => declared,
            (Some(size), None) => size,
            (None, None) => {
                return usage(format!(
                    "input '{}' has no fixed height and width, and the profile states no size",
                    input.name
                ));
            }
        };
        Ok(Preprocessor::new(size, image.interpolation, image.normalize.clone()))
    }

    /// Backend options for this model family (its batching hint) with `threads`.
    pub fn options(&self, threads: Option<usize>) -> parity_core::Options {
        parity_core::Options {
            threads,
            batch_chunk: self.family.batch_chunk(),
            ..parity_core::Options::default()
        }
    }

    /// The name of the output `predict` reports (SSRNet's age), when the family has one.
    pub fn predicted_output(&self) -> Option<&'static str> {
        self.family.predicted_output()
    }

    /// Task-level findings of a regression from `old` to `new` outputs ([`Family::findings`]).
    pub fn findings(
        &self,
        names: &[String],
        old: &[NamedTensors],
        new: &[NamedTensors],
    ) -> Option<(&'static str, serde_json::Value)> {
        self.family.findings(names, old, new)
    }

    /// Warnings a user should read about `model` ([`Family::warnings`]).
    pub fn warnings(&self, model: &OnnxModel) -> Vec<String> {
        self.family.warnings(model)
    }
}

impl ImageSpec {
    /// A golden manifest's `preprocess` section: `resize` `{width, height, interpolation}`,
    /// `mean`, `std` (3 numbers each) and `channel_order` (`BGR` or `RGB`).
    fn from_manifest(section: &serde_json::Value) -> Result<ImageSpec> {
        let bad = |what: &str| invalid(format!("manifest 'preprocess' section: {what}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_round_trip_and_the_age_interval_is_the_seeds() {
        for (choice, name, _) in ProfileChoice::ALL {
            assert_eq!(name.parse::<ProfileChoice>().unwrap(), choice);
        }
        assert!("ssr".parse::<ProfileChoice>().unwrap_err().to_string().contains("auto, ssrnet"));
        // [int(max(age - 2, 0)), int(min(age + 3, 100))], truncating as Python's int does.
        assert_eq!(ssrnet::age_interval(1.5), [0, 4]);
        assert_eq!(ssrnet::age_interval(27.54), [25, 30]);
        assert_eq!(ssrnet::age_interval(99.0), [97, 100]);
    }
}

//! SSRNet (soft stagewise regression for age estimation): 64x64 BGR face crops with ImageNet
//! mean/std applied in B, G, R order, the age output `age` and its interval, demo-weight warnings,
//! and batches split into single samples on tract (measured faster there: `backend-tract`'s bench).

use cv_preprocess::{Interpolation, Normalize};
use parity_core::onnx::OnnxModel;
use parity_core::{DType, Dim, ModelInfo, NamedTensors};

use super::ImageSpec;
use super::family::Family;

/// SSRNet's output, an age in years.
pub const AGE: &str = "age";

/// The SSRNet profile.
pub struct Ssrnet;

/// SSRNet's preprocessing (ARCHITECTURE.md): 64x64, INTER_LINEAR, ImageNet mean/std on B, G, R.
pub fn image() -> ImageSpec {
    ImageSpec {
        size: Some((64, 64)),
        interpolation: Interpolation::Linear,
        normalize: Normalize::IMAGENET_BGR,
    }
}

/// `[int(max(age - 2, 0)), int(min(age + 3, 100))]`, as the seed's C++ `Age` computes it (Python
/// `int` truncates toward zero, as `as` does).
pub fn age_interval(age: f32) -> [i64; 2] {
    [(age - 2.0).max(0.0) as i64, (age + 3.0).min(100.0) as i64]
}

impl Family for Ssrnet {
    fn name(&self) -> &'static str {
        "ssrnet"
    }

    /// The metadata names SSRNet (`model: SSRNet ...`, as the reference pipeline writes), or the
    /// signature is SSRNet's: one float32 `[N, 3, 64, 64]` input and one output named `age`.
    fn recognises(&self, model: &OnnxModel, info: &ModelInfo) -> bool {
        let named = model.metadata().get("model").is_some_and(|m| m.starts_with("SSRNet"));
        let signature = match (info.inputs.as_slice(), info.outputs.as_slice()) {
            ([input], [output]) => {
                input.dtype == DType::F32
                    && matches!(
                        input.shape.as_slice(),
                        [_, Dim::Fixed(3), Dim::Fixed(64), Dim::Fixed(64)]
                    )
                    && output.name == AGE
            }
            _ => false,
        };
        named || signature
    }

    fn image(&self) -> Option<ImageSpec> {
        Some(image())
    }

    fn batch_chunk(&self) -> Option<usize> {
        Some(1)
    }

    fn predicted_output(&self) -> Option<&'static str> {
        Some(AGE)
    }

    /// The samples whose age interval changed (`case` or `case[i]` for a batched case).
    fn findings(
        &self,
        names: &[String],
        old: &[NamedTensors],
        new: &[NamedTensors],
    ) -> Option<(&'static str, serde_json::Value)> {
        let mut changed = Vec::new();
        for (name, (o, n)) in names.iter().zip(old.iter().zip(new)) {
            let (o, n) = (o.get(AGE)?.as_f32()?, n.get(AGE)?.as_f32()?);
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                if age_interval(*a) != age_interval(*b) {
                    changed.push(if o.len() == 1 { name.clone() } else { format!("{name}[{i}]") });
                }
            }
        }
        Some(("age_interval_changes", serde_json::json!(changed)))
    }

    /// Demo weights estimate nothing.
    fn warnings(&self, model: &OnnxModel) -> Vec<String> {
        let demo = model.metadata().iter().any(|(k, v)| {
            k == "weights" && v.eq_ignore_ascii_case("demo")
                || v.to_ascii_lowercase().contains("demo weights")
        });
        if !demo {
            return Vec::new();
        }
        vec![format!(
            "{} carries demo weights (metadata), not a trained model: its ages mean nothing",
            model.path.display()
        )]
    }
}

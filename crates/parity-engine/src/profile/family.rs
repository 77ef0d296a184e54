//! What a model family knows about its models: the one trait every profile module implements.

use parity_core::onnx::OnnxModel;
use parity_core::{ModelInfo, NamedTensors};

use super::ImageSpec;

/// A model family: how its models are recognised, how images become their input, what a report
/// adds for them, what to warn about, and how a backend may best batch them.
pub trait Family: Sync {
    /// `ssrnet`, `plain`: how reports name the profile.
    fn name(&self) -> &'static str;

    /// Whether `model` (declaring `info`) is of this family, for `--profile auto`.
    fn recognises(&self, model: &OnnxModel, info: &ModelInfo) -> bool;

    /// How images become the model's input, when the family knows it.
    fn image(&self) -> Option<ImageSpec>;

    /// The batching hint for backends ([`parity_core::Options::batch_chunk`]).
    fn batch_chunk(&self) -> Option<usize>;

    /// The output `predict` reports, when the family has one.
    fn predicted_output(&self) -> Option<&'static str>;

    /// Task-level findings of a regression from `old` to `new` outputs, keyed for the report.
    fn findings(
        &self,
        names: &[String],
        old: &[NamedTensors],
        new: &[NamedTensors],
    ) -> Option<(&'static str, serde_json::Value)>;

    /// Warnings a user should read about `model`.
    fn warnings(&self, model: &OnnxModel) -> Vec<String>;
}

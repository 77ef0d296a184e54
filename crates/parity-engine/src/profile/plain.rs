//! Plain tensors: a model of no known family. No image preprocessing (unless a golden manifest
//! states it), no findings, no warnings, each backend's own batching.

use parity_core::onnx::OnnxModel;
use parity_core::{ModelInfo, NamedTensors};

use super::ImageSpec;
use super::family::Family;

/// The plain profile.
pub struct Plain;

impl Family for Plain {
    fn name(&self) -> &'static str {
        "plain"
    }

    fn recognises(&self, _model: &OnnxModel, _info: &ModelInfo) -> bool {
        true
    }

    fn image(&self) -> Option<ImageSpec> {
        None
    }

    fn batch_chunk(&self) -> Option<usize> {
        None
    }

    fn predicted_output(&self) -> Option<&'static str> {
        None
    }

    fn findings(
        &self,
        _names: &[String],
        _old: &[NamedTensors],
        _new: &[NamedTensors],
    ) -> Option<(&'static str, serde_json::Value)> {
        None
    }

    fn warnings(&self, _model: &OnnxModel) -> Vec<String> {
        Vec::new()
    }
}

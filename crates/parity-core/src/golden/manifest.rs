//! `manifest.json`: the model, declared IO, tolerances, preprocessing, provenance and case sources
//! of a golden set.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::compare::{Tolerance, Tolerances};
use crate::{DType, Dim, Error, IoInfo, ModelInfo, Result};

/// `manifest.json`: everything optional, unknown keys kept in `other`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ManifestModel>,
    /// Declared model inputs by name (a JSON object: declared order is not kept).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, ManifestTensor>,
    /// Declared model outputs by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, ManifestTensor>,
    /// Per-output tolerance the set was recorded for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tolerance: BTreeMap<String, Tolerance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocess: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cases: BTreeMap<String, ManifestCase>,
    /// Keys this crate does not know, preserved on rewrite.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The model a golden set was recorded from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManifestModel {
    /// Path relative to the golden directory.
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A declared model input or output: `{"dtype": "float32", "shape": ["N", 3, 64, 64]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManifestTensor {
    /// NumPy dtype name.
    pub dtype: String,
    /// Fixed sizes as numbers, symbolic axes as strings.
    pub shape: Vec<ManifestDim>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One axis of a [`ManifestTensor`] shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ManifestDim {
    Fixed(usize),
    Symbolic(String),
}

/// Where one case's input came from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManifestCase {
    /// Source image, relative to the golden directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Source images of a batched case, one per batch row, relative to the golden directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Free-form description of a synthetic input (e.g. `random-normal seed 3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Manifest {
    /// Reads and parses a manifest file.
    pub fn read(path: impl AsRef<Path>) -> Result<Manifest> {
        let path = path.as_ref();
        let text = String::from_utf8(crate::fsutil::read_regular(path)?)
            .map_err(|_| Error::invalid(path, "invalid manifest: not UTF-8 text"))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::invalid(path, format!("invalid manifest: {e}")))?;
        for (name, tol) in &manifest.tolerance {
            Tolerance::new(tol.atol, tol.rtol).map_err(|e| {
                Error::invalid(path, format!("invalid tolerance for '{name}': {e}"))
            })?;
        }
        Ok(manifest)
    }

    /// The declared inputs and outputs as a [`ModelInfo`] (each group in name order), or `None`
    /// when the manifest declares no outputs. `path` names the manifest in errors.
    pub fn model_info(&self, path: &Path) -> Result<Option<ModelInfo>> {
        if self.outputs.is_empty() {
            return Ok(None);
        }
        let convert = |group: &BTreeMap<String, ManifestTensor>| -> Result<Vec<IoInfo>> {
            group
                .iter()
                .map(|(name, t)| {
                    let dtype = DType::from_name(&t.dtype).ok_or_else(|| {
                        Error::invalid(
                            path,
                            format!("'{name}' has unsupported dtype '{}'", t.dtype),
                        )
                    })?;
                    let shape = t
                        .shape
                        .iter()
                        .map(|d| match d {
                            ManifestDim::Fixed(n) => Dim::Fixed(*n),
                            ManifestDim::Symbolic(s) => Dim::Symbolic(s.clone()),
                        })
                        .collect();
                    Ok(IoInfo { name: name.clone(), dtype, shape })
                })
                .collect()
        };
        Ok(Some(ModelInfo { inputs: convert(&self.inputs)?, outputs: convert(&self.outputs)? }))
    }

    /// Records `model`'s declared inputs and outputs (for a set written by `record`).
    pub fn set_model_info(&mut self, model: &ModelInfo) {
        let convert = |group: &[IoInfo]| -> BTreeMap<String, ManifestTensor> {
            group
                .iter()
                .map(|io| {
                    let shape = io
                        .shape
                        .iter()
                        .map(|d| match d {
                            Dim::Fixed(n) => ManifestDim::Fixed(*n),
                            Dim::Symbolic(s) => ManifestDim::Symbolic(s.clone()),
                        })
                        .collect();
                    let t = ManifestTensor {
                        dtype: io.dtype.name().to_string(),
                        shape,
                        other: Default::default(),
                    };
                    (io.name.clone(), t)
                })
                .collect()
        };
        self.inputs = convert(&model.inputs);
        self.outputs = convert(&model.outputs);
    }

    /// The manifest's tolerances over `default` for outputs it does not name.
    pub fn tolerances(&self, default: Tolerance) -> Tolerances {
        Tolerances { default, per_output: self.tolerance.clone() }
    }
}

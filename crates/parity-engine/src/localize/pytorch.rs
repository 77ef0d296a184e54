//! PyTorch's own intermediate values as the expected side of `localize`: a golden set whose cases
//! hold `intermediate.<onnx value name>` arrays (written by `scripts/intermediates.py`) and a
//! manifest `intermediates` section saying which module outputs were mapped to which values, and
//! why the rest were not.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Result;
use crate::error::invalid;
use parity_core::NamedTensors;
use parity_graph::scope::Origin;
use serde::{Deserialize, Serialize};

use super::model::Model;

/// The prefix of an intermediate array's name in a golden case.
pub const PREFIX: &str = "intermediate.";

/// What the golden set says of its mapping, reported beside the runs.
#[derive(Debug, Clone, Serialize)]
pub struct Intermediates {
    /// Values of the model with a PyTorch value (the intermediates and the graph's outputs).
    pub values: usize,
    /// Module outputs mapped to a value, of all module outputs hooked.
    pub modules_mapped: usize,
    /// Module outputs hooked.
    pub modules: usize,
    /// `modules_mapped / modules`.
    pub fraction: f64,
    /// Module outputs that were not mapped, each with the reason.
    pub unmapped: BTreeMap<String, String>,
    /// Per value, the innermost module whose output it holds, and its class where the set
    /// names it.
    #[serde(skip)]
    pub origins: BTreeMap<String, Origin>,
}

/// The manifest section `scripts/intermediates.py` and the Python package's `record` write.
#[derive(Deserialize)]
struct Section {
    /// `{value: [module output, ...]}`, innermost module first.
    mapped: BTreeMap<String, Vec<String>>,
    unmapped: BTreeMap<String, String>,
    modules: usize,
    /// `{module output: class}` (the Python package's `record` writes it).
    #[serde(default)]
    classes: BTreeMap<String, String>,
}

impl Section {
    /// Per value, its innermost module: the output's key without its call (`#k`) and tensor
    /// (`[i]`) suffixes, and the class.
    fn origins(&self) -> BTreeMap<String, Origin> {
        let path = |key: &str| key.split(['#', '[']).next().unwrap_or(key).to_string();
        self.mapped
            .iter()
            .filter_map(|(value, keys)| {
                let key = keys.first()?;
                let origin = Origin {
                    module: Some(path(key)),
                    module_class: self.classes.get(key).cloned(),
                    source: None,
                };
                Some((value.clone(), origin))
            })
            .collect()
    }
}

/// PyTorch's values of model `a` for one case of the golden set in `dir`: its outputs and its
/// intermediates, by A's value names; `None` when the case holds no intermediates. An
/// intermediate naming no value of A is an error: the set was recorded for another export.
pub fn expected(
    dir: &Path,
    a: &Model,
    golden_arrays: &NamedTensors,
) -> Result<Option<(NamedTensors, Intermediates)>> {
    if !golden_arrays.keys().any(|k| k.starts_with(PREFIX)) {
        return Ok(None);
    }
    let known = |name: &str| a.values.iter().any(|v| v.value == name);
    let mut expected = NamedTensors::new();
    for (key, tensor) in golden_arrays {
        let name = key.strip_prefix(PREFIX).unwrap_or(key);
        if known(name) {
            expected.insert(name.to_string(), tensor.clone());
        } else if key.starts_with(PREFIX) {
            bail!(
                "{}: its intermediate '{name}' is not a value of {}: the golden set was recorded \
                 for another export (run scripts/intermediates.py --model on this one)",
                dir.display(),
                a.path.display()
            );
        }
    }
    let manifest = parity_core::golden::Manifest::read(dir.join("manifest.json"))?;
    let section: Section = match manifest.other.get("intermediates") {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
            invalid(format!("{}: invalid `intermediates` section: {e}", dir.display()))
        })?,
        None => bail!(
            "{}: cases hold intermediates but the manifest has no `intermediates` section",
            dir.display()
        ),
    };
    let modules_mapped = section.mapped.values().map(Vec::len).sum();
    let info = Intermediates {
        values: expected.len(),
        modules_mapped,
        modules: section.modules,
        fraction: if section.modules == 0 {
            0.0
        } else {
            modules_mapped as f64 / section.modules as f64
        },
        origins: section.origins(),
        unmapped: section.unmapped,
    };
    Ok(Some((expected, info)))
}

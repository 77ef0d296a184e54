//! What a model declares for the tensors of a case, and the checks of a case against it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{DType, Dim, Error, NamedTensors, Result};

/// What a model declares for one tensor; dtype/shape unknown when only names were given.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub(super) name: String,
    pub(super) dtype: Option<DType>,
    pub(super) shape: Option<Vec<Dim>>,
}

#[derive(Debug, Clone)]
pub(super) struct Specs {
    pub(super) inputs: Vec<Spec>,
    pub(super) outputs: Vec<Spec>,
}

impl Specs {
    pub(super) fn check_names(&self, dir: &Path) -> Result<()> {
        if self.outputs.is_empty() {
            return Err(Error::invalid(
                dir,
                "cannot read a golden set for a model with no outputs",
            ));
        }
        Ok(())
    }
}

/// Checks declared dtypes and shapes and consistent symbolic dims.
pub(super) fn check_case(
    path: &Path,
    specs: &Specs,
    inputs: &NamedTensors,
    outputs: &NamedTensors,
) -> Result<()> {
    let mut symbols: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for (spec, tensor, what) in specs
        .inputs
        .iter()
        .map(|s| (s, &inputs[&s.name], "input"))
        .chain(specs.outputs.iter().map(|s| (s, &outputs[&s.name], "expected output")))
    {
        let name = spec.name.as_str();
        if let Some(dtype) = spec.dtype
            && dtype != tensor.dtype()
        {
            return Err(Error::invalid(
                path,
                format!("{what} '{name}' has dtype {}, the model declares {dtype}", tensor.dtype()),
            ));
        }
        if let Some(dims) = &spec.shape {
            let shape = tensor.shape();
            if crate::backend::shape_misfit(dims, shape).is_some() {
                return Err(Error::invalid(
                    path,
                    format!(
                        "{what} '{name}' has shape {shape:?}, the model declares {}",
                        crate::shape_string(dims)
                    ),
                ));
            }
            for (d, &s) in dims.iter().zip(shape) {
                if let Dim::Symbolic(sym) = d
                    && !sym.is_empty()
                    && sym != "?"
                {
                    match symbols.get(sym.as_str()) {
                        Some(&(v, other)) if v != s => {
                            return Err(Error::invalid(
                                path,
                                format!(
                                    "dimension '{sym}' is {v} in '{other}' but {s} in '{name}'"
                                ),
                            ));
                        }
                        Some(_) => {}
                        None => {
                            symbols.insert(sym.as_str(), (s, name));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

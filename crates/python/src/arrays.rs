//! numpy arrays to the engine and back. Feeds are read where numpy keeps them (a view on each
//! C-contiguous array; any other array is first copied into one), and each output `Vec` is handed
//! to numpy without another copy.

use numpy::PyUntypedArrayMethods;
use numpy::{Element, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray};
use parity_core::tensor::f16;
use parity_core::{DataView, NamedTensors, NamedViews, TensorData, TensorView};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyDictMethods};

use crate::ParityError;

/// The arrays of a `{name: ndarray}` feed, borrowed read-only for as long as this lives.
pub struct Feeds<'py> {
    held: Vec<(String, Held<'py>)>,
}

impl<'py> Feeds<'py> {
    /// The arrays of `feeds`. An array of a dtype the engine does not hold (bfloat16, complex,
    /// object, ...) raises `ParityError` naming it.
    pub fn read(feeds: &Bound<'py, PyDict>) -> PyResult<Self> {
        let mut held = Vec::with_capacity(feeds.len());
        for (name, value) in feeds.iter() {
            let name: String = name.extract().map_err(|_| {
                ParityError::new_err("a feed's name is not a string (give {name: ndarray})")
            })?;
            let array = hold(&value)
                .map_err(|why| ParityError::new_err(format!("feed '{name}': {why}")))?;
            held.push((name, array));
        }
        Ok(Feeds { held })
    }

    /// Every array, viewed where numpy keeps it.
    pub fn views(&self) -> PyResult<NamedViews<'_>> {
        self.held
            .iter()
            .map(|(name, array)| {
                let view = array
                    .view()
                    .map_err(|why| ParityError::new_err(format!("feed '{name}': {why}")))?;
                Ok((name.clone(), view))
            })
            .collect()
    }

    /// Every array copied into a tensor the engine owns.
    pub fn tensors(&self) -> PyResult<NamedTensors> {
        Ok(self.views()?.into_iter().map(|(name, view)| (name, view.to_tensor())).collect())
    }
}

/// `{name: ndarray}` copied into named tensors.
pub fn named_tensors(feeds: &Bound<'_, PyDict>) -> PyResult<NamedTensors> {
    Feeds::read(feeds)?.tensors()
}

/// One borrowed array of each dtype the engine holds, and its view.
macro_rules! held {
    ($($variant:ident: $t:ty),*) => {
        enum Held<'py> {
            $($variant(PyReadonlyArrayDyn<'py, $t>),)*
        }

        /// `array` borrowed as the first dtype it is, or `None`.
        fn borrow<'py>(array: &Bound<'py, PyAny>) -> Option<Result<Held<'py>, String>> {
            $(if let Ok(typed) = array.cast::<PyArrayDyn<$t>>() {
                return Some(typed.try_readonly().map(Held::$variant).map_err(|e| e.to_string()));
            })*
            None
        }

        impl Held<'_> {
            fn view(&self) -> Result<TensorView<'_>, String> {
                let view = match self {
                    $(Held::$variant(a) => {
                        TensorView::new(a.shape(), DataView::$variant(a.as_slice().map_err(|e| e.to_string())?))
                    })*
                };
                view.map_err(|e| e.to_string())
            }
        }
    };
}

held!(F32: f32, F16: f16, F64: f64, I64: i64, I32: i32, U8: u8, Bool: bool);

/// One array held, made C-contiguous first when it is not, or why it cannot be held.
fn hold<'py>(value: &Bound<'py, PyAny>) -> Result<Held<'py>, String> {
    let value = match value.cast::<PyUntypedArray>() {
        Ok(array) if !array.is_c_contiguous() => {
            value.call_method1("copy", ("C",)).map_err(|e| e.to_string())?
        }
        _ => value.clone(),
    };
    borrow(&value).unwrap_or_else(|| {
        let what = value
            .getattr("dtype")
            .map_or_else(|_| format!("a {}", value.get_type()), |d| format!("dtype {d}"));
        Err(format!(
            "{what} is not one the engine runs (numpy arrays of float16, float32, float64, int64, \
             int32, uint8 or bool)"
        ))
    })
}

/// Named tensors as `{name: ndarray}`, each `Vec` moved into numpy.
pub fn to_dict(py: Python<'_>, named: NamedTensors) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    for (name, tensor) in named {
        let shape = tensor.shape().to_vec();
        let array = match tensor.into_data() {
            TensorData::F16(v) => array(py, v, &shape)?,
            TensorData::F32(v) => array(py, v, &shape)?,
            TensorData::F64(v) => array(py, v, &shape)?,
            TensorData::I64(v) => array(py, v, &shape)?,
            TensorData::I32(v) => array(py, v, &shape)?,
            TensorData::U8(v) => array(py, v, &shape)?,
            TensorData::Bool(v) => array(py, v, &shape)?,
        };
        dict.set_item(name, array)?;
    }
    Ok(dict)
}

/// `data` as an array of `shape`, without a copy.
fn array<'py, T: Element>(
    py: Python<'py>,
    data: Vec<T>,
    shape: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, data).reshape(shape)?.into_any())
}

//! numpy arrays to the engine's tensors and back: one copy each way (numpy's buffer into the
//! tensor's `Vec`, and the output `Vec` handed to numpy without another).

use numpy::{Element, PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use parity_core::{NamedTensors, Tensor, TensorData};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyDictMethods};

use crate::ParityError;

/// `{name: ndarray}` as named tensors. An array of a dtype the engine does not hold (bfloat16,
/// complex, object, ...) raises `ParityError` naming it.
pub fn named_tensors(feeds: &Bound<'_, PyDict>) -> PyResult<NamedTensors> {
    let mut named = NamedTensors::new();
    for (name, value) in feeds.iter() {
        let name: String = name.extract().map_err(|_| {
            ParityError::new_err("a feed's name is not a string (give {name: ndarray})")
        })?;
        let tensor =
            tensor(&value).map_err(|why| ParityError::new_err(format!("feed '{name}': {why}")))?;
        named.insert(name, tensor);
    }
    Ok(named)
}

/// One array as a tensor, or why it cannot be one.
fn tensor(value: &Bound<'_, PyAny>) -> Result<Tensor, String> {
    let read = read::<f32>(value, TensorData::F32)
        .or_else(|| read::<parity_core::tensor::f16>(value, TensorData::F16))
        .or_else(|| read::<f64>(value, TensorData::F64))
        .or_else(|| read::<i64>(value, TensorData::I64))
        .or_else(|| read::<i32>(value, TensorData::I32))
        .or_else(|| read::<u8>(value, TensorData::U8))
        .or_else(|| read::<bool>(value, TensorData::Bool));
    let Some((shape, data)) = read else {
        let what = value
            .getattr("dtype")
            .map_or_else(|_| format!("a {}", value.get_type()), |d| format!("dtype {d}"));
        return Err(format!(
            "{what} is not one the engine runs (numpy arrays of float16, float32, float64, int64, \
             int32, uint8 or bool)"
        ));
    };
    Tensor::new(shape, data).map_err(|e| e.to_string())
}

/// The shape and a copy of the elements of `value` (`wrap`ped) when it is an array of `T`.
fn read<T: Element + Copy>(
    value: &Bound<'_, PyAny>,
    wrap: fn(Vec<T>) -> TensorData,
) -> Option<(Vec<usize>, TensorData)> {
    let array = value.cast::<PyArrayDyn<T>>().ok()?;
    let readonly = array.readonly();
    let shape = readonly.shape().to_vec();
    let data = match readonly.as_slice() {
        Ok(contiguous) => contiguous.to_vec(),
        Err(_) => readonly.as_array().iter().copied().collect(),
    };
    Some((shape, wrap(data)))
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

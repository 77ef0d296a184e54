//! Tensors between parity-core and RTen.
//!
//! RTen computes in `f32`, `i32`, `i8` and `u8` only; it reads an ONNX `int64` or `bool` value as
//! `i32` and a `double` or `float16` as `f32`. So an input of such a type is narrowed on the way in (an `int64`
//! outside `i32` range is an error, never wrapped), and an output comes back in the dtype the
//! graph declares, so that comparisons with other backends see the same dtypes.

use parity_core::{DType, DataView, Error, Result, Tensor, TensorData, TensorView};
use rten::{Value, ValueOrView};
use rten_tensor::prelude::*;

use crate::NAME;

/// `t` as an RTen input, named `name` in errors: borrowed where RTen computes in `t`'s dtype,
/// converted otherwise.
pub(crate) fn to_rten<'a>(name: &str, t: &TensorView<'a>) -> Result<ValueOrView<'a>> {
    let shape = t.shape();
    let value = match t.data() {
        DataView::F16(v) => owned(shape, v.iter().map(|&x| f32::from(x)).collect()),
        DataView::F32(v) => borrowed(shape, v),
        DataView::F64(v) => owned(shape, v.iter().map(|&x| x as f32).collect()),
        DataView::I32(v) => borrowed(shape, v),
        DataView::I64(v) => {
            let narrowed: std::result::Result<Vec<i32>, _> =
                v.iter().map(|&x| i32::try_from(x)).collect();
            let narrowed = narrowed.map_err(|_| {
                Error::Input(format!(
                    "input '{name}': an int64 value outside the int32 range, which {NAME} computes in"
                ))
            })?;
            owned(shape, narrowed)
        }
        DataView::U8(v) => borrowed(shape, v),
        DataView::Bool(v) => owned(shape, v.iter().map(|&b| i32::from(b)).collect()),
    };
    value.map_err(|e| Error::Input(format!("input '{name}': {e}")))
}

/// `data` of `shape`, borrowed.
fn borrowed<'a, T>(shape: &[usize], data: &'a [T]) -> std::result::Result<ValueOrView<'a>, String>
where
    ValueOrView<'a>: From<rten_tensor::TensorView<'a, T>>,
{
    let view = rten_tensor::TensorView::try_from_data(shape, data).map_err(|e| e.to_string())?;
    Ok(ValueOrView::from(view))
}

/// `data` of `shape`, converted into RTen's own value.
fn owned<T>(shape: &[usize], data: Vec<T>) -> std::result::Result<ValueOrView<'static>, String>
where
    Value: From<rten_tensor::Tensor<T>>,
{
    Value::from_shape(shape, data).map(ValueOrView::from).map_err(|e| e.to_string())
}

/// RTen's value `v` for the graph value `name`, in the `declared` dtype when there is one.
pub(crate) fn from_rten(name: &str, v: Value, declared: Option<DType>) -> Result<Tensor> {
    let unsupported = |what: &str| {
        Error::backend(NAME, format!("value '{name}': {what} cannot be read as a tensor"))
    };
    let (shape, data) = match v {
        Value::FloatTensor(t) => {
            let shape = t.shape().to_vec();
            let data = t.to_vec();
            let data = match declared {
                Some(DType::F64) => TensorData::F64(data.into_iter().map(f64::from).collect()),
                Some(DType::F16) => TensorData::F16(
                    data.into_iter().map(parity_core::tensor::f16::from_f32).collect(),
                ),
                _ => TensorData::F32(data),
            };
            (shape, data)
        }
        Value::Int32Tensor(t) => {
            let shape = t.shape().to_vec();
            let data = t.to_vec();
            let data = match declared {
                Some(DType::I64) => TensorData::I64(data.into_iter().map(i64::from).collect()),
                Some(DType::Bool) => TensorData::Bool(data.into_iter().map(|x| x != 0).collect()),
                _ => TensorData::I32(data),
            };
            (shape, data)
        }
        Value::UInt8Tensor(t) => (t.shape().to_vec(), TensorData::U8(t.to_vec())),
        Value::Int8Tensor(_) => return Err(unsupported("an int8 tensor")),
        Value::Sequence(_) => return Err(unsupported("a sequence")),
        // `Value` is non-exhaustive: a kind added by a later rten.
        _ => return Err(unsupported("this kind of value")),
    };
    Tensor::new(shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `t` into RTen and back, as `declared`.
    fn round_trip(t: &Tensor, declared: Option<DType>) -> Tensor {
        from_rten("x", to_rten("x", &t.view()).unwrap().into_owned(), declared).unwrap()
    }

    #[test]
    fn declared_dtypes_come_back_after_narrowing() {
        let t = Tensor::new(vec![3], TensorData::I64(vec![-2, 0, 7])).unwrap();
        assert_eq!(round_trip(&t, Some(DType::I64)), t);
        let b = Tensor::new(vec![2], TensorData::Bool(vec![true, false])).unwrap();
        assert_eq!(round_trip(&b, Some(DType::Bool)), b);
        let f = Tensor::from_f32(vec![1, 2], vec![0.5, -1.0]).unwrap();
        assert_eq!(round_trip(&f, None), f);
    }

    #[test]
    fn an_int64_beyond_int32_is_refused_not_wrapped() {
        let t = Tensor::new(vec![1], TensorData::I64(vec![1 << 40])).unwrap();
        let err = to_rten("ids", &t.view()).unwrap_err().to_string();
        assert!(err.contains("ids") && err.contains("int32"), "{err}");
    }
}

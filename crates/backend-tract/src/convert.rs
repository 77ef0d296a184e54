//! Tensors between parity-core and tract.

use parity_core::{DataView, Error, Result, Tensor, TensorData, TensorView};
use tract_onnx::prelude::{DatumType, TractError};

use crate::NAME;

pub(crate) fn to_tract(t: &TensorView<'_>) -> Result<tract_onnx::prelude::Tensor> {
    to_tract_rows(t, 0, t.shape().first().copied().unwrap_or(1))
}

/// Rows `start..start + n` of axis 0 of `t` as a tract tensor (the whole tensor for a scalar).
pub(crate) fn to_tract_rows(
    t: &TensorView<'_>,
    start: usize,
    n: usize,
) -> Result<tract_onnx::prelude::Tensor> {
    use tract_onnx::prelude::Tensor as T;
    let mut shape = t.shape().to_vec();
    let row: usize = shape.iter().skip(1).product();
    let range = if shape.is_empty() {
        0..1
    } else {
        shape[0] = n;
        start * row..(start + n) * row
    };
    let r = match t.data() {
        DataView::F16(v) => T::from_shape(&shape, &v[range]),
        DataView::F32(v) => T::from_shape(&shape, &v[range]),
        DataView::F64(v) => T::from_shape(&shape, &v[range]),
        DataView::I64(v) => T::from_shape(&shape, &v[range]),
        DataView::I32(v) => T::from_shape(&shape, &v[range]),
        DataView::U8(v) => T::from_shape(&shape, &v[range]),
        DataView::Bool(v) => T::from_shape(&shape, &v[range]),
    };
    r.map_err(|e| Error::Input(format!("cannot convert tensor of shape {shape:?}: {e:#}")))
}

pub(crate) fn from_tract(name: &str, t: &tract_onnx::prelude::Tensor) -> Result<Tensor> {
    let err = |e: TractError| Error::backend(NAME, format!("output '{name}': {e:#}"));
    // The elements of `t` as `$t`, into `TensorData::$variant`.
    macro_rules! plain {
        ($t:ty, $variant:ident) => {
            TensorData::$variant(
                t.to_plain_array_view::<$t>().map_err(err)?.iter().copied().collect(),
            )
        };
    }
    let data = match t.datum_type() {
        DatumType::F16 => plain!(parity_core::tensor::f16, F16),
        DatumType::F32 => plain!(f32, F32),
        DatumType::F64 => plain!(f64, F64),
        DatumType::I64 => plain!(i64, I64),
        DatumType::I32 => plain!(i32, I32),
        DatumType::U8 => plain!(u8, U8),
        DatumType::Bool => plain!(bool, Bool),
        // A shape value tract keeps symbolic (`Shape` of a dynamic input) is int64 in ONNX; once
        // the input is concrete, so is every dimension.
        DatumType::TDim => TensorData::I64(
            t.cast_to::<i64>()
                .map_err(err)?
                .to_plain_array_view::<i64>()
                .map_err(err)?
                .iter()
                .copied()
                .collect(),
        ),
        other => {
            return Err(Error::backend(
                NAME,
                format!("output '{name}' has unsupported dtype {other:?}"),
            ));
        }
    };
    Tensor::new(t.shape().to_vec(), data)
}

//! Borrowed tensors: a shape and typed elements owned by somebody else (a [`Tensor`], or a numpy
//! array handed over by the Python package). Backends run on views, so a caller whose data already
//! sits in memory never copies it into a [`Tensor`] first.

use std::collections::BTreeMap;

use crate::tensor::{DType, Tensor, TensorData, f16};

/// The elements of a [`TensorView`], row-major.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DataView<'a> {
    F16(&'a [f16]),
    F32(&'a [f32]),
    F64(&'a [f64]),
    I64(&'a [i64]),
    I32(&'a [i32]),
    U8(&'a [u8]),
    Bool(&'a [bool]),
}

/// A borrowed shape and its elements; the element count always equals the product of the shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorView<'a> {
    shape: &'a [usize],
    data: DataView<'a>,
}

/// Views by name, as [`crate::NamedTensors`] holds tensors by name.
pub type NamedViews<'a> = BTreeMap<String, TensorView<'a>>;

impl DataView<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            DataView::F16(v) => v.len(),
            DataView::F32(v) => v.len(),
            DataView::F64(v) => v.len(),
            DataView::I64(v) => v.len(),
            DataView::I32(v) => v.len(),
            DataView::U8(v) => v.len(),
            DataView::Bool(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            DataView::F16(_) => DType::F16,
            DataView::F32(_) => DType::F32,
            DataView::F64(_) => DType::F64,
            DataView::I64(_) => DType::I64,
            DataView::I32(_) => DType::I32,
            DataView::U8(_) => DType::U8,
            DataView::Bool(_) => DType::Bool,
        }
    }

    /// The elements copied into owned data.
    pub fn to_data(&self) -> TensorData {
        match *self {
            DataView::F16(v) => TensorData::F16(v.to_vec()),
            DataView::F32(v) => TensorData::F32(v.to_vec()),
            DataView::F64(v) => TensorData::F64(v.to_vec()),
            DataView::I64(v) => TensorData::I64(v.to_vec()),
            DataView::I32(v) => TensorData::I32(v.to_vec()),
            DataView::U8(v) => TensorData::U8(v.to_vec()),
            DataView::Bool(v) => TensorData::Bool(v.to_vec()),
        }
    }
}

impl<'a> TensorView<'a> {
    /// A view of `data` as `shape`; fails when the element count does not match the shape.
    pub fn new(shape: &'a [usize], data: DataView<'a>) -> crate::Result<Self> {
        crate::tensor::check_count(shape, data.len())?;
        Ok(TensorView { shape, data })
    }

    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    pub fn data(&self) -> DataView<'a> {
        self.data
    }

    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The viewed elements copied into a [`Tensor`].
    pub fn to_tensor(&self) -> Tensor {
        Tensor::new(self.shape.to_vec(), self.data.to_data())
            .expect("a view's count fits its shape")
    }
}

impl Tensor {
    /// This tensor, borrowed.
    pub fn view(&self) -> TensorView<'_> {
        let data = match self.data() {
            TensorData::F16(v) => DataView::F16(v),
            TensorData::F32(v) => DataView::F32(v),
            TensorData::F64(v) => DataView::F64(v),
            TensorData::I64(v) => DataView::I64(v),
            TensorData::I32(v) => DataView::I32(v),
            TensorData::U8(v) => DataView::U8(v),
            TensorData::Bool(v) => DataView::Bool(v),
        };
        TensorView { shape: self.shape(), data }
    }
}

/// Every tensor of `named`, borrowed.
pub fn views(named: &crate::NamedTensors) -> NamedViews<'_> {
    named.iter().map(|(name, t)| (name.clone(), t.view())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_borrows_the_tensor_and_copies_back_equal() {
        let t = Tensor::new(vec![2, 2], TensorData::I64(vec![1, 2, 3, 4])).unwrap();
        let v = t.view();
        assert_eq!(v.shape(), &[2, 2]);
        assert_eq!(v.dtype(), DType::I64);
        assert!(
            matches!(v.data(), DataView::I64(s) if std::ptr::eq(s.as_ptr(), t.as_i64().unwrap().as_ptr()))
        );
        assert_eq!(v.to_tensor(), t);
    }

    #[test]
    fn a_view_whose_count_misses_its_shape_is_refused() {
        let data = [1.0f32, 2.0, 3.0];
        let err = TensorView::new(&[2, 2], DataView::F32(&data)).unwrap_err();
        assert!(err.to_string().contains("needs 4 elements, got 3"), "{err}");
    }
}

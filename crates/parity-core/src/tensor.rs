//! A dense, row-major tensor: a shape plus typed data. f32 is what SSRNet uses; the other dtypes are
//! those ONNX test data carries, and float16 (a model exported after `.half()`).

pub use half::f16;

/// Element type of a [`Tensor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F16,
    F32,
    F64,
    I64,
    I32,
    U8,
    Bool,
}

/// The elements of a [`Tensor`], row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F16(Vec<f16>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    U8(Vec<u8>),
    Bool(Vec<bool>),
}

/// A shape and its data; `data.len()` always equals the product of `shape`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: TensorData,
}

impl TensorData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F16(v) => v.len(),
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F16(_) => DType::F16,
            TensorData::F32(_) => DType::F32,
            TensorData::F64(_) => DType::F64,
            TensorData::I64(_) => DType::I64,
            TensorData::I32(_) => DType::I32,
            TensorData::U8(_) => DType::U8,
            TensorData::Bool(_) => DType::Bool,
        }
    }
}

/// Fails unless `shape` holds exactly `len` elements (a [`Tensor`]'s and a view's invariant).
pub(crate) fn check_count(shape: &[usize], len: usize) -> crate::Result<()> {
    let want: usize = shape.iter().product();
    if want != len {
        return Err(crate::Error::Input(format!(
            "shape {shape:?} needs {want} elements, got {len}"
        )));
    }
    Ok(())
}

impl Tensor {
    /// A tensor of `shape` holding `data`; fails when the element count does not match the shape.
    pub fn new(shape: Vec<usize>, data: TensorData) -> crate::Result<Self> {
        check_count(&shape, data.len())?;
        Ok(Tensor { shape, data })
    }

    /// An f32 tensor; fails when the element count does not match the shape.
    pub fn from_f32(shape: Vec<usize>, data: Vec<f32>) -> crate::Result<Self> {
        Self::new(shape, TensorData::F32(data))
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn data(&self) -> &TensorData {
        &self.data
    }

    pub fn into_data(self) -> TensorData {
        self.data
    }

    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The f32 elements, or `None` for another dtype.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }
}

impl DType {
    /// Every element type.
    pub const ALL: [DType; 7] =
        [DType::F16, DType::F32, DType::F64, DType::I64, DType::I32, DType::U8, DType::Bool];

    /// NumPy's name for the type (`float32`, `uint8`, ...), as used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            DType::F16 => "float16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::U8 => "uint8",
            DType::Bool => "bool",
        }
    }

    /// The type named `name` (NumPy's `float32`, ... as [`DType::name`] gives); `None` otherwise.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::F16 => 2,
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::U8 | DType::Bool => 1,
        }
    }

    /// True for `F16`, `F32` and `F64`, the only types that can hold NaN or infinity.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::F32 | DType::F64)
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! tensor_data_from {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<Vec<$t>> for TensorData {
            fn from(v: Vec<$t>) -> Self {
                TensorData::$variant(v)
            }
        }
    )*};
}
tensor_data_from!(f16 => F16, f32 => F32, f64 => F64, i64 => I64, i32 => I32, u8 => U8, bool => Bool);

impl TensorData {
    /// Element `i` widened to f64 (`true` is 1, `false` 0); i64 beyond 2^53 rounds. `None` when
    /// out of range.
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        Some(match self {
            TensorData::F16(v) => f64::from(*v.get(i)?),
            TensorData::F32(v) => f64::from(*v.get(i)?),
            TensorData::F64(v) => *v.get(i)?,
            TensorData::I64(v) => *v.get(i)? as f64,
            TensorData::I32(v) => f64::from(*v.get(i)?),
            TensorData::U8(v) => f64::from(*v.get(i)?),
            TensorData::Bool(v) => f64::from(u8::from(*v.get(i)?)),
        })
    }

    /// Every element widened to f64 (see [`TensorData::get_f64`]).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            TensorData::F16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::F64(v) => v.clone(),
            TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
        }
    }

    /// Element `i` as f64 (what [`TensorData::to_f64_vec`] holds at `i`, without the copy).
    #[inline]
    pub fn f64_at(&self, i: usize) -> f64 {
        match self {
            TensorData::F16(v) => f64::from(v[i]),
            TensorData::F32(v) => f64::from(v[i]),
            TensorData::F64(v) => v[i],
            TensorData::I64(v) => v[i] as f64,
            TensorData::I32(v) => f64::from(v[i]),
            TensorData::U8(v) => f64::from(v[i]),
            TensorData::Bool(v) => f64::from(u8::from(v[i])),
        }
    }

    /// Flat index of the first NaN, if any (always `None` for integer types).
    pub fn first_nan(&self) -> Option<usize> {
        match self {
            TensorData::F16(v) => v.iter().position(|x| x.is_nan()),
            TensorData::F32(v) => v.iter().position(|x| x.is_nan()),
            TensorData::F64(v) => v.iter().position(|x| x.is_nan()),
            _ => None,
        }
    }

    /// Flat index of the first NaN or infinity, if any (always `None` for integer types).
    pub fn first_non_finite(&self) -> Option<usize> {
        match self {
            TensorData::F16(v) => v.iter().position(|x| !x.is_finite()),
            TensorData::F32(v) => v.iter().position(|x| !x.is_finite()),
            TensorData::F64(v) => v.iter().position(|x| !x.is_finite()),
            _ => None,
        }
    }

    /// Flat index and value of the first element that `held` cannot represent: an integer
    /// outside its range, or a finite float beyond its finite range. `None` when every element
    /// fits (always for `held` equal to this data's own dtype). The value is written as its own
    /// dtype writes it (`9223372036854775807`, not a rounded float).
    pub fn first_unrepresentable(&self, held: DType) -> Option<(usize, String)> {
        let fits = |x: f64| match held {
            DType::I32 => x >= f64::from(i32::MIN) && x <= f64::from(i32::MAX),
            DType::U8 => (0.0..=255.0).contains(&x),
            DType::F16 => !x.is_finite() || x.abs() <= f64::from(f16::MAX),
            DType::F32 => !x.is_finite() || x.abs() <= f64::from(f32::MAX),
            DType::Bool => x == 0.0 || x == 1.0,
            DType::I64 | DType::F64 => true,
        };
        // Widening to f64 keeps every bound exact: an int64 outside int32's range stays outside.
        fn first<T: Copy + ToString>(
            v: &[T],
            wide: impl Fn(T) -> f64,
            fits: impl Fn(f64) -> bool,
        ) -> Option<(usize, String)> {
            v.iter().position(|&x| !fits(wide(x))).map(|i| (i, v[i].to_string()))
        }
        match self {
            TensorData::I64(v) => first(v, |x| x as f64, fits),
            TensorData::F64(v) => first(v, |x| x, fits),
            TensorData::I32(v) => first(v, f64::from, fits),
            TensorData::F16(_) | TensorData::F32(_) | TensorData::U8(_) | TensorData::Bool(_) => {
                None
            }
        }
    }

    /// How many elements are NaN (always 0 for integer types).
    pub fn count_nan(&self) -> usize {
        match self {
            TensorData::F16(v) => v.iter().filter(|x| x.is_nan()).count(),
            TensorData::F32(v) => v.iter().filter(|x| x.is_nan()).count(),
            TensorData::F64(v) => v.iter().filter(|x| x.is_nan()).count(),
            _ => 0,
        }
    }

    /// Elements `range` as new data of the same type.
    fn slice(&self, range: std::ops::Range<usize>) -> TensorData {
        match self {
            TensorData::F16(v) => TensorData::F16(v[range].to_vec()),
            TensorData::F32(v) => TensorData::F32(v[range].to_vec()),
            TensorData::F64(v) => TensorData::F64(v[range].to_vec()),
            TensorData::I64(v) => TensorData::I64(v[range].to_vec()),
            TensorData::I32(v) => TensorData::I32(v[range].to_vec()),
            TensorData::U8(v) => TensorData::U8(v[range].to_vec()),
            TensorData::Bool(v) => TensorData::Bool(v[range].to_vec()),
        }
    }

    /// Appends `other`; `false` (and nothing appended) when the types differ.
    fn extend_from(&mut self, other: &TensorData) -> bool {
        match (self, other) {
            (TensorData::F16(a), TensorData::F16(b)) => a.extend_from_slice(b),
            (TensorData::F32(a), TensorData::F32(b)) => a.extend_from_slice(b),
            (TensorData::F64(a), TensorData::F64(b)) => a.extend_from_slice(b),
            (TensorData::I64(a), TensorData::I64(b)) => a.extend_from_slice(b),
            (TensorData::I32(a), TensorData::I32(b)) => a.extend_from_slice(b),
            (TensorData::U8(a), TensorData::U8(b)) => a.extend_from_slice(b),
            (TensorData::Bool(a), TensorData::Bool(b)) => a.extend_from_slice(b),
            _ => return false,
        }
        true
    }
}

macro_rules! typed_access {
    ($($t:ty => $variant:ident, $from:ident, $as:ident);*) => {$(
        impl Tensor {
            #[doc = concat!("A `", stringify!($t), "` tensor; fails when the element count does not match the shape.")]
            pub fn $from(shape: Vec<usize>, data: Vec<$t>) -> crate::Result<Self> {
                Self::new(shape, TensorData::$variant(data))
            }

            #[doc = concat!("The `", stringify!($t), "` elements, or `None` for another dtype.")]
            pub fn $as(&self) -> Option<&[$t]> {
                match &self.data {
                    TensorData::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    )*};
}
typed_access!(
    f16 => F16, from_f16, as_f16;
    f64 => F64, from_f64, as_f64;
    i64 => I64, from_i64, as_i64;
    i32 => I32, from_i32, as_i32;
    u8 => U8, from_u8, as_u8;
    bool => Bool, from_bool, as_bool
);

impl Tensor {
    /// A rank-0 f32 tensor.
    pub fn scalar_f32(value: f32) -> Self {
        Tensor { shape: Vec::new(), data: TensorData::F32(vec![value]) }
    }

    /// Number of elements (the product of the shape; 1 for a scalar).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no elements (some axis is 0).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The same data under another shape with the same element count.
    pub fn reshape(self, shape: Vec<usize>) -> crate::Result<Self> {
        Self::new(shape, self.data)
    }

    /// Row-major multi-index of flat index `flat` (for reports); empty for a scalar.
    pub fn unravel(&self, flat: usize) -> Vec<usize> {
        unravel(&self.shape, flat)
    }

    /// Concatenates tensors along axis 0 (batching `[1, ...]` cases into `[N, ...]`). All must
    /// have the same dtype, rank >= 1 and the same trailing dimensions.
    pub fn concat0<T: std::borrow::Borrow<Tensor>>(parts: &[T]) -> crate::Result<Tensor> {
        let first = parts
            .first()
            .ok_or_else(|| crate::Error::Input("nothing to concatenate".into()))?
            .borrow();
        if first.shape.is_empty() {
            return Err(crate::Error::Input("cannot concatenate rank-0 tensors".into()));
        }
        let mut data = first.data.slice(0..0);
        let mut rows = 0;
        for (i, part) in parts.iter().map(|p| p.borrow()).enumerate() {
            if part.shape.len() != first.shape.len() || part.shape[1..] != first.shape[1..] {
                return Err(crate::Error::Input(format!(
                    "cannot concatenate shape {:?} (part {i}) with {:?} along axis 0",
                    part.shape, first.shape
                )));
            }
            if !data.extend_from(&part.data) {
                return Err(crate::Error::Input(format!(
                    "cannot concatenate {} (part {i}) with {}",
                    part.dtype(),
                    first.dtype()
                )));
            }
            rows += part.shape[0];
        }
        let mut shape = first.shape.clone();
        shape[0] = rows;
        Tensor::new(shape, data)
    }

    /// Splits axis 0 into `shape[0]` tensors of shape `[1, ...]` (the inverse of
    /// [`Tensor::concat0`]).
    pub fn split0(&self) -> crate::Result<Vec<Tensor>> {
        let rows = self.shape.first().copied().unwrap_or(0);
        self.split_rows(&vec![1; rows])
    }

    /// Splits axis 0 into consecutive parts of `counts[i]` rows each (a batch of several cases
    /// back into the cases); the counts must add up to `shape[0]`.
    pub fn split_rows(&self, counts: &[usize]) -> crate::Result<Vec<Tensor>> {
        let Some((&rows, rest)) = self.shape.split_first() else {
            return Err(crate::Error::Input("cannot split a rank-0 tensor".into()));
        };
        if counts.iter().sum::<usize>() != rows {
            return Err(crate::Error::Input(format!(
                "cannot split {rows} rows into parts of {counts:?}"
            )));
        }
        let row: usize = rest.iter().product();
        let mut start = 0;
        let parts = counts.iter().map(|&n| {
            let mut shape = self.shape.clone();
            shape[0] = n;
            let data = self.data.slice(start * row..(start + n) * row);
            start += n;
            Tensor { shape, data }
        });
        Ok(parts.collect())
    }
}

/// Row-major multi-index of flat index `flat` in `shape`.
pub(crate) fn unravel(shape: &[usize], mut flat: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        if dim > 0 {
            *slot = flat % dim;
            flat /= dim;
        }
    }
    index
}

//! Single `.npy` arrays: reading any dtype the [`Tensor`] type holds, writing atomically.
//!
//! Parsing is npyz's; this module maps NumPy dtypes onto [`DType`] (`<f4`, `<f8`, `<i8`, `<i4`,
//! `|u1`, `|b1`, either byte order), turns Fortran-order arrays into row-major ones and turns every
//! failure into one [`Error`] that names the file.

use std::io::Write;
use std::path::Path;

use npyz::{DType as NpyDType, NpyFile, NpyHeader, Order, TypeChar, WriterBuilder};

use crate::{DType, Error, Result, Tensor, TensorData};

/// Reads one `.npy` file.
pub fn read(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let bytes = crate::fsutil::read_regular(path)?;
    decode(&bytes).map_err(|message| Error::invalid(path, message))
}

/// Writes one `.npy` file (NumPy format 1.0, little-endian, C order): to a temporary file beside
/// `path`, then renamed over it, so a failed write leaves nothing half-written.
pub fn write(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    let path = path.as_ref();
    let bytes =
        encode(tensor).map_err(|e| Error::invalid(path, format!("cannot encode npy: {e}")))?;
    crate::fsutil::write_atomic(path, &bytes)
}

/// Decodes the bytes of one `.npy` array; the error is a lowercase message without the file name.
pub fn decode(bytes: &[u8]) -> std::result::Result<Tensor, String> {
    let mut rest = bytes;
    let header = NpyHeader::from_reader(&mut rest).map_err(|e| {
        // npyz's header errors can quote the header over several lines: keep the first.
        let e = e.to_string();
        format!("not a valid npy array: {}", e.lines().next().unwrap_or_default().trim())
    })?;
    let available = rest.len();
    let npy = NpyFile::with_header(header, rest);
    let dtype = match npy.dtype() {
        NpyDType::Plain(ts) => {
            let ours = match (ts.type_char(), ts.size_field()) {
                (TypeChar::Float, 2) => Some(DType::F16),
                (TypeChar::Float, 4) => Some(DType::F32),
                (TypeChar::Float, 8) => Some(DType::F64),
                (TypeChar::Int, 8) => Some(DType::I64),
                (TypeChar::Int, 4) => Some(DType::I32),
                (TypeChar::Uint, 1) => Some(DType::U8),
                (TypeChar::Bool, 1) => Some(DType::Bool),
                _ => None,
            };
            ours.ok_or_else(|| {
                format!("unsupported dtype '{ts}' (supported: float16, float32, float64, int64, int32, uint8, bool)")
            })?
        }
        other => return Err(format!("unsupported structured dtype {}", other.descr())),
    };
    let shape = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d} is too large")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} is too large"))?;
    if available < count * dtype.size() {
        return Err(format!(
            "truncated npy array: shape {shape:?} of {dtype} needs {} data bytes, found {available}",
            count * dtype.size()
        ));
    }
    let fortran = npy.order() == Order::Fortran;
    let io = |e: std::io::Error| format!("corrupt npy data: {e}");
    let data = match dtype {
        DType::F16 => TensorData::F16(npy.into_vec().map_err(io)?),
        DType::F32 => TensorData::F32(npy.into_vec().map_err(io)?),
        DType::F64 => TensorData::F64(npy.into_vec().map_err(io)?),
        DType::I64 => TensorData::I64(npy.into_vec().map_err(io)?),
        DType::I32 => TensorData::I32(npy.into_vec().map_err(io)?),
        DType::U8 => TensorData::U8(npy.into_vec().map_err(io)?),
        DType::Bool => TensorData::Bool(npy.into_vec().map_err(io)?),
    };
    let data = if fortran && shape.len() > 1 { fortran_to_c(data, &shape) } else { data };
    Tensor::new(shape, data).map_err(|e| format!("corrupt npy data: {e}"))
}

/// Encodes a tensor as `.npy` bytes (format 1.0, little-endian, C order).
pub fn encode(tensor: &Tensor) -> std::io::Result<Vec<u8>> {
    let shape: Vec<u64> = tensor.shape().iter().map(|&d| d as u64).collect();
    let mut out = Vec::new();
    macro_rules! put {
        ($t:ty, $v:expr) => {{
            let mut w = npyz::WriteOptions::<$t>::new()
                .default_dtype()
                .shape(&shape)
                .writer(&mut out)
                .begin_nd()?;
            w.extend($v.iter().copied())?;
            w.finish()?;
        }};
    }
    match tensor.data() {
        TensorData::F16(v) => put!(crate::tensor::f16, v),
        TensorData::F32(v) => put!(f32, v),
        TensorData::F64(v) => put!(f64, v),
        TensorData::I64(v) => put!(i64, v),
        TensorData::I32(v) => put!(i32, v),
        TensorData::U8(v) => put!(u8, v),
        TensorData::Bool(v) => put!(bool, v),
    }
    out.flush()?;
    Ok(out)
}

/// Reorders column-major data of `shape` into row-major order.
fn fortran_to_c(data: TensorData, shape: &[usize]) -> TensorData {
    fn permute<T: Copy>(v: &[T], shape: &[usize]) -> Vec<T> {
        let n = v.len();
        let mut out = Vec::with_capacity(n);
        let mut index = vec![0usize; shape.len()];
        for _ in 0..n {
            // Column-major offset of the current row-major index.
            let mut offset = 0;
            let mut stride = 1;
            for (i, &d) in index.iter().zip(shape) {
                offset += i * stride;
                stride *= d;
            }
            out.push(v[offset]);
            for axis in (0..shape.len()).rev() {
                index[axis] += 1;
                if index[axis] < shape[axis] {
                    break;
                }
                index[axis] = 0;
            }
        }
        out
    }
    match data {
        TensorData::F16(v) => TensorData::F16(permute(&v, shape)),
        TensorData::F32(v) => TensorData::F32(permute(&v, shape)),
        TensorData::F64(v) => TensorData::F64(permute(&v, shape)),
        TensorData::I64(v) => TensorData::I64(permute(&v, shape)),
        TensorData::I32(v) => TensorData::I32(permute(&v, shape)),
        TensorData::U8(v) => TensorData::U8(permute(&v, shape)),
        TensorData::Bool(v) => TensorData::Bool(permute(&v, shape)),
    }
}

//! ONNX `TensorProto` files (the `input_K.pb` / `output_K.pb` files of the ONNX test-data layout)
//! and the conversion of a [`TensorProto`] to a [`Tensor`]. Both encodings are read: little-endian `raw_data`, and the typed repeated fields (`float_data` for
//! FLOAT, `int32_data` for INT32/UINT8/BOOL, `int64_data` for INT64, `double_data` for DOUBLE).
//! Tensors stored as external data, strings and types outside [`DType`] are rejected by name.

use std::path::Path;

use prost::Message;

use crate::onnx::proto::TensorProto;
use crate::onnx::{dtype_from_onnx, onnx_type_code, onnx_type_name};
use crate::{DType, Error, Result, Tensor, TensorData};

/// Reads one `.pb` TensorProto file: the tensor's `name` (when set and non-empty) and the tensor.
pub fn read(path: impl AsRef<Path>) -> Result<(Option<String>, Tensor)> {
    let path = path.as_ref();
    let bytes = crate::fsutil::read_regular(path)?;
    decode(&bytes).map_err(|message| Error::invalid(path, message))
}

/// Writes one `.pb` TensorProto file (dims, data_type, name, raw_data) atomically.
pub fn write(path: impl AsRef<Path>, name: Option<&str>, tensor: &Tensor) -> Result<()> {
    crate::fsutil::write_atomic(path.as_ref(), &encode(name, tensor))
}

/// Encodes a tensor as TensorProto bytes with little-endian `raw_data`, as
/// `onnx.numpy_helper.from_array` does.
pub fn encode(name: Option<&str>, tensor: &Tensor) -> Vec<u8> {
    let raw: Vec<u8> = match tensor.data() {
        TensorData::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::U8(v) => v.clone(),
        TensorData::Bool(v) => v.iter().map(|&b| u8::from(b)).collect(),
    };
    TensorProto {
        dims: tensor.shape().iter().map(|&d| d as i64).collect(),
        data_type: Some(onnx_type_code(tensor.dtype())),
        name: name.map(str::to_string),
        raw_data: Some(raw.into()),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Decodes TensorProto bytes; the error is a lowercase message without the file name.
pub fn decode(bytes: &[u8]) -> std::result::Result<(Option<String>, Tensor), String> {
    let proto = TensorProto::decode(bytes).map_err(|e| format!("not a valid TensorProto: {e}"))?;
    let name = proto.name.clone().filter(|n| !n.is_empty());
    let tensor = to_tensor(proto)?;
    Ok((name, tensor))
}

/// Converts a decoded TensorProto into a [`Tensor`].
pub fn to_tensor(mut proto: TensorProto) -> std::result::Result<Tensor, String> {
    if proto.data_location == Some(1) {
        return Err(
            "tensor data stored externally (data_location EXTERNAL) is not supported".into()
        );
    }
    let shape = proto
        .dims
        .iter()
        .map(|&d| {
            usize::try_from(d)
                .map_err(|_| format!("negative dimension {d} in dims {:?}", proto.dims))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("dims {shape:?} are too large"))?;
    let code = proto.data_type.unwrap_or(0);
    let dtype = dtype_from_onnx(code).ok_or_else(|| {
        format!(
            "unsupported data type {} (supported: FLOAT16, FLOAT, DOUBLE, INT64, INT32, UINT8, BOOL)",
            onnx_type_name(code)
        )
    })?;
    let typed_len = proto.float_data.len()
        + proto.int32_data.len()
        + proto.int64_data.len()
        + proto.double_data.len()
        + proto.uint64_data.len()
        + proto.string_data.len();
    let data = if let Some(raw) = proto.raw_data.take().filter(|r| !r.is_empty() || typed_len == 0)
    {
        if typed_len != 0 {
            return Err("both raw_data and typed data fields are set".into());
        }
        let want = count * dtype.size();
        if raw.len() != want {
            return Err(format!(
                "raw_data holds {} bytes, dims {shape:?} of {} need {want}",
                raw.len(),
                onnx_type_name(code)
            ));
        }
        from_raw(dtype, &raw)?
    } else {
        let found = typed_data(proto, dtype)?;
        if found.len() != typed_len {
            return Err(format!(
                "{} tensor carries data in a field of another type",
                onnx_type_name(code)
            ));
        }
        if found.len() != count {
            return Err(format!("holds {} elements, dims {shape:?} need {count}", found.len()));
        }
        found
    };
    Tensor::new(shape, data).map_err(|e| e.to_string())
}

/// The data of `proto`'s typed field for `dtype` (types narrower than 32 bits are kept in
/// `int32_data`, float16 as its bits).
fn typed_data(proto: TensorProto, dtype: DType) -> std::result::Result<TensorData, String> {
    fn narrow<T>(
        v: &[i32],
        f: impl Fn(i32) -> std::result::Result<T, String>,
    ) -> std::result::Result<Vec<T>, String> {
        v.iter().map(|&x| f(x)).collect()
    }
    Ok(match dtype {
        DType::F16 => TensorData::F16(narrow(&proto.int32_data, |x| match u16::try_from(x) {
            Ok(bits) => Ok(crate::tensor::f16::from_bits(bits)),
            Err(_) => Err(format!("float16 bits {x} out of range")),
        })?),
        DType::F32 => TensorData::F32(proto.float_data),
        DType::F64 => TensorData::F64(proto.double_data),
        DType::I64 => TensorData::I64(proto.int64_data),
        DType::I32 => TensorData::I32(proto.int32_data),
        DType::U8 => TensorData::U8(narrow(&proto.int32_data, |x| {
            u8::try_from(x).map_err(|_| format!("uint8 value {x} out of range"))
        })?),
        DType::Bool => TensorData::Bool(narrow(&proto.int32_data, |x| match x {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(format!("bool value {x} is neither 0 nor 1")),
        })?),
    })
}

/// Little-endian `raw_data` bytes (length already checked) as typed data.
fn from_raw(dtype: DType, raw: &[u8]) -> std::result::Result<TensorData, String> {
    fn chunks<const N: usize, T>(raw: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
        raw.chunks_exact(N).map(|c| f(c.try_into().expect("chunk of N bytes"))).collect()
    }
    Ok(match dtype {
        DType::F16 => TensorData::F16(chunks(raw, crate::tensor::f16::from_le_bytes)),
        DType::F32 => TensorData::F32(chunks(raw, f32::from_le_bytes)),
        DType::F64 => TensorData::F64(chunks(raw, f64::from_le_bytes)),
        DType::I64 => TensorData::I64(chunks(raw, i64::from_le_bytes)),
        DType::I32 => TensorData::I32(chunks(raw, i32::from_le_bytes)),
        DType::U8 => TensorData::U8(raw.to_vec()),
        DType::Bool => TensorData::Bool(
            raw.iter()
                .map(|&b| match b {
                    0 => Ok(false),
                    1 => Ok(true),
                    _ => Err(format!("bool byte {b} is neither 0 nor 1")),
                })
                .collect::<std::result::Result<_, _>>()?,
        ),
    })
}

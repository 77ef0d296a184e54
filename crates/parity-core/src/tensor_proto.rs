//! ONNX `TensorProto` (the `input_K.pb` / `output_K.pb` files of the ONNX test-data layout),
//! decoded with a minimal hand-declared prost message rather than the whole of `onnx.proto`.
//!
//! Field numbers and element types are those of `onnx.proto` (`TensorProto`, `DataType`). Both
//! encodings are read: little-endian `raw_data`, and the typed repeated fields (`float_data` for
//! FLOAT, `int32_data` for INT32/UINT8/BOOL, `int64_data` for INT64, `double_data` for DOUBLE).
//! Tensors stored as external data, strings and types outside [`DType`] are rejected by name.

use std::path::Path;

use prost::Message;

use crate::{DType, Error, Result, Tensor, TensorData};

/// The subset of `onnx.TensorProto` that test data uses; unknown fields are skipped.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    /// Shape (`repeated int64 dims = 1`).
    #[prost(int64, repeated, packed = "false", tag = "1")]
    pub dims: Vec<i64>,
    /// `TensorProto.DataType` code (`optional int32 data_type = 2`).
    #[prost(int32, optional, tag = "2")]
    pub data_type: Option<i32>,
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    #[prost(bytes = "vec", repeated, tag = "6")]
    pub string_data: Vec<Vec<u8>>,
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    /// Tensor name (`optional string name = 8`).
    #[prost(string, optional, tag = "8")]
    pub name: Option<String>,
    /// Little-endian element bytes (`optional bytes raw_data = 9`).
    #[prost(bytes = "vec", optional, tag = "9")]
    pub raw_data: Option<Vec<u8>>,
    #[prost(double, repeated, tag = "10")]
    pub double_data: Vec<f64>,
    #[prost(uint64, repeated, tag = "11")]
    pub uint64_data: Vec<u64>,
    /// `external_data = 13`: `location`, `offset`, `length` of externally stored data.
    #[prost(message, repeated, tag = "13")]
    pub external_data: Vec<StringStringEntryProto>,
    /// `DataLocation`: 0 default, 1 external (`optional DataLocation data_location = 14`).
    #[prost(int32, optional, tag = "14")]
    pub data_location: Option<i32>,
}

/// `onnx.StringStringEntryProto`: a key/value pair (external-data locations, model metadata).
#[derive(Clone, PartialEq, Message)]
pub struct StringStringEntryProto {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `TensorProto.DataType` codes this crate maps onto [`DType`].
const FLOAT: i32 = 1;
const UINT8: i32 = 2;
const INT32: i32 = 6;
const INT64: i32 = 7;
const BOOL: i32 = 9;
const DOUBLE: i32 = 11;

/// ONNX's name for a `DataType` code (`FLOAT`, `BFLOAT16`, ...), for messages.
pub fn onnx_type_name(code: i32) -> String {
    let name = match code {
        0 => "UNDEFINED",
        1 => "FLOAT",
        2 => "UINT8",
        3 => "INT8",
        4 => "UINT16",
        5 => "INT16",
        6 => "INT32",
        7 => "INT64",
        8 => "STRING",
        9 => "BOOL",
        10 => "FLOAT16",
        11 => "DOUBLE",
        12 => "UINT32",
        13 => "UINT64",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        16 => "BFLOAT16",
        _ => return format!("data type {code}"),
    };
    name.to_string()
}

/// The [`DType`] of a `DataType` code, or `None` for a type a [`Tensor`] cannot hold.
pub fn dtype_from_onnx(code: i32) -> Option<DType> {
    Some(match code {
        FLOAT => DType::F32,
        UINT8 => DType::U8,
        INT32 => DType::I32,
        INT64 => DType::I64,
        BOOL => DType::Bool,
        DOUBLE => DType::F64,
        _ => return None,
    })
}

/// The `DataType` code of `dtype`.
pub fn onnx_type_code(dtype: DType) -> i32 {
    match dtype {
        DType::F32 => FLOAT,
        DType::U8 => UINT8,
        DType::I32 => INT32,
        DType::I64 => INT64,
        DType::Bool => BOOL,
        DType::F64 => DOUBLE,
    }
}

/// Reads one `.pb` TensorProto file: the tensor's `name` (when set and non-empty) and the tensor.
pub fn read(path: impl AsRef<Path>) -> Result<(Option<String>, Tensor)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
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
        raw_data: Some(raw),
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
pub fn to_tensor(proto: TensorProto) -> std::result::Result<Tensor, String> {
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
            "unsupported data type {} (supported: FLOAT, DOUBLE, INT64, INT32, UINT8, BOOL)",
            onnx_type_name(code)
        )
    })?;
    let typed_len = proto.float_data.len()
        + proto.int32_data.len()
        + proto.int64_data.len()
        + proto.double_data.len()
        + proto.uint64_data.len()
        + proto.string_data.len();
    let data = if let Some(raw) = proto.raw_data.filter(|r| !r.is_empty() || typed_len == 0) {
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
        let (found, data) = match dtype {
            DType::F32 => (proto.float_data.len(), TensorData::F32(proto.float_data)),
            DType::F64 => (proto.double_data.len(), TensorData::F64(proto.double_data)),
            DType::I64 => (proto.int64_data.len(), TensorData::I64(proto.int64_data)),
            DType::I32 => (proto.int32_data.len(), TensorData::I32(proto.int32_data)),
            DType::U8 => {
                let v = proto
                    .int32_data
                    .iter()
                    .map(|&x| u8::try_from(x).map_err(|_| format!("uint8 value {x} out of range")))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                (v.len(), TensorData::U8(v))
            }
            DType::Bool => {
                let v = proto
                    .int32_data
                    .iter()
                    .map(|&x| match x {
                        0 => Ok(false),
                        1 => Ok(true),
                        _ => Err(format!("bool value {x} is neither 0 nor 1")),
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                (v.len(), TensorData::Bool(v))
            }
        };
        if found != typed_len {
            return Err(format!(
                "{} tensor carries data in a field of another type",
                onnx_type_name(code)
            ));
        }
        if found != count {
            return Err(format!("holds {found} elements, dims {shape:?} need {count}"));
        }
        data
    };
    Tensor::new(shape, data).map_err(|e| e.to_string())
}

/// Little-endian `raw_data` bytes (length already checked) as typed data.
fn from_raw(dtype: DType, raw: &[u8]) -> std::result::Result<TensorData, String> {
    fn chunks<const N: usize, T>(raw: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
        raw.chunks_exact(N).map(|c| f(c.try_into().expect("chunk of N bytes"))).collect()
    }
    Ok(match dtype {
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

//! Reading a model file for candle-onnx, with its external data.
//!
//! candle-onnx 0.11.1 builds every initializer from `raw_data` / `*_data` and never looks at
//! `data_location`, so an initializer stored in `model.onnx.data` would arrive as an empty tensor.
//! [`read_model`] therefore reads the model through parity-core's one safe external-data resolver
//! ([`parity_core::onnx::read_model_with_data`]) and hands candle-onnx the self-contained result,
//! re-encoded into candle-onnx's own generated types.

use std::path::Path;

use candle_onnx::onnx::ModelProto;
use parity_core::{Error, Result};
use prost::Message;

/// Read and decode the model at `path`, with every external-data tensor loaded into `raw_data`.
pub fn read_model(path: &Path) -> Result<ModelProto> {
    to_candle(path, &parity_core::onnx::read_model_with_data(path)?)
}

/// A model read by parity-core (from `path`, named in errors) in candle-onnx's types.
pub fn to_candle(path: &Path, model: &parity_core::onnx::proto::ModelProto) -> Result<ModelProto> {
    ModelProto::decode(model.encode_to_vec().as_slice())
        .map_err(|e| Error::invalid(path, format!("candle-onnx cannot decode the model: {e}")))
}

//! The backend-neutral core of ssrnet-parity: a small tensor type, golden sets (npz keyed by ONNX
//! tensor name with an optional `manifest.json`, or the ONNX test-data layout), tolerance comparison
//! that never lets NaN pass, and the [`Runtime`]/[`Runnable`] traits every backend implements.
//!
//! This crate knows no backend: backends depend on it, never the other way round.

pub mod backend;
pub mod error;
pub mod tensor;

pub use backend::{Dim, IoInfo, ModelInfo, NamedTensors, Options, Runnable, Runtime};
pub use error::{Error, Result};
pub use tensor::{DType, Tensor, TensorData};

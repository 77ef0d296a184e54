//! The backend-neutral core of ssrnet-parity: a small tensor type, golden sets (npz keyed by ONNX
//! tensor name with an optional `manifest.json`, or the ONNX test-data layout), tolerance comparison
//! that never lets NaN pass, and the [`Runtime`]/[`Runnable`] traits every backend implements.
//!
//! This crate knows no backend: backends depend on it, never the other way round.

pub mod backend;
pub mod compare;
pub mod error;
mod fsutil;
pub mod golden;
pub mod npy;
pub mod tensor;
pub mod tensor_proto;

pub use backend::{Dim, IoInfo, ModelInfo, NamedTensors, Options, Runnable, Runtime};
pub use compare::{CaseReport, CompareOptions, OutputReport, OutputSummary, Tolerance, Tolerances};
pub use error::{Error, Result};
pub use golden::{Case, GoldenSet, Layout, Manifest};
pub use tensor::{DType, Tensor, TensorData};

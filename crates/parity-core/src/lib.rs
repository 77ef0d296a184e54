//! The backend-neutral core of ssrnet-parity: a small tensor type, golden sets (npz keyed by ONNX
//! tensor name with an optional `manifest.json`, or the ONNX test-data layout), tolerance comparison
//! that never lets NaN pass, and the [`Runtime`]/[`Runnable`] traits every backend implements.
//!
//! This crate knows no backend: backends depend on it, never the other way round.
//!
//! | module | what |
//! |---|---|
//! | [`tensor`] | [`Tensor`]: shape + row-major data (f32, f64, i64, i32, u8, bool) |
//! | [`backend`] | [`Runtime`] prepares a model once, [`Runnable`] runs it many times |
//! | [`golden`] | read a [`GoldenSet`] (npz or `test_data_set_N/*.pb`), write one atomically |
//! | [`compare`] | `\|a - b\| <= atol + rtol * \|b\|` per element, with reports and summaries |
//! | [`onnx`] | the ONNX protobuf types, reading a model ([`onnx::OnnxModel`] for inspection), the one ONNX-to-[`ModelInfo`] converter |
//! | [`digest`] | sha256 of files and bytes |
//! | [`npy`], [`tensor_proto`] | single `.npy` and TensorProto `.pb` files |
//! | [`fsutil`] | safe file access: bounded reads of regular files, atomic writes |
//! | [`panic`](mod@panic) | a panic inside a backend library as an error, and the quiet hook that keeps stderr clean |
//!
//! # Example
//!
//! Record a one-case golden set, read it back and check an output against it:
//!
//! ```
//! use parity_core::compare::compare_outputs;
//! use parity_core::golden::write_npz;
//! use parity_core::{Case, CompareOptions, GoldenSet, NamedTensors, Tensor, Tolerance, Tolerances};
//!
//! let tmp = tempfile::tempdir()?;
//! let dir = tmp.path().join("golden");
//! let inputs = NamedTensors::from([("input".to_string(), Tensor::from_f32(vec![1, 2], vec![0.5, 1.5])?)]);
//! let expected = NamedTensors::from([("age".to_string(), Tensor::from_f32(vec![1], vec![31.0])?)]);
//! write_npz(&dir, &[Case::new("face", inputs, expected)], None)?;
//!
//! let set = GoldenSet::read_with_names(&dir, &["input"], &["age"])?;
//! let case = &set.cases[0];
//! // A backend computes this from `case.inputs`.
//! let actual = NamedTensors::from([("age".to_string(), Tensor::from_f32(vec![1], vec![31.00005])?)]);
//! let tolerances = Tolerances::uniform(Tolerance::DEFAULT); // atol 1e-4, rtol 0
//! let report = compare_outputs(&case.name, &actual, &case.outputs, &tolerances, CompareOptions::default());
//! assert!(report.pass);
//! let age = &report.outputs[0];
//! assert_eq!((age.mismatches, age.total), (0, 1));
//! assert!(age.max_abs < 1e-4 && age.min_atol <= Some(age.max_abs));
//!
//! // NaN never passes, whatever the tolerance.
//! let nan = NamedTensors::from([("age".to_string(), Tensor::from_f32(vec![1], vec![f32::NAN])?)]);
//! let loose = Tolerances::uniform(Tolerance::new(1e9, 1e9)?);
//! assert!(!compare_outputs(&case.name, &nan, &case.outputs, &loose, CompareOptions::default()).pass);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backend;
pub mod compare;
pub mod digest;
pub mod error;
pub mod fsutil;
pub mod golden;
pub mod histogram;
pub mod names;
pub mod npy;
pub mod onnx;
pub mod panic;
pub mod staging;
pub mod tensor;
pub mod tensor_proto;
pub mod view;

pub use backend::{
    Dim, IoInfo, Misfit, ModelInfo, NamedTensors, Options, Runnable, Runtime, concat_named,
    shape_misfit, shape_string,
};
pub use compare::{CaseReport, CompareOptions, OutputReport, OutputSummary, Tolerance, Tolerances};
pub use error::{Error, Result};
pub use golden::{Case, GoldenIndex, GoldenSet, Layout, Manifest};
pub use tensor::{DType, Tensor, TensorData};
pub use view::{DataView, NamedViews, TensorView, views};

//! Seeded mutation fuzzing of every reader of untrusted bytes: npy, npz, TensorProto,
//! `manifest.json`, ONNX models and the image decoder front end. The targets are in
//! `tests/fuzz.rs`; this crate has no library code.

//! Integration tests of parity-core: comparison edge cases with hand-computed expectations, golden
//! sets written by NumPy / the `onnx` package (via `SSRNET_PARITY_PYTHON`) and by hand from the
//! npy / zip / protobuf specs, error paths, and the committed goldens of `fixtures/`.

mod compare;
mod golden;
mod onnx;
mod support;
mod tensor;

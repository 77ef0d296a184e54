//! `--repro DIR`: the culprit node as `model.onnx` beside `test_data_set_0` (the expected values
//! of its inputs and outputs), the ONNX test-data layout, so that `ssrnet-parity check --model
//! DIR/model.onnx --golden DIR` (or `onnx_test_runner`) reproduces the divergence.

use std::path::Path;

use crate::Result;
use parity_core::onnx::proto::ModelProto;
use parity_core::{Case, NamedTensors};
use prost::Message;

/// Writes `cut` with one test case: `feed` in, `expected` out. `dir` must not exist yet.
pub fn write(
    dir: &Path,
    cut: &ModelProto,
    feed: &NamedTensors,
    expected: &NamedTensors,
) -> Result<()> {
    let graph = cut.graph.as_ref().expect("a cut model has a graph");
    let inputs: Vec<&str> = graph.input.iter().map(|v| v.name()).collect();
    let outputs: Vec<&str> = graph.output.iter().map(|v| v.name()).collect();
    let case = Case::new("culprit", feed.clone(), expected.clone());
    let bytes = cut.encode_to_vec();
    parity_core::golden::write_test_data_with(
        dir,
        &[case],
        &inputs,
        &outputs,
        &[("model.onnx", bytes.as_slice())],
    )?;
    Ok(())
}

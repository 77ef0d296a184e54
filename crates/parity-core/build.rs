//! Generates the ONNX protobuf types (`parity_core::onnx::proto`) from `proto/onnx.proto` with
//! prost-build. protoc comes from `PROTOC` (`.cargo/config.toml` points it at `tools/protoc`,
//! which provisions a pinned one).

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    // A tensor's raw_data is `Bytes`: decoded from a `Bytes` buffer, it is a slice of that
    // buffer, not a copy (a model's weights are read once).
    prost_build::Config::new()
        .bytes([".onnx.TensorProto.raw_data"])
        .compile_protos(&["proto/onnx.proto"], &["proto/"])
}

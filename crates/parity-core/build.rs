//! Generates the ONNX protobuf types (`parity_core::onnx::proto`) from `proto/onnx.proto` with
//! prost-build. protoc comes from `PROTOC` (`.cargo/config.toml` points it at `tools/protoc`,
//! which provisions a pinned one).

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    prost_build::Config::new().compile_protos(&["proto/onnx.proto"], &["proto/"])
}

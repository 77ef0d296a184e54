//! `parity_core::onnx`: the one converter's conventions, and the external-data resolver against
//! hostile layouts (escapes through `..` and symbolic links, special files, bad ranges), each
//! built here.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use parity_core::onnx::proto::tensor_proto::{DataLocation, DataType};
use parity_core::onnx::proto::tensor_shape_proto::Dimension;
use parity_core::onnx::proto::tensor_shape_proto::dimension::Value as DimValue;
use parity_core::onnx::proto::type_proto::{Tensor as TensorType, Value as TypeValue};
use parity_core::onnx::proto::{
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use parity_core::onnx::{model_info, read_model_with_data};
use parity_core::{DType, Dim};
use prost::Message;

fn value(name: &str, elem: DataType, dims: &[DimValue]) -> ValueInfoProto {
    let shape = TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| Dimension { value: Some(d.clone()), ..Default::default() })
            .collect(),
    };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TensorType {
                elem_type: Some(elem as i32),
                shape: Some(shape),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `Y = X + W` with W (3 float32) stored in `location` at `offset`, `length` bytes.
fn external_model(dir: &Path, location: &str, offset: u64, length: u64) -> PathBuf {
    let entry = |k: &str, v: String| StringStringEntryProto { key: Some(k.into()), value: Some(v) };
    let w = parity_core::onnx::proto::TensorProto {
        name: Some("W".into()),
        dims: vec![3],
        data_type: Some(DataType::Float as i32),
        data_location: Some(DataLocation::External as i32),
        external_data: vec![
            entry("location", location.into()),
            entry("offset", offset.to_string()),
            entry("length", length.to_string()),
        ],
        ..Default::default()
    };
    let graph = GraphProto {
        name: Some("add".into()),
        node: vec![NodeProto {
            op_type: Some("Add".into()),
            input: vec!["X".into(), "W".into()],
            output: vec!["Y".into()],
            ..Default::default()
        }],
        initializer: vec![w],
        input: vec![value("X", DataType::Float, &[DimValue::DimValue(3)])],
        output: vec![value("Y", DataType::Float, &[DimValue::DimValue(3)])],
        ..Default::default()
    };
    let model = ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(13) }],
        graph: Some(graph),
        ..Default::default()
    };
    let path = dir.join("model.onnx");
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    path
}

fn weights() -> Vec<u8> {
    [10f32, 20., 30.].iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn read_err(path: &Path) -> String {
    read_model_with_data(path).expect_err("must be refused").to_string()
}

#[test]
fn external_data_is_read_into_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0u8; 16];
    bytes.extend(weights());
    std::fs::write(dir.path().join("w.bin"), bytes).unwrap();
    let model = read_model_with_data(&external_model(dir.path(), "w.bin", 16, 12)).unwrap();
    let w = &model.graph.unwrap().initializer[0];
    assert_eq!(w.raw_data.as_deref(), Some(weights().as_slice()));
    assert!(w.external_data.is_empty());
}

#[test]
fn external_data_may_not_leave_the_model_directory() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("w.bin"), weights()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Through `..`.
    let e = read_err(&external_model(dir.path(), "../w.bin", 0, 12));
    assert!(e.contains("must be a relative path inside the model's directory"), "{e}");
    // Through a symbolic link to a file elsewhere.
    symlink(outside.path().join("w.bin"), dir.path().join("link.bin")).unwrap();
    let e = read_err(&external_model(dir.path(), "link.bin", 0, 12));
    assert!(e.contains("outside the model's directory"), "{e}");
    // Through a symbolic link to a directory elsewhere.
    symlink(outside.path(), dir.path().join("sub")).unwrap();
    let e = read_err(&external_model(dir.path(), "sub/w.bin", 0, 12));
    assert!(e.contains("outside the model's directory"), "{e}");
    // A link that stays inside is fine.
    std::fs::write(dir.path().join("real.bin"), weights()).unwrap();
    symlink(dir.path().join("real.bin"), dir.path().join("inside.bin")).unwrap();
    assert!(read_model_with_data(&external_model(dir.path(), "inside.bin", 0, 12)).is_ok());
}

#[test]
fn external_data_must_be_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    // A FIFO would block a reader for ever; it is refused before it is opened.
    let fifo = dir.path().join("fifo.bin");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let e = read_err(&external_model(dir.path(), "fifo.bin", 0, 12));
    assert!(e.contains("not a regular file"), "{e}");
    // A directory.
    std::fs::create_dir(dir.path().join("d.bin")).unwrap();
    let e = read_err(&external_model(dir.path(), "d.bin", 0, 12));
    assert!(e.contains("not a regular file"), "{e}");
}

#[test]
fn external_data_ranges_are_checked_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.bin"), weights()).unwrap();
    let e = read_err(&external_model(dir.path(), "w.bin", 4, 12));
    assert!(e.contains("out of range (file has 12 bytes)"), "{e}");
    // A length the dims cannot use is refused without allocating it.
    let e = read_err(&external_model(dir.path(), "w.bin", 0, 1 << 40));
    assert!(e.contains("external data has 1099511627776 bytes, dims [3] need 12"), "{e}");
    let e = read_err(&external_model(dir.path(), "w.bin", u64::MAX, 12));
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn the_converter_names_dims_and_refuses_unheld_types() {
    let dims =
        [DimValue::DimParam("N".into()), DimValue::DimParam(String::new()), DimValue::DimValue(4)];
    let graph = GraphProto {
        input: vec![value("x", DataType::Int64, &dims)],
        output: vec![value("y", DataType::Float, &[])],
        ..Default::default()
    };
    let info = model_info(&graph).unwrap();
    assert_eq!(info.inputs[0].dtype, DType::I64);
    assert_eq!(
        info.inputs[0].shape,
        [Dim::Symbolic("N".into()), Dim::Symbolic("?".into()), Dim::Fixed(4)]
    );
    assert!(info.outputs[0].shape.is_empty());
    let half =
        GraphProto { output: vec![value("h", DataType::Bfloat16, &[])], ..Default::default() };
    assert_eq!(
        model_info(&half).unwrap_err(),
        "'h' has element type BFLOAT16, which ssrnet-parity cannot hold"
    );
}

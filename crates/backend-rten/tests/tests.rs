//! Tests of the RTen backend: value read-out, op support named up front, opsets, external data,
//! corrupt models, dtypes, threads. Tiny graphs are built here; their expected values are worked
//! out by hand from the ONNX spec, never by the code under test. SSRNet's golden cases are the
//! conformance suite's (`cargo test -p conformance -- ::rten`).

use std::path::{Path, PathBuf};

use backend_rten::Rten;
use parity_core::onnx::proto::tensor_proto::DataType;
use parity_core::onnx::proto::tensor_shape_proto::{Dimension, dimension};
use parity_core::onnx::proto::{
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, ValueInfoProto, type_proto,
};
use parity_core::{DType, Error, NamedTensors, Options, Runnable, Runtime, Tensor, TensorData};
use prost::Message;

fn io(name: &str, elem: DataType, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&n| Dimension { value: Some(dimension::Value::DimValue(n)), ..Default::default() })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(format!("{op}_{output}")),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

fn f32_init(name: &str, v: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: vec![v.len() as i64],
        data_type: Some(DataType::Float as i32),
        float_data: v.to_vec(),
        ..Default::default()
    }
}

fn model(opset: i64, nodes: Vec<NodeProto>, init: Vec<TensorProto>) -> ModelProto {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(opset),
        }],
        graph: Some(GraphProto {
            name: Some("test".into()),
            node: nodes,
            input: vec![io("x", DataType::Float, &[3])],
            output: vec![io("y", DataType::Float, &[3])],
            initializer: init,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `t = x + b; u = t * c; y = relu(u)`: every intermediate value is known by hand.
fn three_step() -> ModelProto {
    model(
        13,
        vec![
            node("Add", &["x", "b"], "t"),
            node("Mul", &["t", "c"], "u"),
            node("Relu", &["u"], "y"),
        ],
        vec![f32_init("b", &[1.0, 2.0, 3.0]), f32_init("c", &[2.0, -1.0, 0.5])],
    )
}

fn write(dir: &Path, file: &str, m: &ModelProto) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    path
}

fn x(v: [f32; 3]) -> NamedTensors {
    NamedTensors::from([("x".to_string(), Tensor::from_f32(vec![3], v.to_vec()).unwrap())])
}

fn prepare_err(path: &Path) -> Error {
    match Rten.prepare(path, &Options::default()) {
        Ok(_) => panic!("{} should be refused", path.display()),
        Err(e) => e,
    }
}

#[test]
fn any_value_of_the_graph_is_read_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "m.onnx", &three_step());
    let mut m = Rten.prepare_model(&path, &Options::default()).unwrap();
    let names: Vec<String> = ["t", "u", "y"].iter().map(|s| s.to_string()).collect();
    let values = m.read_values(&x([1.0, 1.0, -5.0]), &names).unwrap().expect("rten reads values");
    // t = [2, 3, -2]; u = [4, -3, -1]; y = [4, 0, 0]
    assert_eq!(values["t"].as_f32().unwrap(), &[2.0, 3.0, -2.0]);
    assert_eq!(values["u"].as_f32().unwrap(), &[4.0, -3.0, -1.0]);
    assert_eq!(values["y"].as_f32().unwrap(), &[4.0, 0.0, 0.0]);
    // The same model's ordinary run agrees.
    let out = m.run(&x([1.0, 1.0, -5.0])).unwrap();
    assert_eq!(out["y"].as_f32().unwrap(), &[4.0, 0.0, 0.0]);
    let err = m.read_values(&x([0.0; 3]), &["nope".to_string()]).unwrap_err();
    assert!(matches!(err, Error::Input(_)) && err.to_string().contains("nope"), "{err}");
}

#[test]
fn every_unsupported_op_is_named_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(
        13,
        vec![node("LRN", &["x"], "t"), node("Relu", &["t"], "u"), node("Frobnicate", &["u"], "y")],
        vec![],
    );
    let path = write(dir.path(), "m.onnx", &m);
    assert_eq!(Rten.unsupported_ops(&path).unwrap(), vec!["Frobnicate", "LRN"]);
    let err = prepare_err(&path).to_string();
    assert!(err.contains("Frobnicate, LRN") && err.contains("m.onnx"), "{err}");
    let ok = write(dir.path(), "ok.onnx", &three_step());
    assert!(Rten.unsupported_ops(&ok).unwrap().is_empty());
}

#[test]
fn an_opset_beyond_rtens_declared_range_is_left_to_rten() {
    // The declared range is a warning for front ends, not a refusal: RTen decides, and runs this.
    let dir = tempfile::tempdir().unwrap();
    let mut m = three_step();
    m.opset_import[0].version = Some(99);
    assert!(!Rten.opsets().contains(&99));
    let mut model = Rten.prepare(&write(dir.path(), "m.onnx", &m), &Options::default()).unwrap();
    let out = model.run(&x([1.0, 1.0, -5.0])).unwrap();
    assert_eq!(out["y"].as_f32().unwrap(), &[4.0, 0.0, 0.0]);
}

#[test]
fn external_data_goes_through_the_core_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = three_step();
    let graph = m.graph.as_mut().unwrap();
    let b = &mut graph.initializer[0];
    b.float_data.clear();
    b.data_location = Some(1); // EXTERNAL
    let entry = |k: &str, v: &str| parity_core::onnx::proto::StringStringEntryProto {
        key: Some(k.into()),
        value: Some(v.into()),
    };
    b.external_data = vec![entry("location", "w.bin"), entry("offset", "4"), entry("length", "12")];
    let bytes: Vec<u8> = [9.0f32, 1.0, 2.0, 3.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.path().join("w.bin"), bytes).unwrap();
    let path = write(dir.path(), "m.onnx", &m);
    let mut run = Rten.prepare(&path, &Options::default()).unwrap();
    assert_eq!(run.run(&x([1.0, 1.0, -5.0])).unwrap()["y"].as_f32().unwrap(), &[4.0, 0.0, 0.0]);

    // A location that leaves the model's directory is refused by the same resolver.
    m.graph.as_mut().unwrap().initializer[0].external_data[0] = entry("location", "../w.bin");
    let err = prepare_err(&write(dir.path(), "escape.onnx", &m)).to_string();
    assert!(err.contains("escape.onnx"), "{err}");
}

#[test]
fn a_corrupt_model_is_one_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.onnx");
    std::fs::write(&path, b"\x0a\xff\xff\xff\xff\x0fnot a model").unwrap();
    let err = prepare_err(&path);
    assert!(err.to_string().contains("junk.onnx"), "{err}");
}

#[test]
fn int64_and_bool_values_keep_their_declared_dtypes() {
    // y = Cast<int64>(x) + 1 on an int64 graph: RTen computes it in i32.
    let dir = tempfile::tempdir().unwrap();
    let mut m = model(13, vec![node("Add", &["x", "one"], "y")], vec![]);
    let g = m.graph.as_mut().unwrap();
    g.input = vec![io("x", DataType::Int64, &[3])];
    g.output = vec![io("y", DataType::Int64, &[3])];
    g.initializer = vec![TensorProto {
        name: Some("one".into()),
        dims: vec![1],
        data_type: Some(DataType::Int64 as i32),
        int64_data: vec![1],
        ..Default::default()
    }];
    let path = write(dir.path(), "m.onnx", &m);
    let mut run = Rten.prepare(&path, &Options::default()).unwrap();
    let input = |v: Vec<i64>| {
        NamedTensors::from([("x".to_string(), Tensor::new(vec![3], TensorData::I64(v)).unwrap())])
    };
    let out = run.run(&input(vec![-3, 0, 41])).unwrap();
    assert_eq!(out["y"].dtype(), DType::I64);
    assert_eq!(out["y"].data(), &TensorData::I64(vec![-2, 1, 42]));
    let err = run.run(&input(vec![0, 0, 1 << 40])).unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err}");
}

#[test]
fn one_and_two_threads_compute_the_same_ssrnet_ages() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/ssrnet_dynamo_dynamic.onnx");
    let mut s = 7u64;
    let data: Vec<f32> = (0..4 * 3 * 64 * 64)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0
        })
        .collect();
    let input = NamedTensors::from([(
        "input".to_string(),
        Tensor::from_f32(vec![4, 3, 64, 64], data).unwrap(),
    )]);
    let ages = |threads| {
        let mut m = Rten.prepare(&path, &Options::with_threads(Some(threads))).unwrap();
        m.run(&input).unwrap()["age"].as_f32().unwrap().to_vec()
    };
    let (one, two) = (ages(1), ages(2));
    assert_eq!(one.len(), 4);
    for (a, b) in one.iter().zip(&two) {
        assert!((a - b).abs() <= 1e-4, "{one:?} vs {two:?}");
    }
    assert!(one.iter().any(|a| (a - one[0]).abs() > 1e-3), "degenerate ages {one:?}");
    assert!(matches!(Rten.prepare(&path, &Options::with_threads(Some(0))), Err(Error::Input(_))));
}

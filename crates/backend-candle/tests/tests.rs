//! Tests of the candle backend: external data, op-support checks, pooling refusals, input checks,
//! corrupt models, threads. Tiny graphs are built here with small helpers; expected values are
//! worked out by hand from the ONNX spec, never by the code under test. The SSRNet demo models
//! are the committed ones in `models/` (the golden cases themselves are the conformance suite's).

use std::path::{Path, PathBuf};

use backend_candle::Candle;
use candle_onnx::onnx::tensor_proto::{DataLocation, DataType};
use candle_onnx::onnx::tensor_shape_proto::{Dimension, dimension};
use candle_onnx::onnx::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    type_proto,
};
use parity_core::{
    DType, Dim, Error, NamedTensors, Options, Runnable, Runtime, Tensor, TensorData,
};
use prost::Message;

// ---------------------------------------------------------------------------------------------
// Helpers: tiny ONNX graphs.

/// A declared dimension: fixed or named.
enum D {
    N(i64),
    P(&'static str),
}

fn value_info(name: &str, elem: DataType, dims: &[D]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                D::N(n) => dimension::Value::DimValue(*n),
                D::P(p) => dimension::Value::DimParam(p.to_string()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: elem as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn f32_io(name: &str, dims: &[D]) -> ValueInfoProto {
    value_info(name, DataType::Float, dims)
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: v,
        ..Default::default()
    }
}

fn f32_init(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        data_type: DataType::Float as i32,
        dims: dims.to_vec(),
        raw_data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn model(
    opset: i64,
    nodes: Vec<NodeProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    init: Vec<TensorProto>,
) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: opset }],
        graph: Some(GraphProto {
            name: "test".into(),
            node: nodes,
            input: inputs,
            output: outputs,
            initializer: init,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A fresh temporary directory, removed when dropped.
fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write_model(dir: &Path, file: &str, m: &ModelProto) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    path
}

fn prepare(path: &Path) -> Box<dyn Runnable> {
    match Candle.prepare(path, &Options::default()) {
        Ok(m) => m,
        Err(e) => panic!("prepare {}: {e}", path.display()),
    }
}

fn prepare_err(path: &Path) -> Error {
    match Candle.prepare(path, &Options::default()) {
        Ok(_) => panic!("prepare {} should fail", path.display()),
        Err(e) => e,
    }
}

fn inputs(pairs: Vec<(&str, Tensor)>) -> NamedTensors {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn f32s(t: &Tensor) -> &[f32] {
    t.as_f32().expect("f32 output")
}

fn run_err(m: &mut Box<dyn Runnable>, x: NamedTensors) -> Error {
    match m.run(&x) {
        Ok(_) => panic!("run should fail"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------------
// Committed SSRNet demo models.

fn repo_model(file: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models").join(file);
    assert!(
        path.exists(),
        "{} is missing: the demo models are committed by the reference pipeline",
        path.display()
    );
    path
}

use parity_testkit::ssrnet_input;

#[test]
fn external_data_model_gives_the_single_file_models_ages() {
    let x = ssrnet_input(8, 7);
    let single = prepare(&repo_model("ssrnet_dynamo_dynamic.onnx")).run(&x).unwrap();
    let external = prepare(&repo_model("ssrnet_dynamo_dynamic_external.onnx")).run(&x).unwrap();
    let (a, b) = (f32s(&single["age"]), f32s(&external["age"]));
    assert_eq!(single["age"].shape(), &[8]);
    assert_eq!(a, b, "same weights, same graph: the ages must be bit-identical");
    // Guard against both being degenerate (e.g. empty weights): real ages differ per image.
    assert!(a.iter().all(|v| v.is_finite()));
    assert!(a.iter().any(|v| (v - a[0]).abs() > 1e-3), "ages do not vary: {a:?}");
}

#[test]
fn every_committed_model_passes_the_support_checks() {
    // SSRNet's pools are 2x2/4x4/8x8 with stride = kernel on even sizes and no padding, so
    // ceil_mode and count_include_pad cannot change anything: none may be refused.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "onnx") {
            assert_eq!(
                Candle.unsupported_ops(&path).unwrap(),
                Vec::<String>::new(),
                "{}",
                path.display()
            );
            let m = prepare(&path);
            assert_eq!(m.info().inputs.len(), 1, "{}", path.display());
            assert_eq!(m.info().inputs[0].name, "input");
            assert_eq!(m.info().inputs[0].dtype, DType::F32);
            assert_eq!(
                &m.info().inputs[0].shape[1..],
                &[Dim::Fixed(3), Dim::Fixed(64), Dim::Fixed(64)]
            );
            assert_eq!(m.info().outputs[0].name, "age");
            seen += 1;
        }
    }
    assert!(seen >= 5, "expected the committed demo models in {}", dir.display());
}

#[test]
fn static_model_fed_batch_8_is_a_clear_input_error() {
    let mut m = prepare(&repo_model("ssrnet_dynamo_static.onnx"));
    assert_eq!(m.info().inputs[0].shape[0], Dim::Fixed(1));
    let e = run_err(&mut m, ssrnet_input(8, 1));
    assert!(matches!(e, Error::Input(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "input 'input': shape [8, 3, 64, 64] does not fit the model's [1, 3, 64, 64] (axis 0 must be 1, got 8)"
    );
}

#[test]
fn dynamic_model_declares_a_symbolic_batch() {
    let m = prepare(&repo_model("ssrnet_dynamo_dynamic.onnx"));
    assert!(matches!(m.info().inputs[0].shape[0], Dim::Symbolic(_)), "{:?}", m.info().inputs[0]);
}

#[test]
fn one_and_two_threads_compute_the_same_ages() {
    let path = repo_model("ssrnet_dynamo_dynamic.onnx");
    let x = ssrnet_input(4, 3);
    let mut ages = Vec::new();
    for threads in [1, 2] {
        let mut m = Candle.prepare(&path, &Options::with_threads(Some(threads))).unwrap();
        ages.push(m.run(&x).unwrap()["age"].clone());
    }
    assert_eq!(ages[0], ages[1]);
    let e =
        Candle.prepare(&path, &Options::with_threads(Some(0))).err().expect("0 threads must fail");
    assert!(e.to_string().contains("threads must be at least 1"), "{e}");
}

#[test]
fn legacy_and_dynamo_exports_agree() {
    // Different exporters, same weights: the legacy (opset 11, ReduceSum with an axes attribute)
    // and dynamo graphs must give the same ages to float32 rounding.
    for (legacy, dynamo, batch) in [
        ("ssrnet_legacy_static.onnx", "ssrnet_dynamo_static.onnx", 1),
        ("ssrnet_legacy_dynamic.onnx", "ssrnet_dynamo_dynamic.onnx", 4),
    ] {
        let x = ssrnet_input(batch, 11);
        let a = prepare(&repo_model(legacy)).run(&x).unwrap();
        let b = prepare(&repo_model(dynamo)).run(&x).unwrap();
        assert_eq!(a["age"].shape(), &[batch], "{legacy}");
        assert_eq!(b["age"].shape(), &[batch], "{dynamo}");
        for (p, q) in f32s(&a["age"]).iter().zip(f32s(&b["age"])) {
            assert!((p - q).abs() <= 1e-3, "{legacy} vs {dynamo}: {p} vs {q}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// External data on a tiny graph: Y = X + W with W in a side file.

/// `Y = X + W`, W = [10, 20, 30] stored externally in `w.bin` at `offset` with `length`.
fn external_add(dir: &Path, location: &str, offset: u64, length: u64) -> PathBuf {
    let mut w = f32_init("W", &[3], &[]);
    w.raw_data.clear();
    w.data_location = DataLocation::External as i32;
    w.external_data = [
        ("location", location.to_string()),
        ("offset", offset.to_string()),
        ("length", length.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| StringStringEntryProto { key: k.into(), value: v })
    .collect();
    let m = model(
        13,
        vec![node("Add", "add", &["X", "W"], &["Y"], vec![])],
        vec![f32_io("X", &[D::N(3)])],
        vec![f32_io("Y", &[D::N(3)])],
        vec![w],
    );
    write_model(dir, "add.onnx", &m)
}

fn write_weights(dir: &Path) {
    // 16 bytes of padding, then 10, 20, 30 as little-endian f32.
    let mut bytes = vec![0xAB; 16];
    bytes.extend([10f32, 20., 30.].iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(dir.join("w.bin"), bytes).unwrap();
}

#[test]
fn external_data_is_read_at_its_offset() {
    let dir = tempdir();
    write_weights(dir.path());
    let path = external_add(dir.path(), "w.bin", 16, 12);
    let out = prepare(&path)
        .run(&inputs(vec![("X", Tensor::from_f32(vec![3], vec![1., 2., 3.]).unwrap())]))
        .unwrap();
    assert_eq!(f32s(&out["Y"]), &[11., 22., 33.]);
}

#[test]
fn missing_external_data_file_is_named() {
    let dir = tempdir();
    let path = external_add(dir.path(), "w.bin", 0, 12);
    let e = prepare_err(&path).to_string();
    assert!(e.contains(&dir.path().join("w.bin").display().to_string()), "{e}");
    assert!(e.contains("cannot read external data of tensor 'W'"), "{e}");
}

#[test]
fn out_of_range_external_data_is_named() {
    let dir = tempdir();
    write_weights(dir.path());
    let path = external_add(dir.path(), "w.bin", 20, 12);
    let e = prepare_err(&path).to_string();
    assert!(e.contains("w.bin"), "{e}");
    assert!(e.contains("out of range (file has 28 bytes)"), "{e}");
}

#[test]
fn external_data_outside_the_model_directory_is_refused() {
    let dir = tempdir();
    let e = prepare_err(&external_add(dir.path(), "../w.bin", 0, 12)).to_string();
    assert!(e.contains("must be a relative path inside the model's directory"), "{e}");
}

#[test]
fn external_data_of_the_wrong_size_is_refused() {
    let dir = tempdir();
    write_weights(dir.path());
    let e = prepare_err(&external_add(dir.path(), "w.bin", 16, 8)).to_string();
    assert!(e.contains("tensor 'W': external data has 8 bytes, dims [3] need 12"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Op support.

#[test]
fn every_unsupported_op_is_named() {
    // Einsum and GridSample are ONNX ops candle-onnx 0.11.1 lacks; a custom-domain op is named
    // with its domain. Relu is supported and must not be listed.
    let mut custom = node("FusedConv", "fc", &["C"], &["D"], vec![]);
    custom.domain = "com.microsoft".into();
    let m = model(
        13,
        vec![
            node("Relu", "r", &["X"], &["A"], vec![]),
            node("GridSample", "g", &["A", "A"], &["B"], vec![]),
            node("Einsum", "e1", &["B"], &["C"], vec![]),
            custom,
            node("Einsum", "e2", &["D"], &["Y"], vec![]),
        ],
        vec![f32_io("X", &[D::N(1)])],
        vec![f32_io("Y", &[D::N(1)])],
        vec![],
    );
    let dir = tempdir();
    let path = write_model(dir.path(), "unsupported.onnx", &m);
    assert_eq!(
        Candle.unsupported_ops(&path).unwrap(),
        vec!["Einsum", "GridSample", "com.microsoft:FusedConv"]
    );
    let e = prepare_err(&path).to_string();
    assert!(
        e.ends_with(
            "ops not supported by candle-onnx 0.11.1: Einsum, GridSample, com.microsoft:FusedConv"
        ),
        "{e}"
    );
    assert!(e.contains("unsupported.onnx"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Pooling variants candle-onnx would compute differently.

fn pool_model(op: &str, spatial: [D; 2], attrs: Vec<AttributeProto>) -> ModelProto {
    let [h, w] = spatial;
    model(
        13,
        vec![node(op, "pool", &["X"], &["Y"], attrs)],
        vec![f32_io("X", &[D::N(1), D::N(1), h, w])],
        vec![f32_io("Y", &[D::N(1), D::N(1), D::P("oh"), D::P("ow")])],
        vec![],
    )
}

fn pool_attrs(ceil: i64) -> Vec<AttributeProto> {
    vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2]), int("ceil_mode", ceil)]
}

#[test]
fn ceil_mode_pool_that_changes_the_shape_is_refused() {
    // ONNX MaxPool: ceil((5 - 2) / 2) + 1 = 3 outputs per axis, floor mode gives 2.
    let dir = tempdir();
    let path = write_model(
        dir.path(),
        "ceil.onnx",
        &pool_model("MaxPool", [D::N(5), D::N(5)], pool_attrs(1)),
    );
    let e = prepare_err(&path).to_string();
    assert!(e.contains("MaxPool 'pool': ceil_mode=1 on spatial size [5, 5]"), "{e}");
}

#[test]
fn ceil_mode_pool_on_a_dynamic_size_is_checked_at_run_time() {
    let dir = tempdir();
    let path = write_model(
        dir.path(),
        "ceil_dyn.onnx",
        &pool_model("MaxPool", [D::P("h"), D::P("w")], pool_attrs(1)),
    );
    let mut m = prepare(&path);
    // 4x4: ceil and floor agree. ONNX MaxPool 2x2/2 of 0..16 row-major = [5, 7, 13, 15].
    let x = Tensor::from_f32(vec![1, 1, 4, 4], (0..16).map(|v| v as f32).collect()).unwrap();
    let out = m.run(&inputs(vec![("X", x)])).unwrap();
    assert_eq!(out.len(), 1, "the pool-input check output must not leak: {:?}", out.keys());
    assert_eq!(out["Y"].shape(), &[1, 1, 2, 2]);
    assert_eq!(f32s(&out["Y"]), &[5., 7., 13., 15.]);
    // 5x5: ceil mode would give 3x3.
    let x = Tensor::from_f32(vec![1, 1, 5, 5], vec![0.0; 25]).unwrap();
    let e = run_err(&mut m, inputs(vec![("X", x)])).to_string();
    assert!(e.contains("ceil_mode=1 on spatial size [5, 5]"), "{e}");
}

#[test]
fn ceil_mode_pool_on_even_sizes_is_accepted() {
    // AveragePool 2x2/2 of 0..16 (4x4): means of the four quadrant blocks = [2.5, 4.5, 10.5, 12.5].
    let dir = tempdir();
    let mut attrs = pool_attrs(1);
    attrs.push(int("count_include_pad", 1));
    let path =
        write_model(dir.path(), "even.onnx", &pool_model("AveragePool", [D::N(4), D::N(4)], attrs));
    let x = Tensor::from_f32(vec![1, 1, 4, 4], (0..16).map(|v| v as f32).collect()).unwrap();
    let out = prepare(&path).run(&inputs(vec![("X", x)])).unwrap();
    assert_eq!(f32s(&out["Y"]), &[2.5, 4.5, 10.5, 12.5]);
}

#[test]
fn average_pool_counting_padding_is_refused() {
    let dir = tempdir();
    let mut attrs = pool_attrs(0);
    attrs.push(int("count_include_pad", 1));
    attrs.push(ints("pads", &[1, 1, 1, 1]));
    let path =
        write_model(dir.path(), "pad.onnx", &pool_model("AveragePool", [D::N(4), D::N(4)], attrs));
    let e = prepare_err(&path).to_string();
    assert!(
        e.contains("AveragePool 'pool': count_include_pad=1 with non-zero pads [1, 1, 1, 1]"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// Attribute forms candle-onnx ignores, rewritten.

#[test]
fn opset11_reduce_sum_axes_attribute_is_honoured() {
    // ReduceSum-11 with axes=[1], keepdims=0 over [[1, 2, 3], [4, 5, 6]] = [6, 15]
    // (candle-onnx alone would sum every axis).
    let m = model(
        11,
        vec![node(
            "ReduceSum",
            "sum",
            &["X"],
            &["Y"],
            vec![ints("axes", &[1]), int("keepdims", 0)],
        )],
        vec![f32_io("X", &[D::N(2), D::N(3)])],
        vec![f32_io("Y", &[D::N(2)])],
        vec![],
    );
    let dir = tempdir();
    let path = write_model(dir.path(), "sum.onnx", &m);
    let x = Tensor::from_f32(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
    let out = prepare(&path).run(&inputs(vec![("X", x)])).unwrap();
    assert_eq!(out["Y"].shape(), &[2]);
    assert_eq!(f32s(&out["Y"]), &[6., 15.]);
}

#[test]
fn constant_nodes_are_folded_with_candles_semantics() {
    // Y = X * C with C a Constant node of [2, 3]: [1, 1] * [2, 3] = [2, 3]; K = C + C is folded too.
    let c = AttributeProto {
        name: "value".into(),
        r#type: AttributeType::Tensor as i32,
        t: Some(f32_init("", &[2], &[2., 3.])),
        ..Default::default()
    };
    let m = model(
        13,
        vec![
            node("Constant", "c", &[], &["C"], vec![c]),
            node("Add", "k", &["C", "C"], &["K"], vec![]),
            node("Mul", "mul", &["X", "K"], &["Y"], vec![]),
        ],
        vec![f32_io("X", &[D::N(2)])],
        vec![f32_io("Y", &[D::N(2)])],
        vec![],
    );
    let dir = tempdir();
    let path = write_model(dir.path(), "const.onnx", &m);
    let x = Tensor::from_f32(vec![2], vec![1., 10.]).unwrap();
    let out = prepare(&path).run(&inputs(vec![("X", x)])).unwrap();
    assert_eq!(f32s(&out["Y"]), &[4., 60.]);
}

// ---------------------------------------------------------------------------------------------
// Input checks.

fn relu_model(dir: &Path) -> PathBuf {
    let m = model(
        13,
        vec![node("Relu", "relu", &["X"], &["Y"], vec![])],
        vec![f32_io("X", &[D::P("n"), D::N(2)])],
        vec![f32_io("Y", &[D::P("n"), D::N(2)])],
        vec![],
    );
    write_model(dir, "relu.onnx", &m)
}

#[test]
fn inputs_are_checked_before_running() {
    let dir = tempdir();
    let mut m = prepare(&relu_model(dir.path()));
    assert_eq!(m.info().inputs[0].shape, vec![Dim::Symbolic("n".into()), Dim::Fixed(2)]);
    let ok = Tensor::from_f32(vec![3, 2], vec![-1., 1., -2., 2., -3., 3.]).unwrap();
    assert_eq!(
        f32s(&m.run(&inputs(vec![("X", ok.clone())])).unwrap()["Y"]),
        &[0., 1., 0., 2., 0., 3.]
    );

    let cases = [
        (inputs(vec![("Z", ok.clone())]), "unknown input 'Z' (the model's inputs: X)"),
        (inputs(vec![]), "missing input 'X' (the model's inputs: X)"),
        (
            inputs(vec![("X", Tensor::new(vec![3, 2], TensorData::I64(vec![0; 6])).unwrap())]),
            "input 'X': dtype I64, the model expects F32",
        ),
        (
            inputs(vec![("X", Tensor::from_f32(vec![2, 3], vec![0.; 6]).unwrap())]),
            "input 'X': shape [2, 3] does not fit the model's [n, 2] (axis 1 must be 2, got 3)",
        ),
        (
            inputs(vec![("X", Tensor::from_f32(vec![6], vec![0.; 6]).unwrap())]),
            "input 'X': shape [6] does not fit the model's [n, 2]",
        ),
    ];
    for (x, want) in cases {
        let e = run_err(&mut m, x);
        assert!(matches!(e, Error::Input(_)), "{e:?}");
        assert_eq!(e.to_string(), want);
    }
}

// ---------------------------------------------------------------------------------------------
// Corrupt and missing models.

#[test]
fn corrupt_or_missing_models_are_errors_naming_the_path() {
    let dir = tempdir();
    let missing = dir.path().join("missing.onnx");
    let e = prepare_err(&missing);
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert!(e.to_string().starts_with(&missing.display().to_string()), "{e}");

    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"\xff\xff\xff\xff this is not a protobuf").unwrap();
    let e = prepare_err(&garbage).to_string();
    assert!(
        e.starts_with(&garbage.display().to_string()) && e.contains("not an onnx model"),
        "{e}"
    );

    let empty = dir.path().join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    let e = prepare_err(&empty).to_string();
    assert!(
        e.starts_with(&empty.display().to_string()) && e.contains("not an onnx model (no graph)"),
        "{e}"
    );

    // A real model cut in half.
    let bytes = relu_model(dir.path());
    let bytes = std::fs::read(bytes).unwrap();
    let truncated = dir.path().join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = prepare_err(&truncated).to_string();
    assert!(e.starts_with(&truncated.display().to_string()), "{e}");
}

#[test]
fn a_panic_inside_candle_is_an_error() {
    // Gemm's C input is optional in the spec, but candle-onnx 0.11.1 indexes `node.input[2]`
    // unconditionally and panics; the backend must turn that into an error naming the model.
    let m = model(
        13,
        vec![node("Gemm", "gemm", &["A", "B"], &["Y"], vec![])],
        vec![f32_io("A", &[D::N(1), D::N(2)]), f32_io("B", &[D::N(2), D::N(1)])],
        vec![f32_io("Y", &[D::N(1), D::N(1)])],
        vec![],
    );
    let dir = tempdir();
    let path = write_model(dir.path(), "gemm.onnx", &m);
    let mut runnable = prepare(&path);
    let x = inputs(vec![
        ("A", Tensor::from_f32(vec![1, 2], vec![1., 2.]).unwrap()),
        ("B", Tensor::from_f32(vec![2, 1], vec![3., 4.]).unwrap()),
    ]);
    let e = run_err(&mut runnable, x);
    assert!(matches!(e, Error::Backend { backend: "candle", .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("gemm.onnx") && e.contains("candle-onnx panic"), "{e}");
}

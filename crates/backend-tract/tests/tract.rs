//! Backend-specific behaviour of the tract backend: every committed model loads and describes
//! itself as the shared contract says, golden cases in the ONNX test-data layout pass, per-shape
//! plans and batch splitting agree with tract's symbolic-shape plan, bad inputs and bad files give
//! clear errors, and the thread option works. (Golden comparison across every model and case is
//! the conformance suite's job, in `crates/conformance`.)

use std::path::{Path, PathBuf};

use backend_tract::{MAX_CACHED_PLANS, Tract};
use parity_core::{DType, Dim, Error, NamedTensors, Options, Runnable, Runtime, Tensor};
use prost::Message;
use tract_onnx::pb;

/// Tolerance on `age` (years) from the issue: atol 1e-4, rtol 0.
const ATOL: f32 = 1e-4;

use parity_testkit::repo;

fn models_dir() -> PathBuf {
    repo().join("models")
}

fn model(name: &str) -> PathBuf {
    let path = models_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: the demo models are committed in models/",
        path.display()
    );
    path
}

/// Every `.onnx` in `models/`, sorted.
fn all_models() -> Vec<PathBuf> {
    let mut models: Vec<PathBuf> = std::fs::read_dir(models_dir())
        .expect("models/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    models.sort();
    assert!(!models.is_empty(), "no .onnx models in {}", models_dir().display());
    models
}

fn is_static(path: &Path) -> bool {
    path.file_name().unwrap().to_string_lossy().contains("_static")
}

fn input(batch: usize, seed: u64) -> NamedTensors {
    parity_testkit::ssrnet_input(batch, seed)
}

fn ages(out: &NamedTensors) -> &[f32] {
    out["age"].as_f32().expect("age is f32")
}

fn assert_close(got: &[f32], want: &[f32], atol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        // Written so that NaN on either side fails.
        assert!((g - w).abs() <= atol, "{what}: element {i}: got {g}, want {w} (atol {atol})");
    }
}

fn prepare(path: &Path) -> Box<dyn Runnable> {
    Tract.prepare(path, &Options::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_model_loads_and_declares_the_contract_interface() {
    for path in all_models() {
        let model = prepare(&path);
        let info = model.info();
        let what = path.display();
        assert_eq!(info.inputs.len(), 1, "{what}");
        assert_eq!(info.outputs.len(), 1, "{what}");
        let (input, output) = (&info.inputs[0], &info.outputs[0]);
        assert_eq!((input.name.as_str(), input.dtype), ("input", DType::F32), "{what}");
        assert_eq!((output.name.as_str(), output.dtype), ("age", DType::F32), "{what}");
        assert_eq!(input.shape[1..], [Dim::Fixed(3), Dim::Fixed(64), Dim::Fixed(64)], "{what}");
        assert_eq!(output.shape.len(), 1, "{what}");
        if is_static(&path) {
            assert_eq!(input.shape[0], Dim::Fixed(1), "{what}");
            assert_eq!(output.shape[0], Dim::Fixed(1), "{what}");
        } else {
            assert!(matches!(input.shape[0], Dim::Symbolic(_)), "{what}: {:?}", input.shape);
            assert_eq!(output.shape[0], input.shape[0], "{what}: batch axes differ");
        }
        assert_eq!(Tract.unsupported_ops(&path).unwrap(), Vec::<String>::new(), "{what}");
    }
}

/// Every model variant holds the same weights, so all must give the same ages on the same input.
#[test]
fn every_model_variant_agrees_with_the_others() {
    let inputs = input(1, 7);
    let mut reference: Option<(PathBuf, Vec<f32>)> = None;
    for path in all_models() {
        let got = ages(&prepare(&path).run(&inputs).unwrap()).to_vec();
        assert!(got[0].is_finite(), "{}: age {}", path.display(), got[0]);
        match &reference {
            None => reference = Some((path, got)),
            Some((first, want)) => assert_close(
                &got,
                want,
                ATOL,
                &format!("{} vs {}", path.display(), first.display()),
            ),
        }
    }
}

/// Reads `test_data_set_<i>/input_0.pb` + `output_0.pb` (TensorProto, name set) directly.
fn golden_pb_cases() -> Vec<(PathBuf, NamedTensors, NamedTensors)> {
    let dir = repo().join("fixtures/golden_pb");
    let mut sets: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect(),
        Err(e) => panic!("{}: {e} (the golden cases are committed)", dir.display()),
    };
    sets.sort();
    let read = |path: PathBuf| -> (String, Tensor) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let proto = pb::TensorProto::decode(bytes.as_slice())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(proto.data_type, pb::tensor_proto::DataType::Float as i32, "{}", path.display());
        let shape: Vec<usize> = proto.dims.iter().map(|&d| d as usize).collect();
        let data: Vec<f32> = if proto.raw_data.is_empty() {
            proto.float_data.clone()
        } else {
            proto
                .raw_data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect()
        };
        (proto.name.clone(), Tensor::from_f32(shape, data).unwrap())
    };
    sets.into_iter()
        .map(|set| {
            let inputs = [read(set.join("input_0.pb"))].into();
            let outputs = [read(set.join("output_0.pb"))].into();
            (set, inputs, outputs)
        })
        .collect()
}

#[test]
fn golden_pb_cases_pass_on_the_dynamic_and_static_models() {
    let cases = golden_pb_cases();
    assert!(!cases.is_empty(), "no golden_pb cases");
    for name in [
        "ssrnet_legacy_dynamic.onnx",
        "ssrnet_legacy_static.onnx",
        "ssrnet_dynamo_dynamic_external.onnx",
    ] {
        let path = model(name);
        let mut runnable = prepare(&path);
        for (set, inputs, want) in &cases {
            let batch = inputs["input"].shape()[0];
            let result = runnable.run(inputs);
            if is_static(&path) && batch != 1 {
                assert!(
                    matches!(result, Err(Error::Input(_))),
                    "{name} {}: {result:?}",
                    set.display()
                );
                continue;
            }
            let got = result.unwrap_or_else(|e| panic!("{name} {}: {e}", set.display()));
            assert_eq!(got["age"].shape(), want["age"].shape(), "{name} {}", set.display());
            assert_close(ages(&got), ages(want), ATOL, &format!("{name} {}", set.display()));
        }
    }
}

/// Per-shape plans and every way of splitting a batch agree with tract's one symbolic-batch plan.
#[test]
fn per_shape_plans_and_batch_splitting_match_the_symbolic_plan() {
    for name in ["ssrnet_legacy_dynamic.onnx", "ssrnet_dynamo_dynamic.onnx"] {
        let path = model(name);
        let inputs = input(7, 3);
        let mut model = Tract.prepare_model(&path, &Options::default()).unwrap();
        let want = ages(&model.run_symbolic(&inputs).unwrap()).to_vec();
        assert_eq!(want.len(), 7);
        for chunk in [1, 3, usize::MAX] {
            model.set_chunk(chunk);
            let got = model.run(&inputs).unwrap();
            assert_eq!(got["age"].shape(), &[7], "{name} chunk {chunk}");
            assert_close(ages(&got), &want, 1e-5, &format!("{name} chunk {chunk}"));
        }
        // chunk 1 -> [1]; chunk 3 -> [3], [1] (the tail); whole -> [7].
        assert_eq!(model.cached_plans(), 3, "{name}");
        // Batch 1 of the first sample gives the first age of the batch.
        let one = input(1, 3);
        assert_close(ages(&model.run(&one).unwrap()), &want[..1], 1e-5, name);
    }
}

#[test]
fn plan_cache_is_bounded_and_falls_back_to_the_symbolic_plan() {
    let mut model =
        Tract.prepare_model(&model("ssrnet_legacy_dynamic.onnx"), &Options::default()).unwrap();
    model.set_chunk(usize::MAX);
    let batches: Vec<usize> = (1..=MAX_CACHED_PLANS + 2).collect();
    let big = input(*batches.last().unwrap(), 11);
    let want = ages(&model.run_symbolic(&big).unwrap()).to_vec();
    for &b in &batches {
        let inputs = input(b, 11);
        let got = model.run(&inputs).unwrap();
        // Same generator, same seed: batch b is the first b samples of `big`.
        assert_close(ages(&got), &want[..b], 1e-5, &format!("batch {b}"));
    }
    assert_eq!(model.cached_plans(), MAX_CACHED_PLANS);
}

fn input_error(result: parity_core::Result<NamedTensors>) -> String {
    match result {
        Err(Error::Input(message)) => message,
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn static_model_fed_batch_8_is_an_input_error() {
    let path = model("ssrnet_legacy_static.onnx");
    let message = input_error(prepare(&path).run(&input(8, 0)));
    assert!(message.contains("ssrnet_legacy_static.onnx"), "{message}");
    assert!(message.contains("axis 0 must be 1, got 8"), "{message}");
    let path = model("ssrnet_dynamo_static.onnx");
    input_error(prepare(&path).run(&input(8, 0)));
}

#[test]
fn wrong_input_name_dtype_or_shape_is_an_input_error() {
    let mut model = prepare(&model("ssrnet_legacy_dynamic.onnx"));
    let good = input(1, 0)["input"].clone();

    let message = input_error(model.run(&[("image".to_string(), good.clone())].into()));
    assert!(message.contains("unknown input 'image'"), "{message}");
    let message = input_error(model.run(&NamedTensors::new()));
    assert!(message.contains("missing input 'input'"), "{message}");

    let f64_input =
        Tensor::new(vec![1, 3, 64, 64], parity_core::TensorData::F64(vec![0.0; 3 * 64 * 64]))
            .unwrap();
    let message = input_error(model.run(&[("input".to_string(), f64_input)].into()));
    assert!(message.contains("dtype F64"), "{message}");

    let rank3 = Tensor::from_f32(vec![3, 64, 64], vec![0.0; 3 * 64 * 64]).unwrap();
    let message = input_error(model.run(&[("input".to_string(), rank3)].into()));
    assert!(message.contains("shape [3, 64, 64]"), "{message}");

    let wrong_size = Tensor::from_f32(vec![1, 3, 32, 32], vec![0.0; 3 * 32 * 32]).unwrap();
    let message = input_error(model.run(&[("input".to_string(), wrong_size)].into()));
    assert!(message.contains("axis 2 must be 64, got 32"), "{message}");
}

fn load_error(path: &Path) -> Error {
    match Tract.prepare(path, &Options::default()) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e,
    }
}

#[test]
fn missing_corrupt_or_truncated_model_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.onnx");
    let e = load_error(&missing);
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("missing.onnx"), "{e}");

    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"this is not a protobuf \xff\xff\xff\xff").unwrap();
    let e = load_error(&garbage);
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    assert!(e.to_string().contains("garbage.onnx"), "{e}");

    let bytes = std::fs::read(model("ssrnet_legacy_dynamic.onnx")).unwrap();
    let truncated = dir.path().join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = load_error(&truncated);
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    assert!(e.to_string().contains("truncated.onnx"), "{e}");
}

/// tract resolves `.onnx.data` relative to the model file, not the working directory.
#[test]
fn external_data_is_resolved_next_to_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let name = "ssrnet_dynamo_dynamic_external.onnx";
    std::fs::copy(model(name), dir.path().join(name)).unwrap();
    let e = load_error(&dir.path().join(name));
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    assert!(e.to_string().contains(name), "{e}");

    std::fs::copy(
        models_dir().join(format!("{name}.data")),
        dir.path().join(format!("{name}.data")),
    )
    .unwrap();
    let inputs = input(2, 5);
    let copied = ages(&prepare(&dir.path().join(name)).run(&inputs).unwrap()).to_vec();
    let reference =
        ages(&prepare(&model("ssrnet_legacy_dynamic.onnx")).run(&inputs).unwrap()).to_vec();
    assert_close(&copied, &reference, ATOL, "external-data copy vs legacy dynamic");
}

#[test]
fn two_threads_give_the_same_ages_as_one() {
    let path = model("ssrnet_legacy_dynamic.onnx");
    let inputs = input(5, 9);
    let one = Tract.prepare(&path, &Options::with_threads(Some(1))).unwrap().run(&inputs).unwrap();
    for chunk in [1, usize::MAX] {
        let mut two = Tract.prepare_model(&path, &Options::with_threads(Some(2))).unwrap();
        two.set_chunk(chunk);
        let got = two.run(&inputs).unwrap();
        assert_eq!(got["age"].shape(), &[5]);
        assert_close(ages(&got), ages(&one), 1e-5, &format!("2 threads, chunk {chunk}"));
    }
    let e =
        Tract.prepare(&path, &Options::with_threads(Some(0))).err().expect("0 threads is refused");
    assert!(e.to_string().contains("threads must be at least 1"), "{e}");
}

/// A float tensor declaration `name: [dims]`.
fn value(name: &str, dims: &[i64]) -> pb::ValueInfoProto {
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: pb::tensor_proto::DataType::Float as i32,
                shape: Some(pb::TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| pb::tensor_shape_proto::Dimension {
                            value: Some(pb::tensor_shape_proto::dimension::Value::DimValue(d)),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(op: &str, input: &str, output: &str) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        input: vec![input.into()],
        output: vec![output.into()],
        ..Default::default()
    }
}

/// Write a one-input one-output opset-17 graph to `dir/name`.
fn write_graph(dir: &Path, name: &str, graph: pb::GraphProto) -> PathBuf {
    let proto = pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 17 }],
        graph: Some(graph),
        ..Default::default()
    };
    let path = dir.join(name);
    std::fs::write(&path, proto.encode_to_vec()).unwrap();
    path
}

/// A graph using ops tract-onnx has never heard of, built here so the expected answer is known
/// independently of tract.
#[test]
fn unknown_op_is_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let graph = pb::GraphProto {
        name: "g".into(),
        node: vec![
            node("FrobnicateV2", "x", "y"),
            node("Relu", "y", "z"),
            node("Frobnicate", "z", "w"),
        ],
        input: vec![value("x", &[4])],
        output: vec![value("w", &[4])],
        ..Default::default()
    };
    let path = write_graph(dir.path(), "unknown_op.onnx", graph);
    assert_eq!(Tract.unsupported_ops(&path).unwrap(), ["Frobnicate", "FrobnicateV2"]);
    let e = load_error(&path);
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    let message = e.to_string();
    assert!(
        message.contains("unknown_op.onnx") && message.contains("Frobnicate, FrobnicateV2"),
        "{message}"
    );
}

/// `value_info` that contradicts the graph (Relu of a [4] declared as [5]) is ignored, not fatal:
/// the model loads and Relu computes as the ONNX spec says.
#[test]
fn contradicting_value_info_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let graph = pb::GraphProto {
        name: "g".into(),
        node: vec![node("Relu", "x", "y"), node("Neg", "y", "z")],
        input: vec![value("x", &[4])],
        output: vec![value("z", &[4])],
        value_info: vec![value("y", &[5])],
        ..Default::default()
    };
    let path = write_graph(dir.path(), "bad_value_info.onnx", graph);
    let mut model = prepare(&path);
    let x = Tensor::from_f32(vec![4], vec![-1.5, 0.0, 2.0, -0.25]).unwrap();
    let out = model.run(&[("x".to_string(), x)].into()).unwrap();
    assert_eq!(out["z"].as_f32().unwrap(), [-0.0, -0.0, -2.0, -0.0]);
}

//! The ort backend's own behaviour: provisioning and input checking. Agreement with PyTorch on
//! every model and golden case is the conformance crate's job.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use backend_ort::Ort;
use backend_ort::provision::{self, LIBRARY_FILE, LIBRARY_SHA256, Provisioner};
use parity_core::{DType, Dim, Error, NamedTensors, Options, Runtime, Tensor, TensorData};

use parity_testkit::repo;

/// A committed demo model, or `None` (with a message) before the reference pipeline has committed it.
/// A committed demo model; its absence is a broken checkout, so it fails the test.
fn demo_model(file: &str) -> PathBuf {
    let path = repo().join("models").join(file);
    assert!(path.is_file(), "{} is missing from the checkout", path.display());
    path
}

fn input(shape: Vec<usize>) -> NamedTensors {
    let n = shape.iter().product();
    let mut m = NamedTensors::new();
    m.insert("input".into(), Tensor::from_f32(shape, vec![0.25; n]).unwrap());
    m
}

#[test]
fn library_is_the_pinned_build() {
    let path = provision::library_path().expect("libonnxruntime is provisioned");
    if std::env::var_os("ORT_DYLIB_PATH").is_none_or(|p| p.is_empty()) {
        assert_eq!(provision::sha256_file(&path).unwrap(), LIBRARY_SHA256, "{}", path.display());
        assert!(
            path.ends_with("onnxruntime-1.31.1/libonnxruntime.so.1.31.1"),
            "{}",
            path.display()
        );
    }
}

#[test]
fn provisioning_without_pip_fails_fast_saying_how_to_get_the_library() {
    let cache = tempfile::tempdir().unwrap();
    let p = Provisioner {
        cache_root: cache.path().into(),
        pythons: vec!["/nonexistent/python3".into()],
        deadline: Duration::from_secs(5),
    };
    let start = Instant::now();
    let err = p.ensure().unwrap_err().to_string();
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
    assert!(err.contains("/nonexistent/python3: not found"), "{err}");
    assert!(!p.cached_path().exists(), "nothing half-written");
}

#[test]
fn corrupt_cached_library_is_not_used() {
    let cache = tempfile::tempdir().unwrap();
    let p = Provisioner {
        cache_root: cache.path().into(),
        pythons: vec![],
        deadline: Duration::from_secs(5),
    };
    std::fs::create_dir_all(p.cached_path().parent().unwrap()).unwrap();
    std::fs::write(p.cached_path(), b"not a shared library").unwrap();
    let err = p.ensure().unwrap_err().to_string();
    assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
}

#[test]
fn a_verified_library_is_not_hashed_again_until_it_changes() {
    let cache = tempfile::tempdir().unwrap();
    let p = Provisioner {
        cache_root: cache.path().into(),
        pythons: vec![],
        deadline: Duration::from_secs(5),
    };
    let lib = p.cached_path();
    std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
    std::fs::copy(provision::library_path().unwrap(), &lib).unwrap();
    assert_eq!(p.ensure().unwrap(), lib);
    let stamp = lib.with_file_name(format!("{}.verified", LIBRARY_FILE));
    let noted = std::fs::read_to_string(&stamp).unwrap();
    assert!(noted.starts_with(LIBRARY_SHA256), "{noted}");
    assert_eq!(p.ensure().unwrap(), lib, "still verified");
    // One byte changed in place, same size: the library is hashed again and refused (and with
    // no pip here, not provisioned again).
    let mut bytes = std::fs::read(&lib).unwrap();
    bytes[1000] ^= 0xff;
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&lib, &bytes).unwrap();
    let err = p.ensure().unwrap_err().to_string();
    assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
}

#[test]
fn describes_inputs_and_outputs_as_the_graph_declares_them() {
    let dynamic = demo_model("ssrnet_legacy_dynamic.onnx");
    let model = Ort.prepare(&dynamic, &Options::with_threads(Some(1))).unwrap();
    let info = model.info();
    assert_eq!(info.inputs.len(), 1);
    assert_eq!(info.inputs[0].name, "input");
    assert_eq!(info.inputs[0].dtype, DType::F32);
    assert!(matches!(info.inputs[0].shape[0], Dim::Symbolic(_)), "{:?}", info.inputs[0].shape);
    assert_eq!(info.inputs[0].shape[1..], [Dim::Fixed(3), Dim::Fixed(64), Dim::Fixed(64)]);
    assert_eq!(info.outputs.len(), 1);
    assert_eq!(info.outputs[0].name, "age");
    assert_eq!(info.outputs[0].dtype, DType::F32);
}

#[test]
fn static_model_fed_batch_8_is_an_input_error() {
    let model = demo_model("ssrnet_legacy_static.onnx");
    let mut model = Ort.prepare(&model, &Options::with_threads(Some(1))).unwrap();
    match model.run(&input(vec![8, 3, 64, 64])) {
        Err(Error::Input(m)) => {
            assert!(
                m.contains("'input'")
                    && m.contains("[8, 3, 64, 64]")
                    && m.contains("[1, 3, 64, 64]"),
                "{m}"
            )
        }
        other => panic!("expected Error::Input, got {other:?}"),
    }
    // The model still works afterwards.
    let out = model.run(&input(vec![1, 3, 64, 64])).unwrap();
    assert_eq!(out["age"].shape(), [1]);
}

#[test]
fn wrong_name_dtype_and_rank_are_input_errors() {
    let model = demo_model("ssrnet_legacy_dynamic.onnx");
    let mut model = Ort.prepare(&model, &Options::with_threads(Some(2))).unwrap();

    let mut wrong_name = NamedTensors::new();
    wrong_name.insert(
        "image".into(),
        Tensor::from_f32(vec![1, 3, 64, 64], vec![0.0; 3 * 64 * 64]).unwrap(),
    );
    let e = model.run(&wrong_name).unwrap_err();
    assert!(matches!(&e, Error::Input(m) if m.contains("unknown input 'image'")), "{e}");

    let e = model.run(&NamedTensors::new()).unwrap_err();
    assert!(matches!(&e, Error::Input(m) if m.contains("missing input 'input'")), "{e}");

    let mut wrong_dtype = NamedTensors::new();
    wrong_dtype.insert(
        "input".into(),
        Tensor::new(vec![1, 3, 64, 64], TensorData::F64(vec![0.0; 3 * 64 * 64])).unwrap(),
    );
    let e = model.run(&wrong_dtype).unwrap_err();
    assert!(matches!(&e, Error::Input(m) if m.contains("dtype F64")), "{e}");

    let e = model.run(&input(vec![3, 64, 64])).unwrap_err();
    assert!(matches!(&e, Error::Input(m) if m.contains("[3, 64, 64]")), "{e}");

    // Batch 3 on the dynamic model: three ages, each the same as batch 1 on the same image.
    let one = model.run(&input(vec![1, 3, 64, 64])).unwrap()["age"].as_f32().unwrap().to_vec();
    let three = model.run(&input(vec![3, 3, 64, 64])).unwrap()["age"].as_f32().unwrap().to_vec();
    assert_eq!(three.len(), 3);
    for a in three {
        assert!((a - one[0]).abs() <= 1e-4, "{a} vs {}", one[0]);
    }
}

#[test]
fn missing_model_file_names_the_file() {
    let e = Ort
        .prepare(Path::new("/nonexistent/model.onnx"), &Options::default())
        .err()
        .expect("an error");
    assert!(e.to_string().contains("/nonexistent/model.onnx"), "{e}");
}

#[test]
fn unsupported_ops_are_what_onnxruntime_refuses_to_load() {
    use parity_core::onnx::proto::{ModelProto, NodeProto};
    use prost::Message;
    assert!(Ort.unsupported_ops(&demo_model("ssrnet_legacy_dynamic.onnx")).unwrap().is_empty());
    // The demo model with one more node of an op no runtime has, after its output.
    let mut m = parity_core::onnx::read_model(&demo_model("ssrnet_legacy_dynamic.onnx")).unwrap();
    let graph = m.graph.as_mut().unwrap();
    let out = graph.output[0].name.clone().unwrap();
    graph.node.push(NodeProto {
        op_type: Some("Frobnicate".into()),
        input: vec![out.clone()],
        output: vec![format!("{out}_frobnicated")],
        ..Default::default()
    });
    graph.output[0].name = Some(format!("{out}_frobnicated"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    std::fs::write(&path, ModelProto::encode_to_vec(&m)).unwrap();
    assert_eq!(Ort.unsupported_ops(&path).unwrap(), ["Frobnicate"]);
    // A file onnxruntime cannot load for another reason is an error, not "every op runs".
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"not a model").unwrap();
    assert!(Ort.unsupported_ops(&junk).is_err());
}

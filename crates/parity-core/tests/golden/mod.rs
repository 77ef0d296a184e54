//! Golden sets: npz written by NumPy, TensorProto written by the `onnx` package (both through
//! `SSRNET_PARITY_PYTHON`), files built by hand from the npy / zip specs, and the error paths.

use std::fs;
use std::path::Path;

use parity_core::golden::{self, GoldenSet, Layout, read_npz, write_npz};
use parity_core::{Case, DType, NamedTensors, Tensor};

use crate::support::{msg, python, run_python, ssrnet_info};

/// Values every dtype test uses; the same literals appear in the Python scripts below.
const F32: [f32; 6] = [0.5, -1.25, 3.0e-8, 65504.0, -0.0, 1.0e30];

/// A NumPy script writing `arrays.npz` (uncompressed), `compressed.npz` and `fortran.npz`, plus
/// TensorProto files with raw_data and with typed fields for the same arrays.
const WRITE_ALL_DTYPES: &str = r#"
import numpy as np, onnx
from onnx import numpy_helper, helper, TensorProto
arrays = {
    "f32": np.array([0.5, -1.25, 3.0e-8, 65504.0, -0.0, 1.0e30], dtype=np.float32).reshape(2, 3),
    "f64": np.array([0.1, -2.5, 1e300], dtype=np.float64),
    "i64": np.array([[-(2**62), 7]], dtype=np.int64),
    "i32": np.array([-(2**31), 2**31 - 1, 0], dtype=np.int32),
    "u8": np.arange(250, 256, dtype=np.uint8).reshape(1, 2, 3),
    "b": np.array([True, False, True]),
    "scalar": np.float32(2.5),
    "dotted.extra": np.zeros((0, 3), dtype=np.float32),
}
np.savez("arrays.npz", **arrays)
np.savez_compressed("compressed.npz", **arrays)
np.savez("fortran.npz", f32=np.asfortranarray(arrays["f32"]), u8=np.asfortranarray(arrays["u8"]))
for name, a in arrays.items():
    if name == "dotted.extra":
        continue
    onnx.save_tensor(numpy_helper.from_array(np.asarray(a), name=name), f"raw_{name}.pb")
typed = {
    "f32": helper.make_tensor("f32", TensorProto.FLOAT, [2, 3], arrays["f32"].ravel().tolist()),
    "f64": helper.make_tensor("f64", TensorProto.DOUBLE, [3], arrays["f64"].tolist()),
    "i64": helper.make_tensor("i64", TensorProto.INT64, [1, 2], arrays["i64"].ravel().tolist()),
    "i32": helper.make_tensor("i32", TensorProto.INT32, [3], arrays["i32"].tolist()),
    "u8": helper.make_tensor("u8", TensorProto.UINT8, [1, 2, 3], arrays["u8"].ravel().tolist()),
    "b": helper.make_tensor("b", TensorProto.BOOL, [3], arrays["b"].tolist()),
}
for name, t in typed.items():
    assert not t.raw_data
    onnx.save_tensor(t, f"typed_{name}.pb")
"#;

fn expected_arrays() -> NamedTensors {
    let mut m = NamedTensors::new();
    m.insert("f32".into(), Tensor::from_f32(vec![2, 3], F32.to_vec()).unwrap());
    m.insert("f64".into(), Tensor::from_f64(vec![3], vec![0.1, -2.5, 1e300]).unwrap());
    m.insert("i64".into(), Tensor::from_i64(vec![1, 2], vec![-(1 << 62), 7]).unwrap());
    m.insert("i32".into(), Tensor::from_i32(vec![3], vec![i32::MIN, i32::MAX, 0]).unwrap());
    m.insert(
        "u8".into(),
        Tensor::from_u8(vec![1, 2, 3], vec![250, 251, 252, 253, 254, 255]).unwrap(),
    );
    m.insert("b".into(), Tensor::from_bool(vec![3], vec![true, false, true]).unwrap());
    m.insert("scalar".into(), Tensor::scalar_f32(2.5));
    m.insert("dotted.extra".into(), Tensor::from_f32(vec![0, 3], vec![]).unwrap());
    m
}

#[test]
fn reads_every_dtype_from_numpy_and_onnx() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    run_python(&py, dir.path(), WRITE_ALL_DTYPES);
    let want = expected_arrays();
    for file in ["arrays.npz", "compressed.npz"] {
        let got = read_npz(dir.path().join(file)).unwrap();
        assert_eq!(got, want, "{file}");
        // -0.0 == 0.0 under PartialEq: check the sign bit explicitly.
        assert!(got["f32"].as_f32().unwrap()[4].is_sign_negative());
    }
    let fortran = read_npz(dir.path().join("fortran.npz")).unwrap();
    assert_eq!(fortran["f32"], want["f32"]);
    assert_eq!(fortran["u8"], want["u8"]);
    // Independent cross-check: the same arrays through TensorProto (raw_data and typed fields)
    // must agree exactly with what the npz reader produced.
    for (name, tensor) in &want {
        if name.contains('.') {
            continue;
        }
        let (pb_name, raw) =
            parity_core::tensor_proto::read(dir.path().join(format!("raw_{name}.pb"))).unwrap();
        assert_eq!(pb_name.as_deref(), Some(name.as_str()));
        assert_eq!(&raw, tensor, "raw_{name}.pb");
        if name != "scalar" {
            let (_, typed) =
                parity_core::tensor_proto::read(dir.path().join(format!("typed_{name}.pb")))
                    .unwrap();
            assert_eq!(&typed, tensor, "typed_{name}.pb");
        }
    }
}

/// A golden directory of two SSRNet-shaped cases written by NumPy, with a manifest.
fn numpy_golden(py: &Path, dir: &Path) {
    run_python(
        py,
        dir,
        r#"
import numpy as np, json
rng = np.random.default_rng(7)
for name, batch in [("face", 1), ("random_b2", 2)]:
    x = rng.standard_normal((batch, 3, 64, 64)).astype(np.float32)
    age = (np.arange(batch, dtype=np.float32) + 30.25)
    extra = {"preprocess.resized_bgr_u8": np.full((batch, 64, 64, 3), 7, np.uint8)} if name == "face" else {}
    np.savez(f"{name}.npz", input=x, age=age, **extra)
    np.save(f"{name}_input.npy", x)
json.dump({
    "format": "ssrnet-parity-golden", "version": 1, "future_key": [1, 2],
    "model": {"file": "../models/m.onnx", "sha256": "ab"},
    "tolerance": {"age": {"atol": 0.001, "rtol": 0.0}},
    "cases": {"face": {"image": "../images/face.png"}, "random_b2": {"source": "random-normal seed 7"}},
}, open("manifest.json", "w"))
"#,
    );
}

#[test]
fn reads_npz_golden_with_manifest() {
    let py = python();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    numpy_golden(&py, dir);
    let set = GoldenSet::read(dir, &ssrnet_info(None)).unwrap();
    assert_eq!(set.layout, Layout::Npz);
    let names: Vec<&str> = set.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["face", "random_b2"]);
    let face = &set.cases[0];
    assert_eq!(face.inputs["input"].shape(), [1, 3, 64, 64]);
    assert_eq!(face.outputs["age"], Tensor::from_f32(vec![1], vec![30.25]).unwrap());
    assert_eq!(face.extras["preprocess.resized_bgr_u8"].dtype(), DType::U8);
    assert_eq!(face.image.as_deref(), Some(dir.join("../images/face.png").as_path()));
    // The npz array equals the same array saved alone as .npy.
    assert_eq!(face.inputs["input"], parity_core::npy::read(dir.join("face_input.npy")).unwrap());
    let b2 = &set.cases[1];
    assert_eq!((b2.batch(), b2.source.as_deref()), (2, Some("random-normal seed 7")));
    assert_eq!(b2.outputs["age"].as_f32().unwrap(), [30.25, 31.25]);
    let m = set.manifest.as_ref().unwrap();
    assert_eq!(m.other["future_key"], serde_json::json!([1, 2]));
    assert_eq!(set.model_path(), Some(dir.join("../models/m.onnx")));
    assert_eq!(set.tolerances(parity_core::Tolerance::DEFAULT).get("age").atol, 0.001);
    // A static batch-1 model rejects the batch-2 case, naming the file.
    let e = msg(GoldenSet::read(dir, &ssrnet_info(Some(1))));
    assert!(e.ends_with("random_b2.npz: input 'input' has shape [2, 3, 64, 64], the model declares [1, 3, 64, 64]"), "{e}");
    // Without a manifest the set is still valid.
    fs::remove_file(dir.join("manifest.json")).unwrap();
    let bare = GoldenSet::read_with_names(dir, &["input"], &["age"]).unwrap();
    assert_eq!(bare.cases.len(), 2);
    assert_eq!(bare.cases[0].image, None);
}

#[test]
fn write_then_read_back_with_numpy() {
    let py = python();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("golden");
    let mut inputs = NamedTensors::new();
    inputs.insert(
        "input".into(),
        Tensor::from_f32(vec![1, 3, 64, 64], (0..12288).map(|i| i as f32 / 7.0).collect()).unwrap(),
    );
    let mut outputs = NamedTensors::new();
    outputs.insert("age".into(), Tensor::from_f32(vec![1], vec![42.5]).unwrap());
    let mut case = Case::new("face", inputs, outputs);
    case.extras
        .insert("preprocess.flag".into(), Tensor::from_bool(vec![2], vec![true, false]).unwrap());
    let manifest = golden::Manifest { version: Some(1), ..Default::default() };
    write_npz(&out, std::slice::from_ref(&case), Some(&manifest)).unwrap();
    let back = GoldenSet::read(&out, &ssrnet_info(None)).unwrap();
    assert_eq!(back.cases[0].inputs, case.inputs);
    assert_eq!(back.cases[0].outputs, case.outputs);
    assert_eq!(back.cases[0].extras, case.extras);
    let printed = run_python(
        &py,
        &out,
        r#"
import numpy as np, json
z = np.load("face.npz")
assert sorted(z.files) == ["age", "input", "preprocess.flag"], z.files
assert z["input"].dtype == np.float32 and z["input"].shape == (1, 3, 64, 64)
assert np.array_equal(z["input"].ravel(), np.arange(12288, dtype=np.float32) / np.float32(7.0))
assert z["preprocess.flag"].tolist() == [True, False]
print(z["age"].tolist(), json.load(open("manifest.json"))["version"])
"#,
    );
    assert_eq!(printed.trim(), "[42.5] 1");
    // Rewriting over a golden directory replaces it.
    let mut case2 = case.clone();
    case2.name = "other".into();
    write_npz(&out, &[case2], None).unwrap();
    let names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["other.npz"]);
}

mod committed;
mod errors;

#[test]
fn an_index_lists_cases_and_reads_each_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("golden");
    let case = |name: &str, age: f32| {
        let input = Tensor::from_f32(vec![1, 3, 64, 64], vec![0.25; 12288]).unwrap();
        let age = Tensor::from_f32(vec![1], vec![age]).unwrap();
        Case::new(name, NamedTensors::from([("input".into(), input)]), [("age".into(), age)].into())
    };
    write_npz(&out, &[case("a", 1.0), case("b", 2.0), case("c", 3.0)], None).unwrap();
    // A corrupt case is found when it is read, not when the set is listed.
    fs::write(out.join("b.npz"), b"not a zip").unwrap();
    let index = golden::GoldenIndex::open(&out, &ssrnet_info(None)).unwrap();
    assert_eq!(index.names().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(index.read(2).unwrap().outputs["age"].as_f32().unwrap(), [3.0]);
    let err = msg(index.read(1));
    assert!(err.contains("b.npz"), "{err}");
    assert!(GoldenSet::read(&out, &ssrnet_info(None)).is_err(), "reading all meets it");
}

#[test]
fn streamed_cases_and_manifest_entries_read_back_as_one_set() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("golden");
    let case = |name: &str, age: f32| {
        let input = Tensor::from_f32(vec![1, 3, 64, 64], vec![0.5; 12288]).unwrap();
        let age = Tensor::from_f32(vec![1], vec![age]).unwrap();
        Case::new(name, NamedTensors::from([("input".into(), input)]), [("age".into(), age)].into())
    };
    golden::write_npz_streaming(&out, |sink| {
        for (i, name) in ["b", "a", "c\"quoted"].iter().enumerate() {
            let entry =
                golden::ManifestCase { source: Some(format!("seed {i}")), ..Default::default() };
            sink.write_with_entry(&case(name, i as f32), &entry)?;
        }
        Ok(Some(golden::Manifest { version: Some(1), ..Default::default() }))
    })
    .unwrap();
    let set = GoldenSet::read(&out, &ssrnet_info(None)).unwrap();
    let m = set.manifest.as_ref().unwrap();
    assert_eq!(m.version, Some(1));
    let sources: Vec<(&str, &str)> =
        m.cases.iter().map(|(k, v)| (k.as_str(), v.source.as_deref().unwrap())).collect();
    assert_eq!(sources, [("a", "seed 1"), ("b", "seed 0"), ("c\"quoted", "seed 2")]);
    assert_eq!(set.cases.len(), 3);
    let names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with('.')), "no staging leftovers: {names:?}");
    // An error while producing leaves nothing behind.
    let failed = tmp.path().join("failed");
    let err = golden::write_npz_streaming(&failed, |sink| {
        sink.write_with_entry(&case("x", 1.0), &golden::ManifestCase::default())?;
        Err(parity_core::Error::Input("stopped".into()))
    });
    assert!(err.is_err() && !failed.exists());
}

//! Bad golden sets: every one is one error naming the file and the problem, never a panic and
//! never a silently accepted case. Valid files come from this crate's writer (checked against
//! NumPy in `write_then_read_back_with_numpy`) or are built byte by byte from the npy format
//! spec (numpy.lib.format) and the protobuf wire format.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use parity_core::golden::{GoldenSet, write_npz, write_test_data};
use parity_core::{Case, NamedTensors, Tensor, tensor_proto};

use crate::support::{msg, ssrnet_info};

fn input(batch: usize) -> Tensor {
    Tensor::from_f32(vec![batch, 3, 64, 64], vec![0.25; batch * 3 * 64 * 64]).unwrap()
}

fn age(values: &[f32]) -> Tensor {
    Tensor::from_f32(vec![values.len()], values.to_vec()).unwrap()
}

fn named(items: Vec<(&str, Tensor)>) -> NamedTensors {
    items.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Writes an npz (stored entries, as `np.savez` does) holding exactly `arrays`, bypassing every
/// check of the golden writer.
fn raw_npz(path: &Path, arrays: Vec<(&str, Vec<u8>)>) {
    let mut zip = npyz::zip::ZipWriter::new(fs::File::create(path).unwrap());
    let opts = npyz::zip::write::FileOptions::default()
        .compression_method(npyz::zip::CompressionMethod::Stored);
    for (name, bytes) in arrays {
        zip.start_file(format!("{name}.npy"), opts).unwrap();
        zip.write_all(&bytes).unwrap();
    }
    zip.finish().unwrap();
}

fn npy(t: &Tensor) -> Vec<u8> {
    parity_core::npy::encode(t).unwrap()
}

/// A golden dir with one case `c.npz` holding `arrays`.
fn one_case(arrays: Vec<(&str, Tensor)>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("c.npz");
    raw_npz(&path, arrays.iter().map(|(n, t)| (*n, npy(t))).collect());
    (tmp, path)
}

fn read_err(dir: &Path) -> String {
    msg(GoldenSet::read(dir, &ssrnet_info(None)))
}

/// An npy file built from the format spec: magic, version 1.0, little-endian u16 header length,
/// the header dict padded with spaces and ended by '\n' so that data starts at a multiple of 64.
fn hand_npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

#[test]
fn missing_and_empty_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    assert_eq!(
        read_err(&missing),
        format!("{}: No such file or directory (os error 2)", missing.display())
    );
    let file = tmp.path().join("file.npz");
    fs::write(&file, b"").unwrap();
    assert!(read_err(&file).starts_with(&format!("{}: not a directory", file.display())));
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert_eq!(
        read_err(&empty),
        format!(
            "{}: no golden cases: no .npz files and no test_data_set_N directories",
            empty.display()
        )
    );
    fs::write(empty.join("manifest.json"), "{}").unwrap();
    assert!(read_err(&empty).contains("no golden cases"));
}

#[test]
fn truncated_npz() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    write_npz(
        &good,
        &[Case::new("c", named(vec![("input", input(1))]), named(vec![("age", age(&[3.0]))]))],
        None,
    )
    .unwrap();
    let bytes = fs::read(good.join("c.npz")).unwrap();
    let dir = tmp.path().join("bad");
    fs::create_dir(&dir).unwrap();
    let path = dir.join("c.npz");
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        fs::write(&path, &bytes[..cut]).unwrap();
        let e = read_err(&dir);
        assert!(
            e.starts_with(&format!("{}: not a valid npz (zip) archive", path.display())),
            "cut {cut}: {e}"
        );
    }
}

#[test]
fn corrupt_npz_data_fails_the_crc() {
    let (tmp, path) = one_case(vec![("input", input(1)), ("age", age(&[3.0]))]);
    let mut bytes = fs::read(&path).unwrap();
    // Stored entries: the input's data sits after its local header; flip a byte deep inside it.
    bytes[20_000] ^= 0x40;
    fs::write(&path, &bytes).unwrap();
    assert_eq!(
        read_err(tmp.path()),
        format!("{}: corrupt npz entry 'input.npy': invalid checksum", path.display())
    );
}

#[test]
fn npz_entries_that_are_not_npy() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("c.npz");
    raw_npz(&path, vec![("input", b"garbage".to_vec()), ("age", npy(&age(&[1.0])))]);
    let e = read_err(tmp.path());
    assert!(
        e.starts_with(&format!("{}: array 'input': not a valid npy array", path.display())),
        "{e}"
    );
    // A header promising [1,3,64,64] float32 with only 8 data bytes.
    raw_npz(
        &path,
        vec![("input", hand_npy("<f4", "(1, 3, 64, 64)", &[0; 8])), ("age", npy(&age(&[1.0])))],
    );
    assert_eq!(
        read_err(tmp.path()),
        format!(
            "{}: array 'input': truncated npy array: shape [1, 3, 64, 64] of float32 needs 49152 data bytes, found 8",
            path.display()
        )
    );
    raw_npz(&path, vec![]);
    assert_eq!(read_err(tmp.path()), format!("{}: npz archive holds no arrays", path.display()));
}

#[test]
fn missing_tensor() {
    let (tmp, path) = one_case(vec![("input", input(1))]);
    assert_eq!(
        read_err(tmp.path()),
        format!("{}: missing output tensor 'age' (arrays present: )", path.display())
    );
    let (tmp, path) = one_case(vec![("age", age(&[1.0])), ("preprocess.x", age(&[1.0]))]);
    assert_eq!(
        read_err(tmp.path()),
        format!(
            "{}: missing input tensor 'input' (arrays present: age, preprocess.x)",
            path.display()
        )
    );
}

#[test]
fn wrong_dtype() {
    let (tmp, path) =
        one_case(vec![("input", input(1)), ("age", Tensor::from_f64(vec![1], vec![1.0]).unwrap())]);
    assert_eq!(
        read_err(tmp.path()),
        format!(
            "{}: expected output 'age' has dtype float64, the model declares float32",
            path.display()
        )
    );
}

#[test]
fn wrong_shape() {
    let small = Tensor::from_f32(vec![1, 3, 32, 32], vec![0.0; 3 * 32 * 32]).unwrap();
    let (tmp, path) = one_case(vec![("input", small), ("age", age(&[1.0]))]);
    assert_eq!(
        read_err(tmp.path()),
        format!(
            "{}: input 'input' has shape [1, 3, 32, 32], the model declares [batch, 3, 64, 64]",
            path.display()
        )
    );
    let (tmp, path) = one_case(vec![
        ("input", input(1)),
        ("age", Tensor::from_f32(vec![1, 1], vec![1.0]).unwrap()),
    ]);
    assert_eq!(
        read_err(tmp.path()),
        format!(
            "{}: expected output 'age' has shape [1, 1], the model declares [batch]",
            path.display()
        )
    );
    let (tmp, path) = one_case(vec![("input", input(2)), ("age", age(&[1.0]))]);
    assert_eq!(
        read_err(tmp.path()),
        format!("{}: dimension 'batch' is 2 in 'input' but 1 in 'age'", path.display())
    );
}

#[test]
fn nan_in_a_golden_is_kept_for_the_comparison_to_decide() {
    // An expected NaN (PyTorch's sqrt of a negative number) is read as it is.
    let (tmp, _) = one_case(vec![("input", input(1)), ("age", age(&[f32::NAN]))]);
    let set = GoldenSet::read(tmp.path(), &ssrnet_info(None)).unwrap();
    assert!(set.cases[0].outputs["age"].as_f32().unwrap()[0].is_nan());
    // So is a NaN in an input: it is simply run.
    let mut x = vec![0.0f32; 3 * 64 * 64];
    x[64 * 64 + 5] = f32::NAN;
    let (tmp, _) = one_case(vec![
        ("input", Tensor::from_f32(vec![1, 3, 64, 64], x).unwrap()),
        ("age", age(&[1.0])),
    ]);
    let set = GoldenSet::read(tmp.path(), &ssrnet_info(None)).unwrap();
    assert_eq!(set.cases[0].inputs["input"].data().first_nan(), Some(64 * 64 + 5));
    // Infinity is a legitimate expected value.
    let (tmp, _) = one_case(vec![("input", input(1)), ("age", age(&[f32::INFINITY]))]);
    assert!(GoldenSet::read(tmp.path(), &ssrnet_info(None)).is_ok());
}

#[test]
fn undotted_unknown_array() {
    let (tmp, path) =
        one_case(vec![("input", input(1)), ("age", age(&[1.0])), ("gender", age(&[1.0]))]);
    assert_eq!(
        read_err(tmp.path()),
        format!(
            "{}: array 'gender' is neither a model input nor output (input, age); extras need a dotted name",
            path.display()
        )
    );
}

#[test]
fn npy_dtypes_from_the_format_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.npy");
    // Big-endian float32 1.5, -2.0.
    let data: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| v.to_be_bytes()).collect();
    fs::write(&path, hand_npy(">f4", "(2,)", &data)).unwrap();
    assert_eq!(
        parity_core::npy::read(&path).unwrap(),
        Tensor::from_f32(vec![2], vec![1.5, -2.0]).unwrap()
    );
    // float16 1.0 is 0x3C00 (IEEE 754 binary16), little-endian.
    fs::write(&path, hand_npy("<f2", "(1,)", &[0, 0x3c])).unwrap();
    let one = parity_core::npy::read(&path).unwrap();
    assert_eq!(one.as_f16().unwrap(), [parity_core::tensor::f16::ONE]);
    fs::write(&path, hand_npy("<c8", "(1,)", &[0; 8])).unwrap();
    assert_eq!(
        msg(parity_core::npy::read(&path)),
        format!(
            "{}: unsupported dtype '<c8' (supported: float16, float32, float64, int64, int32, \
             uint8, bool)",
            path.display()
        )
    );
    fs::write(&path, hand_npy("|b1", "(2,)", &[1, 7])).unwrap();
    assert!(msg(parity_core::npy::read(&path)).contains("corrupt npy data"));
    // Round trip through this crate's writer, for the two dtypes the CLI writes.
    for t in [age(&[1.0, -0.5]), Tensor::from_u8(vec![2, 2], vec![0, 1, 254, 255]).unwrap()] {
        parity_core::npy::write(&path, &t).unwrap();
        assert_eq!(parity_core::npy::read(&path).unwrap(), t);
    }
}

#[test]
fn manifest_errors() {
    let (tmp, _) = one_case(vec![("input", input(1)), ("age", age(&[1.0]))]);
    let manifest = tmp.path().join("manifest.json");
    fs::write(&manifest, "{\"cases\": ").unwrap();
    assert!(
        read_err(tmp.path()).starts_with(&format!("{}: invalid manifest: ", manifest.display()))
    );
    fs::write(&manifest, r#"{"tolerance": {"age": {"atol": -1}}}"#).unwrap();
    assert!(
        read_err(tmp.path())
            .starts_with(&format!("{}: invalid tolerance for 'age'", manifest.display()))
    );
    fs::write(&manifest, r#"{"cases": {"c": {}, "ghost": {"image": "g.png"}}}"#).unwrap();
    assert_eq!(
        read_err(tmp.path()),
        format!("{}: lists case 'ghost' but ghost.npz is missing", manifest.display())
    );
}

#[test]
fn both_layouts_in_one_directory() {
    let (tmp, _) = one_case(vec![("input", input(1)), ("age", age(&[1.0]))]);
    fs::create_dir(tmp.path().join("test_data_set_0")).unwrap();
    assert!(
        read_err(tmp.path())
            .ends_with("holds both .npz files and test_data_set_N directories; use one layout")
    );
}

/// A test-data directory with one case whose files are `files` (name -> bytes).
fn pb_case(files: Vec<(&str, Vec<u8>)>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("test_data_set_0");
    fs::create_dir(&set).unwrap();
    for (name, bytes) in files {
        fs::write(set.join(name), bytes).unwrap();
    }
    (tmp, set)
}

#[test]
fn tensor_proto_from_the_wire_format() {
    // dims=[2] (field 1, varint), data_type=FLOAT (field 2), float_data packed (field 4, length
    // delimited: 1.5, -2.0 little-endian), name="age" (field 8).
    let mut packed = vec![0x08, 0x02, 0x10, 0x01, 0x22, 0x08];
    packed.extend(1.5f32.to_le_bytes());
    packed.extend((-2.0f32).to_le_bytes());
    packed.extend([0x42, 0x03, b'a', b'g', b'e']);
    let want = age(&[1.5, -2.0]);
    assert_eq!(tensor_proto::decode(&packed).unwrap(), (Some("age".to_string()), want.clone()));
    // The same floats unpacked (field 4 as two fixed32 entries) and without a name.
    let mut unpacked = vec![0x08, 0x02, 0x10, 0x01, 0x25];
    unpacked.extend(1.5f32.to_le_bytes());
    unpacked.push(0x25);
    unpacked.extend((-2.0f32).to_le_bytes());
    assert_eq!(tensor_proto::decode(&unpacked).unwrap(), (None, want.clone()));
    // raw_data (field 9) and this crate's encoder agree.
    let mut raw = vec![0x08, 0x02, 0x10, 0x01, 0x4a, 0x08];
    raw.extend(1.5f32.to_le_bytes());
    raw.extend((-2.0f32).to_le_bytes());
    assert_eq!(tensor_proto::decode(&raw).unwrap().1, want);
    assert_eq!(
        tensor_proto::decode(&tensor_proto::encode(Some("age"), &want)).unwrap(),
        (Some("age".into()), want)
    );
}

#[test]
fn tensor_proto_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            vec![0x08, 0x01, 0x10, 0x01, 0x4a, 0x03, 0, 0, 0],
            "raw_data holds 3 bytes, dims [1] of FLOAT need 4",
        ),
        (vec![0x08, 0x01, 0x10, 0x10, 0x4a, 0x02, 0, 0x3c], "unsupported data type BFLOAT16"),
        (vec![0x08, 0x01, 0x10, 0x01, 0x70, 0x01], "tensor data stored externally"),
        (vec![0x08, 0x02, 0x10, 0x01, 0x25, 0, 0, 0, 0], "holds 1 elements, dims [2] need 2"),
        (
            vec![0x08, 0x01, 0x10, 0x01, 0x38, 0x01],
            "FLOAT tensor carries data in a field of another type",
        ),
        (vec![0x08, 0x01, 0x10, 0x09, 0x28, 0x02], "bool value 2 is neither 0 nor 1"),
        (vec![0x0a, 0x05, 0x01], "not a valid TensorProto"),
    ];
    for (bytes, want) in cases {
        let e = tensor_proto::decode(&bytes).expect_err(want);
        assert!(e.contains(want), "{e} does not contain {want}");
    }
}

#[test]
fn test_data_layout_names_and_errors() {
    let x = tensor_proto::encode(None, &input(1));
    let y = tensor_proto::encode(None, &age(&[2.0]));
    // Unnamed tensors take the model's declared names, in order.
    let (tmp, set) = pb_case(vec![("input_0.pb", x.clone()), ("output_0.pb", y.clone())]);
    let golden = GoldenSet::read(tmp.path(), &ssrnet_info(Some(1))).unwrap();
    assert_eq!(golden.cases[0].name, "test_data_set_0");
    assert_eq!(golden.cases[0].outputs["age"], age(&[2.0]));
    // cases.json names the case, as an object or a list.
    fs::write(tmp.path().join("cases.json"), r#"{"0": "face"}"#).unwrap();
    assert_eq!(GoldenSet::read(tmp.path(), &ssrnet_info(None)).unwrap().cases[0].name, "face");
    fs::write(tmp.path().join("cases.json"), r#"["face2"]"#).unwrap();
    assert_eq!(GoldenSet::read(tmp.path(), &ssrnet_info(None)).unwrap().cases[0].name, "face2");
    fs::write(tmp.path().join("cases.json"), r#"{"zero": "face"}"#).unwrap();
    assert!(read_err(tmp.path()).ends_with("cases.json: key 'zero' is not an index"));
    fs::remove_file(tmp.path().join("cases.json")).unwrap();
    // A named tensor the model does not have.
    fs::write(set.join("output_0.pb"), tensor_proto::encode(Some("gender"), &age(&[2.0]))).unwrap();
    assert_eq!(
        read_err(tmp.path()),
        format!(
            "{}: holds tensor 'gender', the model has no output of that name (age)",
            set.join("output_0.pb").display()
        )
    );
    // Missing and corrupt files.
    fs::remove_file(set.join("output_0.pb")).unwrap();
    assert_eq!(
        read_err(tmp.path()),
        format!("{}: holds 0 output_K.pb files, the model has 1 outputs", set.display())
    );
    fs::write(set.join("output_0.pb"), &y[..y.len() - 2]).unwrap();
    assert!(read_err(tmp.path()).starts_with(&format!("{}: ", set.join("output_0.pb").display())));
    fs::create_dir(tmp.path().join("test_data_set_x")).unwrap();
    assert!(
        read_err(tmp.path())
            .ends_with("test_data_set_x: case directory name must be test_data_set_<number>")
    );
}

#[test]
fn test_data_sets_sort_numerically() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = (0..11)
        .map(|i| {
            Case::new(
                format!("case{i:02}"),
                named(vec![("input", input(1))]),
                named(vec![("age", age(&[i as f32]))]),
            )
        })
        .collect();
    let out = tmp.path().join("pb");
    write_test_data(&out, &cases, &["input"], &["age"]).unwrap();
    assert!(out.join("test_data_set_10/output_0.pb").is_file());
    // Without cases.json, names fall back to the directory names, in numeric order.
    fs::remove_file(out.join("cases.json")).unwrap();
    let set = GoldenSet::read(&out, &ssrnet_info(None)).unwrap();
    let names: Vec<&str> = set.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names[9..], ["test_data_set_9", "test_data_set_10"]);
    assert_eq!(set.cases[10].outputs["age"], age(&[10.0]));
    assert!(
        msg(write_test_data(&out, &cases, &["input"], &["age"]))
            .ends_with("already exists; refusing to overwrite")
    );
}

/// Entries of `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

#[test]
fn writer_refuses_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let good = Case::new("c", named(vec![("input", input(1))]), named(vec![("age", age(&[1.0]))]));
    // A directory that is not a golden set is never replaced.
    let other = tmp.path().join("src");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("main.rs"), "fn main() {}").unwrap();
    assert!(
        msg(write_npz(&other, std::slice::from_ref(&good), None))
            .contains("holds 'main.rs', which is not part of a golden set")
    );
    assert_eq!(listing(&other), ["main.rs"]);
    // A duplicate or path-like name: refused before anything is written.
    let out = tmp.path().join("golden");
    assert!(
        msg(write_npz(&out, &[good.clone(), good.clone()], None))
            .contains("case name 'c' used twice")
    );
    let mut sneaky = good.clone();
    sneaky.name = "../escape".into();
    assert!(msg(write_npz(&out, &[sneaky], None)).contains("invalid case name '../escape'"));
    assert!(msg(write_npz(&out, &[], None)).contains("no cases"));
    // A name clash between an output and an extra fails while writing: still nothing left.
    let mut clash = good.clone();
    clash.extras.insert("age".into(), age(&[1.0]));
    assert!(msg(write_npz(&out, &[clash], None)).contains("tensor name 'age' used twice"));
    assert_eq!(listing(tmp.path()), ["src"], "no golden dir and no temporary left behind");
    // A file where the directory should be.
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    assert!(
        msg(write_npz(&file, std::slice::from_ref(&good), None))
            .ends_with("exists and is not a directory")
    );
    write_npz(&out, &[good], None).unwrap();
    assert_eq!(listing(tmp.path()), ["file", "golden", "src"]);
}

#[test]
fn read_described_needs_a_manifest_with_io() {
    let (tmp, _) = one_case(vec![("input", input(1)), ("age", age(&[1.0]))]);
    let e = msg(GoldenSet::read_described(tmp.path()));
    assert_eq!(
        e,
        format!(
            "{}: has no manifest.json declaring the model's inputs and outputs; give the model",
            tmp.path().display()
        )
    );
    let manifest = tmp.path().join("manifest.json");
    fs::write(&manifest, "{}").unwrap();
    assert_eq!(
        msg(GoldenSet::read_described(tmp.path())),
        format!("{}: declares no outputs; give the model", manifest.display())
    );
    fs::write(&manifest, r#"{"outputs": {"age": {"dtype": "bfloat16", "shape": [1]}}}"#).unwrap();
    assert_eq!(
        msg(GoldenSet::read_described(tmp.path())),
        format!("{}: 'age' has unsupported dtype 'bfloat16'", manifest.display())
    );
    let missing = tmp.path().join("nope");
    assert!(msg(GoldenSet::read_described(&missing)).contains("No such file or directory"));
}

#[test]
fn recorded_manifest_round_trips_the_model_info() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("golden");
    let mut manifest = parity_core::Manifest::default();
    manifest.set_model_info(&ssrnet_info(Some(1)));
    manifest.tolerance.insert("age".into(), parity_core::Tolerance::DEFAULT);
    let case = Case::new("c", named(vec![("input", input(1))]), named(vec![("age", age(&[1.0]))]));
    write_npz(&out, std::slice::from_ref(&case), Some(&manifest)).unwrap();
    let set = GoldenSet::read_described(&out).unwrap();
    assert_eq!(set.manifest.as_ref(), Some(&manifest));
    assert_eq!(set.cases[0].outputs, case.outputs);
    let text = fs::read_to_string(out.join("manifest.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["inputs"]["input"]["shape"], serde_json::json!([1, 3, 64, 64]));
    assert_eq!(json["tolerance"]["age"], serde_json::json!({"atol": 1e-4, "rtol": 0.0}));
}

/// Sets the uncompressed size of every entry of a (non-zip64) zip file to `size`, in the local
/// headers and the central directory, leaving the data as it is.
fn declare_size(path: &Path, size: u32) {
    let mut bytes = fs::read(path).unwrap();
    let mut patched = 0;
    for (signature, offset) in [(*b"PK\x03\x04", 22), (*b"PK\x01\x02", 24)] {
        let mut i = 0;
        while let Some(at) = bytes[i..].windows(4).position(|w| w == signature) {
            let start = i + at + offset;
            bytes[start..start + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
            i += at + 4;
        }
    }
    assert!(patched >= 2, "found the headers");
    fs::write(path, bytes).unwrap();
}

#[test]
fn an_npz_declaring_huge_members_allocates_nothing_from_the_declaration() {
    // Members declared 4 GiB each in a 50 KB file: only the bytes really stored are read.
    let (_tmp, path) = one_case(vec![("input", input(1)), ("age", age(&[1.0]))]);
    declare_size(&path, u32::MAX - 1);
    match parity_core::golden::read_npz(&path) {
        Ok(arrays) => assert_eq!(arrays["age"].as_f32(), Some(&[1.0f32][..])),
        Err(e) => assert!(e.to_string().starts_with(&path.display().to_string()), "{e}"),
    }
}

#[test]
fn an_npz_inflating_past_the_limit_is_refused() {
    // A zip bomb: a deflated array of zeros one element larger than the inflate limit.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bomb.npz");
    let elements = parity_core::golden::MAX_NPZ_INFLATED_BYTES as usize;
    let header = hand_npy("|u1", &format!("({elements},)"), &[]);
    let mut zip = npyz::zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let options = npyz::zip::write::FileOptions::default()
        .compression_method(npyz::zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("age.npy", options).unwrap();
    zip.write_all(&header).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..elements >> 20 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    assert!(fs::metadata(&path).unwrap().len() < 4 << 20, "a small file");
    let e = parity_core::golden::read_npz(&path).unwrap_err().to_string();
    assert!(e.contains("array 'age'") && e.contains("-byte limit for one npz"), "{e}");
}

#[test]
fn an_npz_member_inflating_past_its_own_header_is_refused_at_the_declared_size() {
    // A 1-element float32 array followed by 64 MiB of deflated zeros: the member is read only up
    // to the 4 bytes its header declares plus one, and the trailing data is an error (it was
    // inflated whole and silently ignored before).
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("case.npz");
    let header = hand_npy("<f4", "(1,)", &[]);
    let mut zip = npyz::zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let options = npyz::zip::write::FileOptions::default()
        .compression_method(npyz::zip::CompressionMethod::Deflated);
    zip.start_file("age.npy", options).unwrap();
    zip.write_all(&header).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    assert!(fs::metadata(&path).unwrap().len() < 1 << 20, "a small file");
    let e = parity_core::golden::read_npz(&path).unwrap_err().to_string();
    assert!(e.starts_with(&path.display().to_string()), "{e}");
    assert!(e.contains("array 'age'") && e.contains("past the 4 bytes its header declares"), "{e}");
}

#[test]
fn special_files_are_refused_before_they_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("case.npz");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // A FIFO would block the reader for ever; /dev/zero would never end.
    for path in [fifo.as_path(), Path::new("/dev/zero")] {
        let e = parity_core::golden::read_npz(path).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = parity_core::onnx::read_model(path).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = tensor_proto::read(path).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
    // A FIFO named like a golden case: the set is refused with the FIFO named.
    let e = read_err(tmp.path());
    assert!(e.contains("case.npz") && e.contains("not a regular file"), "{e}");
}

#[test]
fn staging_left_by_a_killed_writer_is_removed_by_the_next_write() {
    let tmp = tempfile::tempdir().unwrap();
    // pid 4194304 is above Linux's pid_max: no such process can be alive.
    let stale = tmp.path().join(".golden-tmp-4194304-abcdef");
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("half.npz"), b"half-written").unwrap();
    // One of a live process (this one) is left alone: it may be writing now.
    let live = tmp.path().join(format!(".golden-tmp-{}-ghijkl", std::process::id()));
    fs::create_dir(&live).unwrap();
    let case = Case::new("c", named(vec![("input", input(1))]), named(vec![("age", age(&[1.0]))]));
    write_npz(tmp.path().join("golden"), &[case], None).unwrap();
    assert!(!stale.exists(), "the killed writer's staging is gone");
    assert!(live.exists(), "a live writer's staging stays");
}

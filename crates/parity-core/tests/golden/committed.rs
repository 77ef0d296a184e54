//! The committed golden sets of `fixtures/` (written by `scripts/pipeline.py`): both layouts read,
//! agree exactly with each other, and agree exactly with what NumPy reads.

use parity_core::golden::{GoldenSet, Layout};

use crate::support::{python, repo, run_python, ssrnet_info};

#[test]
fn committed_npz_and_pb_goldens_agree_exactly() {
    let npz = GoldenSet::read(repo().join("fixtures/golden"), &ssrnet_info(None)).unwrap();
    let pb = GoldenSet::read(repo().join("fixtures/golden_pb"), &ssrnet_info(None)).unwrap();
    assert_eq!((npz.layout, pb.layout), (Layout::Npz, Layout::TestData));
    assert!(
        npz.cases.len() >= 10,
        "expected the image, random and batch cases, got {}",
        npz.cases.len()
    );
    let npz_names: Vec<&str> = npz.cases.iter().map(|c| c.name.as_str()).collect();
    let pb_names: Vec<&str> = pb.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        npz_names, pb_names,
        "cases.json must name test_data_set_i after the i-th sorted npz case"
    );
    for (a, b) in npz.cases.iter().zip(&pb.cases) {
        assert_eq!(a.inputs, b.inputs, "inputs of {}", a.name);
        assert_eq!(a.outputs, b.outputs, "outputs of {}", a.name);
    }
    // Every image case points at an image that exists; the batch case carries 8 rows.
    for case in &npz.cases {
        if let Some(image) = &case.image {
            assert!(image.is_file(), "{}: {}", case.name, image.display());
            assert_eq!(case.batch(), 1);
            assert!(case.extras.contains_key("preprocess.resized_bgr_u8"), "{}", case.name);
        }
    }
    assert!(npz.cases.iter().any(|c| c.batch() == 8), "a batch-8 case");
    let model = npz.model_path().expect("manifest names the model");
    assert!(model.is_file(), "{}", model.display());
    assert_eq!(npz.tolerances(Default::default()).get("age").atol, 1e-4);
}

#[test]
fn committed_goldens_match_numpy_exactly() {
    let py = python();
    let dir = repo().join("fixtures/golden");
    // NumPy prints, per case, every age and the input's float64 sum and first/last elements;
    // repr of a float64 round-trips exactly.
    let printed = run_python(
        &py,
        &dir,
        r#"
import numpy as np, glob, os
for f in sorted(glob.glob("*.npz")):
    z = np.load(f)
    x = z["input"]
    vals = [float(v) for v in z["age"]] + [float(x.astype(np.float64).sum()), float(x.flat[0]), float(x.flat[-1])]
    print(os.path.splitext(f)[0], " ".join(repr(v) for v in vals))
"#,
    );
    let set = GoldenSet::read(&dir, &ssrnet_info(None)).unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), set.cases.len());
    for (line, case) in lines.iter().zip(&set.cases) {
        let mut parts = line.split(' ');
        assert_eq!(parts.next(), Some(case.name.as_str()));
        let want: Vec<f64> = parts.map(|p| p.parse().unwrap()).collect();
        let x = case.inputs["input"].as_f32().unwrap();
        let mut got: Vec<f64> =
            case.outputs["age"].as_f32().unwrap().iter().map(|&v| f64::from(v)).collect();
        // NumPy's pairwise summation differs from a naive loop in the last bits: compare the sum
        // with a tolerance, everything else exactly.
        let sum: f64 = x.iter().map(|&v| f64::from(v)).sum();
        got.extend([sum, f64::from(x[0]), f64::from(x[x.len() - 1])]);
        let n = got.len();
        assert_eq!(got[..n - 3], want[..n - 3], "ages of {}", case.name);
        assert!(
            (got[n - 3] - want[n - 3]).abs() <= 1e-9 * want[n - 3].abs().max(1.0),
            "sum of {}",
            case.name
        );
        assert_eq!(got[n - 2..], want[n - 2..], "first/last input of {}", case.name);
    }
}

#[test]
fn committed_golden_describes_its_model() {
    let dir = repo().join("fixtures/golden");
    let described = GoldenSet::read_described(&dir).unwrap();
    assert_eq!(described, GoldenSet::read(&dir, &ssrnet_info(None)).unwrap());
    let info = described
        .manifest
        .as_ref()
        .unwrap()
        .model_info(&dir.join("manifest.json"))
        .unwrap()
        .unwrap();
    let mut want = ssrnet_info(None);
    for io in want.inputs.iter_mut().chain(want.outputs.iter_mut()) {
        io.shape[0] = parity_core::Dim::Symbolic("N".into());
    }
    assert_eq!(info, want);
}

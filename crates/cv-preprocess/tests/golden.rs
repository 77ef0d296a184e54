//! The committed golden set (fixtures/golden/, written by scripts/pipeline.py with cv2 and numpy): every
//! image case's `preprocess.resized_bgr_u8` and `input` must come out of this crate bit for bit.

use std::path::{Path, PathBuf};

use cv_preprocess::{Interpolation, Normalize, Preprocessor};

use crate::common::{diff_f32_bits, diff_u8, repo_root};

fn read_npz_array<T: npyz::Deserialize>(npz: &Path, name: &str) -> (Vec<u64>, Vec<T>) {
    let mut archive =
        npyz::npz::NpzArchive::open(npz).unwrap_or_else(|e| panic!("{}: {e}", npz.display()));
    let array = archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{}: {e}", npz.display()))
        .unwrap_or_else(|| panic!("{} has no array '{name}'", npz.display()));
    let shape = array.shape().to_vec();
    (shape, array.into_vec().unwrap_or_else(|e| panic!("{} '{name}': {e}", npz.display())))
}

/// Mean/std from the manifest's `preprocess` section when it states them, else SSRNet's (ImageNet's
/// on B, G, R).
fn normalize_from(manifest: &serde_json::Value) -> Normalize {
    let mut n = Normalize::IMAGENET_BGR;
    let three = |k: &str| -> Option<[f32; 3]> {
        let a = manifest["preprocess"][k].as_array()?;
        (a.len() == 3).then(|| std::array::from_fn(|i| a[i].as_f64().unwrap() as f32))
    };
    if let Some(m) = three("mean") {
        n.mean = m;
    }
    if let Some(s) = three("std") {
        n.std = s;
    }
    n
}

#[test]
fn every_golden_image_case_is_reproduced_bit_for_bit() {
    let golden = repo_root().join("fixtures/golden");
    let manifest_path = golden.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .unwrap_or_else(|e| panic!("{}: {e} (the committed goldens)", manifest_path.display()));
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pre = Preprocessor::new((64, 64), Interpolation::Linear, normalize_from(&manifest));
    let cases = manifest["cases"].as_object().expect("manifest.json has no 'cases' object");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (case, entry) in cases {
        let Some(image) = entry["image"].as_str() else {
            continue;
        };
        // Relative to the golden directory (the contract), or to the repository as a fallback.
        let image: PathBuf = [golden.join(image), repo_root().join(image)]
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("case {case}: image {image} not found"));
        let npz = golden.join(format!("{case}.npz"));
        let (rshape, resized_ref) = read_npz_array::<u8>(&npz, "preprocess.resized_bgr_u8");
        let (ishape, input_ref) = read_npz_array::<f32>(&npz, "input");
        assert_eq!(rshape, [1, 64, 64, 3], "{case}: resized shape");
        assert_eq!(ishape, [1, 3, 64, 64], "{case}: input shape");
        let batch = pre.run(&[&image]).unwrap_or_else(|e| panic!("{case}: {e}"));
        if let Some(d) = diff_u8(&batch.resized[0].data, &resized_ref) {
            failures.push(format!("{case}: resized: {d}"));
        }
        if let Some(d) = diff_f32_bits(&batch.tensor, &input_ref) {
            failures.push(format!("{case}: input: {d}"));
        }
        checked += 1;
    }
    eprintln!("golden: {checked} image cases checked");
    assert!(checked > 0, "manifest.json lists no image cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

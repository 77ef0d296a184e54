//! Max |candle - golden| of `age` for every model in `models/` on every case in `fixtures/golden/`
//! (a quick look; the conformance crate is the real check).
//! `cargo run -p backend-candle --example golden [REPO_DIR]`

use std::path::PathBuf;

use backend_candle::Candle;
use parity_core::{Dim, NamedTensors, Options, Runtime};

fn main() -> parity_core::Result<()> {
    let repo = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(repo.join("fixtures/golden"))
        .expect("fixtures/golden")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "npz"))
        .collect();
    cases.sort();
    let mut models: Vec<PathBuf> = std::fs::read_dir(repo.join("models"))
        .expect("models")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    models.sort();
    for model in &models {
        let mut m = Candle.prepare(model, &Options::default())?;
        let fixed_batch = matches!(m.info().inputs[0].shape[0], Dim::Fixed(_));
        let (mut worst, mut n) = (0f32, 0);
        for case in &cases {
            let data = parity_core::golden::read_npz(case)?;
            let input = &data["input"];
            if fixed_batch && input.shape()[0] != 1 {
                continue;
            }
            let out = m.run(&NamedTensors::from([("input".to_string(), input.clone())]))?;
            let (got, want) = (out["age"].as_f32().unwrap(), data["age"].as_f32().unwrap());
            assert_eq!(out["age"].shape(), data["age"].shape());
            for (a, b) in got.iter().zip(want) {
                let d = (a - b).abs();
                worst = worst.max(if d.is_nan() { f32::INFINITY } else { d });
            }
            n += 1;
        }
        println!(
            "{:<45} cases {n:>3}  max |err| {worst:.3e}",
            model.file_name().unwrap().to_string_lossy()
        );
    }
    Ok(())
}

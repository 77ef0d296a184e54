//! Seeded mutation fuzzing of every reader of untrusted bytes: npy, npz, TensorProto (test data),
//! `manifest.json`, ONNX models and the image decoder front end (`cv_preprocess::decode`). cargo-fuzz needs a nightly toolchain, which cannot be had here,
//! so this is the stable alternative: the committed fixtures as seeds, mutated by a seeded RNG
//! (bit flips, extreme integers, truncation, duplication, insertion), each result fed to the
//! reader. A reader must return `Ok` or an error whose message is one line; a panic fails the
//! test and prints the seed and iteration that reproduce it.
//!
//! Iterations per target: `SSRNET_PARITY_FUZZ_ITERATIONS` (default 1500, what CI runs); the seed
//! of the mutation RNG: `SSRNET_PARITY_FUZZ_SEED` (default 0).

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use parity_testkit::repo;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One mutation of `seed`.
fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        if bytes.is_empty() {
            bytes.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..6) {
            0 => bytes[at] ^= 1 << rng.random_range(0..8),
            1 => bytes[at] = rng.random(),
            2 => {
                // An extreme little-endian u32 (sizes, lengths, counts).
                let value: u32 =
                    [0, 1, 0x7fff_ffff, 0xffff_ffff, 0x8000_0000][rng.random_range(0..5)];
                for (i, b) in value.to_le_bytes().iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = *b;
                    }
                }
            }
            3 => bytes.truncate(at),
            4 => {
                let end = (at + rng.random_range(1..64)).min(bytes.len());
                let chunk = bytes[at..end].to_vec();
                bytes.splice(at..at, chunk);
            }
            _ => {
                let junk: Vec<u8> = (0..rng.random_range(1..16)).map(|_| rng.random()).collect();
                bytes.splice(at..at, junk);
            }
        }
    }
    bytes
}

/// Feeds `iterations` mutations of the seeds to `read` (which gets a file holding the bytes).
fn fuzz(target: &str, seeds: &[PathBuf], read: impl Fn(&Path) -> Option<String>) {
    let iterations = env_number("SSRNET_PARITY_FUZZ_ITERATIONS", 1500);
    let seed = env_number("SSRNET_PARITY_FUZZ_SEED", 0);
    let seeds: Vec<Vec<u8>> = seeds.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!seeds.is_empty(), "{target}: no seed files");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("case.{target}"));
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut ok, mut errors) = (0, 0);
    for i in 0..iterations {
        let pick = rng.random_range(0..seeds.len());
        let bytes = mutate(&mut rng, &seeds[pick]);
        std::fs::write(&file, &bytes).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&file)));
        match outcome {
            Ok(None) => ok += 1,
            Ok(Some(message)) => {
                errors += 1;
                assert!(
                    !message.contains('\n'),
                    "{target}: a multi-line error at iteration {i} (seed {seed}): {message}"
                );
            }
            Err(_) => {
                let kept =
                    std::env::temp_dir().join(format!("ssrnet-parity-fuzz-{target}-{seed}-{i}"));
                std::fs::write(&kept, &bytes).unwrap();
                panic!(
                    "{target}: panicked at iteration {i} (seed {seed}); input kept in {}",
                    kept.display()
                );
            }
        }
    }
    eprintln!(
        "fuzz {target}: {iterations} iterations (seed {seed}): {ok} read, {errors} refused, 0 panics"
    );
}

fn files(dir: &str, ext: &str, most: usize) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found.truncate(most);
    found
}

fn error_of<T>(r: parity_core::Result<T>) -> Option<String> {
    r.err().map(|e| e.to_string())
}

#[test]
fn npz_reader_survives_mutations() {
    fuzz("npz", &files("fixtures/golden", "npz", 4), |p| {
        error_of(parity_core::golden::read_npz(p))
    });
}

#[test]
fn npy_reader_survives_mutations() {
    let dir = tempfile::tempdir().unwrap();
    let seeds: Vec<PathBuf> =
        parity_core::golden::read_npz(repo().join("fixtures/golden/astronaut_face.npz"))
            .unwrap()
            .into_iter()
            .map(|(name, t)| {
                let path = dir.path().join(format!("{name}.npy"));
                parity_core::npy::write(&path, &t).unwrap();
                path
            })
            .collect();
    fuzz("npy", &seeds, |p| error_of(parity_core::npy::read(p)));
}

#[test]
fn tensor_proto_reader_survives_mutations() {
    let seeds = vec![
        repo().join("fixtures/golden_pb/test_data_set_0/input_0.pb"),
        repo().join("fixtures/golden_pb/test_data_set_0/output_0.pb"),
    ];
    fuzz("pb", &seeds, |p| error_of(parity_core::tensor_proto::read(p)));
}

#[test]
fn manifest_reader_survives_mutations() {
    fuzz("json", &[repo().join("fixtures/golden/manifest.json")], |p| {
        error_of(parity_core::golden::Manifest::read(p))
    });
}

#[test]
fn model_reader_and_converter_survive_mutations() {
    let seeds = vec![
        repo().join("models/ssrnet_legacy_dynamic.onnx"),
        repo().join("models/ssrnet_dynamo_static.onnx"),
    ];
    fuzz("onnx", &seeds, |p| match parity_core::onnx::read_model_with_data(p) {
        Ok(model) => parity_core::onnx::model_info(model.graph.as_ref().unwrap()).err(),
        Err(e) => Some(e.to_string()),
    });
}

#[test]
fn npz_members_survive_mutations() {
    // Mutations of the arrays inside a well-formed zip (zip's CRC refuses most mutations of the
    // archive itself before an array is parsed).
    let dir = tempfile::tempdir().unwrap();
    let arrays =
        parity_core::golden::read_npz(repo().join("fixtures/golden/astronaut_face.npz")).unwrap();
    let seeds: Vec<PathBuf> = arrays
        .iter()
        .map(|(name, t)| {
            let path = dir.path().join(format!("{name}.npy"));
            parity_core::npy::write(&path, t).unwrap();
            path
        })
        .collect();
    let zipped = dir.path().join("zipped.npz");
    fuzz("npz-member", &seeds, |p| {
        use std::io::Write;
        let member = std::fs::read(p).unwrap();
        let mut zip = npyz::zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
        let options = npyz::zip::write::FileOptions::default()
            .compression_method(npyz::zip::CompressionMethod::Stored);
        zip.start_file("input.npy", options).unwrap();
        zip.write_all(&member).unwrap();
        zip.finish().unwrap();
        error_of(parity_core::golden::read_npz(&zipped))
    });
}

#[test]
fn image_decoder_survives_mutations() {
    let mut seeds: Vec<PathBuf> = ["png", "jpg", "bmp"]
        .iter()
        .flat_map(|ext| files("fixtures/images", ext, 3))
        .filter(|p| std::fs::metadata(p).unwrap().len() < 64 * 1024)
        .collect();
    seeds.sort();
    let limits = cv_preprocess::Limits::default();
    fuzz("image", &seeds, |p| {
        let bytes = std::fs::read(p).unwrap();
        cv_preprocess::decode(&bytes, p, &limits).err().map(|e| e.to_string())
    });
}

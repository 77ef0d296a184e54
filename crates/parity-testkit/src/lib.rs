//! Dev-only helpers of the workspace's tests and benches, one copy each: where the repository is,
//! the reference Python interpreter, and one seeded input generator.
//!
//! A test whose input is missing never passes by returning early: [`python`] and [`shared`] panic
//! with what is missing and how to get it (`tools/test` provisions the interpreter, and skips the
//! real-checkpoint tests by name where `../shared` is absent).

#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use parity_core::{NamedTensors, Tensor};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root")
}

/// The reference interpreter (`SSRNET_PARITY_PYTHON`, else `.venv/bin/python`) after checking
/// that it imports every one of `modules`; panics naming what is missing.
pub fn python(modules: &[&str]) -> PathBuf {
    let path = parity_core::names::env("PYTHON")
        .map_or_else(|| repo().join(".venv/bin/python"), PathBuf::from);
    let import =
        format!("import {}", if modules.is_empty() { "sys".into() } else { modules.join(", ") });
    let ok = Command::new(&path).args(["-c", &import]).output().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test needs {} with {} (run tools/venv, or set SSRNET_PARITY_PYTHON; tools/test does both)",
        path.display(),
        if modules.is_empty() { "nothing else".to_string() } else { modules.join(", ") }
    );
    path
}

/// `rel` under `../shared` beside the repository (the real checkpoint, which is never committed);
/// panics when it is absent (`tools/test` then skips the tests that need it by name).
pub fn shared(rel: &str) -> PathBuf {
    let path = repo().join("..").join("shared").join(rel);
    assert!(
        path.exists(),
        "this test needs {} (../shared beside the repository; tools/test skips the checkpoint_ tests by name where it is absent)",
        path.display()
    );
    path
}

/// A float32 tensor of `shape` whose values, in [-2, 2), depend only on `seed` (xorshift64*):
/// the same bytes on every machine.
pub fn seeded_f32(shape: &[usize], seed: u64) -> Tensor {
    let len: usize = shape.iter().product();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let data = (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
            (bits as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        })
        .collect();
    Tensor::from_f32(shape.to_vec(), data).expect("the shape's element count")
}

/// SSRNet's one input, `input` of `[batch, 3, 64, 64]`, from [`seeded_f32`].
pub fn ssrnet_input(batch: usize, seed: u64) -> NamedTensors {
    NamedTensors::from([("input".to_string(), seeded_f32(&[batch, 3, 64, 64], seed))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_values_are_in_range_and_differ_by_seed() {
        let a = seeded_f32(&[1000], 1);
        let parity_core::TensorData::F32(values) = a.data() else { panic!("f32") };
        assert!(values.iter().all(|v| (-2.0..2.0).contains(v)));
        assert!(values.iter().any(|&v| v < -1.0) && values.iter().any(|&v| v > 1.0));
        assert_eq!(a, seeded_f32(&[1000], 1));
        assert_ne!(a, seeded_f32(&[1000], 2));
    }
}

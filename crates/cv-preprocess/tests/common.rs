//! Shared helpers: the project's Python (with cv2) and the skip rule.

use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn oracle_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cv2_oracle.py")
}

fn strict() -> bool {
    std::env::var("SSRNET_PARITY_STRICT").is_ok_and(|v| v == "1")
}

/// `SSRNET_PARITY_PYTHON`, else `<repo>/.venv/bin/python`. `None` (with a skip message) when it is
/// missing, unless `SSRNET_PARITY_STRICT=1`, which makes a missing interpreter a failure.
pub fn python(test: &str) -> Option<PathBuf> {
    let py = std::env::var_os("SSRNET_PARITY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    if py.exists() {
        return Some(py);
    }
    let msg = format!(
        "{test}: no Python with cv2 at {} (run tools/venv or set SSRNET_PARITY_PYTHON)",
        py.display()
    );
    if strict() {
        panic!("{msg}");
    }
    eprintln!("skipping {msg}");
    None
}

/// First differing index, number of differing elements and the largest absolute difference.
pub fn diff_u8(a: &[u8], b: &[u8]) -> Option<String> {
    if a == b {
        return None;
    }
    if a.len() != b.len() {
        return Some(format!("length {} vs {}", a.len(), b.len()));
    }
    let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    let max = diffs.iter().map(|&i| a[i].abs_diff(b[i])).max().unwrap_or(0);
    Some(format!(
        "{} of {} values differ (first at {}, max {})",
        diffs.len(),
        a.len(),
        diffs[0],
        max
    ))
}

/// Bitwise float comparison (NaN never equals by accident, -0.0 differs from 0.0).
pub fn diff_f32_bits(a: &[f32], b: &[f32]) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("length {} vs {}", a.len(), b.len()));
    }
    let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i].to_bits() != b[i].to_bits()).collect();
    if diffs.is_empty() {
        return None;
    }
    let i = diffs[0];
    Some(format!(
        "{} of {} floats differ (first at {}: {} vs {})",
        diffs.len(),
        a.len(),
        i,
        a[i],
        b[i]
    ))
}

//! Shared helpers: the project's Python (with cv2), the oracle script, differences.

use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    parity_testkit::repo()
}

pub fn oracle_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cv2_oracle.py")
}

/// The reference interpreter with cv2 and numpy (panics naming what is missing).
pub fn python() -> PathBuf {
    parity_testkit::python(&["cv2", "numpy"])
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

//! The backends this CLI knows, by their command-line names.

use clap::ValueEnum;
use parity_core::Runtime;

/// A backend name as given to `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendName {
    /// onnxruntime 1.31.1 through the `ort` crate.
    Ort,
    /// tract-onnx.
    Tract,
    /// candle-onnx.
    Candle,
    /// RTen, a pure-Rust runtime.
    Rten,
}

impl BackendName {
    /// Every backend, in report order.
    pub const ALL: [BackendName; 4] =
        [BackendName::Ort, BackendName::Tract, BackendName::Candle, BackendName::Rten];

    pub fn runtime(self) -> Box<dyn Runtime> {
        match self {
            BackendName::Ort => Box::new(backend_ort::Ort),
            BackendName::Tract => Box::new(backend_tract::Tract),
            BackendName::Candle => Box::new(backend_candle::Candle),
            BackendName::Rten => Box::new(backend_rten::Rten),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BackendName::Ort => "ort",
            BackendName::Tract => "tract",
            BackendName::Candle => "candle",
            BackendName::Rten => "rten",
        }
    }
}

/// The chosen backends, deduplicated, in the order given; all four when none were given.
pub fn chosen(given: &[BackendName]) -> Vec<BackendName> {
    if given.is_empty() {
        return BackendName::ALL.to_vec();
    }
    let mut out = Vec::new();
    for b in given {
        if !out.contains(b) {
            out.push(*b);
        }
    }
    out
}

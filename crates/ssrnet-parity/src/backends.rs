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
}

impl BackendName {
    /// Every backend, in report order.
    pub const ALL: [BackendName; 3] = [BackendName::Ort, BackendName::Tract, BackendName::Candle];

    pub fn runtime(self) -> Box<dyn Runtime> {
        match self {
            BackendName::Ort => Box::new(backend_ort::Ort),
            BackendName::Tract => Box::new(backend_tract::Tract),
            BackendName::Candle => Box::new(backend_candle::Candle),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BackendName::Ort => "ort",
            BackendName::Tract => "tract",
            BackendName::Candle => "candle",
        }
    }
}

/// The chosen backends, deduplicated, in the order given; all three when none were given.
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

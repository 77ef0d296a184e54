//! The backends, by their names: the one list every front end offers.

use std::fmt;
use std::str::FromStr;

use parity_core::Runtime;

use crate::Error;
use crate::error::invalid;

/// A backend, named as on the command line and in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
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

    /// The backend's runtime.
    pub fn runtime(self) -> Box<dyn Runtime> {
        match self {
            BackendName::Ort => Box::new(backend_ort::Ort),
            BackendName::Tract => Box::new(backend_tract::Tract),
            BackendName::Candle => Box::new(backend_candle::Candle),
            BackendName::Rten => Box::new(backend_rten::Rten),
        }
    }

    /// Its name: `ort`, `tract`, `candle` or `rten`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendName::Ort => "ort",
            BackendName::Tract => "tract",
            BackendName::Candle => "candle",
            BackendName::Rten => "rten",
        }
    }

    /// The runtime and its version (`onnxruntime 1.31.1`), for reports.
    pub fn runtime_version(self) -> String {
        match self {
            BackendName::Ort => format!("onnxruntime {}", backend_ort::provision::ORT_VERSION),
            BackendName::Tract => format!("tract-onnx {}", backend_tract::TRACT_VERSION),
            BackendName::Candle => {
                format!("candle-onnx {}", backend_candle::support::CANDLE_ONNX_VERSION)
            }
            BackendName::Rten => format!("rten {}", backend_rten::RTEN_VERSION),
        }
    }

    /// What it is, in a few words (for help texts).
    pub fn about(self) -> &'static str {
        match self {
            BackendName::Ort => "onnxruntime 1.31.1 through the `ort` crate",
            BackendName::Tract => "tract-onnx",
            BackendName::Candle => "candle-onnx",
            BackendName::Rten => "RTen, a pure-Rust runtime",
        }
    }
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendName {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        BackendName::ALL.into_iter().find(|b| b.as_str() == name).ok_or_else(|| {
            let known: Vec<&str> = BackendName::ALL.iter().map(|b| b.as_str()).collect();
            invalid(format!("unknown backend '{name}' (known: {})", known.join(", ")))
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_an_unknown_one_lists_the_known() {
        for b in BackendName::ALL {
            assert_eq!(b.as_str().parse::<BackendName>().unwrap(), b);
            assert_eq!(b.runtime().name(), b.as_str());
        }
        let e = "nosuch".parse::<BackendName>().unwrap_err().to_string();
        assert_eq!(e, "unknown backend 'nosuch' (known: ort, tract, candle, rten)");
        assert_eq!(chosen(&[]), BackendName::ALL);
        let twice = [BackendName::Rten, BackendName::Ort, BackendName::Rten];
        assert_eq!(chosen(&twice), [BackendName::Rten, BackendName::Ort]);
    }

    #[test]
    fn the_versions_reports_name_are_the_ones_built() {
        // Cargo.lock records what was built; onnxruntime's comes from its pinned wheel instead.
        let lock = include_str!("../../../Cargo.lock");
        let locked = |name: &str| {
            let at = lock.find(&format!("name = \"{name}\"\nversion = \"")).expect(name);
            lock[at..]
                .lines()
                .nth(1)
                .unwrap()
                .trim_start_matches("version = ")
                .trim_matches('"')
                .to_string()
        };
        for (backend, crate_name) in [
            (BackendName::Tract, "tract-onnx"),
            (BackendName::Candle, "candle-onnx"),
            (BackendName::Rten, "rten"),
        ] {
            assert_eq!(backend.runtime_version(), format!("{crate_name} {}", locked(crate_name)));
        }
    }
}

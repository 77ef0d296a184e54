//! The distribution of an output's absolute errors, counted on one fixed logarithmic scale so that
//! the counts of any cases, backends or shards add up: exact zeros, four bins a decade from 1e-12
//! to 1e4 (everything below 1e-12 in the first, everything from 1e4 in the last), and non-finite
//! errors (a NaN or infinity against a number).
//!
//! In JSON it is `{"zero", "bins": [[lo, hi, count], ...], "nonfinite"}`, the bins with a count
//! only, `lo` inclusive and `hi` exclusive (the first bin's `lo` is 0, exclusive; the last bin's
//! `hi` is `"inf"`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::compare::{de_f64, ser_f64};

/// Bins a decade.
pub const PER_DECADE: i32 = 4;
/// The first bin's upper edge is 10^(FIRST / PER_DECADE) = 1e-12.
const FIRST: i32 = -12 * PER_DECADE;
/// The last bin's lower edge is 10^(LAST / PER_DECADE) = 1e4.
const LAST: i32 = 4 * PER_DECADE;
/// Bins between zero and the non-finite errors.
const BINS: usize = (LAST - FIRST + 2) as usize;

/// Counts of absolute errors by size (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorHistogram {
    zero: u64,
    bins: Vec<u64>,
    nonfinite: u64,
}

impl Default for ErrorHistogram {
    fn default() -> Self {
        ErrorHistogram { zero: 0, bins: vec![0; BINS], nonfinite: 0 }
    }
}

impl ErrorHistogram {
    /// Counts one absolute error (non-negative, or NaN / infinity).
    pub fn add(&mut self, abs_err: f64) {
        if abs_err == 0.0 {
            self.zero += 1;
        } else if !abs_err.is_finite() {
            self.nonfinite += 1;
        } else {
            self.bins[bin_of(abs_err)] += 1;
        }
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &ErrorHistogram) {
        self.zero += other.zero;
        self.nonfinite += other.nonfinite;
        for (mine, theirs) in self.bins.iter_mut().zip(&other.bins) {
            *mine += theirs;
        }
    }

    /// Errors that were exactly zero.
    pub fn zero(&self) -> u64 {
        self.zero
    }

    /// Errors that were NaN or infinite.
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// Every error counted.
    pub fn total(&self) -> u64 {
        self.zero + self.nonfinite + self.bins.iter().sum::<u64>()
    }

    /// The bins with a count, in order: `(lo, hi, count)` (see the module docs for the edges).
    pub fn bins(&self) -> impl Iterator<Item = (f64, f64, u64)> + '_ {
        self.bins.iter().enumerate().filter(|&(_, &n)| n > 0).map(|(k, &n)| {
            let (lo, hi) = edges(k);
            (lo, hi, n)
        })
    }
}

/// The bin of a finite, positive error.
fn bin_of(abs_err: f64) -> usize {
    let k = (abs_err.log10() * f64::from(PER_DECADE)).floor();
    // The first bin takes every error below its upper edge, the last every one from its lower.
    let k = k.clamp(f64::from(FIRST - 1), f64::from(LAST)) as i32;
    (k - (FIRST - 1)) as usize
}

/// The edges `(lo, hi)` of bin `k`.
fn edges(k: usize) -> (f64, f64) {
    let q = k as i32 + FIRST - 1;
    // A decade's edge exactly as its literal (1e-6), the others as close as powf gives them.
    let at = |q: i32| match q % PER_DECADE {
        0 => format!("1e{}", q / PER_DECADE).parse().expect("a float literal"),
        _ => 10f64.powf(f64::from(q) / f64::from(PER_DECADE)),
    };
    let lo = if q < FIRST { 0.0 } else { at(q) };
    let hi = if q >= LAST { f64::INFINITY } else { at(q + 1) };
    (lo, hi)
}

/// The JSON form: the bins with a count, with their edges.
#[derive(Serialize, Deserialize)]
struct Form {
    zero: u64,
    bins: Vec<Bin>,
    nonfinite: u64,
}

#[derive(Serialize, Deserialize)]
struct Bin(
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")] f64,
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")] f64,
    u64,
);

impl Serialize for ErrorHistogram {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bins = self.bins().map(|(lo, hi, n)| Bin(lo, hi, n)).collect();
        Form { zero: self.zero, bins, nonfinite: self.nonfinite }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ErrorHistogram {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let form = Form::deserialize(d)?;
        let mut histogram = ErrorHistogram {
            zero: form.zero,
            nonfinite: form.nonfinite,
            ..ErrorHistogram::default()
        };
        for Bin(lo, hi, n) in form.bins {
            // A bin is known by its edges; the midpoint of its logs falls inside it.
            let inside = if lo == 0.0 {
                hi / 2.0
            } else if hi.is_infinite() {
                lo * 2.0
            } else {
                (lo * hi).sqrt()
            };
            if !(inside.is_finite() && inside > 0.0) || edges(bin_of(inside)) != (lo, hi) {
                return Err(serde::de::Error::custom(format!(
                    "not a bin of the error histogram: [{lo}, {hi})"
                )));
            }
            histogram.bins[bin_of(inside)] += n;
        }
        Ok(histogram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_fall_in_their_quarter_decade_and_the_ends_take_the_rest() {
        let mut h = ErrorHistogram::default();
        for e in [0.0, 1e-30, 1.5e-6, 1e-6, 9e-7, 2e5, f64::INFINITY, f64::NAN] {
            h.add(e);
        }
        assert_eq!((h.zero(), h.nonfinite(), h.total()), (1, 2, 8));
        let bins: Vec<(f64, f64, u64)> = h.bins().collect();
        assert_eq!(bins.len(), 4, "{bins:?}");
        assert_eq!((bins[0].0, bins[0].1, bins[0].2), (0.0, 1e-12, 1));
        // 9e-7 sits in [10^-6.25, 1e-6); 1e-6 and 1.5e-6 in [1e-6, 10^-5.75).
        assert!(bins[1].0 < 9e-7 && 9e-7 < bins[1].1 && bins[1].1 == 1e-6 && bins[1].2 == 1);
        assert_eq!((bins[2].0, bins[2].2), (1e-6, 2));
        assert_eq!((bins[3].0, bins[3].1, bins[3].2), (1e4, f64::INFINITY, 1));
    }

    #[test]
    fn counts_add_up_and_survive_json() {
        let (mut a, mut b) = (ErrorHistogram::default(), ErrorHistogram::default());
        [3e-5, 0.0, 1e-9].into_iter().for_each(|e| a.add(e));
        [3.1e-5, f64::NAN].into_iter().for_each(|e| b.add(e));
        a.merge(&b);
        assert_eq!(a.total(), 5);
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.starts_with(r#"{"zero":1,"bins":[["#), "{json}");
        let back: ErrorHistogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        let bad = r#"{"zero":0,"bins":[[1e-6,3e-6,1]],"nonfinite":0}"#;
        assert!(serde_json::from_str::<ErrorHistogram>(bad).is_err());
    }
}

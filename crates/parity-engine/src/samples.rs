//! What `diff`'s HTML scatter plots: per output, OLD's and NEW's values of the same elements, every
//! element that moved past the tolerance (with its case, up to [`MOVED`]) and an even sample of the
//! rest (up to [`SAMPLE`]), so that a report over any number of cases stays small.

use parity_core::NamedTensors;
use parity_core::compare::Tolerances;
use serde::Serialize;

/// At most this many elements of an output that stayed within the tolerance are kept.
pub const SAMPLE: usize = 2000;
/// At most this many elements of an output that moved past the tolerance are kept.
pub const MOVED: usize = 500;

/// One output's values on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct OutputPairs {
    /// The output (OLD's name).
    pub output: String,
    /// Elements compared in all.
    pub total: usize,
    /// `(old, new)` of elements within the tolerance, evenly spaced over every case.
    pub kept: Vec<(f64, f64)>,
    /// `(case, old, new)` of elements past the tolerance (or non-finite on one side), in order.
    pub moved: Vec<(String, f64, f64)>,
    /// How many elements moved in all.
    pub moved_total: usize,
}

/// Per output of OLD (`expected`), its pairs with NEW (`actual`) over the cases `names`.
pub fn pairs(
    names: &[String],
    expected: &[NamedTensors],
    actual: &[NamedTensors],
    tols: &Tolerances,
) -> Vec<OutputPairs> {
    let Some(first) = expected.first() else { return Vec::new() };
    first
        .keys()
        .map(|output| {
            let tol = tols.get(output);
            let per_case: Vec<(&str, Vec<f64>, Vec<f64>)> = names
                .iter()
                .zip(expected.iter().zip(actual))
                .filter_map(|(name, (e, a))| {
                    let (e, a) = (e.get(output)?, a.get(output)?);
                    (e.shape() == a.shape())
                        .then(|| (name.as_str(), e.data().to_f64_vec(), a.data().to_f64_vec()))
                })
                .collect();
            let total: usize = per_case.iter().map(|(_, e, _)| e.len()).sum();
            let stride = total.div_ceil(SAMPLE).max(1);
            let mut found = OutputPairs {
                output: output.clone(),
                total,
                kept: Vec::new(),
                moved: Vec::new(),
                moved_total: 0,
            };
            let mut k = 0usize;
            for (case, e, a) in &per_case {
                for (&old, &new) in e.iter().zip(a) {
                    if tol.admits((old - new).abs(), old) {
                        if k.is_multiple_of(stride) {
                            found.kept.push((old, new));
                        }
                    } else {
                        found.moved_total += 1;
                        if found.moved.len() < MOVED {
                            found.moved.push((case.to_string(), old, new));
                        }
                    }
                    k += 1;
                }
            }
            found
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use parity_core::Tensor;
    use parity_core::compare::Tolerance;

    fn one(values: Vec<f32>) -> NamedTensors {
        let n = values.len();
        NamedTensors::from([("y".to_string(), Tensor::from_f32(vec![n], values).unwrap())])
    }

    #[test]
    fn moved_elements_are_all_kept_with_their_case_and_the_rest_sampled() {
        let names = vec!["a".to_string(), "b".to_string()];
        let old = vec![one(vec![0.0; 3000]), one(vec![1.0, 2.0])];
        let mut shifted = vec![0.0; 3000];
        shifted[7] = 0.5;
        let new = vec![one(shifted), one(vec![1.0, 2.5])];
        let tols = Tolerances::uniform(Tolerance { atol: 0.1, rtol: 0.0 });
        let got = pairs(&names, &old, &new, &tols);
        assert_eq!(got.len(), 1);
        let y = &got[0];
        assert_eq!((y.total, y.moved_total), (3002, 2));
        assert_eq!(y.moved, vec![("a".to_string(), 0.0, 0.5), ("b".to_string(), 2.0, 2.5)]);
        assert!(y.kept.len() <= SAMPLE && y.kept.len() >= SAMPLE / 2, "{}", y.kept.len());
    }
}

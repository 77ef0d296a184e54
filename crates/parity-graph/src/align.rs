//! Aligning the values of two exports of one model whose value names differ.
//!
//! The legacy and dynamo exporters name values differently (`/layer1/Conv_output_0` against
//! `conv2d_1`) and may split or fuse ops differently, so values are paired by sequence alignment
//! in topological order (the longest common subsequence, as `diff` aligns lines): two values may
//! pair when their ops are of one kind (equal, or both only reshape: [`RESHAPES`]), their shapes
//! are equal, and either their names are equal or the caller's fingerprint test says they hold the
//! same numbers. Pairs never cross (an alignment keeps both
//! graphs' order), and a value pairs at most once. What is left unpaired is reported, never
//! guessed.

/// Ops that only reshape their input: one exporter's `Flatten` is another's `Reshape`.
pub const RESHAPES: &[&str] = &["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"];

/// Whether two op types compute one kind of value.
pub fn same_kind(a: &str, b: &str) -> bool {
    a == b || (RESHAPES.contains(&a) && RESHAPES.contains(&b))
}

/// What alignment sees of one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<'a> {
    pub name: &'a str,
    pub op: &'a str,
    pub shape: &'a [usize],
}

/// Pairs `(i, j)`: `a[i]` aligned with `b[j]`, in increasing order of both. `same_numbers(i, j)`
/// is the fingerprint test, asked only of slots with equal ops and shapes.
pub fn align(
    a: &[Slot<'_>],
    b: &[Slot<'_>],
    mut same_numbers: impl FnMut(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    let mut pairs_ok = vec![false; n * m];
    for i in 0..n {
        for j in 0..m {
            let (x, y) = (&a[i], &b[j]);
            pairs_ok[i * m + j] = same_kind(x.op, y.op)
                && x.shape == y.shape
                && (x.name == y.name || same_numbers(i, j));
        }
    }
    // lcs[i][j]: the longest alignment of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if pairs_ok[i * m + j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if pairs_ok[i * m + j] && lcs[at(i, j)] == lcs[at(i + 1, j + 1)] + 1 {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if lcs[at(i + 1, j)] >= lcs[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot<'a>(name: &'a str, op: &'a str, shape: &'a [usize]) -> Slot<'a> {
        Slot { name, op, shape }
    }

    #[test]
    fn renamed_values_align_by_op_shape_and_numbers_and_extra_ones_stay_unpaired() {
        let a = [
            slot("/c1/Conv_output_0", "Conv", &[1, 8]),
            slot("/c1/Relu_output_0", "Relu", &[1, 8]),
            slot("/Shape_output_0", "Shape", &[2]),
            slot("age", "Add", &[1]),
        ];
        let b = [
            slot("conv2d", "Conv", &[1, 8]),
            slot("relu", "Relu", &[1, 8]),
            slot("age", "Add", &[1]),
        ];
        let flat = [slot("/Flatten_output_0", "Flatten", &[1, 8])];
        let reshaped = [slot("view", "Reshape", &[1, 8])];
        assert_eq!(align(&flat, &reshaped, |_, _| true), [(0, 0)]);
        // Numbers: a[0]~b[0], a[1]~b[1]; nothing else matches by numbers.
        let pairs = align(&a, &b, |i, j| i == j && i < 2);
        assert_eq!(pairs, [(0, 0), (1, 1), (3, 2)]);
        // Same op and shape but other numbers and names: not aligned.
        assert!(align(&a[..1], &b[..1], |_, _| false).is_empty());
    }
}

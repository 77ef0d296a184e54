//! Which of one export's inputs or outputs stands for which of another's, for `diff`.
//!
//! Exporters name values differently: the legacy exporter calls an output `onnx::Gather_334` where
//! the dynamo exporter calls the same output `layer_norm_4`. Values are paired, in this order:
//! 1. by the user's `OLD=NEW` map (`--input-map`, `--output-map`);
//! 2. by name, when the rest have the same names;
//! 3. by position, when the rest agree in count, dtype and shape (rank, and every axis fixed in
//!    both); the report says so.
//!
//! Anything else is an error naming both sides' values.

use parity_core::{Dim, IoInfo, NamedTensors, shape_string};
use serde::Serialize;

use crate::Result;
use crate::error::invalid;

/// How values were paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// Every pair shares its name.
    Name,
    /// Names differ; paired by declared order (count, dtypes and shapes agree).
    Position,
    /// At least one pair came from the user's map.
    Map,
}

/// The pairs `(old name, new name)`, in OLD's declared order, and how they were made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pairing {
    /// How the pairs were made.
    pub by: By,
    /// `(old name, new name)`, in OLD's declared order.
    pub pairs: Vec<(String, String)>,
}

impl Pairing {
    /// `tensors` keyed by OLD's names renamed to NEW's (names it does not pair are dropped).
    pub fn to_new(&self, tensors: &NamedTensors) -> NamedTensors {
        self.rename(tensors, |(old, new)| (old, new))
    }

    /// `tensors` keyed by NEW's names renamed to OLD's (names it does not pair are dropped).
    pub fn to_old(&self, tensors: &NamedTensors) -> NamedTensors {
        self.rename(tensors, |(old, new)| (new, old))
    }

    fn rename<'a>(
        &'a self,
        tensors: &NamedTensors,
        from_to: impl Fn((&'a String, &'a String)) -> (&'a String, &'a String),
    ) -> NamedTensors {
        self.pairs
            .iter()
            .filter_map(|(o, n)| {
                let (from, to) = from_to((o, n));
                Some((to.clone(), tensors.get(from)?.clone()))
            })
            .collect()
    }

    /// Whether any pair joins two different names.
    pub fn renames(&self) -> bool {
        self.pairs.iter().any(|(o, n)| o != n)
    }
}

/// Parses `OLD=NEW` map entries.
pub fn parse_map(entries: &[String], flag: &str) -> Result<Vec<(String, String)>> {
    entries
        .iter()
        .map(|e| match e.split_once('=') {
            Some((old, new)) if !old.is_empty() && !new.is_empty() => {
                Ok((old.to_string(), new.to_string()))
            }
            _ => Err(invalid(format!(
                "{flag} {e}: expected OLD=NEW (an OLD value name, '=', a NEW value name)"
            ))),
        })
        .collect()
}

/// Pairs `new`'s values (`what`: "inputs" or "outputs") with `old`'s; see the module docs.
pub fn pair(
    what: &str,
    old: &[IoInfo],
    new: &[IoInfo],
    map: &[(String, String)],
) -> Result<Pairing> {
    let one = what.trim_end_matches('s');
    let describe = |side: &[IoInfo]| {
        side.iter()
            .map(|io| format!("{} {:?} {}", io.name, io.dtype, shape_string(&io.shape)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mismatch = |why: &str| {
        invalid(format!(
            "the {what} do not pair ({why}): OLD has {}; NEW has {} (pair them with --{one}-map OLD=NEW)",
            describe(old),
            describe(new)
        ))
    };
    for (o, n) in map {
        if !old.iter().any(|io| &io.name == o) {
            return Err(invalid(format!("--{one}-map {o}={n}: OLD has no {one} '{o}'")));
        }
        if !new.iter().any(|io| &io.name == n) {
            return Err(invalid(format!("--{one}-map {o}={n}: NEW has no {one} '{n}'")));
        }
    }
    let old_rest: Vec<&IoInfo> =
        old.iter().filter(|io| !map.iter().any(|(o, _)| *o == io.name)).collect();
    let new_rest: Vec<&IoInfo> =
        new.iter().filter(|io| !map.iter().any(|(_, n)| *n == io.name)).collect();
    if old_rest.len() != new_rest.len() {
        return Err(mismatch("their counts differ"));
    }
    let same_names = old_rest.iter().all(|o| new_rest.iter().any(|n| n.name == o.name));
    let by_rest: Vec<(String, String)> = if same_names {
        old_rest.iter().map(|o| (o.name.clone(), o.name.clone())).collect()
    } else {
        for (o, n) in old_rest.iter().zip(&new_rest) {
            if o.dtype != n.dtype || !shapes_agree(&o.shape, &n.shape) {
                return Err(mismatch(&format!(
                    "'{}' and '{}' differ in dtype or shape",
                    o.name, n.name
                )));
            }
        }
        old_rest.iter().zip(&new_rest).map(|(o, n)| (o.name.clone(), n.name.clone())).collect()
    };
    let by = match (map.is_empty(), same_names) {
        (false, _) => By::Map,
        (true, true) => By::Name,
        (true, false) => By::Position,
    };
    // In OLD's declared order.
    let pairs = old
        .iter()
        .map(|io| {
            map.iter()
                .chain(&by_rest)
                .find(|(o, _)| *o == io.name)
                .cloned()
                .expect("every OLD value is paired")
        })
        .collect();
    Ok(Pairing { by, pairs })
}

/// The same rank, and every axis fixed in both of the same size (symbolic axes are named freely
/// by exporters: `N` against `s0`).
fn shapes_agree(a: &[Dim], b: &[Dim]) -> bool {
    if a.is_empty() || b.is_empty() {
        return true;
    }
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Dim::Fixed(p), Dim::Fixed(q)) => p == q,
            _ => true,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use parity_core::DType;

    fn io(name: &str, dtype: DType, shape: &[Dim]) -> IoInfo {
        IoInfo { name: name.into(), dtype, shape: shape.to_vec() }
    }

    fn legacy_and_dynamo() -> (Vec<IoInfo>, Vec<IoInfo>) {
        let n = |s: &str| Dim::Symbolic(s.into());
        let old = vec![
            io("onnx::Gather_334", DType::F32, &[n("N"), Dim::Fixed(8), Dim::Fixed(16)]),
            io("337", DType::F32, &[n("N"), Dim::Fixed(16)]),
        ];
        let new = vec![
            io("layer_norm_4", DType::F32, &[n("s0"), Dim::Fixed(8), Dim::Fixed(16)]),
            io("tanh", DType::F32, &[n("s0"), Dim::Fixed(16)]),
        ];
        (old, new)
    }

    #[test]
    fn outputs_of_other_names_but_the_same_types_pair_by_position() {
        let (old, new) = legacy_and_dynamo();
        let p = pair("outputs", &old, &new, &[]).unwrap();
        assert_eq!(p.by, By::Position);
        assert_eq!(p.pairs[0], ("onnx::Gather_334".into(), "layer_norm_4".into()));
        assert_eq!(p.pairs[1], ("337".into(), "tanh".into()));
        assert!(p.renames());
    }

    #[test]
    fn the_same_names_pair_by_name_in_any_order() {
        let (old, _) = legacy_and_dynamo();
        let reversed: Vec<IoInfo> = old.iter().rev().cloned().collect();
        let p = pair("outputs", &old, &reversed, &[]).unwrap();
        assert_eq!(p.by, By::Name);
        assert!(!p.renames());
    }

    #[test]
    fn a_map_overrides_the_position() {
        // NEW declares its outputs in the other order: by position they do not pair.
        let (old, mut new) = legacy_and_dynamo();
        new.swap(0, 1);
        assert!(pair("outputs", &old, &new, &[]).is_err());
        let map = parse_map(&["337=tanh".into()], "--output-map").unwrap();
        let p = pair("outputs", &old, &new, &map).unwrap();
        assert_eq!(p.by, By::Map);
        assert_eq!(p.pairs[1], ("337".into(), "tanh".into()));
        assert_eq!(p.pairs[0], ("onnx::Gather_334".into(), "layer_norm_4".into()));
    }

    #[test]
    fn values_that_differ_in_type_or_count_do_not_pair() {
        let (old, mut new) = legacy_and_dynamo();
        new[1].dtype = DType::I64;
        let e = pair("outputs", &old, &new, &[]).unwrap_err().to_string();
        assert!(e.contains("'337' and 'tanh' differ") && e.contains("--output-map"), "{e}");
        new.pop();
        let e = pair("outputs", &old, &new, &[]).unwrap_err().to_string();
        assert!(e.contains("counts differ"), "{e}");
        let e = pair("outputs", &old, &old, &[("x".into(), "337".into())]).unwrap_err().to_string();
        assert!(e.contains("OLD has no output 'x'"), "{e}");
        assert!(parse_map(&["a".into()], "--output-map").is_err());
    }
}

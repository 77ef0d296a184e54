//! Comparison edge cases. Expected values are worked by hand from the rule
//! `|a - b| <= atol + rtol * |b|`; inputs are dyadic fractions so the arithmetic is exact.

use parity_core::compare::{compare_outputs, compare_tensors, cosine, summarize};
use parity_core::{CompareOptions, NamedTensors, Tensor, Tolerance, Tolerances};

fn f64t(shape: &[usize], v: &[f64]) -> Tensor {
    Tensor::from_f64(shape.to_vec(), v.to_vec()).unwrap()
}

fn tol(atol: f64, rtol: f64) -> Tolerance {
    Tolerance::new(atol, rtol).unwrap()
}

const STRICT: CompareOptions = CompareOptions { nan_equal: false };

#[test]
fn statistics_of_a_simple_mismatch() {
    // errors 0, 0.25, 0.25; relative 0, 0.25/2.25 = 1/9, 0.25/2.75 = 1/11.
    let r = compare_tensors(
        "age",
        &f64t(&[3], &[1.0, 2.0, 3.0]),
        &f64t(&[3], &[1.0, 2.25, 2.75]),
        tol(0.125, 0.0),
        STRICT,
    );
    assert!(!r.pass);
    assert_eq!(r.problem, None);
    assert_eq!((r.total, r.mismatches, r.nonfinite_mismatches), (3, 2, 0));
    assert_eq!(r.max_abs, 0.25);
    assert_eq!(r.max_rel, 0.25 / 2.25);
    assert_eq!(r.mean_abs, 0.5 / 3.0);
    assert_eq!(r.min_atol, Some(0.25));
    let w = r.worst.unwrap();
    // Indices 1 and 2 both need atol 0.25: the first wins.
    assert_eq!((w.flat_index, w.index.clone(), w.actual, w.expected), (1, vec![1], 2.0, 2.25));
}

#[test]
fn bound_is_inclusive() {
    let r = compare_tensors("x", &f64t(&[1], &[3.0]), &f64t(&[1], &[2.0]), tol(0.5, 0.25), STRICT);
    // |3 - 2| = 1 <= 0.5 + 0.25 * 2 = 1: passes, needs atol exactly 0.5.
    assert!(r.pass);
    assert_eq!(r.min_atol, Some(0.5));
    let r = compare_tensors(
        "x",
        &f64t(&[1], &[3.0]),
        &f64t(&[1], &[2.0]),
        tol(0.5 - 1e-12, 0.25),
        STRICT,
    );
    assert!(!r.pass);
}

#[test]
fn rtol_scales_with_expected_not_actual() {
    // a = 1, b = 2: |a-b| = 1 <= 0 + 0.5 * |b| = 1 passes; swapped (b = 1) needs 1 <= 0.5: fails.
    let r = compare_tensors("x", &f64t(&[1], &[1.0]), &f64t(&[1], &[2.0]), tol(0.0, 0.5), STRICT);
    assert!(r.pass);
    let r = compare_tensors("x", &f64t(&[1], &[2.0]), &f64t(&[1], &[1.0]), tol(0.0, 0.5), STRICT);
    assert!(!r.pass);
    assert_eq!(r.min_atol, Some(0.5));
}

#[test]
fn min_atol_accounts_for_rtol() {
    // errors 0.25 and 0.25 against |b| = 2.25 and 2.75 at rtol 0.0625:
    // needs 0.25 - 0.140625 = 0.109375 and 0.25 - 0.171875 = 0.078125.
    let a = f64t(&[2], &[2.0, 3.0]);
    let b = f64t(&[2], &[2.25, 2.75]);
    let r = compare_tensors("x", &a, &b, tol(0.0, 0.0625), STRICT);
    assert_eq!(r.min_atol, Some(0.109375));
    assert_eq!(r.worst.unwrap().flat_index, 0);
    assert!(compare_tensors("x", &a, &b, tol(0.109375, 0.0625), STRICT).pass);
    assert!(!compare_tensors("x", &a, &b, tol(0.109375 - 1e-12, 0.0625), STRICT).pass);
}

#[test]
fn min_atol_passes_under_rounding() {
    // Inexact f32 values: whatever min_atol says must pass, and a value smaller by one part in
    // 1e9 must not (min_atol is the smallest up to rounding in the last place of the sum).
    let a = Tensor::from_f32(vec![4], vec![0.1, 37.123_45, -5.5e-3, 99.999]).unwrap();
    let b = Tensor::from_f32(vec![4], vec![0.100_01, 37.123_4, -5.4e-3, 100.0]).unwrap();
    for rtol in [0.0, 1e-7, 3e-6] {
        let need = compare_tensors("age", &a, &b, tol(0.0, rtol), STRICT).min_atol.unwrap();
        assert!(compare_tensors("age", &a, &b, tol(need, rtol), STRICT).pass, "rtol {rtol}");
        assert!(need > 0.0);
        assert!(
            !compare_tensors("age", &a, &b, tol(need * (1.0 - 1e-9), rtol), STRICT).pass,
            "rtol {rtol}"
        );
    }
}

#[test]
fn nan_never_passes_by_default() {
    let nan = f64::NAN;
    let r = compare_tensors(
        "x",
        &f64t(&[3], &[nan, 1.0, nan]),
        &f64t(&[3], &[nan, nan, 1.0]),
        tol(1e9, 1e9),
        STRICT,
    );
    assert!(!r.pass);
    assert_eq!((r.mismatches, r.nonfinite_mismatches), (3, 3));
    assert_eq!(r.min_atol, None, "no atol makes NaN pass");
    assert_eq!(r.max_abs, f64::INFINITY);
    assert_eq!(r.worst.as_ref().unwrap().flat_index, 0);
    assert!(r.worst.unwrap().actual.is_nan());
}

#[test]
fn nan_equal_only_pairs_nan_with_nan() {
    let nan = f64::NAN;
    let opts = CompareOptions { nan_equal: true };
    let r = compare_tensors(
        "x",
        &f64t(&[3], &[nan, 1.0, nan]),
        &f64t(&[3], &[nan, nan, 1.0]),
        tol(1e9, 0.0),
        opts,
    );
    assert_eq!(r.mismatches, 2);
    assert_eq!(r.worst.unwrap().flat_index, 1);
    let r = compare_tensors(
        "x",
        &f64t(&[2], &[nan, 1.0]),
        &f64t(&[2], &[nan, 1.0]),
        tol(0.0, 0.0),
        opts,
    );
    assert!(r.pass);
    assert_eq!((r.max_abs, r.min_atol), (0.0, Some(0.0)));
}

#[test]
fn expected_nan_is_counted_whatever_the_verdict() {
    let nan = f64::NAN;
    let expected = f64t(&[3], &[nan, 2.0, nan]);
    let actual = f64t(&[3], &[nan, 2.0, 5.0]);
    let r = compare_tensors("x", &actual, &expected, tol(1e9, 1e9), STRICT);
    assert_eq!((r.pass, r.expected_nan, r.mismatches), (false, 2, 2));
    let nan_equal = CompareOptions { nan_equal: true };
    let r = compare_tensors("x", &actual, &expected, tol(0.0, 0.0), nan_equal);
    assert_eq!((r.pass, r.expected_nan, r.mismatches), (false, 2, 1));
    let r = compare_tensors("x", &expected, &expected, tol(0.0, 0.0), nan_equal);
    assert_eq!((r.pass, r.expected_nan), (true, 2));
}

#[test]
fn infinities_equal_only_themselves() {
    let inf = f64::INFINITY;
    let r = compare_tensors(
        "x",
        &f64t(&[4], &[inf, -inf, inf, inf]),
        &f64t(&[4], &[inf, -inf, -inf, f64::MAX]),
        tol(0.0, 0.0),
        STRICT,
    );
    assert_eq!((r.mismatches, r.nonfinite_mismatches), (2, 2));
    assert_eq!(r.worst.unwrap().flat_index, 2);
    let r = compare_tensors(
        "x",
        &f64t(&[2], &[inf, -inf]),
        &f64t(&[2], &[inf, -inf]),
        tol(0.0, 0.0),
        STRICT,
    );
    assert!(r.pass);
    assert_eq!(r.max_abs, 0.0);
}

#[test]
fn relative_error_against_zero() {
    let r = compare_tensors(
        "x",
        &f64t(&[2], &[0.0, 0.0625]),
        &f64t(&[2], &[0.0, 0.0]),
        tol(0.125, 0.0),
        STRICT,
    );
    assert!(r.pass);
    assert_eq!(r.max_rel, f64::INFINITY);
    assert_eq!(r.max_abs, 0.0625);
}

#[test]
fn shape_mismatch_is_a_failing_report() {
    let r = compare_tensors(
        "age",
        &f64t(&[2], &[1.0, 2.0]),
        &f64t(&[1, 2], &[1.0, 2.0]),
        tol(1.0, 0.0),
        STRICT,
    );
    assert!(!r.pass);
    assert_eq!(r.problem.as_deref(), Some("shape mismatch: actual [2], expected [1, 2]"));
    assert_eq!(r.min_atol, None);
    let r = compare_tensors(
        "age",
        &f64t(&[2, 3], &[0.0; 6]),
        &f64t(&[3, 2], &[0.0; 6]),
        tol(1.0, 0.0),
        STRICT,
    );
    assert!(!r.pass && r.problem.unwrap().contains("shape mismatch"));
}

#[test]
fn dtype_mismatch_is_a_failing_report() {
    let a = Tensor::from_f32(vec![1], vec![1.0]).unwrap();
    let r = compare_tensors("age", &a, &f64t(&[1], &[1.0]), tol(1.0, 0.0), STRICT);
    assert!(!r.pass);
    assert_eq!(r.problem.as_deref(), Some("dtype mismatch: actual float32, expected float64"));
}

#[test]
fn worst_multi_index_in_rank_3() {
    let mut v = vec![0.0; 24];
    v[17] = 0.5; // 17 = 1*12 + 1*4 + 1 in shape [2, 3, 4]
    let r = compare_tensors(
        "x",
        &f64t(&[2, 3, 4], &v),
        &f64t(&[2, 3, 4], &[0.0; 24]),
        tol(0.25, 0.0),
        STRICT,
    );
    let w = r.worst.unwrap();
    assert_eq!((w.flat_index, w.index), (17, vec![1, 1, 1]));
    assert_eq!((r.mismatches, r.total), (1, 24));
}

#[test]
fn integer_tensors_compare_by_value() {
    let a = Tensor::from_i64(vec![3], vec![1, 5, -7]).unwrap();
    let b = Tensor::from_i64(vec![3], vec![1, 4, -7]).unwrap();
    let r = compare_tensors("x", &a, &b, tol(0.0, 0.0), STRICT);
    assert_eq!((r.mismatches, r.max_abs, r.min_atol), (1, 1.0, Some(1.0)));
}

#[test]
fn empty_tensors_pass() {
    let r = compare_tensors("x", &f64t(&[0, 3], &[]), &f64t(&[0, 3], &[]), tol(0.0, 0.0), STRICT);
    assert!(r.pass);
    assert_eq!((r.total, r.min_atol, r.worst), (0, Some(0.0), None));
}

#[test]
fn missing_output_fails_the_case() {
    let mut expected = NamedTensors::new();
    expected.insert("age".into(), f64t(&[1], &[30.0]));
    expected.insert("gender".into(), f64t(&[1], &[1.0]));
    let mut actual = NamedTensors::new();
    actual.insert("age".into(), f64t(&[1], &[30.0]));
    actual.insert("unexpected".into(), f64t(&[1], &[0.0]));
    let r = compare_outputs("face", &actual, &expected, &Tolerances::default(), STRICT);
    assert!(!r.pass);
    assert_eq!(r.outputs.len(), 2);
    assert!(r.outputs[0].pass);
    assert_eq!(
        r.outputs[1].problem.as_deref(),
        Some("output 'gender' missing from the actual outputs")
    );
}

#[test]
fn per_output_tolerance_overrides_default() {
    let tols = Tolerances::uniform(Tolerance::DEFAULT).with("age", tol(0.5, 0.0));
    assert_eq!(tols.get("age"), tol(0.5, 0.0));
    assert_eq!(tols.get("other"), Tolerance { atol: 1e-4, rtol: 0.0 });
    assert_eq!(Tolerance::default(), Tolerance { atol: 1e-4, rtol: 0.0 });
}

#[test]
fn parse_output_tolerance() {
    assert_eq!(Tolerance::parse_override("age:1e-3").unwrap(), ("age".into(), tol(1e-3, 0.0)));
    assert_eq!(Tolerance::parse_override("age:0.5:0.25").unwrap(), ("age".into(), tol(0.5, 0.25)));
    for bad in ["age", ":1", "age:x", "age:-1", "age:1:2:3", "age:nan", "age:1:inf", "age:"] {
        let e = Tolerance::parse_override(bad).expect_err(bad).to_string();
        assert!(e.starts_with(&format!("invalid output tolerance '{bad}'")), "{e}");
    }
}

#[test]
fn report_json_writes_infinity_as_string() {
    let r = compare_tensors(
        "age",
        &f64t(&[1], &[f64::NAN]),
        &f64t(&[1], &[1.0]),
        tol(1e-4, 0.0),
        STRICT,
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["max_abs"], "inf");
    assert_eq!(json["min_atol"], serde_json::Value::Null);
    assert_eq!(json["mismatches"], 1);
    assert_eq!(json["worst"]["actual"], "nan");
    assert_eq!(json["pass"], false);
}

#[test]
fn summary_names_the_worst_case() {
    let expected: NamedTensors = [("age".to_string(), f64t(&[1], &[30.0]))].into();
    let case = |name: &str, got: f64| {
        let actual: NamedTensors = [("age".to_string(), f64t(&[1], &[got]))].into();
        compare_outputs(name, &actual, &expected, &Tolerances::uniform(tol(0.25, 0.0)), STRICT)
    };
    let reports = [case("a", 30.125), case("b", 30.5), case("c", 29.75)];
    let s = summarize(&reports);
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert!(!s.pass);
    assert_eq!((s.cases, s.failed_cases, s.mismatches, s.total), (3, 1, 1, 3));
    assert_eq!((s.max_abs, s.min_atol, s.worst_case.as_deref()), (0.5, Some(0.5), Some("b")));
    assert_eq!(s.mean_abs, (0.125 + 0.5 + 0.25) / 3.0);
}

#[test]
fn overflowing_difference_needs_no_finite_atol() {
    // 1e308 - (-1e308) overflows to +inf in f64: a mismatch no finite atol fixes.
    let r = compare_tensors(
        "x",
        &f64t(&[1], &[1e308]),
        &f64t(&[1], &[-1e308]),
        tol(1e300, 0.0),
        STRICT,
    );
    assert!(!r.pass);
    assert_eq!((r.max_abs, r.min_atol), (f64::INFINITY, None));
}

#[test]
fn cosine_of_equal_opposite_zero_and_nonfinite_tensors() {
    let t = |v: &[f64]| f64t(&[v.len()], v);
    assert!((cosine(&t(&[1.0, 2.0]), &t(&[2.0, 4.0])) - 1.0).abs() < 1e-12);
    assert_eq!(cosine(&t(&[1.0, 0.0]), &t(&[-1.0, 0.0])), -1.0);
    assert_eq!(cosine(&t(&[1.0, 0.0]), &t(&[0.0, 1.0])), 0.0);
    assert_eq!(cosine(&t(&[0.0, 0.0]), &t(&[0.0, 0.0])), 1.0);
    assert_eq!(cosine(&t(&[0.0, 0.0]), &t(&[1.0, 0.0])), 0.0);
    assert!(cosine(&t(&[f64::NAN, 0.0]), &t(&[1.0, 0.0])).is_nan());
    assert!(cosine(&t(&[1.0]), &t(&[1.0, 0.0])).is_nan());
}

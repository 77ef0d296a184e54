//! The conformance suite, once per backend. Known failures are listed here, per backend, each with
//! its reason (`#[ignore = "..."]`); `cargo test -p conformance -- --ignored` runs them.

mod suite;

use suite::conformance_suite;

/// A model added to `models/` without a test in the suite would go unchecked on every backend.
#[test]
fn suite_covers_every_committed_model() {
    let mut committed: Vec<String> = std::fs::read_dir(suite::repo().join("models"))
        .expect("models/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".onnx"))
        .collect();
    committed.sort();
    let mut covered: Vec<String> =
        suite::VARIANTS.iter().map(|v| format!("ssrnet_{v}.onnx")).collect();
    covered.sort();
    assert_eq!(committed, covered, "models/ and the suite's variants differ");
}

conformance_suite! {
    ort = backend_ort::Ort;
    legacy_static,
    legacy_static_sim,
    legacy_dynamic,
    legacy_dynamic_sim,
    dynamo_static,
    dynamo_static_sim,
    dynamo_dynamic,
    dynamo_dynamic_sim,
    dynamo_dynamic_external,
    two_threads_legacy_dynamic,
    two_threads_dynamo_dynamic_external,
    test_data_legacy_dynamic,
    test_data_dynamo_static_sim,
    checkpoint_legacy_static,
    checkpoint_legacy_static_sim,
    checkpoint_legacy_dynamic,
    checkpoint_legacy_dynamic_sim,
    checkpoint_dynamo_static,
    checkpoint_dynamo_static_sim,
    checkpoint_dynamo_dynamic,
    checkpoint_dynamo_dynamic_sim,
    checkpoint_dynamo_dynamic_external,
}

conformance_suite! {
    tract = backend_tract::Tract;
    legacy_static,
    legacy_static_sim,
    legacy_dynamic,
    legacy_dynamic_sim,
    dynamo_static,
    dynamo_static_sim,
    dynamo_dynamic,
    dynamo_dynamic_sim,
    dynamo_dynamic_external,
    two_threads_legacy_dynamic,
    two_threads_dynamo_dynamic_external,
    test_data_legacy_dynamic,
    test_data_dynamo_static_sim,
    checkpoint_legacy_static,
    checkpoint_legacy_static_sim,
    checkpoint_legacy_dynamic,
    checkpoint_legacy_dynamic_sim,
    checkpoint_dynamo_static,
    checkpoint_dynamo_static_sim,
    checkpoint_dynamo_dynamic,
    checkpoint_dynamo_dynamic_sim,
    checkpoint_dynamo_dynamic_external,
}

conformance_suite! {
    candle = backend_candle::Candle;
    legacy_static,
    legacy_static_sim,
    legacy_dynamic,
    legacy_dynamic_sim,
    dynamo_static,
    dynamo_static_sim,
    dynamo_dynamic,
    dynamo_dynamic_sim,
    dynamo_dynamic_external,
    two_threads_legacy_dynamic,
    two_threads_dynamo_dynamic_external,
    test_data_legacy_dynamic,
    test_data_dynamo_static_sim,
    checkpoint_legacy_static,
    checkpoint_legacy_static_sim,
    checkpoint_legacy_dynamic,
    checkpoint_legacy_dynamic_sim,
    checkpoint_dynamo_static,
    checkpoint_dynamo_static_sim,
    checkpoint_dynamo_dynamic,
    checkpoint_dynamo_dynamic_sim,
    checkpoint_dynamo_dynamic_external,
}

//! The conformance suite, once per backend. Known failures are listed here, per backend, each with
//! its reason (`#[ignore = "..."]`); `cargo test -p conformance -- --ignored` runs them.

mod suite;

use suite::conformance_suite;

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

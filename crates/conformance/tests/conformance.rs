//! The conformance suite: one line per case, stamped out for every backend (`legacy_static::ort`,
//! `legacy_static::tract`, ...). A backend known to lack an op of a case's model is listed on that
//! line (`Case::known(&[("candle", "GlobalAveragePool")])`): there the test asserts that the
//! backend refuses the model naming the op, so the list cannot go stale silently.

mod suite;

use suite::conformance;

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

conformance! {
    legacy_static => Case::demo("legacy_static");
    legacy_static_sim => Case::demo("legacy_static_sim");
    legacy_dynamic => Case::demo("legacy_dynamic");
    legacy_dynamic_sim => Case::demo("legacy_dynamic_sim");
    dynamo_static => Case::demo("dynamo_static");
    dynamo_static_sim => Case::demo("dynamo_static_sim");
    dynamo_dynamic => Case::demo("dynamo_dynamic");
    dynamo_dynamic_sim => Case::demo("dynamo_dynamic_sim");
    dynamo_dynamic_external => Case::demo("dynamo_dynamic_external");
    two_threads_legacy_dynamic => Case::demo("legacy_dynamic").threads(2);
    two_threads_dynamo_dynamic_external => Case::demo("dynamo_dynamic_external").threads(2);
    test_data_legacy_dynamic => Case::test_data("legacy_dynamic");
    test_data_dynamo_static_sim => Case::test_data("dynamo_static_sim");
    checkpoint_legacy_static => Case::checkpoint("legacy_static");
    checkpoint_legacy_static_sim => Case::checkpoint("legacy_static_sim").threads(2);
    checkpoint_legacy_dynamic => Case::checkpoint("legacy_dynamic");
    checkpoint_legacy_dynamic_sim => Case::checkpoint("legacy_dynamic_sim").threads(2);
    checkpoint_dynamo_static => Case::checkpoint("dynamo_static");
    checkpoint_dynamo_static_sim => Case::checkpoint("dynamo_static_sim").threads(2);
    checkpoint_dynamo_dynamic => Case::checkpoint("dynamo_dynamic");
    checkpoint_dynamo_dynamic_sim => Case::checkpoint("dynamo_dynamic_sim").threads(2);
    checkpoint_dynamo_dynamic_external => Case::checkpoint("dynamo_dynamic_external");
    resnet18_legacy => Case::zoo("resnet18_legacy").known(&[("candle", "GlobalAveragePool")]);
    resnet18_dynamo => Case::zoo("resnet18_dynamo").known(&[("candle", "MaxPool")]);
    mobilenet_v3_small_legacy => Case::zoo("mobilenet_v3_small_legacy")
        .known(&[("candle", "GlobalAveragePool")]);
    mobilenet_v3_small_dynamo => Case::zoo("mobilenet_v3_small_dynamo")
        .known(&[("candle", "HardSigmoid")]);
    two_input_legacy => Case::zoo("two_input_legacy");
    two_input_dynamo => Case::zoo("two_input_dynamo");
}

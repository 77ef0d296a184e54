//! The FLOP count of SSRNet's committed exports, with shapes from tract's analysis, against the
//! architecture's own count: 42.9 MFLOP per 64x64 image (convolutions, 1x1 fusions and the linear
//! layers; see crates/ssrnet-parity's bench docs). Both export families must land within 2%.

const SSRNET_MFLOP: f64 = 42.9;

use parity_testkit::repo;

#[test]
fn ssrnet_flops_from_the_graph_are_within_two_percent_of_the_architecture() {
    for variant in ["legacy_static", "legacy_dynamic", "dynamo_dynamic", "dynamo_dynamic_external"]
    {
        let path = repo().join(format!("models/ssrnet_{variant}.onnx"));
        let model = parity_core::onnx::read_model(&path).unwrap();
        let shapes = backend_tract::Tract.value_shapes(&path, &[vec![1, 3, 64, 64]]).unwrap();
        let count = parity_graph::flops::count(model.graph.as_ref().unwrap(), &shapes);
        let mflop = count.total as f64 / 1e6;
        eprintln!(
            "{variant}: {mflop:.2} MFLOP, by op {:?}, uncounted {:?}",
            count.by_op, count.uncounted
        );
        assert!(count.uncounted.is_empty(), "{variant}: uncounted {:?}", count.uncounted);
        assert!(
            (mflop / SSRNET_MFLOP - 1.0).abs() <= 0.02,
            "{variant}: {mflop:.3} MFLOP is not within 2% of {SSRNET_MFLOP}"
        );
    }
}

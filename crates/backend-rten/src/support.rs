//! Which op types of a graph RTen cannot run, asked of RTen's own operator registry before
//! anything runs.
//!
//! RTen's ONNX registry is not public API, and loading a whole model stops at the first op it
//! lacks. So each distinct op type of the graph (sub-graphs included) is probed on its own: the
//! first node of that type, with its attributes, becomes a one-node model that RTen's loader reads
//! with the same registry a real load uses ([`rten::OpRegistry::with_all_ops`], through
//! [`ModelOptions::with_all_ops`]). An op is unsupported when the loader answers that the registry
//! has no such operator, that a crate feature it needs is off, or that the node's operator version
//! is older than RTen reads; any other answer (a missing attribute, an undeclared input) is about
//! the probe, not the op. Probing costs microseconds per op type.

use std::collections::BTreeMap;

use parity_core::onnx::proto::attribute_proto::AttributeType;
use parity_core::onnx::proto::{GraphProto, ModelProto, NodeProto, ValueInfoProto};
use prost::Message;
use rten::{LoadErrorKind, ModelOptions};

/// The phrases of RTen 0.27's `ReadOpError` for an op it cannot read at all (its `Display`
/// texts; `load_error!` keeps only the text). The unit tests pin them, so an upgrade that rewords
/// them fails loudly rather than report every op supported.
const UNAVAILABLE: &[&str] = &[
    "operator not supported or not enabled",
    "operator not enabled because rten was compiled without",
    "but only version",
];

/// The op types of `model` RTen cannot run, sorted; an op outside the default domain is named
/// `domain/op`.
pub fn unsupported_ops(model: &ModelProto) -> Vec<String> {
    let mut first_of_kind: BTreeMap<String, &NodeProto> = BTreeMap::new();
    if let Some(graph) = &model.graph {
        collect(graph, &mut first_of_kind);
    }
    let options = probe_options();
    first_of_kind
        .into_iter()
        .filter(|(_, node)| !loads(&options, model, node))
        .map(|(kind, _)| kind)
        .collect()
}

fn collect<'a>(graph: &'a GraphProto, out: &mut BTreeMap<String, &'a NodeProto>) {
    for node in &graph.node {
        out.entry(kind(node)).or_insert(node);
        for attr in &node.attribute {
            for sub in attr.g.iter().chain(&attr.graphs) {
                collect(sub, out);
            }
        }
    }
}

fn kind(node: &NodeProto) -> String {
    match node.domain() {
        "" | "ai.onnx" => node.op_type().to_string(),
        domain => format!("{domain}/{}", node.op_type()),
    }
}

fn probe_options() -> ModelOptions {
    let mut options = ModelOptions::with_all_ops();
    options.enable_optimization(false).shape_inference(rten::ShapeInferenceMode::Off);
    options
}

/// Whether RTen's registry reads `node` (sub-graph attributes dropped: their nodes are probed on
/// their own).
fn loads(options: &ModelOptions, model: &ModelProto, node: &NodeProto) -> bool {
    let mut node = node.clone();
    node.attribute
        .retain(|a| a.r#type() != AttributeType::Graph && a.r#type() != AttributeType::Graphs);
    let values = |names: &[String]| -> Vec<ValueInfoProto> {
        names
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| ValueInfoProto { name: Some(n.clone()), ..Default::default() })
            .collect()
    };
    let probe = ModelProto {
        ir_version: model.ir_version,
        opset_import: model.opset_import.clone(),
        graph: Some(GraphProto {
            name: Some("probe".into()),
            input: values(&node.input),
            output: values(&node.output),
            node: vec![node],
            ..Default::default()
        }),
        ..Default::default()
    };
    match parity_core::panic::catch(|| options.load(probe.encode_to_vec())) {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            let text = e.to_string();
            !(e.kind() == LoadErrorKind::OperatorInvalid
                && UNAVAILABLE.iter().any(|phrase| text.contains(phrase)))
        }
        // A panic while reading the node is not a verdict on the op's availability.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use parity_core::onnx::proto::OperatorSetIdProto;

    use super::*;

    fn node(op: &str, domain: &str) -> NodeProto {
        NodeProto {
            op_type: Some(op.into()),
            domain: Some(domain.into()),
            input: vec!["x".into()],
            output: vec![format!("{op}_out")],
            ..Default::default()
        }
    }

    fn model(nodes: Vec<NodeProto>, opset: i64) -> ModelProto {
        ModelProto {
            ir_version: Some(8),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(opset),
            }],
            graph: Some(GraphProto { node: nodes, ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn ops_rten_lacks_are_named_and_the_rest_pass() {
        let m = model(
            vec![
                node("Relu", ""),
                node("Conv", ""),
                node("NoSuchOp", ""),
                node("LRN", ""),
                node("Thing", "com.example"),
                node("Relu", ""),
            ],
            17,
        );
        assert_eq!(unsupported_ops(&m), vec!["LRN", "NoSuchOp", "com.example/Thing"]);
    }

    #[test]
    fn an_operator_version_older_than_rten_reads_is_unsupported() {
        // RTen reads Resize from opset 11 on (opset 10's inputs are ordered differently).
        assert_eq!(unsupported_ops(&model(vec![node("Resize", "")], 10)), vec!["Resize"]);
        assert!(unsupported_ops(&model(vec![node("Resize", "")], 13)).is_empty());
    }
}

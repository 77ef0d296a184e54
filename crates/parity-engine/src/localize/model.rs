//! A model as `localize` needs it: the protobuf with its external data in memory, and the values
//! its nodes compute, in topological order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use crate::Result;
use parity_core::NamedTensors;
use parity_core::onnx::proto::ModelProto;
use parity_graph::scope::Origin;
use parity_graph::values::NodeValue;

use parity_core::onnx::OnnxModel;

pub struct Model {
    pub path: PathBuf,
    pub proto: ModelProto,
    /// Every node output, in graph order.
    pub values: Vec<NodeValue>,
    /// Names of the graph's inputs (not initializers).
    pub inputs: HashSet<String>,
    /// Names of the graph's initializers.
    pub initializers: HashSet<String>,
    /// The PyTorch module each value was computed in, where known ([`Model::origin`]).
    origins: HashMap<String, Origin>,
}

impl Model {
    /// The model `onnx` was read from, its external data loaded through parity-core's resolver.
    pub fn from_onnx(onnx: &OnnxModel) -> Result<Model> {
        let path = onnx.path.as_path();
        let mut proto = onnx.proto.clone();
        parity_core::onnx::load_external_data(&mut proto, path)?;
        let graph = proto.graph.as_ref().expect("read_model guarantees a graph");
        let values = parity_graph::values::node_values(graph);
        let inputs =
            parity_core::onnx::graph_inputs(graph).iter().map(|v| v.name().to_string()).collect();
        let initializers = graph.initializer.iter().map(|t| t.name().to_string()).collect();
        let origins = parity_graph::scope::of_graph(graph);
        Ok(Model { path: path.to_path_buf(), proto, values, inputs, initializers, origins })
    }

    /// The PyTorch module that computed `value`: what PyTorch's own intermediates said
    /// ([`Model::learn_modules`]), else what the export records ([`parity_graph::scope`]).
    pub fn origin(&self, value: &str) -> Origin {
        self.origins.get(value).cloned().unwrap_or_default()
    }

    /// Takes the module and class of each value from PyTorch's intermediates (the module whose
    /// output equals the value), keeping the export's source line.
    pub fn learn_modules(&mut self, learned: &BTreeMap<String, Origin>) {
        for (value, learned) in learned {
            let origin = self.origins.entry(value.clone()).or_default();
            origin.module.clone_from(&learned.module);
            origin.module_class.clone_from(&learned.module_class);
        }
    }

    /// The graph's initializers as tensors, by name (those a tensor here cannot hold are left out).
    pub fn constants(&self) -> NamedTensors {
        let graph = self.proto.graph.as_ref().expect("checked at read");
        graph
            .initializer
            .iter()
            .filter_map(|t| {
                let tensor = parity_core::tensor_proto::to_tensor(t.clone()).ok()?;
                Some((t.name().to_string(), tensor))
            })
            .collect()
    }

    /// Whether node `index` computes from nothing computed: no input, or only initializers (a
    /// `Constant`, a `ConstantOfShape` of an initializer). Such a node is never a culprit: it
    /// holds data, and a runtime that reads the data differently shows at its cumulative value.
    pub fn computes_nothing(&self, index: usize) -> bool {
        let graph = self.proto.graph.as_ref().expect("checked at read");
        graph.node[index].input.iter().all(|i| i.is_empty() || self.initializers.contains(i))
    }

    /// The values nodes `indices` read that must be fed when they run by themselves: not computed
    /// by one of them, not initializers, not omitted optional inputs; each once, in order.
    pub fn fed_inputs(&self, indices: &[usize]) -> Vec<String> {
        let graph = self.proto.graph.as_ref().expect("checked at read");
        let mut computed: HashSet<&str> = HashSet::new();
        let mut out: Vec<String> = Vec::new();
        for &index in indices {
            let node = &graph.node[index];
            for name in &node.input {
                if !name.is_empty()
                    && !computed.contains(name.as_str())
                    && !self.initializers.contains(name)
                    && !out.contains(name)
                {
                    out.push(name.clone());
                }
            }
            computed.extend(node.output.iter().map(String::as_str));
        }
        out
    }
}

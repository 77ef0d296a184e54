//! What candle-onnx can run, checked before running.
//!
//! candle-onnx's `simple_eval` is one `match` on `op_type`; an op it lacks fails only when the
//! walk reaches it, naming that one op. [`SUPPORTED_OPS`] is that `match`'s arms, so every
//! unsupported op of a graph is named up front. Some supported ops have attribute variants that
//! candle-onnx ignores and would compute differently from the ONNX spec; [`variant_problems`]
//! refuses those (naming the node) rather than let them produce wrong numbers.

use std::collections::{BTreeSet, HashMap};

use parity_core::onnx::proto::attribute_proto::AttributeType;
use parity_core::onnx::proto::tensor_shape_proto::dimension::Value as DimValue;
use parity_core::onnx::proto::type_proto::Value as TypeValue;
use parity_core::onnx::proto::{AttributeProto, GraphProto, NodeProto};

/// The candle-onnx version [`SUPPORTED_OPS`] was read from (must match Cargo.toml).
pub const CANDLE_ONNX_VERSION: &str = "0.11.1";

/// Every `op_type` arm of `simple_eval_` in candle-onnx 0.11.1 `src/eval.rs` (2,631 lines), in
/// the default (`ai.onnx`) domain, sorted. Re-read that `match` when upgrading candle-onnx.
pub const SUPPORTED_OPS: &[&str] = &[
    "Abs",
    "Add",
    "And",
    "ArgMax",
    "ArgMin",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Ceil",
    "Clip",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "Conv",
    "Cos",
    "CumSum",
    "Div",
    "Dropout",
    "Equal",
    "Erf",
    "Exp",
    "Expand",
    "Flatten",
    "Floor",
    "Gather",
    "GatherElements",
    "Gelu",
    "Gemm",
    "Greater",
    "GreaterOrEqual",
    "HardSwish",
    "Identity",
    "If",
    "LSTM",
    "LeakyRelu",
    "Less",
    "LessOrEqual",
    "Log",
    "LogSoftmax",
    "MatMul",
    "MaxPool",
    "Min",
    "Mul",
    "Neg",
    "Not",
    "OneHot",
    "Or",
    "PRelu",
    "Pad",
    "Pow",
    "RNN",
    "Range",
    "ReduceL2",
    "ReduceMax",
    "ReduceMean",
    "ReduceMin",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Resize",
    "ScatterND",
    "Selu",
    "Shape",
    "Sigmoid",
    "Sign",
    "Sin",
    "Size",
    "Slice",
    "Softmax",
    "Split",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "Tile",
    "Transpose",
    "Trilu",
    "Unsqueeze",
    "Where",
    "Xor",
];

/// The graph's op types (subgraphs included) that candle-onnx cannot run, sorted and deduplicated.
/// Ops of another domain are named `domain:Op`, since candle-onnx only knows the default domain.
pub fn unsupported_ops(graph: &GraphProto) -> Vec<String> {
    let mut all = BTreeSet::new();
    collect_ops(graph, &mut all);
    all.into_iter().filter(|op| !SUPPORTED_OPS.contains(&op.as_str())).collect()
}

fn collect_ops(graph: &GraphProto, out: &mut BTreeSet<String>) {
    for node in &graph.node {
        if node.domain().is_empty() || node.domain() == "ai.onnx" {
            out.insert(node.op_type().to_string());
        } else {
            out.insert(format!("{}:{}", node.domain(), node.op_type()));
        }
        for attr in &node.attribute {
            attr.g.iter().chain(&attr.graphs).for_each(|g| collect_ops(g, out));
        }
    }
}

/// Known static dims of named values (graph inputs, outputs, value_info); `None` for a dynamic axis.
pub type Shapes = HashMap<String, Vec<Option<usize>>>;

/// Shapes declared in the graph: inputs, outputs and value_info.
pub fn declared_shapes(graph: &GraphProto) -> Shapes {
    let mut shapes = Shapes::new();
    for vi in graph.input.iter().chain(&graph.output).chain(&graph.value_info) {
        let Some(TypeValue::TensorType(tt)) = vi.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            continue;
        };
        let Some(shape) = &tt.shape else { continue };
        let dims = shape
            .dim
            .iter()
            .map(|d| match &d.value {
                Some(DimValue::DimValue(v)) if *v >= 0 => Some(*v as usize),
                _ => None,
            })
            .collect();
        shapes.insert(vi.name().to_string(), dims);
    }
    shapes
}

/// A `ceil_mode=1` pool whose input shape is not known before running: its spatial dims are
/// checked after every run (the pool input is returned as an extra graph output).
#[derive(Debug, Clone)]
pub struct CeilCheck {
    pub node: String,
    pub op: String,
    pub input: String,
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
}

impl CeilCheck {
    /// An error message when candle's floor-mode output would differ from ceil mode at `dims`.
    pub fn check(&self, dims: &[usize]) -> Option<String> {
        let spatial = dims.get(2..).unwrap_or(&[]);
        ceil_changes_shape(spatial, &self.kernel, &self.strides)
            .then(|| ceil_message(&self.op, &self.node, spatial, &self.kernel, &self.strides))
    }
}

/// True when ONNX `ceil_mode=1` gives another output size than floor mode (no padding), along
/// any spatial axis. Follows the ONNX/PyTorch rule that the last window must start inside the input.
pub fn ceil_changes_shape(spatial: &[usize], kernel: &[usize], strides: &[usize]) -> bool {
    spatial.iter().zip(kernel).zip(strides).any(|((&n, &k), &s)| {
        if n < k || s == 0 {
            return false; // candle fails on these by itself.
        }
        let floor = (n - k) / s + 1;
        let mut ceil = (n - k).div_ceil(s) + 1;
        if (ceil - 1) * s >= n {
            ceil -= 1;
        }
        ceil != floor
    })
}

fn ceil_message(
    op: &str,
    node: &str,
    spatial: &[usize],
    kernel: &[usize],
    strides: &[usize],
) -> String {
    format!(
        "{op} '{node}': ceil_mode=1 on spatial size {spatial:?} with kernel {kernel:?} strides {strides:?} \
         gives a larger output than candle-onnx 0.11 computes (it ignores ceil_mode)"
    )
}

/// Problems with node variants candle-onnx 0.11.1 would run differently from the ONNX spec (or not
/// at all), one message per node; and the `ceil_mode` pools that need checking at run time.
pub fn variant_problems(graph: &GraphProto, shapes: &Shapes) -> (Vec<String>, Vec<CeilCheck>) {
    let mut problems = Vec::new();
    let mut checks = Vec::new();
    for node in &graph.node {
        match node.op_type() {
            "MaxPool" | "AveragePool" => pool_problems(node, shapes, &mut problems, &mut checks),
            "Clip" if attr(node, "min").is_some() || attr(node, "max").is_some() => {
                problems.push(format!(
                    "Clip '{}': min/max attributes (opset < 11) are ignored by candle-onnx 0.11",
                    node.name()
                ))
            }
            _ => {}
        }
        for a in &node.attribute {
            for g in a.g.iter().chain(&a.graphs) {
                let (p, c) = variant_problems(g, shapes);
                problems.extend(p);
                if !c.is_empty() {
                    problems.push(format!(
                        "{} '{}': ceil_mode pooling inside a subgraph",
                        node.op_type(),
                        node.name()
                    ));
                }
            }
        }
    }
    (problems, checks)
}

fn pool_problems(
    node: &NodeProto,
    shapes: &Shapes,
    problems: &mut Vec<String>,
    checks: &mut Vec<CeilCheck>,
) {
    let op = node.op_type();
    let name = node.name();
    let kernel: Vec<usize> =
        ints(node, "kernel_shape").iter().map(|&k| k.max(0) as usize).collect();
    if kernel.len() != 2 {
        problems.push(format!(
            "{op} '{name}': kernel_shape {kernel:?} (candle-onnx 0.11 pools 2-d only)"
        ));
        return;
    }
    let strides: Vec<usize> = match ints(node, "strides") {
        [] => vec![1, 1],
        s => s.iter().map(|&v| v.max(0) as usize).collect(),
    };
    let pads = ints(node, "pads");
    if pads.iter().any(|&p| p != 0) {
        let why = if op == "AveragePool" && int(node, "count_include_pad") == Some(1) {
            "count_include_pad=1 with non-zero pads"
        } else {
            "non-zero pads"
        };
        problems.push(format!(
            "{op} '{name}': {why} {pads:?} (candle-onnx 0.11 pools without padding)"
        ));
    }
    if let Some(a) = attr(node, "auto_pad") {
        let s = String::from_utf8_lossy(a.s());
        if s != "NOTSET" && !s.is_empty() {
            problems.push(format!(
                "{op} '{name}': auto_pad {s} (candle-onnx 0.11 supports NOTSET only)"
            ));
        }
    }
    if ints(node, "dilations").iter().any(|&d| d != 1) {
        problems.push(format!("{op} '{name}': dilations != 1 (unsupported by candle-onnx 0.11)"));
    }
    if node.output.get(1).is_some_and(|o| !o.is_empty()) {
        problems
            .push(format!("{op} '{name}': the indices output (unsupported by candle-onnx 0.11)"));
    }
    if int(node, "ceil_mode") == Some(1) {
        let input = node.input.first().cloned().unwrap_or_default();
        match shapes
            .get(&input)
            .and_then(|d| d.get(2..)?.iter().copied().collect::<Option<Vec<_>>>())
        {
            Some(spatial) => {
                if ceil_changes_shape(&spatial, &kernel, &strides) {
                    problems.push(ceil_message(op, name, &spatial, &kernel, &strides));
                }
            }
            None => checks.push(CeilCheck {
                node: name.to_string(),
                op: op.to_string(),
                input,
                kernel,
                strides,
            }),
        }
    }
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name() == name)
}

fn ints<'a>(node: &'a NodeProto, name: &str) -> &'a [i64] {
    attr(node, name).map_or(&[], |a| a.ints.as_slice())
}

fn int(node: &NodeProto, name: &str) -> Option<i64> {
    attr(node, name).filter(|a| a.r#type() == AttributeType::Int).map(|a| a.i())
}

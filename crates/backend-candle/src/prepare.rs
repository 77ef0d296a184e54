//! Turning a decoded model into what every run needs, once.
//!
//! candle-onnx's `simple_eval` re-walks the whole `ModelProto` on every call, and in particular
//! rebuilds a candle tensor from every initializer's bytes each time. Its value map is seeded
//! with the caller's inputs, and a value already in the map is only overwritten by the graph's own
//! initializers. So [`prepare`]:
//! 1. builds the initializers into candle tensors once (with candle-onnx's own `get_tensor`) and
//!    strips them from the graph; each run passes them in again as named inputs, which costs
//!    one reference-count increment per tensor;
//! 2. rewrites attribute forms that candle-onnx ignores into the input forms it reads (opset < 13
//!    `ReduceSum`/`Squeeze`/`Split`; opset 18 `ReduceMean` with constant axes, the other way
//!    round), so legacy exports compute what the spec says;
//! 3. folds every node whose inputs are all constant (e.g. `Constant`), by evaluating it once with
//!    `simple_eval` itself, so the semantics stay candle-onnx's own;
//! 4. drops constants no remaining node reads.

use std::collections::{HashMap, HashSet};

use candle_core::{DType as CDType, Device, Tensor as CTensor};
use candle_onnx::onnx::{GraphProto, ModelProto, NodeProto, ValueInfoProto};

/// Constant values by name, as candle tensors.
pub type Consts = HashMap<String, CTensor>;

/// Build the initializers of `model`'s main graph into candle tensors, strip them from the graph,
/// apply the rewrites and constant folding. Errors are plain messages; the caller names the file.
pub fn prepare(model: &mut ModelProto) -> Result<Consts, String> {
    let graph = model.graph.as_mut().ok_or("no graph")?;
    let mut consts = Consts::new();
    // Older exporters also list initializers as graph inputs; candle-onnx would then demand them.
    let init: HashSet<String> = graph.initializer.iter().map(|t| t.name.clone()).collect();
    graph.input.retain(|i| !init.contains(&i.name));
    for t in std::mem::take(&mut graph.initializer) {
        let tensor = candle_onnx::eval::get_tensor(&t, &t.name)
            .map_err(|e| format!("initializer '{}': {e}", t.name))?;
        consts.insert(t.name.clone(), tensor);
    }
    legalise(graph, &mut consts)?;
    fold(graph, &mut consts)?;
    let used = used_names(graph);
    consts.retain(|name, _| used.contains(name));
    Ok(consts)
}

/// Rewrite the attribute forms candle-onnx 0.11.1 ignores into the forms it reads.
fn legalise(graph: &mut GraphProto, consts: &mut Consts) -> Result<(), String> {
    let mut fresh = 0usize;
    for node in &mut graph.node {
        let op = node.op_type.clone();
        match op.as_str() {
            // opset < 13: `axes` (ReduceSum, Squeeze) / `split` (Split) were attributes; candle-onnx
            // reads only the input and, without it, reduces or squeezes every axis.
            "ReduceSum" | "Squeeze" | "Split" => {
                let key = if op == "Split" { "split" } else { "axes" };
                if let Some(pos) = node.attribute.iter().position(|a| a.name == key) {
                    let values = node.attribute.remove(pos).ints;
                    let name = format!("{}::candle_{key}_{fresh}", node.name);
                    fresh += 1;
                    let n = values.len();
                    let tensor =
                        CTensor::from_vec(values, n, &Device::Cpu).map_err(|e| e.to_string())?;
                    consts.insert(name.clone(), tensor);
                    if node.input.len() < 2 {
                        node.input.resize(1, String::new());
                        node.input.push(name);
                    } else {
                        node.input[1] = name;
                    }
                }
            }
            // opset 18: ReduceMean's `axes` became an input; candle-onnx reads only the attribute.
            "ReduceMean" => {
                if let Some(axes) = node.input.get(1).filter(|s| !s.is_empty()).cloned() {
                    let Some(t) = consts.get(&axes) else {
                        return Err(format!(
                            "ReduceMean '{}': non-constant axes input '{axes}' (candle-onnx 0.11 reads axes from the attribute only)",
                            node.name
                        ));
                    };
                    let values =
                        t.to_dtype(CDType::I64).and_then(|t| t.flatten_all()?.to_vec1::<i64>());
                    let values = values
                        .map_err(|e| format!("ReduceMean '{}': axes '{axes}': {e}", node.name))?;
                    node.input.truncate(1);
                    node.attribute.push(candle_onnx::onnx::AttributeProto {
                        name: "axes".into(),
                        r#type: candle_onnx::onnx::attribute_proto::AttributeType::Ints as i32,
                        ints: values,
                        ..Default::default()
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Evaluate once every node whose inputs are all constants and remove it from the graph.
fn fold(graph: &mut GraphProto, consts: &mut Consts) -> Result<(), String> {
    let outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    let mut kept = Vec::with_capacity(graph.node.len());
    for node in std::mem::take(&mut graph.node) {
        let foldable = !node.attribute.iter().any(|a| a.g.is_some() || !a.graphs.is_empty())
            && node.input.iter().all(|i| i.is_empty() || consts.contains_key(i))
            && !node.output.iter().any(|o| outputs.contains(o.as_str()))
            && crate::support::SUPPORTED_OPS.contains(&node.op_type.as_str())
            && (node.domain.is_empty() || node.domain == "ai.onnx");
        if !foldable {
            kept.push(node);
            continue;
        }
        let values = eval_node(&node, consts)
            .map_err(|e| format!("{} '{}' (constant inputs): {e}", node.op_type, node.name))?;
        consts.extend(values);
    }
    graph.node = kept;
    Ok(())
}

/// Run one node with `simple_eval` on constant inputs.
fn eval_node(node: &NodeProto, consts: &Consts) -> Result<HashMap<String, CTensor>, String> {
    let graph = GraphProto {
        node: vec![node.clone()],
        output: node
            .output
            .iter()
            .filter(|o| !o.is_empty())
            .map(|o| ValueInfoProto { name: o.clone(), ..Default::default() })
            .collect(),
        ..Default::default()
    };
    let model = ModelProto { graph: Some(graph), ..Default::default() };
    let inputs = node
        .input
        .iter()
        .filter_map(|i| consts.get_key_value(i))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match parity_core::panic::catch(|| candle_onnx::simple_eval(&model, inputs)) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => Err(format!("candle-onnx {panic}")),
    }
}

/// Every value name read by a node of `graph` or its subgraphs, plus the graph's outputs.
fn used_names(graph: &GraphProto) -> HashSet<String> {
    let mut used = HashSet::new();
    fn walk(g: &GraphProto, used: &mut HashSet<String>) {
        for node in &g.node {
            used.extend(node.input.iter().filter(|i| !i.is_empty()).cloned());
            for a in &node.attribute {
                a.g.iter().chain(&a.graphs).for_each(|sub| walk(sub, used));
            }
        }
        used.extend(g.output.iter().map(|o| o.name.clone()));
    }
    walk(graph, &mut used);
    used
}

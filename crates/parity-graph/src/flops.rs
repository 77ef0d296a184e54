//! FLOP count of an ONNX graph from the shapes of its values.
//!
//! What is counted (one multiply-add is two FLOPs):
//! - **Conv**: `2 * |Y| * (C_in / group) * prod(kernel)`, plus `|Y|` with a bias;
//! - **ConvTranspose**: `2 * |X| * (C_out / group) * prod(kernel)`, plus `|Y|` with a bias;
//! - **Gemm**: `2 * M * N * K`, plus `M * N` with a `C` input;
//! - **MatMul**: `2 * |Y| * K`, `K` the shared axis;
//! - **every other op**: one FLOP per element of its first output, except ops that only move,
//!   reshape or describe data and compute nothing ([`DATA_MOVEMENT`]), which count zero.
//!
//! Shapes come from the caller, keyed by value name (initializers' shapes are read from the
//! graph). A node whose needed shapes are unknown is listed in [`FlopCount::uncounted`] and
//! counts zero, so the total is a lower bound when that list is not empty. Subgraphs (`If`,
//! `Loop`) are not entered.

use std::collections::{BTreeMap, HashMap};

use parity_core::onnx::proto::{GraphProto, NodeProto};
use serde::Serialize;

/// Ops that compute no arithmetic: they copy, reorder, reshape, select or describe data.
pub const DATA_MOVEMENT: &[&str] = &[
    "Cast",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "DepthToSpace",
    "Dropout",
    "Expand",
    "Flatten",
    "Gather",
    "GatherElements",
    "GatherND",
    "Identity",
    "NonZero",
    "Pad",
    "Range",
    "Reshape",
    "Shape",
    "Size",
    "Slice",
    "SpaceToDepth",
    "Split",
    "Squeeze",
    "Tile",
    "Transpose",
    "Unsqueeze",
];

/// FLOPs of one op type over the graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpFlops {
    pub nodes: usize,
    pub flops: u64,
}

/// The FLOP count of a graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlopCount {
    pub total: u64,
    /// Per op type, in name order.
    pub by_op: BTreeMap<String, OpFlops>,
    /// Nodes (`name (op)`) whose shapes were unknown; they count zero.
    pub uncounted: Vec<String>,
}

/// Counts the FLOPs of `graph`'s nodes given the shapes of its values (see the module docs).
pub fn count(graph: &GraphProto, shapes: &HashMap<String, Vec<usize>>) -> FlopCount {
    let initializers: HashMap<&str, Vec<usize>> = graph
        .initializer
        .iter()
        .map(|t| (t.name(), t.dims.iter().map(|&d| d.max(0) as usize).collect()))
        .collect();
    let shape = |name: &str| -> Option<&[usize]> {
        shapes.get(name).map(Vec::as_slice).or_else(|| initializers.get(name).map(Vec::as_slice))
    };
    let mut result = FlopCount::default();
    for node in &graph.node {
        let op = node.op_type();
        match node_flops(node, &shape) {
            Some(flops) => {
                let entry = result.by_op.entry(op.to_string()).or_default();
                entry.nodes += 1;
                entry.flops += flops;
                result.total += flops;
            }
            None => {
                let name = match node.name() {
                    "" => node.output.first().map_or("?", String::as_str),
                    name => name,
                };
                result.uncounted.push(format!("{name} ({op})"));
            }
        }
    }
    result
}

/// Elements of `a @ b` under numpy's matmul rules (1-D operands promoted and their axis dropped).
fn matmul_elements(a: &[usize], b: &[usize]) -> Option<u64> {
    let m = if a.len() >= 2 { a[a.len() - 2] as u64 } else { 1 };
    let n = if b.len() >= 2 { b[b.len() - 1] as u64 } else { 1 };
    let (batch_a, batch_b) = (&a[..a.len().saturating_sub(2)], &b[..b.len().saturating_sub(2)]);
    let rank = batch_a.len().max(batch_b.len());
    let mut batch = 1u64;
    for i in 0..rank {
        let pick = |s: &[usize]| s.len().checked_sub(rank - i).map_or(1, |j| s[j]);
        let (x, y) = (pick(batch_a), pick(batch_b));
        if x != y && x != 1 && y != 1 {
            return None;
        }
        batch *= x.max(y) as u64;
    }
    Some(batch * m * n)
}

fn elements(shape: &[usize]) -> u64 {
    shape.iter().map(|&d| d as u64).product()
}

fn int_attr(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name() == name).map(|a| a.i())
}

fn input(node: &NodeProto, i: usize) -> Option<&str> {
    node.input.get(i).map(String::as_str).filter(|s| !s.is_empty())
}

/// FLOPs of one node; `None` when a shape it needs is unknown.
fn node_flops<'a>(node: &NodeProto, shape: &impl Fn(&str) -> Option<&'a [usize]>) -> Option<u64> {
    let out = || node.output.first().and_then(|o| shape(o));
    let has_bias = |i: usize| input(node, i).is_some();
    match node.op_type() {
        "Conv" => {
            let y = out()?;
            let w = shape(input(node, 1)?)?;
            let per_output: u64 = w.iter().skip(1).map(|&d| d as u64).product();
            let bias = if has_bias(2) { elements(y) } else { 0 };
            Some(2 * elements(y) * per_output + bias)
        }
        "ConvTranspose" => {
            let x = shape(input(node, 0)?)?;
            let w = shape(input(node, 1)?)?;
            let per_input: u64 = w.iter().skip(1).map(|&d| d as u64).product();
            let bias = if has_bias(2) { elements(out()?) } else { 0 };
            Some(2 * elements(x) * per_input + bias)
        }
        "Gemm" => {
            let (a, b) = (shape(input(node, 0)?)?, shape(input(node, 1)?)?);
            let trans = |attr| int_attr(node, attr).unwrap_or(0) != 0;
            let (m, k) =
                if trans("transA") { (a.get(1)?, a.first()?) } else { (a.first()?, a.get(1)?) };
            let n = if trans("transB") { b.first()? } else { b.get(1)? };
            let y = (*m as u64) * (*n as u64);
            let bias = if has_bias(2) { y } else { 0 };
            Some(2 * y * *k as u64 + bias)
        }
        "MatMul" => {
            let (a, b) = (shape(input(node, 0)?)?, shape(input(node, 1)?)?);
            let k = *a.last()? as u64;
            // The output's element count, from the output's shape when known, else from the
            // inputs (numpy matmul: broadcast batch axes, then [M, K] @ [K, N]).
            let y = match out() {
                Some(y) => elements(y),
                None => matmul_elements(a, b)?,
            };
            Some(2 * y * k)
        }
        op if DATA_MOVEMENT.contains(&op) => Some(0),
        _ => out().map(elements),
    }
}

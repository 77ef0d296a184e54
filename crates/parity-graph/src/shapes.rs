//! Shape inference of its own for the common ONNX ops, to fill the gaps another analysis leaves
//! (tract's leaves some on older real models, whose weights are `ConstantOfShape` outputs or whose
//! initializers are also listed as graph inputs).
//!
//! [`infer`] walks the graph once in node order from the shapes already known (the inputs', any
//! analysis's), and gives each node output whose shape it can work out a shape. Small integer
//! tensors (initializers, `Constant`s, `Shape` outputs and the index arithmetic on them) are
//! propagated as values, since `Reshape`, `ConstantOfShape`, `Slice`, `Expand`, `Tile`, `Pad`,
//! `Resize` and friends take their target shapes from such tensors. An initializer listed as a
//! graph input is a constant. An op it does not know, or whose inputs it cannot resolve, leaves
//! its outputs unknown; nothing is guessed.

use std::collections::HashMap;

use parity_core::TensorData;
use parity_core::onnx::proto::{GraphProto, NodeProto, attribute_proto::AttributeType};

/// Ops whose first output has the shape of their first input.
const SAME_SHAPE: &[&str] = &[
    "Abs",
    "Acos",
    "Asin",
    "Atan",
    "BatchNormalization",
    "Cast",
    "Ceil",
    "Celu",
    "Clip",
    "Cos",
    "Cosh",
    "CumSum",
    "Dropout",
    "Elu",
    "Erf",
    "Exp",
    "Floor",
    "Gelu",
    "GroupNormalization",
    "HardSigmoid",
    "HardSwish",
    "Hardmax",
    "Identity",
    "InstanceNormalization",
    "IsInf",
    "IsNaN",
    "LayerNormalization",
    "LeakyRelu",
    "Log",
    "LogSoftmax",
    "LpNormalization",
    "LRN",
    "MeanVarianceNormalization",
    "Mish",
    "Neg",
    "Not",
    "PRelu",
    "Reciprocal",
    "Relu",
    "Round",
    "Selu",
    "Shrink",
    "Sigmoid",
    "Sign",
    "Sin",
    "Sinh",
    "Softmax",
    "Softplus",
    "Softsign",
    "Sqrt",
    "Tan",
    "Tanh",
    "ThresholdedRelu",
    "Trilu",
];

/// Ops whose output broadcasts all their inputs (numpy rules).
const BROADCAST: &[&str] = &[
    "Add",
    "And",
    "BitShift",
    "Div",
    "Equal",
    "Greater",
    "GreaterOrEqual",
    "Less",
    "LessOrEqual",
    "Max",
    "Mean",
    "Min",
    "Mod",
    "Mul",
    "Or",
    "Pow",
    "Sub",
    "Sum",
    "Where",
    "Xor",
];

/// Integer values of at most this many elements are propagated.
const MAX_VALUE_ELEMENTS: usize = 1 << 16;

/// What is known while walking the graph.
struct Known {
    shapes: HashMap<String, Vec<usize>>,
    values: HashMap<String, Vec<i64>>,
}

/// Every value's shape that can be worked out from `known` (value name to shape) and the graph
/// itself; `known` entries are kept as given.
pub fn infer(
    graph: &GraphProto,
    known: &HashMap<String, Vec<usize>>,
) -> HashMap<String, Vec<usize>> {
    let mut k = Known { shapes: known.clone(), values: HashMap::new() };
    for t in &graph.initializer {
        let dims: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
        if let Some(values) = int_values(t) {
            k.values.insert(t.name().to_string(), values);
        }
        k.shapes.entry(t.name().to_string()).or_insert(dims);
    }
    for node in &graph.node {
        if let Some(outputs) = node_outputs(node, &k) {
            for (name, (shape, value)) in node.output.iter().zip(outputs) {
                if name.is_empty() {
                    continue;
                }
                if let Some(shape) = shape {
                    k.shapes.entry(name.clone()).or_insert(shape);
                }
                if let Some(value) = value.filter(|v| v.len() <= MAX_VALUE_ELEMENTS) {
                    k.values.insert(name.clone(), value);
                }
            }
        }
    }
    k.shapes
}

/// An integer initializer's values (int64, int32, and small enough).
fn int_values(t: &parity_core::onnx::proto::TensorProto) -> Option<Vec<i64>> {
    let elements: i64 = t.dims.iter().product();
    if !(0..=MAX_VALUE_ELEMENTS as i64).contains(&elements) {
        return None;
    }
    match parity_core::tensor_proto::to_tensor(t.clone()).ok()?.data() {
        TensorData::I64(v) => Some(v.clone()),
        TensorData::I32(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
        _ => None,
    }
}

/// Per output, its shape and (for small integer values) its value, where known.
type Out = (Option<Vec<usize>>, Option<Vec<i64>>);

fn attr<'a>(
    node: &'a NodeProto,
    name: &str,
) -> Option<&'a parity_core::onnx::proto::AttributeProto> {
    node.attribute.iter().find(|a| a.name() == name)
}

fn int_attr(node: &NodeProto, name: &str) -> Option<i64> {
    attr(node, name).map(|a| a.i())
}

fn ints_attr(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

fn input(node: &NodeProto, i: usize) -> Option<&str> {
    node.input.get(i).map(String::as_str).filter(|s| !s.is_empty())
}

/// A negative axis counted from the end of `rank` axes.
fn axis(a: i64, rank: usize) -> Option<usize> {
    let a = if a < 0 { a + rank as i64 } else { a };
    usize::try_from(a).ok().filter(|&a| a < rank)
}

fn shape_out(shape: Vec<usize>) -> Out {
    (Some(shape), None)
}

/// A node, with what is known of its inputs' shapes and values.
struct At<'a> {
    node: &'a NodeProto,
    k: &'a Known,
}

impl At<'_> {
    /// The shape of input `i`.
    fn shape(&self, i: usize) -> Option<Vec<usize>> {
        input(self.node, i).and_then(|n| self.k.shapes.get(n)).cloned()
    }

    /// The values of input `i` (small integer tensors only).
    fn value(&self, i: usize) -> Option<Vec<i64>> {
        input(self.node, i).and_then(|n| self.k.values.get(n)).cloned()
    }

    /// The shapes of every input.
    fn shapes(&self) -> Option<Vec<Vec<usize>>> {
        (0..self.node.input.len()).map(|i| self.shape(i)).collect()
    }

    /// The axes given as input `i` or as the attribute `name`.
    fn axes(&self, i: usize, name: &str) -> Option<Vec<i64>> {
        self.value(i).or_else(|| ints_attr(self.node, name))
    }
}

/// The outputs of `node`, or `None` when it cannot be worked out.
fn node_outputs(node: &NodeProto, k: &Known) -> Option<Vec<Out>> {
    let at = At { node, k };
    let op = node.op_type();
    let value = |i: usize| at.value(i);
    let out = match op {
        op if SAME_SHAPE.contains(&op) => {
            let v = if op == "Cast" || op == "Identity" { at.value(0) } else { None };
            (Some(at.shape(0)?), v)
        }
        op if BROADCAST.contains(&op) => {
            let out = at.shapes()?.iter().try_fold(Vec::new(), |acc, s| broadcast(&acc, s))?;
            (Some(out.clone()), arithmetic(op, node, k, &out))
        }
        "Constant" => constant(node)?,
        "Shape" => shape_of(node, &at.shape(0)?)?,
        "Size" => (Some(vec![]), Some(vec![at.shape(0)?.iter().product::<usize>() as i64])),
        "ConstantOfShape" => shape_out(to_dims(&at.value(0)?)?),
        "Conv" | "MaxPool" | "AveragePool" | "LpPool" => {
            return pooled(node, op, &at.shape(0)?, at.shape(1));
        }
        "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => global_pool(&at.shape(0)?)?,
        "ConvTranspose" => return conv_transpose(node, &at.shape(0)?, &at.shape(1)?),
        "Gemm" => gemm(node, &at.shape(0)?, &at.shape(1)?)?,
        "MatMul" => shape_out(matmul(&at.shape(0)?, &at.shape(1)?)?),
        "Flatten" => flatten(node, &at.shape(0)?)?,
        "Reshape" => {
            let allowzero = int_attr(node, "allowzero").unwrap_or(0) != 0;
            shape_out(reshape(&at.shape(0)?, &at.axes(1, "shape")?, allowzero)?)
        }
        "Transpose" => transpose(node, &at.shape(0)?)?,
        "Concat" => concat(&at)?,
        "Unsqueeze" => (Some(unsqueeze(&at.shape(0)?, &at.axes(1, "axes")?)?), at.value(0)),
        "Squeeze" => (Some(squeeze(&at.shape(0)?, at.axes(1, "axes"))?), at.value(0)),
        "Gather" => gather(&at)?,
        "Slice" => return slice(node, &at.shape(0)?, value(0), [1, 2, 3, 4].map(value)),
        "Split" => return split(node, &at.shape(0)?, at.value(1)),
        "Pad" => pad(&at.shape(0)?, &at.axes(1, "pads")?)?,
        "Expand" => shape_out(broadcast(&at.shape(0)?, &to_dims(&at.value(1)?)?)?),
        "Tile" => tile(&at.shape(0)?, &at.value(1)?)?,
        "Resize" | "Upsample" => return resize(node, &at.shape(0)?, &value),
        op if op.starts_with("Reduce") || op == "ArgMax" || op == "ArgMin" => reduce(&at, op)?,
        _ => return None,
    };
    Some(vec![out])
}

/// A `Constant`'s shape, and its values when they are integers.
fn constant(node: &NodeProto) -> Option<Out> {
    let a = node.attribute.first()?;
    match a.r#type() {
        AttributeType::Tensor => {
            let t = a.t.as_ref()?;
            let dims = t.dims.iter().map(|&d| d.max(0) as usize).collect();
            Some((Some(dims), int_values(t)))
        }
        AttributeType::Int => Some((Some(vec![]), Some(vec![a.i()]))),
        AttributeType::Ints => Some((Some(vec![a.ints.len()]), Some(a.ints.clone()))),
        AttributeType::Float => Some(shape_out(vec![])),
        AttributeType::Floats => Some(shape_out(vec![a.floats.len()])),
        _ => None,
    }
}

/// `Shape` of a tensor of shape `s`, between its `start` and `end` attributes.
fn shape_of(node: &NodeProto, s: &[usize]) -> Option<Out> {
    let rank = s.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let start = clamp(int_attr(node, "start").unwrap_or(0));
    let end = clamp(int_attr(node, "end").unwrap_or(rank));
    let dims: Vec<i64> = s.iter().map(|&d| d as i64).collect();
    let dims = dims.get(start..end.max(start))?.to_vec();
    Some((Some(vec![dims.len()]), Some(dims)))
}

/// A global pool keeps the batch and channel axes and makes every other axis 1.
fn global_pool(s: &[usize]) -> Option<Out> {
    let mut out = s.get(..2)?.to_vec();
    out.resize(s.len(), 1);
    Some(shape_out(out))
}

fn gemm(node: &NodeProto, a: &[usize], b: &[usize]) -> Option<Out> {
    let trans = |name| int_attr(node, name).unwrap_or(0) != 0;
    let m = if trans("transA") { *a.get(1)? } else { *a.first()? };
    let n = if trans("transB") { *b.first()? } else { *b.get(1)? };
    Some(shape_out(vec![m, n]))
}

fn flatten(node: &NodeProto, s: &[usize]) -> Option<Out> {
    let at = int_attr(node, "axis").unwrap_or(1);
    let at = if at < 0 { at + s.len() as i64 } else { at } as usize;
    let (outer, inner) = (s.get(..at)?.iter().product(), s.get(at..)?.iter().product());
    Some(shape_out(vec![outer, inner]))
}

/// `Transpose` by its `perm` (default: the axes reversed).
fn transpose(node: &NodeProto, s: &[usize]) -> Option<Out> {
    let perm =
        ints_attr(node, "perm").unwrap_or_else(|| (0..s.len() as i64).rev().collect::<Vec<_>>());
    let out = perm.iter().map(|&p| s.get(usize::try_from(p).ok()?).copied());
    Some(shape_out(out.collect::<Option<_>>()?))
}

/// `Concat` along its axis; the values too when every input is a known 1-D tensor.
fn concat(at: &At<'_>) -> Option<Out> {
    let shapes = at.shapes()?;
    let first = shapes.first()?;
    let axis = axis(int_attr(at.node, "axis")?, first.len())?;
    let mut out = first.clone();
    out[axis] = shapes.iter().map(|s| s.get(axis).copied()).sum::<Option<usize>>()?;
    let values: Option<Vec<i64>> = (0..at.node.input.len())
        .map(|i| at.value(i))
        .collect::<Option<Vec<_>>>()
        .map(|v| v.concat())
        .filter(|_| first.len() == 1);
    Some((Some(out), values))
}

/// `s` with an axis of 1 inserted at each of `axes` (of the output's rank).
fn unsqueeze(s: &[usize], axes: &[i64]) -> Option<Vec<usize>> {
    let rank = s.len() + axes.len();
    let mut axes: Vec<usize> = axes.iter().map(|&a| axis(a, rank)).collect::<Option<_>>()?;
    axes.sort_unstable();
    let mut out = s.to_vec();
    for a in axes {
        out.insert(a.min(out.len()), 1);
    }
    Some(out)
}

/// `s` without `axes` (default: every axis of 1).
fn squeeze(s: &[usize], axes: Option<Vec<i64>>) -> Option<Vec<usize>> {
    let axes = match axes {
        Some(axes) => axes.iter().map(|&a| axis(a, s.len())).collect::<Option<Vec<_>>>()?,
        None => (0..s.len()).filter(|&i| s[i] == 1).collect(),
    };
    Some(s.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect())
}

/// `Gather` along its axis; the values too when a known 1-D tensor is indexed by known indices.
fn gather(at: &At<'_>) -> Option<Out> {
    let (data, idx) = (at.shape(0)?, at.shape(1)?);
    let axis = axis(int_attr(at.node, "axis").unwrap_or(0), data.len())?;
    let out = [&data[..axis], &idx[..], &data[axis + 1..]].concat();
    let gathered = match (at.value(0), at.value(1)) {
        (Some(v), Some(i)) if data.len() == 1 => i
            .iter()
            .map(|&j| {
                v.get(usize::try_from(if j < 0 { j + v.len() as i64 } else { j }).ok()?).copied()
            })
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    Some((Some(out), gathered))
}

/// `Pad` by `pads` (every axis's start, then every axis's end).
fn pad(s: &[usize], pads: &[i64]) -> Option<Out> {
    let rank = s.len();
    let out =
        (0..rank).map(|i| usize::try_from(s[i] as i64 + pads.get(i)? + pads.get(i + rank)?).ok());
    Some(shape_out(out.collect::<Option<_>>()?))
}

/// `Tile` by `reps` per axis.
fn tile(s: &[usize], reps: &[i64]) -> Option<Out> {
    let out = s.iter().zip(reps).map(|(&d, &r)| usize::try_from(r).ok().map(|r| d * r));
    Some(shape_out(out.collect::<Option<_>>()?))
}

/// A `Reduce*`, `ArgMax` or `ArgMin` over its axes, kept as 1 or dropped.
fn reduce(at: &At<'_>, op: &str) -> Option<Out> {
    let (node, s) = (at.node, at.shape(0)?);
    let axes = match at.axes(1, "axes") {
        Some(axes) if op.starts_with("Reduce") || !axes.is_empty() => axes,
        _ if op.starts_with("Arg") => vec![int_attr(node, "axis").unwrap_or(0)],
        _ if int_attr(node, "noop_with_empty_axes").unwrap_or(0) != 0 => vec![],
        _ => (0..s.len() as i64).collect(),
    };
    let axes: Vec<usize> = axes.iter().map(|&a| axis(a, s.len())).collect::<Option<_>>()?;
    let keep = int_attr(node, "keepdims").unwrap_or(1) != 0;
    let out = s.iter().enumerate().filter_map(|(i, &d)| match axes.contains(&i) {
        true if keep => Some(1),
        true => None,
        false => Some(d),
    });
    Some(shape_out(out.collect()))
}

/// Numpy broadcasting of two shapes.
fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    (0..rank)
        .map(|i| {
            let pick = |s: &[usize]| s.len().checked_sub(rank - i).map_or(1, |j| s[j]);
            match (pick(a), pick(b)) {
                (x, y) if x == y || y == 1 => Some(x),
                (1, y) => Some(y),
                _ => None,
            }
        })
        .collect()
}

/// Integer arithmetic on propagated values (index computations of a shape), elementwise with
/// broadcasting of a single value.
fn arithmetic(op: &str, node: &NodeProto, k: &Known, out: &[usize]) -> Option<Vec<i64>> {
    let f: fn(i64, i64) -> Option<i64> = match op {
        "Add" => |a, b| a.checked_add(b),
        "Sub" => |a, b| a.checked_sub(b),
        "Mul" => |a, b| a.checked_mul(b),
        "Div" => |a, b| a.checked_div(b),
        _ => return None,
    };
    let a = k.values.get(input(node, 0)?)?;
    let b = k.values.get(input(node, 1)?)?;
    let n: usize = out.iter().product();
    let at =
        |v: &[i64], i: usize| if v.len() == 1 { v.first().copied() } else { v.get(i).copied() };
    (0..n).map(|i| f(at(a, i)?, at(b, i)?)).collect()
}

fn to_dims(v: &[i64]) -> Option<Vec<usize>> {
    v.iter().map(|&d| usize::try_from(d).ok()).collect()
}

/// `Reshape`'s output: 0 copies the input's axis (unless `allowzero`), -1 takes the rest.
fn reshape(s: &[usize], target: &[i64], allowzero: bool) -> Option<Vec<usize>> {
    let total: usize = s.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            -1 => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => out.push(*s.get(i)?),
            t => out.push(usize::try_from(t).ok()?),
        }
    }
    if let Some(i) = infer {
        let known: usize = out.iter().product();
        out[i] = total.checked_div(known)?;
    }
    Some(out)
}

/// `MatMul`'s output (numpy rules: 1-D operands promoted and their axis dropped).
fn matmul(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let (a2, b2) = (a.len() >= 2, b.len() >= 2);
    let batch = broadcast(&a[..a.len().saturating_sub(2)], &b[..b.len().saturating_sub(2)])?;
    let mut out = batch;
    if a2 {
        out.push(a[a.len() - 2]);
    }
    if b2 {
        out.push(b[b.len() - 1]);
    }
    Some(out)
}

/// Kernel, strides, dilations and begin/end pads of a windowed op over `spatial` axes.
fn window(node: &NodeProto, kernel: &[usize], spatial: &[usize]) -> Option<Vec<usize>> {
    let n = spatial.len();
    let list = |name, default: i64| ints_attr(node, name).unwrap_or_else(|| vec![default; n]);
    let (strides, dilations) = (list("strides", 1), list("dilations", 1));
    let ceil = int_attr(node, "ceil_mode").unwrap_or(0) != 0;
    let auto_pad = attr(node, "auto_pad").map(|a| String::from_utf8_lossy(a.s()).into_owned());
    let pads = list("pads", 0);
    (0..n)
        .map(|i| {
            let (x, s) = (spatial[i] as i64, *strides.get(i)?);
            let effective = (*dilations.get(i)?) * (*kernel.get(i)? as i64 - 1) + 1;
            let out = match auto_pad.as_deref() {
                Some("SAME_UPPER" | "SAME_LOWER") => (x + s - 1) / s,
                Some("VALID") => (x - effective) / s + 1,
                _ => {
                    let padded = x + pads.get(i)? + pads.get(i + n)? - effective;
                    if ceil { (padded + s - 1) / s + 1 } else { padded / s + 1 }
                }
            };
            usize::try_from(out).ok()
        })
        .collect()
}

/// `Conv` (weights `w`) and the pools.
fn pooled(node: &NodeProto, op: &str, x: &[usize], w: Option<Vec<usize>>) -> Option<Vec<Out>> {
    let spatial = x.get(2..)?;
    let (channels, kernel) = if op == "Conv" {
        let w = w?;
        let kernel = ints_attr(node, "kernel_shape")
            .map(|k| to_dims(&k))
            .unwrap_or_else(|| Some(w.get(2..)?.to_vec()))?;
        (*w.first()?, kernel)
    } else {
        (*x.get(1)?, to_dims(&ints_attr(node, "kernel_shape")?)?)
    };
    let mut out = vec![*x.first()?, channels];
    out.extend(window(node, &kernel, spatial)?);
    // MaxPool's optional second output (indices) has the same shape.
    Some(vec![shape_out(out.clone()), shape_out(out)])
}

fn conv_transpose(node: &NodeProto, x: &[usize], w: &[usize]) -> Option<Vec<Out>> {
    let group = int_attr(node, "group").unwrap_or(1).max(1) as usize;
    let mut out = vec![*x.first()?, w.get(1)? * group];
    if let Some(shape) = ints_attr(node, "output_shape") {
        out.extend(to_dims(&shape)?);
        return Some(vec![shape_out(out)]);
    }
    let spatial = x.get(2..)?;
    let n = spatial.len();
    let kernel = ints_attr(node, "kernel_shape")
        .unwrap_or_else(|| w[2..].iter().map(|&d| d as i64).collect());
    let list = |name, default: i64| ints_attr(node, name).unwrap_or_else(|| vec![default; n]);
    let (strides, dilations, pads, extra) =
        (list("strides", 1), list("dilations", 1), list("pads", 0), list("output_padding", 0));
    for (i, &x) in spatial.iter().enumerate() {
        let y = strides.get(i)? * (x as i64 - 1)
            + extra.get(i)?
            + (kernel.get(i)? - 1) * dilations.get(i)?
            + 1
            - pads.get(i)?
            - pads.get(i + n)?;
        out.push(usize::try_from(y).ok()?);
    }
    Some(vec![shape_out(out)])
}

/// `Slice` (opset 10+: starts, ends, axes, steps as inputs; before: attributes).
fn slice(
    node: &NodeProto,
    s: &[usize],
    data: Option<Vec<i64>>,
    inputs: [Option<Vec<i64>>; 4],
) -> Option<Vec<Out>> {
    let [starts, ends, axes, steps] = inputs;
    let starts = starts.or_else(|| ints_attr(node, "starts"))?;
    let ends = ends.or_else(|| ints_attr(node, "ends"))?;
    let axes = axes
        .or_else(|| ints_attr(node, "axes"))
        .unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    let mut out = s.to_vec();
    let mut range = None;
    for (i, &start) in starts.iter().enumerate() {
        let at = axis(*axes.get(i)?, s.len())?;
        let d = s[at] as i64;
        let step = *steps.get(i)?;
        if step == 0 {
            return None;
        }
        // ONNX's clamping: starts to [0, d] (to [0, d - 1] stepping back), ends to [0, d] (to
        // [-1, d - 1] stepping back), after adding d to a negative index.
        let clamp =
            |v: i64, lo: i64, hi: i64| (if v < 0 { v.saturating_add(d) } else { v }).clamp(lo, hi);
        let (b, e) = if step > 0 {
            (clamp(start, 0, d), clamp(*ends.get(i)?, 0, d))
        } else {
            (clamp(start, 0, d - 1), clamp(*ends.get(i)?, -1, d - 1))
        };
        let n = if step > 0 { (e - b + step - 1) / step } else { (b - e - step - 1) / -step };
        out[at] = n.max(0) as usize;
        range = Some((b, step, out[at]));
    }
    let value = match (data, range) {
        (Some(v), Some((b, step, n))) if s.len() == 1 => {
            (0..n as i64).map(|j| v.get(usize::try_from(b + j * step).ok()?).copied()).collect()
        }
        _ => None,
    };
    Some(vec![(Some(out), value)])
}

fn split(node: &NodeProto, s: &[usize], sizes: Option<Vec<i64>>) -> Option<Vec<Out>> {
    let at = axis(int_attr(node, "axis").unwrap_or(0), s.len())?;
    let parts = node.output.len();
    let sizes = match sizes.or_else(|| ints_attr(node, "split")) {
        Some(sizes) => to_dims(&sizes)?,
        None => {
            let each = s[at].div_ceil(parts.max(1));
            (0..parts).map(|i| each.min(s[at].saturating_sub(i * each))).collect()
        }
    };
    Some(
        sizes
            .into_iter()
            .map(|n| {
                let mut out = s.to_vec();
                out[at] = n;
                shape_out(out)
            })
            .collect(),
    )
}

fn resize(
    node: &NodeProto,
    s: &[usize],
    value: &dyn Fn(usize) -> Option<Vec<i64>>,
) -> Option<Vec<Out>> {
    // Resize (opset 11+): roi, scales, sizes; opset 10: scales; Upsample: scales or attribute.
    let sizes_input =
        if node.op_type() == "Resize" && node.input.len() > 3 { value(3) } else { None };
    if let Some(sizes) = sizes_input.filter(|v| !v.is_empty()) {
        return Some(vec![shape_out(to_dims(&sizes)?)]);
    }
    let scales = attr(node, "scales").map(|a| a.floats.clone());
    let scales = scales.filter(|f| !f.is_empty())?;
    let out = s.iter().zip(&scales).map(|(&d, &f)| (d as f32 * f).floor() as usize);
    Some(vec![shape_out(out.collect())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use parity_core::onnx::proto::{AttributeProto, TensorProto};

    fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
        NodeProto {
            op_type: Some(op.into()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attrs,
            ..Default::default()
        }
    }

    fn ints(name: &str, v: &[i64]) -> AttributeProto {
        AttributeProto {
            name: Some(name.into()),
            ints: v.to_vec(),
            r#type: Some(AttributeType::Ints as i32),
            ..Default::default()
        }
    }

    fn int64s(name: &str, v: &[i64]) -> TensorProto {
        TensorProto {
            name: Some(name.into()),
            dims: vec![v.len() as i64],
            data_type: Some(7),
            int64_data: v.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn weights_made_by_constant_of_shape_give_the_conv_its_shape() {
        // ONNX's "light" model-zoo exports: every weight is ConstantOfShape(a shape initializer).
        let graph = GraphProto {
            initializer: vec![int64s("w_shape", &[64, 3, 7, 7]), int64s("flat", &[1, -1])],
            node: vec![
                node("ConstantOfShape", &["w_shape"], &["w"], vec![]),
                node(
                    "Conv",
                    &["x", "w"],
                    &["y"],
                    vec![
                        ints("strides", &[2, 2]),
                        ints("pads", &[3, 3, 3, 3]),
                        ints("kernel_shape", &[7, 7]),
                    ],
                ),
                node("Relu", &["y"], &["r"], vec![]),
                node(
                    "MaxPool",
                    &["r"],
                    &["p"],
                    vec![
                        ints("kernel_shape", &[3, 3]),
                        ints("strides", &[2, 2]),
                        ints("pads", &[1, 1, 1, 1]),
                    ],
                ),
                node("Reshape", &["p", "flat"], &["f"], vec![]),
            ],
            ..Default::default()
        };
        let known = HashMap::from([("x".to_string(), vec![1, 3, 224, 224])]);
        let shapes = infer(&graph, &known);
        assert_eq!(shapes["w"], [64, 3, 7, 7]);
        assert_eq!(shapes["y"], [1, 64, 112, 112]);
        assert_eq!(shapes["p"], [1, 64, 56, 56]);
        assert_eq!(shapes["f"], [1, 64 * 56 * 56]);
    }

    #[test]
    fn a_shape_computed_from_shape_ops_reaches_the_reshape() {
        // x[N, 8, 4] -> reshape to [Shape(x)[0], -1] through Gather, Unsqueeze and Concat.
        let graph = GraphProto {
            initializer: vec![
                TensorProto {
                    name: Some("zero".into()),
                    data_type: Some(7),
                    int64_data: vec![0],
                    ..Default::default()
                },
                int64s("minus_one", &[-1]),
                int64s("ax0", &[0]),
            ],
            node: vec![
                node("Shape", &["x"], &["s"], vec![]),
                node("Gather", &["s", "zero"], &["n"], vec![]),
                node("Unsqueeze", &["n", "ax0"], &["n1"], vec![]),
                node(
                    "Concat",
                    &["n1", "minus_one"],
                    &["target"],
                    vec![AttributeProto {
                        name: Some("axis".into()),
                        i: Some(0),
                        r#type: Some(AttributeType::Int as i32),
                        ..Default::default()
                    }],
                ),
                node("Reshape", &["x", "target"], &["y"], vec![]),
                node("MatMul", &["y", "w"], &["z"], vec![]),
            ],
            ..Default::default()
        };
        let known =
            HashMap::from([("x".to_string(), vec![5, 8, 4]), ("w".to_string(), vec![32, 10])]);
        let shapes = infer(&graph, &known);
        assert_eq!(shapes["y"], [5, 32]);
        assert_eq!(shapes["z"], [5, 10]);
    }

    #[test]
    fn what_cannot_be_worked_out_stays_unknown() {
        let graph = GraphProto {
            node: vec![
                node("Reshape", &["x", "dynamic_target"], &["y"], vec![]),
                node("Frobnicate", &["x"], &["z"], vec![]),
            ],
            ..Default::default()
        };
        let shapes = infer(&graph, &HashMap::from([("x".to_string(), vec![2, 3])]));
        assert!(!shapes.contains_key("y") && !shapes.contains_key("z"));
    }
}

//! Reading and analysing a model with tract-onnx: the protobuf, tract's inference and typed
//! models, op support, the declared interface and its batch axis; panics inside tract as errors.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use parity_core::{Dim, Error, IoInfo, ModelInfo, Result};
use tract_onnx::pb;
use tract_onnx::prelude::{
    Framework, InferenceModel, InferenceModelExt, TDim, TractError, TractResult, TypedModel,
};
use tract_onnx::tract_core::internal::bail;

use crate::NAME;

/// Run `f`, turning a panic inside tract into an error naming `path`.
pub(crate) fn guard<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    parity_core::panic::catch(f)
        .unwrap_or_else(|panic| Err(Error::invalid(path, format!("tract {panic}"))))
}

pub(crate) fn backend_error(path: &Path, e: TractError) -> Error {
    Error::backend(NAME, format!("{}: {e:#}", path.display()))
}

/// Read the model at `path` with its external data, through parity-core's one safe resolver
/// (tract never opens a file itself), in tract's protobuf types.
pub(crate) fn read_proto(path: &Path) -> Result<pb::ModelProto> {
    proto_for_tract(path, &parity_core::onnx::read_model_with_data(path)?)
}

/// A model read by parity-core (from `path`, named in errors), external data already in memory,
/// in tract's protobuf types.
pub(crate) fn proto_for_tract(
    path: &Path,
    model: &parity_core::onnx::proto::ModelProto,
) -> Result<pb::ModelProto> {
    use prost::Message;
    tract_onnx::onnx()
        .proto_model_for_read(&mut model.encode_to_vec().as_slice())
        .map_err(|e| Error::invalid(path, format!("not an onnx model: {e:#}")))
}

/// Translate the protobuf into tract's inference model. Its external data is already in memory
/// ([`read_proto`]), so tract is given no directory to open files in.
pub(crate) fn parse(
    onnx: &tract_onnx::Onnx,
    proto: &pb::ModelProto,
) -> TractResult<InferenceModel> {
    let parsed = onnx.parse(proto, None)?;
    if !parsed.unresolved_inputs.is_empty() {
        bail!("graph refers to undefined tensors {:?}", parsed.unresolved_inputs);
    }
    Ok(parsed.model)
}

/// Analyse, type and declutter the model with its declared (possibly symbolic) shapes.
pub(crate) fn typed(model: &InferenceModel) -> TractResult<TypedModel> {
    model.clone().into_typed()?.into_decluttered()
}

/// Op types in `proto` (including sub-graphs) that tract-onnx has no translation for.
pub(crate) fn unsupported(onnx: &tract_onnx::Onnx, proto: &pb::ModelProto) -> Vec<String> {
    fn walk(graph: &pb::GraphProto, onnx: &tract_onnx::Onnx, out: &mut BTreeSet<String>) {
        for node in &graph.node {
            if !onnx.op_register.0.contains_key(&node.op_type) {
                out.insert(node.op_type.clone());
            }
            for attr in &node.attribute {
                for g in attr.g.iter().chain(&attr.graphs) {
                    walk(g, onnx, out);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    if let Some(g) = &proto.graph {
        walk(g, onnx, &mut out);
    }
    out.into_iter().collect()
}

/// The declared interface (parity-core's converter) with tract's analysed shape for a value the
/// graph declares without one.
pub(crate) fn with_analysed_shapes(mut info: ModelInfo, typed: &TypedModel) -> ModelInfo {
    let fill = |io: &mut IoInfo, fact: Option<&tract_onnx::prelude::TypedFact>| {
        if io.shape.is_empty()
            && let Some(fact) = fact
        {
            io.shape = fact.shape.iter().map(dim_from_tdim).collect();
        }
    };
    for (i, io) in info.inputs.iter_mut().enumerate() {
        fill(io, typed.input_fact(i).ok());
    }
    for (i, io) in info.outputs.iter_mut().enumerate() {
        fill(io, typed.output_fact(i).ok());
    }
    info
}

pub(crate) fn dim_from_tdim(d: &TDim) -> Dim {
    match d.to_i64() {
        Ok(n) if n >= 0 => Dim::Fixed(n as usize),
        _ => Dim::Symbolic(d.to_string()),
    }
}

/// The batch axis: a named symbolic axis 0 shared by every input and output and used nowhere else.
pub(crate) fn batch_axis(info: &ModelInfo) -> Option<String> {
    let all: Vec<&IoInfo> = info.inputs.iter().chain(&info.outputs).collect();
    let first = match all.first()?.shape.first()? {
        Dim::Symbolic(s) if s != "?" => s.clone(),
        _ => return None,
    };
    let ok = all.iter().all(|io| {
        io.shape.first() == Some(&Dim::Symbolic(first.clone()))
            && !io.shape[1..].iter().any(|d| matches!(d, Dim::Symbolic(_)))
    });
    ok.then_some(first)
}

/// `typed` with its inputs' symbolic axes fixed to `shapes` (one per input, in order), by
/// substituting the symbols (tract's `--set N=1`), not by re-typing the ONNX graph: a dynamo
/// export's value_info repeats the symbolic shapes and would contradict a concrete input fact.
pub(crate) fn with_input_shapes(
    typed: TypedModel,
    shapes: &[Vec<usize>],
) -> TractResult<TypedModel> {
    let mut subs = HashMap::new();
    for (ix, shape) in shapes.iter().enumerate() {
        for (dim, &n) in typed.input_fact(ix)?.shape.iter().zip(shape) {
            if let TDim::Sym(symbol) = dim {
                subs.insert(symbol.clone(), TDim::Val(n as i64));
            }
        }
    }
    if subs.is_empty() { Ok(typed) } else { typed.set_symbols(&subs) }
}

//! Every value a model computes, on one backend, for one input (the *cumulative* run).
//!
//! A backend that reads values natively ([`parity_core::Runnable::read_values`], RTen) runs the
//! graph as it is. Any other runs the graph with every value exposed as an output
//! ([`parity_graph::values::expose`], Polygraphy's "mark all"); because extra outputs can change
//! what an optimising runtime computes, the exposed graph's original outputs are compared with the
//! plain graph's and the difference is reported ([`Trace::exposure_drift`]).

use std::path::Path;
use std::time::Instant;

use parity_core::{DType, NamedTensors, Options, Tensor, TensorData};
use prost::Message;

use super::model::Model;
use crate::error::invalid;
use crate::load::{backend_error, prepare};
use crate::sink::Sink;
use crate::{BackendName, Result};

/// How a trace's values were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadOut {
    /// The backend's own read-out; the graph is not rewritten.
    Native,
    /// Every value exposed as a graph output.
    Exposed,
}

/// What one cumulative run produced.
pub struct Trace {
    /// Every node output of the graph, by value name.
    pub values: NamedTensors,
    /// How the values were read.
    pub read_out: ReadOut,
    /// With [`ReadOut::Exposed`]: the largest absolute difference between the exposed graph's
    /// original outputs and the plain graph's (0 when exposing changed nothing).
    pub exposure_drift: Option<f64>,
    /// Seconds spent loading models and running them.
    pub load_s: f64,
    /// Seconds spent running.
    pub run_s: f64,
}

/// Runs `model` on `backend` with `inputs` and reads every value; `scratch` holds the exposed
/// model when one is needed.
pub fn trace(
    backend: BackendName,
    model: &Model,
    inputs: &NamedTensors,
    options: &Options,
    scratch: &Path,
    sink: &dyn Sink,
) -> Result<Trace> {
    let fail = |what: &str, e| backend_error(backend, &model.path, what, e);
    let started = Instant::now();
    let mut plain = prepare(backend, &model.path, options, sink)?;
    let mut load_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let names: Vec<String> = model.values.iter().map(|v| v.value.clone()).collect();
    if let Some(values) = plain.read_values(inputs, &names).map_err(|e| fail("read values", e))? {
        return Ok(Trace {
            values: in_graph_dtypes(values, model),
            read_out: ReadOut::Native,
            exposure_drift: None,
            load_s,
            run_s: started.elapsed().as_secs_f64(),
        });
    }
    // Exposed: the plain graph's outputs are what exposing must not move.
    let outputs = plain.run(inputs).map_err(|e| fail("run", e))?;
    let mut run_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut runnable = prepare_exposed(backend, model, &names, options, scratch, sink)?;
    load_s += started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut values = runnable.run(inputs).map_err(|e| fail("run with every value exposed", e))?;
    run_s += started.elapsed().as_secs_f64();
    let mut drift = 0.0f64;
    for (name, plain_value) in &outputs {
        let Some(exposed_value) = values.get(name) else { continue };
        let report = parity_core::compare::compare_tensors(
            name,
            exposed_value,
            plain_value,
            parity_core::Tolerance::DEFAULT,
            parity_core::CompareOptions { nan_equal: true },
        );
        drift = drift.max(report.max_abs);
    }
    values.retain(|name, _| names.contains(name));
    Ok(Trace { values, read_out: ReadOut::Exposed, exposure_drift: Some(drift), load_s, run_s })
}

/// `model` with the values `names` exposed as outputs, written into `scratch` and prepared on
/// `backend`.
fn prepare_exposed(
    backend: BackendName,
    model: &Model,
    names: &[String],
    options: &Options,
    scratch: &Path,
    sink: &dyn Sink,
) -> Result<Box<dyn parity_core::Runnable>> {
    let exposed_path = scratch.join(format!("exposed-{}.onnx", backend.as_str()));
    let (exposed, _untyped) = parity_graph::values::expose(&model.proto, names);
    std::fs::write(&exposed_path, exposed.encode_to_vec())
        .map_err(|e| invalid(format!("{}: {e}", exposed_path.display())))?;
    prepare(backend, &exposed_path, options, sink).map_err(|e| {
        crate::Error::Backend(format!("{e} (the model with every value exposed as an output)"))
    })
}

/// Every value the model at `path` computes on `backend` for each of `cases` (each node output,
/// by name), the model prepared once: for a caller that maps values itself (the Python package
/// maps a PyTorch module's sub-module outputs to them). Unlike [`trace`], the exposed graph's
/// drift from the plain one is not measured.
pub fn values(
    backend: BackendName,
    path: &Path,
    cases: &[NamedTensors],
    options: &Options,
    sink: &dyn Sink,
) -> Result<Vec<NamedTensors>> {
    let model = Model::from_onnx(&parity_core::onnx::OnnxModel::read(path)?)?;
    let names: Vec<String> = model.values.iter().map(|v| v.value.clone()).collect();
    let fail = |what: &str, e| backend_error(backend, path, what, e);
    let mut plain = prepare(backend, path, options, sink)?;
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        match plain.read_values(case, &names).map_err(|e| fail("read values", e))? {
            Some(values) => out.push(in_graph_dtypes(values, &model)),
            None => break,
        }
    }
    if out.len() == cases.len() {
        return Ok(out);
    }
    drop(plain);
    let scratch = tempfile::Builder::new()
        .prefix("ssrnet-parity-values-")
        .tempdir()
        .map_err(|e| invalid(format!("cannot make a scratch directory: {e}")))?;
    let mut runnable = prepare_exposed(backend, &model, &names, options, scratch.path(), sink)?;
    cases
        .iter()
        .map(|case| {
            let mut values =
                runnable.run(case).map_err(|e| fail("run with every value exposed", e))?;
            values.retain(|name, _| names.contains(name));
            Ok(values)
        })
        .collect()
}

/// `values` with every integer or bool value in the element type the graph gives it
/// ([`parity_graph::dtypes::infer`]): a runtime may compute int64 values as int32 (RTen does), and
/// a value fed to a node run alone must have the type the node's model declares.
fn in_graph_dtypes(values: NamedTensors, model: &Model) -> NamedTensors {
    let graph = model.proto.graph.as_ref().expect("checked at read");
    let types = parity_graph::dtypes::infer(graph);
    values
        .into_iter()
        .map(|(name, t)| {
            let want = types.get(&name).and_then(|&code| parity_core::onnx::dtype_from_onnx(code));
            let integral = |d: DType| matches!(d, DType::I64 | DType::I32 | DType::Bool);
            let cast = match want {
                Some(want) if want != t.dtype() && integral(want) && integral(t.dtype()) => {
                    let v = t.data().to_f64_vec();
                    let data = match want {
                        DType::I64 => TensorData::I64(v.iter().map(|&x| x as i64).collect()),
                        DType::I32 => TensorData::I32(v.iter().map(|&x| x as i32).collect()),
                        _ => TensorData::Bool(v.iter().map(|&x| x != 0.0).collect()),
                    };
                    Tensor::new(t.shape().to_vec(), data).ok()
                }
                _ => None,
            };
            (name, cast.unwrap_or(t))
        })
        .collect()
}

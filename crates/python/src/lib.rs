//! `ssrnet_parity._native`, the extension module under the `ssrnet_parity` Python package: the CLI
//! crate's subcommands for the package's functions (`document`), one backend on numpy feeds
//! (`run`), every value it computes (`values`), the module of each value by the export
//! (`origins`), a check of in-memory goldens (`check_arrays`) and the console script (`cli_main`).
//! Types are converted here, at the edge; the engine and the CLI know nothing of Python. A long
//! call runs with the GIL released, on a thread of its own, while the calling thread waits for
//! Ctrl-C (the `interrupt` module).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use pyo3::prelude::*;
use pyo3::types::PyDict;

mod arrays;
mod interrupt;
mod sessions;

pyo3::create_exception!(
    ssrnet_parity,
    ParityError,
    pyo3::exceptions::PyValueError,
    "A bad file or argument: the message is the line the command line prints after `error: `."
);

/// What a subcommand concluded: `(json, exit_code, warnings, error, markdown, html)`; `json` is the
/// document `--format json` prints (or `None`), `error` the `error:` line printed after it, and
/// `markdown` and `html` the report as `--format markdown` prints it and `--format html` writes it.
type Concluded = (Option<String>, u8, Vec<String>, Option<String>, Option<String>, Option<String>);

/// Runs the command line `argv` (without the program name) and returns what it concluded
/// instead of printing it. A usage error or a bad file raises `ParityError`.
#[pyfunction]
fn document(py: Python<'_>, argv: Vec<String>) -> PyResult<Concluded> {
    let stop = Arc::new(AtomicBool::new(false));
    let args = std::iter::once("ssrnet-parity".to_string()).chain(argv);
    let worker_stop = Arc::clone(&stop);
    let concluded = interrupt::run(py, &stop, move || ssrnet_parity::document(args, &worker_stop))?;
    let doc = concluded.map_err(ParityError::new_err)?;
    Ok((doc.json, doc.exit_code, doc.warnings, doc.error, doc.markdown, doc.html))
}

/// The `ssrnet-parity` console script: `argv` (the program name first) run as the binary runs it,
/// printing as it prints; returns its exit code.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> u8 {
    // SAFETY: the console script calls this first, before it starts any thread of its own.
    unsafe { ssrnet_parity::set_up_process() };
    py.detach(|| exit_code(ssrnet_parity::run(argv)))
}

/// The number an [`std::process::ExitCode`] stands for (0, 1 or 2).
fn exit_code(code: std::process::ExitCode) -> u8 {
    use std::process::ExitCode;
    [0u8, 1, 2].into_iter().find(|&n| ExitCode::from(n) == code).unwrap_or(2)
}

/// One backend run once on `feeds` (`{name: ndarray}`); returns `{output name: ndarray}`. The
/// loaded model is kept for the next call ([`sessions`]).
#[pyfunction]
#[pyo3(signature = (model, feeds, backend = "ort", threads = None))]
fn run<'py>(
    py: Python<'py>,
    model: std::path::PathBuf,
    feeds: &Bound<'py, PyDict>,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let backend: parity_engine::BackendName = backend.parse().map_err(error)?;
    let feeds = arrays::Feeds::read(feeds)?;
    let inputs = feeds.views()?;
    let outputs = py.detach(|| sessions::run(backend, &model, threads, &inputs));
    arrays::to_dict(py, outputs.map_err(error)?)
}

/// Every value the model computes on one backend for each of `cases` (`[{name: ndarray}]`):
/// `[{value name: ndarray}]`, each node output (onnxruntime and tract run the graph with every
/// value exposed; RTen reads them). The model is prepared once for all cases.
#[pyfunction]
#[pyo3(signature = (model, cases, backend = "ort", threads = None))]
fn values<'py>(
    py: Python<'py>,
    model: std::path::PathBuf,
    cases: Vec<Bound<'py, PyDict>>,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let backend: parity_engine::BackendName = backend.parse().map_err(error)?;
    let inputs = cases.iter().map(arrays::named_tensors).collect::<PyResult<Vec<_>>>()?;
    let values = py.detach(|| {
        let options = sessions::options(&model, threads)?;
        let quiet = parity_engine::sink::Quiet;
        parity_engine::localize::trace::values(backend, &model, &inputs, &options, &quiet)
    });
    values.map_err(error)?.into_iter().map(|v| arrays::to_dict(py, v)).collect()
}

/// The PyTorch module each value of the model was computed in, as the export records it
/// (dynamo's node metadata, legacy scope names): `{value: (module, module_class, source)}` for
/// the values whose node says.
#[pyfunction]
fn origins(model: std::path::PathBuf) -> PyResult<BTreeMap<String, Described>> {
    let onnx = parity_core::onnx::OnnxModel::read(&model).map_err(error)?;
    let graph = onnx.proto.graph.as_ref().expect("read_model guarantees a graph");
    Ok(parity_graph::scope::of_graph(graph)
        .into_iter()
        .map(|(value, o)| (value, (o.module, o.module_class, o.source)))
        .collect())
}

/// An origin as Python receives it: `(module, module_class, source)`.
type Described = (Option<String>, Option<String>, Option<String>);

/// The cases (`[{input name: ndarray}]`) on each backend, compared with `expected` (`[{output
/// name: ndarray}]`); returns the JSON of the check report, its exit code and its Markdown.
#[pyfunction]
#[pyo3(signature = (model, cases, expected, backends = None, atol = None, rtol = None))]
fn check_arrays(
    py: Python<'_>,
    model: std::path::PathBuf,
    cases: Vec<Bound<'_, PyDict>>,
    expected: Vec<Bound<'_, PyDict>>,
    backends: Option<Vec<String>>,
    atol: Option<f64>,
    rtol: Option<f64>,
) -> PyResult<(String, u8, String, String)> {
    let cases = cases.iter().map(arrays::named_tensors).collect::<PyResult<Vec<_>>>()?;
    let expected = expected.iter().map(arrays::named_tensors).collect::<PyResult<Vec<_>>>()?;
    let backends = backends
        .unwrap_or_default()
        .iter()
        .map(|b| b.parse::<parity_engine::BackendName>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(error)?;
    let stop = Arc::new(AtomicBool::new(false));
    let worker_stop = Arc::clone(&stop);
    let criteria = parity_engine::settings::Criteria { atol, rtol, ..Default::default() };
    let request = parity_engine::check::Arrays { model, cases, expected, backends, criteria };
    let sink = interrupt::Stoppable(worker_stop);
    let report = interrupt::run(py, &stop, move || parity_engine::check::arrays(request, &sink))?
        .map_err(error)?;
    let code = match report.verdict {
        parity_engine::report::Outcome::Pass => 0,
        parity_engine::report::Outcome::Fail => 1,
        _ => 2,
    };
    let json = serde_json::to_string(&report).map_err(error)?;
    Ok((json, code, ssrnet_parity::markdown(&report), ssrnet_parity::html(&report)))
}

/// An engine error as a `ParityError` with its one line.
fn error(e: impl std::fmt::Display) -> PyErr {
    ParityError::new_err(parity_core::error::one_line(&e.to_string()))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // A panic inside a backend library is caught and reported as that backend's error; the quiet
    // hook keeps Rust's panic text and backtrace off the interpreter's stderr.
    parity_core::panic::install_quiet_hook();
    m.add("ParityError", m.py().get_type::<ParityError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(document, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(values, m)?)?;
    m.add_function(wrap_pyfunction!(origins, m)?)?;
    m.add_function(wrap_pyfunction!(check_arrays, m)?)?;
    Ok(())
}

//! `ssrnet-parity inspect MODEL`: what a model declares and which backends can run it.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::Verdict;
use crate::output::{Format, table};
use parity_core::onnx::{OnnxModel, dtype_string, shape_string};
use parity_engine::BackendName;

#[derive(clap::Args)]
pub struct Args {
    /// The ONNX model to describe.
    model: PathBuf,
    /// Backends to ask about op support (default: all).
    #[arg(long, value_delimiter = ',', value_parser = crate::args::backend())]
    backend: Vec<BackendName>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Serialize)]
struct Io {
    name: String,
    dtype: String,
    shape: String,
}

#[derive(Serialize)]
struct Support {
    backend: &'static str,
    /// Whether the backend has every op of the model (its runtime decides the rest when it loads).
    supported: bool,
    /// The default-domain opsets the backend declares, `[first, last]`.
    opsets: [i64; 2],
    /// Whether the model's opset is among them (outside them is a warning, not a refusal).
    opset_supported: bool,
    unsupported_ops: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct Inspection {
    model: String,
    file_bytes: u64,
    ir_version: i64,
    opset: Option<i64>,
    producer: String,
    inputs: Vec<Io>,
    outputs: Vec<Io>,
    metadata: std::collections::BTreeMap<String, String>,
    nodes: usize,
    parameters: u64,
    op_histogram: std::collections::BTreeMap<String, usize>,
    external_data: std::collections::BTreeMap<String, usize>,
    backends: Vec<Support>,
}

pub fn run(args: Args) -> Result<Verdict> {
    let model = OnnxModel::read(&args.model)?;
    let io = |v: &&parity_core::onnx::proto::ValueInfoProto| Io {
        name: v.name().to_string(),
        dtype: dtype_string(v),
        shape: shape_string(v),
    };
    let backends = parity_engine::registry::chosen(&args.backend)
        .into_iter()
        .map(|b| {
            let runtime = b.runtime();
            let range = runtime.opsets();
            let opsets = [*range.start(), *range.end()];
            let opset_supported = model.opset().is_none_or(|v| range.contains(&v));
            match runtime.unsupported_ops(&args.model) {
                Ok(ops) => Support {
                    backend: b.as_str(),
                    supported: ops.is_empty(),
                    opsets,
                    opset_supported,
                    unsupported_ops: ops,
                    error: None,
                },
                Err(e) => Support {
                    backend: b.as_str(),
                    supported: false,
                    opsets,
                    opset_supported,
                    unsupported_ops: Vec::new(),
                    error: Some(e.to_string()),
                },
            }
        })
        .collect();
    let report = Inspection {
        model: args.model.display().to_string(),
        file_bytes: model.file_bytes,
        ir_version: model.proto.ir_version(),
        opset: model.opset(),
        producer: format!("{} {}", model.proto.producer_name(), model.proto.producer_version())
            .trim()
            .to_string(),
        inputs: model.inputs().iter().map(io).collect(),
        outputs: model.graph().output.iter().collect::<Vec<_>>().iter().map(io).collect(),
        metadata: model.metadata(),
        nodes: model.graph().node.len(),
        parameters: model.parameter_count(),
        op_histogram: model.op_histogram(),
        external_data: model.external_data(),
        backends,
    };
    match args.format {
        Format::Json => crate::output::print_json(&report)?,
        Format::Jsonl => crate::output::print_json_line(&report)?,
        Format::Text | Format::Markdown => print_text(&report, args.format),
    }
    Ok(Verdict::Pass)
}

/// Text from the model file (names, metadata, producer) is escaped: it may hold control bytes.
fn print_text(r: &Inspection, format: Format) {
    let e = crate::output::escape_control;
    let opset = r.opset.map_or("?".to_string(), |o| o.to_string());
    println!("model      {} ({} bytes)", r.model, r.file_bytes);
    println!("producer   {}  (ir {}, opset {opset})", e(&r.producer), r.ir_version);
    println!("graph      {} nodes, {} parameters", r.nodes, r.parameters);
    if r.external_data.is_empty() {
        println!("weights    inline");
    } else {
        for (file, n) in &r.external_data {
            println!("weights    external: {n} initializers in {}", e(file));
        }
    }
    let mut io = table(format, &["", "name", "dtype", "shape"]);
    for (kind, list) in [("input", &r.inputs), ("output", &r.outputs)] {
        for v in list {
            io.add_row(vec![kind.to_string(), e(&v.name), v.dtype.to_string(), e(&v.shape)]);
        }
    }
    println!("{io}");
    if !r.metadata.is_empty() {
        let mut meta = table(format, &["metadata", "value"]);
        for (k, v) in &r.metadata {
            meta.add_row(vec![e(k), e(v)]);
        }
        println!("{meta}");
    }
    let mut ops = table(format, &["op", "count"]);
    for (op, n) in &r.op_histogram {
        ops.add_row(vec![e(op), n.to_string()]);
    }
    println!("{ops}");
    let mut support = table(format, &["backend", "opsets", "runs every op"]);
    for s in &r.backends {
        let mut detail = match (&s.error, s.unsupported_ops.is_empty()) {
            (Some(err), _) => format!("error: {}", e(err)),
            (None, true) => "yes".to_string(),
            (None, false) => format!("no: {}", e(&s.unsupported_ops.join(", "))),
        };
        if !s.opset_supported {
            detail = format!("{detail} (warning: opset {opset} is outside the declared opsets)");
        }
        let opsets = format!("{}-{}", s.opsets[0], s.opsets[1]);
        support.add_row(vec![s.backend.to_string(), opsets, detail]);
    }
    println!("{support}");
}

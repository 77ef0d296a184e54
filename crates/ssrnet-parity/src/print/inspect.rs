//! How the CLI prints `inspect`'s [`Inspection`]: text or Markdown tables (JSON is the document).

use parity_engine::inspect::Inspection;

use crate::print::{Format, table};

/// Text from the model file (names, metadata, producer) is escaped: it may hold control bytes.
pub fn print_text(r: &Inspection, format: Format) {
    let e = crate::print::escape_control;
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

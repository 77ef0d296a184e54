//! `ssrnet-parity inspect MODEL`: what a model declares and which backends can run it.

use std::path::PathBuf;

use anyhow::Result;

use crate::Verdict;
use crate::print::Format;
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

pub fn run(args: Args) -> Result<Verdict> {
    crate::print::no_html(args.format)?;
    let report = parity_engine::inspect::inspect(&args.model, &args.backend)?;
    match args.format {
        Format::Json => crate::print::print_json(&report)?,
        Format::Jsonl => crate::print::print_json_line(&report)?,
        Format::Text | Format::Markdown | Format::Html => {
            crate::print::inspect::print_text(&report, args.format)
        }
    }
    Ok(Verdict::Pass)
}

//! `ssrnet-parity`: proves that an ONNX export of SSRNet computes what PyTorch computes, on onnxruntime,
//! tract and candle. `main` parses the command line and calls one subcommand module's `run`.
//!
//! Exit codes: 0 pass, 1 a negative verdict (parity mismatch), 2 an error (bad input, bad usage).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod preprocess;

#[derive(Parser)]
#[command(name = "ssrnet-parity", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode, resize and normalise images exactly as cv2.imread + cv2.resize; write NCHW float32 .npy.
    Preprocess(preprocess::Args),
}

/// What a subcommand concluded, when it did not fail with an error.
pub enum Verdict {
    /// Exit 0.
    Pass,
    /// Exit 1: a parity mismatch, never hidden.
    Fail,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Preprocess(args) => preprocess::run(args),
    };
    match result {
        Ok(Verdict::Pass) => ExitCode::SUCCESS,
        Ok(Verdict::Fail) => ExitCode::from(1),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

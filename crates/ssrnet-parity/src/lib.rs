//! `ssrnet-parity`: proves that an ONNX export computes what PyTorch computes, on onnxruntime, tract,
//! candle and RTen. The command line's front end over [`parity_engine`]: [`run`] parses arguments,
//! turns a subcommand's flags into the engine's request (`args/`, one module per subcommand) and
//! prints what the engine returns (`print/`); [`document`] runs a subcommand for another front end
//! (the Python package) and returns its JSON document instead of printing it.
//!
//! Exit codes: 0 pass, 1 a negative verdict (parity mismatch), 2 an error (bad input, bad usage).

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Parser, Subcommand};

mod args;
mod paths;
mod print;
mod signals;

use args::{bench, check, compare, diff, inspect, localize, merge, predict, preprocess, record};
pub use print::capture::Document;

/// A check, compare, diff or merge report in Markdown, as `--format markdown` prints it.
pub fn markdown(report: &parity_engine::report::ParityReport) -> String {
    print::report::text(report, print::Format::Markdown)
}

/// A check, compare, diff or merge report as the page `--format html` writes.
pub fn html(report: &parity_engine::report::ParityReport) -> String {
    print::html::parity::render(report)
}

#[derive(Parser)]
#[command(name = "ssrnet-parity", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Let the runtimes' own log lines (onnxruntime's) through to stderr.
    #[arg(long, global = true)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Check a model against a golden set on every backend (default: the committed demo goldens).
    Check(check::Args),
    /// Compare backends against a reference backend on images, golden inputs or random inputs.
    Compare(compare::Args),
    /// Regression after a re-export: the same inputs through OLD and NEW on one backend.
    Diff(diff::Args),
    /// Estimate the age of face crops.
    Predict(predict::Args),
    /// Write a golden set from a trusted backend.
    Record(record::Args),
    /// Describe a model: IO, opset, producer, metadata, ops, external data, backend support.
    Inspect(inspect::Args),
    /// Where two runs part: the first node whose own error (run alone) or cumulative error exceeds
    /// the tolerance, backend against backend or export against export.
    Localize(localize::Args),
    /// Fold the JSON reports of a run's shards (`--shard K/N --format json`) into one report.
    Merge(merge::Args),
    /// Median/p90 latency, throughput and GFLOP/s per backend, batch and thread count.
    Bench(bench::Args),
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

/// The process-wide set-up of a front end that owns its process (the binary, the Python console
/// script): onnxruntime's telemetry store off, candle's element-wise ops on the calling thread, the
/// signal dispositions, the quiet panic hook.
///
/// # Safety
/// Call first thing in the process's `main`, before any thread starts (it sets an environment
/// variable).
pub unsafe fn set_up_process() {
    // SAFETY: the caller's promise: no other thread exists yet.
    unsafe { backend_ort::keep_telemetry_store_off() };
    // SAFETY: as above.
    unsafe { backend_candle::keep_element_wise_on_caller() };
    signals::install();
    // A panic inside a backend library is caught and reported as that backend's error; the quiet
    // hook keeps Rust's panic text and backtrace off stderr, which must stay one `error:` line.
    parity_core::panic::install_quiet_hook();
}

/// The command line `args` (the program name first) run to the end: the report printed, warnings
/// and the one `error:` line on stderr, and the exit code returned.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    backend_ort::set_verbose_logging(cli.verbose);
    let result = dispatch_caught(cli.command);
    let warnings = print::capture::take_warnings();
    if result.is_ok() {
        print::capture::print_warnings(&warnings);
    }
    match result {
        Ok(Verdict::Pass) => ExitCode::SUCCESS,
        Ok(Verdict::Fail) => ExitCode::from(1),
        Err(err) => {
            eprintln!("error: {}", error_line(&err));
            ExitCode::from(2)
        }
    }
}

/// The command line `args` (the program name first; the caller adds `--format json` where the
/// subcommand takes it) run with nothing printed on stdout: the JSON document the command would
/// have printed, its exit code and its warnings. `Err` is the one line the command would have
/// printed after `error: ` when it printed no document (a usage error, a bad file). Setting `stop`
/// ends a check or compare between cases, with the error `interrupted`.
pub fn document<I, T>(args: I, stop: &Arc<AtomicBool>) -> Result<Document, String>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|err| {
        one_line(&err.render().to_string()).trim_start_matches("error: ").to_string()
    })?;
    let (result, captured) = print::capture::capturing(stop, || dispatch_caught(cli.command));
    let warnings = print::capture::take_warnings();
    let exit_code = match &result {
        Ok(Verdict::Pass) => 0,
        Ok(Verdict::Fail) => 1,
        Err(_) => 2,
    };
    let error = match (&captured.json, result) {
        (None, Err(err)) => return Err(error_line(&err)),
        (_, result) => result.err().map(|e| error_line(&e)),
    };
    let (json, markdown, html) = (captured.json, captured.markdown, captured.html);
    Ok(Document { json, exit_code, warnings, error, markdown, html })
}

/// `dispatch`, with a panic that escapes a subcommand turned into an error.
fn dispatch_caught(command: Command) -> anyhow::Result<Verdict> {
    parity_core::panic::catch(|| dispatch(command)).unwrap_or_else(|panicked| {
        Err(anyhow::anyhow!(
            "internal error (a bug in ssrnet-parity, please report it): {panicked}"
        ))
    })
}

/// An error as one line, even when a backend's message spans several, control characters escaped;
/// a cause that its error's message already ends with is not repeated.
fn error_line(err: &anyhow::Error) -> String {
    let mut causes: Vec<String> = Vec::new();
    for cause in err.chain().map(ToString::to_string) {
        if !causes.last().is_some_and(|last| last.ends_with(&cause)) {
            causes.push(cause);
        }
    }
    let msg = causes.join(": ");
    let msg: Vec<&str> = msg.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    print::escape_control(&msg.join(" "))
}

fn dispatch(command: Command) -> anyhow::Result<Verdict> {
    match command {
        Command::Check(args) => check::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Record(args) => record::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Localize(args) => localize::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Preprocess(args) => preprocess::run(args),
    }
}

/// `--help`/`--version` print as clap prints them (exit 0); a usage error becomes one `error:` line
/// on stderr (clap's message without its usage block, valid values inline) and exit 2.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // Printing help can only fail on a closed stdout, which is nothing to report.
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = err.print();
        return ExitCode::from(2);
    }
    eprintln!("{}", one_line(&err.render().to_string()));
    ExitCode::from(2)
}

/// clap's rendered error as one line: the usage block, blank lines and `For more information`
/// dropped, the rest joined.
fn one_line(rendered: &str) -> String {
    let mut parts = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") {
            break;
        }
        if !line.is_empty() && !line.starts_with("For more information") {
            parts.push(line);
        }
    }
    let line = parts.join(" ");
    if line.starts_with("error:") { line } else { format!("error: {line}") }
}

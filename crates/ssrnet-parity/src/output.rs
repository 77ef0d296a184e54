//! Output formats shared by the subcommands: text tables for people, one JSON document for machines,
//! Markdown for pull-request comments.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use clap::ValueEnum;
use comfy_table::{Table, presets};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// JSON Lines: one record a line (a case or an image where a command streams them, else its
    /// one document on one line).
    Jsonl,
}

/// A table with `header`, drawn for a terminal or as a Markdown table.
pub fn table(format: Format, header: &[&str]) -> Table {
    let mut t = Table::new();
    match format {
        Format::Markdown => {
            t.load_style(presets::ASCII_MARKDOWN);
        }
        _ => {
            t.load_style(presets::UTF8_FULL_CONDENSED);
        }
    }
    t.set_header(header.to_vec());
    t
}

/// `s` with every control character (ESC, CR, ...) written as an escape (`\x1b`), so text that
/// comes from a file (tensor names, model metadata) cannot drive the terminal.
pub fn escape_control(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if !c.is_control() => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out
}

thread_local! {
    /// The warnings of the run on this thread, printed once at its end when it ends without an
    /// error (an error stays the one line on stderr), in the order first given. The run's other
    /// threads reach them through their sink ([`AtEnd::current`]), so runs on several threads at
    /// once (Python's) each keep their own.
    static AT_END: AtEnd = AtEnd::default();
}

/// The warnings kept for the end of one run.
#[derive(Clone, Default)]
pub struct AtEnd(Arc<std::sync::Mutex<Vec<String>>>);

impl AtEnd {
    /// The warnings of the run on this thread.
    pub fn current() -> AtEnd {
        AT_END.with(AtEnd::clone)
    }

    /// Keeps `warning`; the same warning given twice is kept once.
    pub fn keep(&self, warning: String) {
        let mut kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !kept.contains(&warning) {
            kept.push(warning);
        }
    }

    /// The warnings kept, which are kept no longer.
    fn take(&self) -> Vec<String> {
        let mut kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *kept)
    }
}

/// Prints `warnings` on stderr, `warning: ` first.
pub fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {}", escape_control(warning));
    }
}

/// The warnings of the run on this thread, which are kept no longer.
pub fn take_warnings() -> Vec<String> {
    AtEnd::current().take()
}

/// What a subcommand run by [`crate::document`] concluded.
#[derive(Debug, Clone)]
pub struct Document {
    /// The JSON document `--format json` prints, as its text (numbers as the command line writes
    /// them: an f32 as its shortest decimal), or `None` for a command that prints none.
    pub json: Option<String>,
    /// The exit code the command would have ended with: 0 pass, 1 a negative verdict, 2 an error.
    pub exit_code: u8,
    /// The warnings the command would have printed at its end.
    pub warnings: Vec<String>,
    /// The `error:` line printed after the document (a report whose verdict is an error).
    pub error: Option<String>,
}

thread_local! {
    /// While [`capturing`] runs on this thread: the document [`print_json`] was given.
    static CAPTURED: std::cell::RefCell<Option<Option<String>>> =
        const { std::cell::RefCell::new(None) };
    /// While [`capturing`] runs on this thread: the caller's request to stop.
    static STOP: std::cell::RefCell<Option<Arc<AtomicBool>>> = const { std::cell::RefCell::new(None) };
}

/// `f` run with [`print_json`] keeping its document instead of printing it, [`note`] silent, and
/// [`Stop::current`] reading `stop`; returns `f`'s result and the document.
pub fn capturing<R>(stop: &Arc<AtomicBool>, f: impl FnOnce() -> R) -> (R, Option<String>) {
    CAPTURED.with(|c| *c.borrow_mut() = Some(None));
    STOP.with(|s| *s.borrow_mut() = Some(Arc::clone(stop)));
    let result = f();
    STOP.with(|s| s.borrow_mut().take());
    let document = CAPTURED.with(|c| c.borrow_mut().take()).flatten();
    (result, document)
}

/// The request to stop of the caller of [`capturing`] on this thread, if any: read from any
/// thread of the run (the command line stops by its signal handler instead).
#[derive(Clone, Default)]
pub struct Stop(Option<Arc<AtomicBool>>);

impl Stop {
    /// This thread's caller's.
    pub fn current() -> Stop {
        Stop(STOP.with(|s| s.borrow().clone()))
    }

    /// Whether the caller asked the run to stop (checked between cases).
    pub fn requested(&self) -> bool {
        self.0.as_ref().is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Whether this thread is inside [`capturing`].
pub fn is_capturing() -> bool {
    CAPTURED.with(|c| c.borrow().is_some())
}

/// A line for the person at the terminal on stderr (`wrote 3 cases to ...`); nothing when captured.
pub fn note(line: &str) {
    if !is_capturing() {
        eprintln!("{}", escape_control(line));
    }
}

/// Exactly one JSON document on stdout (kept instead inside [`capturing`]).
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    if is_capturing() {
        keep_json(serde_json::to_string(value)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Inside [`capturing`], `json` is the document kept.
pub fn keep_json(json: String) {
    CAPTURED.with(|c| {
        if let Some(kept) = c.borrow_mut().as_mut() {
            *kept = Some(json);
        }
    });
}

/// `value` as one compact line of JSON on stdout.
pub fn print_json_line<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Whether colour may be used on stdout.
pub fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// `PASS`/`FAIL`, green/red on a terminal.
pub fn verdict_word(pass: bool) -> String {
    let (word, code) = if pass { ("PASS", "32") } else { ("FAIL", "31") };
    if color() { format!("\x1b[1;{code}m{word}\x1b[0m") } else { word.to_string() }
}

/// A spinner/bar on stderr, drawn only when stderr is a terminal (indicatif hides it otherwise).
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed} elapsed, ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// clap value parser: a thread count from 1 to [`parity_core::backend::max_threads`].
pub fn thread_count(s: &str) -> Result<usize, String> {
    let n = at_least_one(s)?;
    let max = parity_core::backend::max_threads();
    if n > max {
        return Err(format!("must be at most {max} (four per core on this machine)"));
    }
    Ok(n)
}

/// The most random cases `--random` makes (they are generated before the run).
pub const MAX_RANDOM_CASES: usize = 100_000;

/// clap value parser: a number of random cases, from 1 to [`MAX_RANDOM_CASES`].
pub fn random_count(s: &str) -> Result<usize, String> {
    let n = at_least_one(s)?;
    if n > MAX_RANDOM_CASES {
        return Err(format!("must be at most {MAX_RANDOM_CASES}"));
    }
    Ok(n)
}

/// The most images one streamed batch holds (`predict --batch`): two batches are in memory at a
/// time, each image decoded and resized.
pub const MAX_STREAM_BATCH: usize = 1024;

/// clap value parser: a streamed batch size, from 1 to [`MAX_STREAM_BATCH`].
pub fn batch_size(s: &str) -> Result<usize, String> {
    let n = at_least_one(s)?;
    if n > MAX_STREAM_BATCH {
        return Err(format!("must be at most {MAX_STREAM_BATCH}"));
    }
    Ok(n)
}

/// clap value parser: an integer of at least 1 (batch sizes).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("must be an integer of at least 1".into()),
    }
}

/// clap value parser: a finite number above zero (seconds).
pub fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 3600.0 => Ok(x),
        _ => Err("must be a number of seconds above 0 (at most 3600)".into()),
    }
}

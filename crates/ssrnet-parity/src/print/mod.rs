//! Everything the command line prints: the output formats shared by the subcommands (text tables
//! for people, one JSON document for machines, Markdown for pull-request comments), the reports
//! ([`report`], [`localize`]), the engine's events on the terminal ([`terminal`]), and where
//! output goes when another front end runs a subcommand ([`capture`]).

pub mod bench;
pub mod capture;
pub mod html;
pub mod inspect;
pub mod localize;
pub mod predict;
pub mod report;
pub mod terminal;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

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
    /// One self-contained HTML page with plots, written to --output FILE (check, compare, diff,
    /// localize, merge).
    Html,
}

/// How a report-writing command (check, compare, diff, localize, merge) writes its report: the
/// format, and for `--format html` the page's file.
#[derive(clap::Args, Clone, Debug)]
pub struct Output {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The file `--format html` writes its page to (whole, or not at all; never over an input).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl Output {
    /// The page's file with `--format html`; an error for `--format html` without `--output`, or
    /// `--output` with another format (which prints to stdout). Checked before the run.
    pub fn html_file(&self) -> Result<Option<&Path>> {
        match (self.format, &self.output) {
            (Format::Html, Some(file)) => Ok(Some(file)),
            (Format::Html, None) => anyhow::bail!("--format html needs --output FILE"),
            (_, Some(file)) => anyhow::bail!(
                "--output {}: only --format html writes to a file (the other formats print to stdout)",
                file.display()
            ),
            (_, None) => Ok(None),
        }
    }
}

/// An error for `--format html` on a command that writes no report page.
pub fn no_html(format: Format) -> Result<()> {
    if format == Format::Html {
        anyhow::bail!("--format html is for check, compare, diff, localize and merge");
    }
    Ok(())
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

/// A line for the person at the terminal on stderr (`wrote 3 cases to ...`); nothing when captured.
pub fn note(line: &str) {
    if !capture::is_capturing() {
        eprintln!("{}", escape_control(line));
    }
}

/// Exactly one JSON document on stdout (kept instead inside [`capture::capturing`]).
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    if capture::is_capturing() {
        capture::keep_json(serde_json::to_string(value)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
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

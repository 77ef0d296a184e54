//! The one error type of this crate; every message is lowercase and names the offending input.

use std::path::PathBuf;

/// Result alias used across the core crate and by the backend traits.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core and in a backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file was read but its content is not what it should be (corrupt npz, bad manifest, ...).
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    /// A backend failed to load or run a model; `backend` is its name.
    #[error("{backend}: {message}")]
    Backend { backend: &'static str, message: String },
    /// Input tensors do not fit the model (wrong name, dtype, rank or size).
    #[error("{0}")]
    Input(String),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Invalid { path: path.into(), message: message.into() }
    }

    /// Shorthand for [`Error::Backend`]; the message is made one line ([`one_line`]), so a
    /// backtrace a runtime library captured into its error never reaches a report.
    pub fn backend(backend: &'static str, message: impl std::fmt::Display) -> Self {
        Error::Backend { backend, message: one_line(&message.to_string()) }
    }
}

/// `message` as one line: a captured backtrace (a `stack backtrace:` line, or the first numbered
/// frame such as `   0: candle_core::error::Error::bt`, after the first line) and everything after
/// it are cut, and the remaining non-empty lines are joined with `; `. Libraries such as candle capture a backtrace
/// into their errors when `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` is set.
pub fn one_line(message: &str) -> String {
    let is_frame = |line: &str| {
        let line = line.trim_start();
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        line == "stack backtrace:" || (digits > 0 && line[digits..].starts_with(": "))
    };
    // The first line is the message itself, whatever it starts with.
    message
        .lines()
        .enumerate()
        .take_while(|(i, line)| *i == 0 || !is_frame(line))
        .map(|(_, line)| line.trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_captured_backtrace_is_cut_and_the_rest_is_one_line() {
        let captured = "LSTM currently only supports direction == \"forward\"\n   0: candle_core::error::Error::bt\n             at src/error.rs:1\n   1: candle_onnx::eval::simple_eval\n";
        assert_eq!(one_line(captured), "LSTM currently only supports direction == \"forward\"");
        assert_eq!(one_line("first\n\n  second  \n"), "first; second");
        assert_eq!(one_line("opset 10: 3 nodes"), "opset 10: 3 nodes");
        assert_eq!(one_line("x\nstack backtrace:\n  frames"), "x");
        assert_eq!(
            one_line("0: a first line that looks like a frame"),
            "0: a first line that looks like a frame"
        );
    }
}

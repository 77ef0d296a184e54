//! candle's errors as one-line messages: candle captures a backtrace into an error
//! (`Error::WithBacktrace`) whenever `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` is set, and its
//! `Display` prints the frames; a report wants the message alone.

/// The message of `e`, without a captured backtrace, on one line.
pub(crate) fn message(e: &candle_core::Error) -> String {
    use candle_core::Error as E;
    match e {
        E::WithBacktrace { inner, .. } => message(inner),
        E::Context { inner, context } => format!("{context}: {}", message(inner)),
        E::WithPath { inner, path } => format!("{}: {}", path.display(), message(inner)),
        other => parity_core::error::one_line(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn a_backtrace_captured_into_the_error_is_not_in_its_message() {
        // SAFETY: tests of this crate read no environment variable concurrently with this one.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "1") };
        let e = candle_core::Error::msg("LSTM currently only supports direction == \"forward\"");
        assert!(matches!(e, candle_core::Error::WithBacktrace { .. }), "{e:?}");
        assert!(e.to_string().lines().count() > 1, "candle's own Display prints the frames");
        let e = e.context("node lstm");
        assert_eq!(message(&e), "node lstm: LSTM currently only supports direction == \"forward\"");
    }
}

//! Panics inside backend libraries become errors: one quiet hook, one catcher.
//!
//! A runtime library may panic on a model it does not expect (candle-onnx indexes out of bounds on
//! some `Pad` nodes). Backends run such code inside [`catch`], which turns the panic into a
//! [`Panic`] (`panic at candle-onnx-0.11.1/src/eval.rs:1193:33: index out of bounds ...`). Rust's default
//! hook would still print `thread '...' panicked at ...` (and, with `RUST_BACKTRACE=1`, a whole
//! backtrace) before the unwinding reaches [`catch`], so a program whose stderr must stay one
//! `error:` line installs [`install_quiet_hook`] once at start-up: the hook records where the panic
//! happened for [`catch`] to report and prints nothing.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, PanicHookInfo, catch_unwind};
use std::sync::Mutex;

/// What the quiet hook saw of the latest panic.
static LAST_PANIC: Mutex<Option<Panic>> = Mutex::new(None);

/// A caught panic: where it happened (known when [`install_quiet_hook`] is in place) and its
/// message. Displays as `panic at <file>:<line>:<column>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    pub location: Option<String>,
    pub message: String,
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "panic at {at}: {}", self.message),
            None => write!(f, "panic: {}", self.message),
        }
    }
}

/// Replaces the process's panic hook by one that prints nothing and keeps the panic's location
/// and message for [`catch`].
pub fn install_quiet_hook() {
    std::panic::set_hook(Box::new(|info: &PanicHookInfo<'_>| {
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", short_source_path(l.file()), l.line(), l.column()));
        let panic = Panic { location, message: payload_message(info.payload()) };
        *LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) = Some(panic);
    }));
}

/// Runs `f`; a panic inside it becomes a [`Panic`] instead of unwinding further.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Panic> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let recorded = LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()).take();
        recorded
            .unwrap_or_else(|| Panic { location: None, message: payload_message(payload.as_ref()) })
    })
}

/// The text of a panic payload (`panic!("...")` gives `&str` or `String`).
fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// A dependency's source path from the crate directory on (`candle-onnx-0.11.1/src/eval.rs`),
/// rather than the whole path into the cargo registry.
fn short_source_path(file: &str) -> &str {
    match file.find("/registry/src/") {
        Some(i) => {
            let rest = &file[i + "/registry/src/".len()..];
            rest.split_once('/').map_or(rest, |(_, path)| path)
        }
        None => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_paths_are_shortened() {
        assert_eq!(
            short_source_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/candle-onnx-0.11.1/src/eval.rs"
            ),
            "candle-onnx-0.11.1/src/eval.rs"
        );
        assert_eq!(short_source_path("src/lib.rs"), "src/lib.rs");
    }

    #[test]
    fn a_panic_becomes_its_message() {
        let err = catch(|| -> u8 { panic!("index out of bounds") }).unwrap_err();
        assert_eq!(err.message, "index out of bounds");
        assert!(err.to_string().starts_with("panic"), "{err}");
        assert_eq!(catch(|| 7), Ok(7));
    }
}

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

    /// Shorthand for [`Error::Backend`].
    pub fn backend(backend: &'static str, message: impl std::fmt::Display) -> Self {
        Error::Backend { backend, message: message.to_string() }
    }
}

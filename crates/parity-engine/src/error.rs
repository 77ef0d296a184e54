//! The one error type of the engine.

/// Result alias of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine; every message is one lowercase line naming the
/// offending input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file, a model, a tensor or a backend failed (parity-core's error, naming the file).
    #[error(transparent)]
    Core(#[from] parity_core::Error),
    /// A value given to the engine that it cannot use: an unknown backend name, a shard outside
    /// its count, an environment variable that is not a number.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// Shorthand for [`Error::Usage`].
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }
}

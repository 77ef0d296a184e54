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
    /// An image could not be decoded or preprocessed (cv-preprocess's error, naming the file).
    #[error(transparent)]
    Image(#[from] cv_preprocess::Error),
    /// A value, an argument or an input the engine cannot use: an unknown backend name, a shard
    /// outside its count, a corpus that names no image.
    #[error("{0}")]
    Invalid(String),
    /// A backend could not load or run a model: one line naming the backend, the model and the
    /// case ([`crate::load::backend_error`]).
    #[error("{0}")]
    Backend(String),
    /// The caller asked the run to stop ([`crate::sink::Sink::stop_requested`]).
    #[error("interrupted")]
    Interrupted,
}

/// Shorthand for [`Error::Invalid`].
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid(message.into())
}

/// `return Err(Error::Invalid(format!(...)))`.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::invalid(format!($($arg)*)))
    };
}

/// [`Error::Interrupted`] once `sink` asks the run to stop.
pub(crate) fn stop_point(sink: &dyn crate::sink::Sink) -> Result<()> {
    match sink.stop_requested() {
        true => Err(Error::Interrupted),
        false => Ok(()),
    }
}

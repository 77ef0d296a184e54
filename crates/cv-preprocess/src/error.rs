//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while decoding, resizing or normalising. Messages are lowercase and name
/// the offending file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read (missing, unreadable, a directory, ...).
    /// (The io error is part of the message, not a `source()`, so a printed cause chain says it once.)
    #[error("cannot read '{}': {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    /// The file has no bytes at all.
    #[error("'{}' is empty (0 bytes)", path.display())]
    Empty { path: PathBuf },
    /// The file's first bytes match no image format this crate decodes.
    #[error("'{}' is not an image (unrecognised file signature)", path.display())]
    NotAnImage { path: PathBuf },
    /// The decoder rejected the file (corrupt or truncated data, unsupported variant).
    #[error("cannot decode '{}': {reason}", path.display())]
    Decode { path: PathBuf, reason: String },
    /// The header declares an image with no pixels.
    #[error("'{}' has zero size ({width}x{height})", path.display())]
    ZeroSize { path: PathBuf, width: u64, height: u64 },
    /// The header declares more pixels than [`crate::Limits`] allow (decompression-bomb guard).
    #[error("'{}' is too large: {width}x{height} exceeds the limit of {max_side} px per side and {max_pixels} pixels", path.display())]
    TooLarge { path: PathBuf, width: u64, height: u64, max_side: u64, max_pixels: u64 },
    /// A size, buffer or normalisation parameter is invalid.
    #[error("{0}")]
    InvalidSize(String),
}

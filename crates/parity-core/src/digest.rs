//! sha256 digests in lowercase hex: of a file (a model, a manifest), read in blocks, and of bytes.

use std::path::Path;

use sha2::Digest;

use crate::{Error, Result};

/// The sha256 of the regular file at `path` (of any size: it is read in blocks).
pub fn file_sha256(path: &Path) -> Result<String> {
    let (mut file, _) = crate::fsutil::open_regular(path, u64::MAX)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf)
            .map_err(|source| Error::Io { path: path.into(), source })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// The sha256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

//! The names the workspace is known by outside its code, each in one place: the prefix of its
//! environment variables, its cache directory, and the format name a golden set's manifest
//! carries.

use std::ffi::OsString;
use std::path::PathBuf;

/// Every environment variable of the workspace's own starts with this (`SSRNET_PARITY_CACHE`,
/// `SSRNET_PARITY_PYTHON`, `SSRNET_PARITY_SHARD_COUNT`, ...).
pub const ENV_PREFIX: &str = "SSRNET_PARITY_";

/// The directory name of the workspace's cache under the user's cache directory.
pub const CACHE_DIR_NAME: &str = "ssrnet-parity";

/// The `format` a golden set's manifest carries.
pub const GOLDEN_FORMAT: &str = "ssrnet-parity-golden";

/// The full name of the workspace's variable `name` (`CACHE` -> `SSRNET_PARITY_CACHE`).
pub fn env_name(name: &str) -> String {
    format!("{ENV_PREFIX}{name}")
}

/// The value of the workspace's variable `name` ([`env_name`]), when set and not empty.
pub fn env(name: &str) -> Option<OsString> {
    std::env::var_os(env_name(name)).filter(|v| !v.is_empty())
}

/// The cache directory: `$SSRNET_PARITY_CACHE`, else `$XDG_CACHE_HOME/ssrnet-parity`, else
/// `~/.cache/ssrnet-parity`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = env("CACHE") {
        return PathBuf::from(dir);
    }
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".cache"),
    };
    base.join(CACHE_DIR_NAME)
}

//! Finding libonnxruntime 1.31.1 without asking the user for anything.
//!
//! Order: `ORT_DYLIB_PATH` when set (used as given); else the cached copy
//! `${SSRNET_PARITY_CACHE:-${XDG_CACHE_HOME:-~/.cache}/ssrnet-parity}/onnxruntime-1.31.1/libonnxruntime.so.1.31.1`
//! when its sha256 is the pinned one; else the library is taken from the pinned PyPI wheel
//! (`pip download`, bounded in time), both the wheel and the library checked against pinned sha256,
//! and renamed into the cache atomically, so a concurrent or interrupted run never sees half a file.
//! Whatever fails (no pip, no network, another platform) is one error saying how to get the library.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parity_core::{Error, Result};
use sha2::{Digest, Sha256};

/// The onnxruntime version this backend is pinned to.
pub const ORT_VERSION: &str = "1.31.1";
/// File name of the shared library inside the cache (and inside the wheel).
pub const LIBRARY_FILE: &str = "libonnxruntime.so.1.31.1";
/// sha256 of `libonnxruntime.so.1.31.1` from the manylinux x86_64 wheel.
pub const LIBRARY_SHA256: &str = "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3";
/// sha256 of `onnxruntime-1.31.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl`.
pub const WHEEL_SHA256: &str = "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f";
/// Where the library sits inside the wheel.
const WHEEL_MEMBER: &str = "onnxruntime/capi/libonnxruntime.so.1.31.1";
/// The whole `pip download` may take this long before it is killed.
const PIP_DEADLINE: Duration = Duration::from_secs(300);

/// How to get the library by hand; ends every provisioning error.
const HOW_TO: &str = "set ORT_DYLIB_PATH to a libonnxruntime.so of onnxruntime 1.31.x (for example \
    `pip install onnxruntime==1.31.1` and point it at site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1)";

fn fail(message: impl std::fmt::Display) -> Error {
    Error::backend("ort", format!("cannot get libonnxruntime {ORT_VERSION}: {message}; {HOW_TO}"))
}

/// The library to load: `ORT_DYLIB_PATH` when set and non-empty, else [`Provisioner::from_env`]'s.
/// Decided once per process, so concurrent callers never download twice.
pub fn library_path() -> Result<PathBuf> {
    static PATH: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    PATH.get_or_init(|| find_library().map_err(|e| e.to_string())).clone().map_err(|message| {
        Error::Backend {
            backend: "ort",
            message: message.strip_prefix("ort: ").unwrap_or(&message).to_string(),
        }
    })
}

fn find_library() -> Result<PathBuf> {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            if p.is_file() {
                Ok(p)
            } else {
                Err(Error::backend(
                    "ort",
                    format!(
                        "ORT_DYLIB_PATH={} is not a file; unset it to provision libonnxruntime {ORT_VERSION} automatically, or {HOW_TO}",
                        p.display()
                    ),
                ))
            }
        }
        _ => Provisioner::from_env().ensure(),
    }
}

/// Fetches and caches the pinned library. Fields are public so tests can point it elsewhere.
#[derive(Debug, Clone)]
pub struct Provisioner {
    /// The ssrnet-parity cache root; the library goes to `<root>/onnxruntime-1.31.1/`.
    pub cache_root: PathBuf,
    /// Python interpreters to try `-m pip download` with, in order.
    pub pythons: Vec<OsString>,
    /// Upper bound on one `pip download`.
    pub deadline: Duration,
}

impl Provisioner {
    /// The cache from `SSRNET_PARITY_CACHE`, `XDG_CACHE_HOME` or `~/.cache`; `python3`, then
    /// `SSRNET_PARITY_PYTHON` when set.
    pub fn from_env() -> Self {
        let cache_root = parity_core::names::cache_dir();
        let mut pythons = vec![OsString::from("python3")];
        pythons.extend(parity_core::names::env("PYTHON"));
        Provisioner { cache_root, pythons, deadline: PIP_DEADLINE }
    }

    /// `<cache_root>/onnxruntime-1.31.1/libonnxruntime.so.1.31.1`.
    pub fn cached_path(&self) -> PathBuf {
        self.cache_root.join(format!("onnxruntime-{ORT_VERSION}")).join(LIBRARY_FILE)
    }

    /// The cached library, provisioning it first when it is missing or its sha256 is wrong.
    pub fn ensure(&self) -> Result<PathBuf> {
        let target = self.cached_path();
        if target.is_file() {
            if verified(&target) {
                return Ok(target);
            }
            match sha256_file(&target) {
                Ok(sum) if sum == LIBRARY_SHA256 => {
                    remember_verified(&target);
                    return Ok(target);
                }
                Ok(sum) => eprintln!(
                    "ssrnet-parity: {} has sha256 {sum}, expected {LIBRARY_SHA256}; provisioning it again",
                    target.display()
                ),
                Err(e) => eprintln!(
                    "ssrnet-parity: cannot read {}: {e}; provisioning it again",
                    target.display()
                ),
            }
        }
        self.provision(&target)?;
        Ok(target)
    }

    fn provision(&self, target: &Path) -> Result<()> {
        if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            return Err(fail(format!(
                "only the linux x86_64 wheel is pinned, this is {}-{}",
                std::env::consts::OS,
                std::env::consts::ARCH
            )));
        }
        let dir = target.parent().expect("cached_path has a parent");
        eprintln!(
            "ssrnet-parity: provisioning onnxruntime {ORT_VERSION} from PyPI into {}",
            dir.display()
        );
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        // Same directory as the target, so the final rename is atomic.
        let tmp = tempfile::Builder::new().prefix(".provision-").tempdir_in(dir).map_err(|e| {
            fail(format!("cannot create a temporary directory in {}: {e}", dir.display()))
        })?;
        let wheel = self.download_wheel(tmp.path())?;
        let wheel_sum = sha256_file(&wheel)
            .map_err(|e| fail(format!("cannot read {}: {e}", wheel.display())))?;
        if wheel_sum != WHEEL_SHA256 {
            return Err(fail(format!(
                "{} has sha256 {wheel_sum}, expected {WHEEL_SHA256}",
                wheel.display()
            )));
        }
        let mut out = tempfile::NamedTempFile::new_in(dir).map_err(|e| {
            fail(format!("cannot create a temporary file in {}: {e}", dir.display()))
        })?;
        let lib_sum = extract(&wheel, WHEEL_MEMBER, out.as_file_mut())?;
        if lib_sum != LIBRARY_SHA256 {
            return Err(fail(format!(
                "{WHEEL_MEMBER} in {} has sha256 {lib_sum}, expected {LIBRARY_SHA256}",
                wheel.display()
            )));
        }
        out.as_file()
            .sync_all()
            .map_err(|e| fail(format!("cannot write {}: {e}", out.path().display())))?;
        out.persist(target)
            .map_err(|e| fail(format!("cannot rename into {}: {}", target.display(), e.error)))?;
        remember_verified(target);
        Ok(())
    }

    /// `pip download` the pinned wheel into `dir` with the first interpreter that works.
    fn download_wheel(&self, dir: &Path) -> Result<PathBuf> {
        let mut reasons = Vec::new();
        for python in &self.pythons {
            match self.pip_download(python, dir) {
                Ok(wheel) => return Ok(wheel),
                Err(reason) => reasons.push(format!("{}: {reason}", python.to_string_lossy())),
            }
        }
        if reasons.is_empty() {
            reasons.push("no python interpreter to run pip with".into());
        }
        Err(fail(format!(
            "pip download onnxruntime=={ORT_VERSION} failed ({})",
            reasons.join("; ")
        )))
    }

    fn pip_download(&self, python: &OsString, dir: &Path) -> std::result::Result<PathBuf, String> {
        let dest = dir.join("wheel");
        let log_path = dir.join("pip.log");
        let log = File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut child = Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
            ])
            .args(["--no-input", "--timeout", "15", "--retries", "1", "--python-version", "3.11"])
            .args(["--platform", "manylinux_2_28_x86_64", "-d"])
            .arg(&dest)
            .arg(format!("onnxruntime=={ORT_VERSION}"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    "not found".to_string()
                } else {
                    e.to_string()
                }
            })?;
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() >= self.deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("pip did not finish within {} s", self.deadline.as_secs()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(e.to_string()),
            }
        };
        if !status.success() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output")
                .trim()
                .to_string();
            return Err(format!("pip exited with {status}: {last}"));
        }
        let wheels: Vec<PathBuf> = std::fs::read_dir(&dest)
            .map_err(|e| format!("cannot list {}: {e}", dest.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "whl"))
            .collect();
        match wheels.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(format!("expected one wheel in {}, found {}", dest.display(), wheels.len())),
        }
    }
}

/// Copies `member` of the zip archive `archive` into `out`; returns its sha256.
fn extract(archive: &Path, member: &str, out: &mut File) -> Result<String> {
    let file =
        File::open(archive).map_err(|e| fail(format!("cannot open {}: {e}", archive.display())))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| fail(format!("{} is not a wheel: {e}", archive.display())))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| fail(format!("{} has no {member}: {e}", archive.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = entry
            .read(&mut buf)
            .map_err(|e| fail(format!("cannot unpack {member} from {}: {e}", archive.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| fail(format!("cannot write {member}: {e}")))?;
    }
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex sha256 of a file.
/// The stamp beside the cached library: its identity when its sha256 was last found pinned.
fn stamp_path(library: &Path) -> PathBuf {
    let mut name = library.as_os_str().to_os_string();
    name.push(".verified");
    PathBuf::from(name)
}

/// What changes whenever a file is written or replaced: its size, modification time and inode,
/// with the pinned sha256 it was found to have.
fn identity(library: &Path) -> io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(library)?;
    Ok(format!("{LIBRARY_SHA256} {} {} {} {}\n", m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
}

/// Whether the library is the one last found to have the pinned sha256, unchanged since: hashing
/// its 29 MB again costs every run ~20 ms before anything else can start.
fn verified(library: &Path) -> bool {
    let stamp = std::fs::read_to_string(stamp_path(library));
    matches!((stamp, identity(library)), (Ok(stamp), Ok(now)) if stamp == now)
}

/// Notes that the library now has the pinned sha256 (best effort: a cache it cannot write to is
/// hashed at every run instead).
fn remember_verified(library: &Path) {
    if let Ok(now) = identity(library) {
        let _ = parity_core::fsutil::write_atomic(&stamp_path(library), now.as_bytes());
    }
}

pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! `preprocess`: images to an NCHW float32 `.npy`, decoded and resized exactly as cv2.imread +
//! cv2.resize, then normalised; optionally the resized uint8 BGR images too. Both files are
//! complete before either is renamed into place.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use cv_preprocess::Preprocessor;
use npyz::WriterBuilder;

use crate::Result;
use crate::error::invalid;

/// What to preprocess, how, and where to write it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The images, in batch order.
    pub images: Vec<PathBuf>,
    /// Where to write the N x 3 x H x W float32 tensor (`.npy`).
    pub out: PathBuf,
    /// Where to write the N x H x W x 3 uint8 BGR resized images (`.npy`), if anywhere.
    pub resized_out: Option<PathBuf>,
    /// Size, interpolation and normalisation.
    pub preprocessor: Preprocessor,
}

/// Preprocesses `request`; no output replaces an input, and nothing is left half-written.
pub fn run(request: &Request) -> Result<()> {
    let pre = &request.preprocessor;
    let size = pre.size;
    let mut outputs = vec![request.out.as_path()];
    outputs.extend(request.resized_out.as_deref());
    let inputs: Vec<&Path> = request.images.iter().map(PathBuf::as_path).collect();
    parity_core::fsutil::check_outputs(&outputs, &inputs)?;
    let batch = pre.run(&request.images)?;
    let shape: Vec<u64> = batch.shape.iter().map(|&d| d as u64).collect();
    // Both files are complete before either is renamed into place.
    let tensor = write_npy_temp(&request.out, &shape, batch.tensor.iter().copied())?;
    let resized = match &request.resized_out {
        Some(path) => {
            let (w, h) = size;
            let shape = [batch.resized.len() as u64, h as u64, w as u64, 3];
            Some(write_npy_temp(
                path,
                &shape,
                batch.resized.iter().flat_map(|i| i.data.iter().copied()),
            )?)
        }
        None => None,
    };
    persist(tensor, &request.out)?;
    if let (Some(tmp), Some(path)) = (resized, &request.resized_out) {
        persist(tmp, path)?;
    }
    Ok(())
}

/// Writes a C-order .npy to a temporary file beside `path`; it disappears unless persisted.
fn write_npy_temp<T: npyz::AutoSerialize>(
    path: &Path,
    shape: &[u64],
    values: impl IntoIterator<Item = T>,
) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".preprocess-")
        .suffix(".npy.tmp")
        .permissions(parity_core::fsutil::new_file_permissions())
        .tempfile_in(dir)
        .map_err(|e| invalid(format!("cannot create a file in '{}': {e}", dir.display())))?;
    let write = || -> std::io::Result<()> {
        let mut out = BufWriter::new(tmp.as_file());
        let mut writer =
            npyz::WriteOptions::new().default_dtype().shape(shape).writer(&mut out).begin_nd()?;
        writer.extend(values)?;
        writer.finish()?;
        out.flush()
    };
    write().map_err(|e| invalid(format!("cannot write '{}': {e}", path.display())))?;
    Ok(tmp)
}

/// Renames `tmp` over `path`.
fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    tmp.persist(path)
        .map_err(|e| invalid(format!("cannot write '{}': {}", path.display(), e.error)))?;
    Ok(())
}

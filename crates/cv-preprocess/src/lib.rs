//! Image preprocessing that reproduces OpenCV bit for bit: decode like `cv2.imread(path)`
//! (IMREAD_COLOR), resize like `cv2.resize` on uint8, then normalise into one NCHW float32 batch in
//! numpy's float32 arithmetic. It knows no model runtime; the SSRNet defaults are only defaults.
//!
//! Why exactness: SSRNet's age moves by a median 0.3 and up to 1.7 years when the 64x64 input is off by
//! one level on a few pixels, far more than any backend's float error. So every step here is the
//! integer arithmetic OpenCV uses (../shared/opencv/RESIZE.md), checked against cv2 itself by the
//! fuzz parity test in `tests/`.
//!
//! ```no_run
//! use cv_preprocess::{Interpolation, Normalize, Preprocessor, imread, resize};
//! # fn main() -> Result<(), cv_preprocess::Error> {
//! // imread -> INTER_LINEAR to 64x64 -> /255, ImageNet mean/std on B, G, R -> NCHW (SSRNet's).
//! let pre = Preprocessor::new((64, 64), Interpolation::Linear, Normalize::IMAGENET_BGR);
//! let batch = pre.run(&["face1.jpg", "face2.png"])?;
//! assert_eq!(batch.shape, [2, 3, 64, 64]);
//!
//! // The steps on their own.
//! let bgr = imread("face1.jpg".as_ref())?;
//! let small = resize(&bgr, 64, 64, Interpolation::Linear)?;
//! assert_eq!(small.data.len(), 64 * 64 * 3);
//! # Ok(()) }
//! ```
//!
//! # What matches cv2 (opencv-python-headless 5.0.0.93), and how it was checked
//! - **JPEG**: libjpeg-turbo's decoder (as vendored by `mozjpeg-sys`, accurate integer IDCT, fancy
//!   upsampling, arithmetic decoding on), output `JCS_EXT_BGR`; CMYK/YCCK through OpenCV's own CMYK
//!   formula; EXIF orientation from APP1. Baseline 4:2:0/4:2:2/4:4:4, progressive and grayscale files
//!   are in the fuzz test. Truncated files decode to the partial, grey-filled image as cv2 does. The
//!   `simd` feature (default) uses libjpeg's x86 SIMD when `nasm` is installed at build time and falls
//!   back to plain C otherwise (a cargo warning says so; the build needs only cargo and gcc). Complete
//!   files decode identically either way; on truncated files only the SIMD build always agrees with cv2
//!   (measured: 200 of 200 truncated JPEGs with SIMD, 198 of 200 without), and it decodes a 512x512
//!   photo in about 1.6 ms instead of 4.2 ms (cv2: 2.0 ms). Install `nasm` for both reasons.
//! - **PNG** (`image`/`png` crate): 1-, 8- and 16-bit grey, grey+alpha, RGB, RGBA, palette (with and
//!   without transparency). Alpha is dropped, grey replicated, 16-bit samples keep their high byte
//!   (what cv2 does: measured), and the eXIf orientation is applied (cv2 does so too: measured).
//! - **BMP** (`image`): 1- and 8-bit palette (grey and colour), 24- and 32-bit.
//! - Other formats, decoded by the `image` crate with the same conversions, compared with cv2 in the
//!   fuzz test (reported, not asserted) and on 64x64 files of each kind:
//!   identical: TIFF (8-bit; 16-bit grey keeps the high byte, 16-bit colour is rounded, round(v / 257),
//!   as cv2 does), WebP (lossless and lossy), PPM, PGM (8- and 16-bit), PBM, GIF, Radiance HDR;
//!   different: PAM written by cv2 (cv2 reads R and B the other way round);
//!   decoded here but refused by cv2: QOI; refused by both: TGA (no file signature), ICO;
//!   read by cv2 but refused here as "not an image": Sun raster, JPEG 2000, AVIF, OpenEXR.
//!
//! Resize: INTER_LINEAR (default), INTER_LINEAR_EXACT and INTER_AREA, 1 to 4 channels, any sizes; not the
//! `fx`/`fy` form of cv2.resize (always an explicit destination size here).
//!
//! Bad input (missing, empty, truncated beyond decoding, not an image, zero-size, or larger than
//! [`Limits`]) is one [`Error`] naming the file; nothing panics.

mod decode;
mod error;
mod normalize;
mod resize;

use std::path::Path;

pub use decode::{Limits, MAX_IMAGE_FILE_BYTES, decode, imread, imread_with_limits};
pub use error::Error;
pub use normalize::{ChannelOrder, Normalize};
pub use resize::{Interpolation, resize};

/// An 8-bit image in HWC layout (rows of interleaved channels, no padding); after decoding always
/// 3 channels in B, G, R order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<u8>,
}

/// The whole pipeline: decode, resize, normalise, batch. It has no default: the size and the
/// normalisation are a model's, and every caller states them.
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocessor {
    /// Destination (width, height).
    pub size: (usize, usize),
    pub interpolation: Interpolation,
    pub normalize: Normalize,
    pub limits: Limits,
}

/// The result of [`Preprocessor::run`].
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// NCHW float32, row-major.
    pub tensor: Vec<f32>,
    /// [N, 3, height, width].
    pub shape: [usize; 4],
    /// The resized BGR uint8 images, one per input (what the reference stores as
    /// `preprocess.resized_bgr_u8`).
    pub resized: Vec<Image>,
}

impl Preprocessor {
    /// Images resized to `size` (width, height) with `interpolation` and normalised by
    /// `normalize`, within the default [`Limits`].
    pub fn new(size: (usize, usize), interpolation: Interpolation, normalize: Normalize) -> Self {
        Self { size, interpolation, normalize, limits: Limits::default() }
    }

    /// Decodes and resizes one file.
    pub fn load(&self, path: &Path) -> Result<Image, Error> {
        let img = imread_with_limits(path, &self.limits)?;
        resize(&img, self.size.0, self.size.1, self.interpolation)
    }

    /// Decodes, resizes and normalises every file into one batch; the first bad file is the error.
    pub fn run<P: AsRef<Path>>(&self, paths: &[P]) -> Result<Batch, Error> {
        let resized = paths.iter().map(|p| self.load(p.as_ref())).collect::<Result<Vec<_>, _>>()?;
        let (tensor, shape) = self.normalize.batch(&resized)?;
        Ok(Batch { tensor, shape, resized })
    }
}

//! `cv2.imread(path)` with the default `IMREAD_COLOR`: any supported file -> 3-channel BGR uint8.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat};
use mozjpeg::{ColorSpace, ColorSpaceExt, Decompress, Marker};

use crate::{Error, Image};

/// Decompression-bomb guard: a file whose header declares more than this is refused before any pixel
/// is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest width or height accepted (default 65,535, the JPEG maximum).
    pub max_side: u32,
    /// Largest width x height accepted (default 2^27 = 134,217,728 pixels, a 384 MiB BGR image).
    pub max_pixels: u64,
    /// Most bytes a decoded image may take before its conversion to BGR (default 1 GiB): a
    /// 16-bit RGBA image takes 8 bytes a pixel, so a small file within `max_pixels` can still
    /// be costly. Peak decode memory is about this plus the BGR result.
    pub max_decode_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_side: 65_535, max_pixels: 1 << 27, max_decode_bytes: 1 << 30 }
    }
}

/// Reads and decodes `path` like `cv2.imread(path)` (IMREAD_COLOR, EXIF orientation applied).
pub fn imread(path: &Path) -> Result<Image, Error> {
    imread_with_limits(path, &Limits::default())
}

/// [`imread`] with explicit [`Limits`].
///
/// Only a regular file is read (a FIFO or a device such as `/dev/zero` is refused before it is
/// opened), and at most [`MAX_IMAGE_FILE_BYTES`] of it.
pub fn imread_with_limits(path: &Path, limits: &Limits) -> Result<Image, Error> {
    use std::io::Read;
    let io = |error| Error::Io { path: path.to_owned(), error };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a directory" } else { "not a regular file" };
        return Err(Error::Io { path: path.to_owned(), error: std::io::Error::other(what) });
    }
    if meta.len() > MAX_IMAGE_FILE_BYTES {
        return Err(Error::Decode {
            path: path.to_owned(),
            reason: format!("the file is {} bytes, more than {MAX_IMAGE_FILE_BYTES}", meta.len()),
        });
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path).map_err(io)?.take(meta.len()).read_to_end(&mut data).map_err(io)?;
    decode(&data, path, limits)
}

/// The largest image file read: 1 GiB (far above any image within the pixel [`Limits`]).
pub const MAX_IMAGE_FILE_BYTES: u64 = 1 << 30;

/// Decodes an in-memory file like `cv2.imdecode(buf, IMREAD_COLOR)` followed by imread's EXIF
/// orientation; `path` only names the file in errors.
pub fn decode(data: &[u8], path: &Path, limits: &Limits) -> Result<Image, Error> {
    if data.is_empty() {
        return Err(Error::Empty { path: path.to_owned() });
    }
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return decode_jpeg(data, path, limits);
    }
    decode_other(data, path, limits)
}

fn check_size(path: &Path, width: u64, height: u64, limits: &Limits) -> Result<(), Error> {
    if width == 0 || height == 0 {
        return Err(Error::ZeroSize { path: path.to_owned(), width, height });
    }
    if width > u64::from(limits.max_side)
        || height > u64::from(limits.max_side)
        || width * height > limits.max_pixels
    {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            width,
            height,
            max_side: limits.max_side.into(),
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn decode_jpeg(data: &[u8], path: &Path, limits: &Limits) -> Result<Image, Error> {
    let decode_error = |reason: String| Error::Decode { path: path.to_owned(), reason };
    // libjpeg's fatal errors unwind out of the C code (mozjpeg's error manager); catch them here.
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Image, Error> {
        let decompress = Decompress::builder()
            .with_markers(&[Marker::APP(1)])
            .from_mem(data)
            .map_err(|e| decode_error(e.to_string()))?;
        let (width, height) = decompress.size();
        check_size(path, width as u64, height as u64, limits)?;
        let orientation = decompress.markers().find_map(|m| exif_orientation(m.data)).unwrap_or(1);
        let cmyk = decompress.color_space().num_components() == 4;
        // OpenCV asks for BGR from 1- and 3-component files (grayscale comes out replicated) and for
        // CMYK from 4-component ones (CMYK and YCCK), converting the latter itself.
        let target = if cmyk { ColorSpace::JCS_CMYK } else { ColorSpace::JCS_EXT_BGR };
        let mut started =
            decompress.to_colorspace(target).map_err(|e| decode_error(e.to_string()))?;
        let pixels: Vec<u8> = started.read_scanlines().map_err(|e| decode_error(e.to_string()))?;
        // OpenCV has its image once the scanlines are read; an error while finishing is ignored there too.
        let _ = catch_unwind(AssertUnwindSafe(|| started.finish()));
        let data = if cmyk { cmyk_to_bgr(&pixels) } else { pixels };
        if data.len() != width * height * 3 {
            return Err(decode_error(format!(
                "decoder returned {} bytes for {width}x{height}",
                data.len()
            )));
        }
        Ok(orient(Image { width, height, channels: 3, data }, orientation))
    }));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "libjpeg error".to_owned());
            Err(decode_error(msg.trim_start_matches("libjpeg fatal error: ").to_lowercase()))
        }
    }
}

/// OpenCV's `icvCvt_CMYK2BGR_8u_C4C3R`: v' = k - ((255 - v) * k >> 8); B = y', G = m', R = c'.
fn cmyk_to_bgr(cmyk: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let k = px[3] as i32;
        let conv = |v: u8| (k - (((255 - v as i32) * k) >> 8)) as u8;
        out.extend_from_slice(&[conv(px[2]), conv(px[1]), conv(px[0])]);
    }
    out
}

/// The orientation tag (1..=8) of an APP1 `Exif\0\0` segment, if it has one.
fn exif_orientation(app1: &[u8]) -> Option<u16> {
    let tiff = app1.strip_prefix(b"Exif\0\0")?;
    exif_orientation_tiff(tiff)
}

fn exif_orientation_tiff(tiff: &[u8]) -> Option<u16> {
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let field = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?;
    let v = field.value.get_uint(0)?;
    (1..=8).contains(&v).then_some(v as u16)
}

/// Formats that cv2 applies the EXIF orientation of (measured: see the crate docs).
fn applies_exif(format: ImageFormat) -> bool {
    matches!(format, ImageFormat::Png | ImageFormat::WebP)
}

fn decode_other(data: &[u8], path: &Path, limits: &Limits) -> Result<Image, Error> {
    let decode_error = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => Error::Decode {
            path: path.to_owned(),
            reason: format!("needs more memory than the decoder limit ({e})").to_lowercase(),
        },
        other => Error::Decode { path: path.to_owned(), reason: other.to_string().to_lowercase() },
    };
    let mut reader = image::ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .map_err(|error| Error::Io { path: path.to_owned(), error })?;
    let Some(format) = reader.format() else {
        return Err(Error::NotAnImage { path: path.to_owned() });
    };
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_side);
    image_limits.max_image_height = Some(limits.max_side);
    image_limits.max_alloc = Some(limits.max_decode_bytes);
    reader.limits(image_limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_size(path, width.into(), height.into(), limits)?;
    let decoded_bytes = decoder.total_bytes();
    if decoded_bytes > limits.max_decode_bytes {
        return Err(Error::Decode {
            path: path.to_owned(),
            reason: format!(
                "{width}x{height} {:?} needs {decoded_bytes} bytes to decode, more than the limit of {}",
                decoder.color_type(),
                limits.max_decode_bytes
            ),
        });
    }
    let orientation = if applies_exif(format) {
        decoder.exif_metadata().ok().flatten().and_then(|e| exif_orientation_tiff(&e)).unwrap_or(1)
    } else {
        1
    };
    let decoded = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    let (width, height) = (decoded.width() as usize, decoded.height() as usize);
    let data = to_bgr(decoded, format);
    Ok(orient(Image { width, height, channels: 3, data }, orientation))
}

/// Any decoded colour type -> BGR uint8 the way cv2's IMREAD_COLOR does: grey replicated, alpha dropped,
/// 16-bit samples keep their high byte (libpng's `png_set_strip_16`; measured against cv2 for PNG and
/// grey TIFF), except 16-bit colour TIFF, which cv2 rounds: round(v / 257) (measured).
fn to_bgr(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    fn from_gray<T: Copy>(px: &[T], step: usize, f: impl Fn(T) -> u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(px.len() / step * 3);
        for p in px.chunks_exact(step) {
            let v = f(p[0]);
            out.extend_from_slice(&[v, v, v]);
        }
        out
    }
    fn from_rgb<T: Copy>(px: &[T], step: usize, f: impl Fn(T) -> u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(px.len() / step * 3);
        for p in px.chunks_exact(step) {
            out.extend_from_slice(&[f(p[2]), f(p[1]), f(p[0])]);
        }
        out
    }
    let hi = |v: u16| (v >> 8) as u8;
    // v / 257 is never exactly halfway between integers, so plain rounding is cv2's cvRound here.
    let round257 = |v: u16| ((u32::from(v) * 2 + 257) / 514) as u8;
    let tiff = format == ImageFormat::Tiff;
    let float = |v: f32| (v * 255.0).round_ties_even().clamp(0.0, 255.0) as u8;
    match img {
        DynamicImage::ImageLuma8(i) => from_gray(i.as_raw(), 1, |v| v),
        DynamicImage::ImageLumaA8(i) => from_gray(i.as_raw(), 2, |v| v),
        DynamicImage::ImageRgb8(i) => from_rgb(i.as_raw(), 3, |v| v),
        DynamicImage::ImageRgba8(i) => from_rgb(i.as_raw(), 4, |v| v),
        DynamicImage::ImageLuma16(i) => from_gray(i.as_raw(), 1, hi),
        DynamicImage::ImageLumaA16(i) => from_gray(i.as_raw(), 2, hi),
        DynamicImage::ImageRgb16(i) if tiff => from_rgb(i.as_raw(), 3, round257),
        DynamicImage::ImageRgba16(i) if tiff => from_rgb(i.as_raw(), 4, round257),
        DynamicImage::ImageRgb16(i) => from_rgb(i.as_raw(), 3, hi),
        DynamicImage::ImageRgba16(i) => from_rgb(i.as_raw(), 4, hi),
        DynamicImage::ImageRgb32F(i) => from_rgb(i.as_raw(), 3, float),
        DynamicImage::ImageRgba32F(i) => from_rgb(i.as_raw(), 4, float),
        other => from_rgb(other.to_rgb8().as_raw(), 3, |v| v),
    }
}

/// Applies an EXIF orientation (1..=8) as OpenCV's `ApplyExifOrientation` does.
pub(crate) fn orient(img: Image, orientation: u16) -> Image {
    match orientation {
        2 => flip_lr(img),
        3 => flip_ud(flip_lr(img)),
        4 => flip_ud(img),
        5 => transpose(img),
        6 => flip_lr(transpose(img)),
        7 => flip_ud(flip_lr(transpose(img))),
        8 => flip_ud(transpose(img)),
        _ => img,
    }
}

fn flip_lr(mut img: Image) -> Image {
    let cn = img.channels;
    for row in img.data.chunks_exact_mut(img.width * cn) {
        let w = row.len() / cn;
        for x in 0..w / 2 {
            for c in 0..cn {
                row.swap(x * cn + c, (w - 1 - x) * cn + c);
            }
        }
    }
    img
}

fn flip_ud(mut img: Image) -> Image {
    let stride = img.width * img.channels;
    let h = img.height;
    for y in 0..h / 2 {
        let (top, bottom) = img.data.split_at_mut((h - 1 - y) * stride);
        top[y * stride..(y + 1) * stride].swap_with_slice(&mut bottom[..stride]);
    }
    img
}

fn transpose(img: Image) -> Image {
    let (w, h, cn) = (img.width, img.height, img.channels);
    let mut data = vec![0u8; img.data.len()];
    for y in 0..h {
        for x in 0..w {
            let src = (y * w + x) * cn;
            let dst = (x * h + y) * cn;
            data[dst..dst + cn].copy_from_slice(&img.data[src..src + cn]);
        }
    }
    Image { width: h, height: w, channels: cn, data }
}

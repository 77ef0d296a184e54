//! Bad input: one clear lowercase error naming the file, never a panic.

use std::path::Path;

use cv_preprocess::{Error, Limits, imread, imread_with_limits};

fn jpeg_8x8() -> Vec<u8> {
    let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    c.set_size(8, 8);
    let mut started = c.start_compress(Vec::new()).unwrap();
    started.write_scanlines(&[128u8; 8 * 8 * 3]).unwrap();
    started.finish().unwrap()
}

fn assert_names_file(err: &Error, path: &Path, needle: &str) {
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains(needle), "expected '{needle}' in: {msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(msg.starts_with(|c: char| !c.is_uppercase()), "lowercase: {msg}");
}

#[test]
fn missing_file() {
    let path = Path::new("/nonexistent/face.jpg");
    let err = imread(path).unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert_names_file(&err, path, "cannot read");
}

#[test]
fn empty_file_and_text_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    assert_names_file(&imread(&empty).unwrap_err(), &empty, "is empty");
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, b"just some text, not pixels\n").unwrap();
    let err = imread(&text).unwrap_err();
    assert!(matches!(err, Error::NotAnImage { .. }), "{err}");
    assert_names_file(&err, &text, "not an image");
}

#[test]
fn jpeg_cut_inside_the_header_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = jpeg_8x8();
    let path = dir.path().join("cut.jpg");
    std::fs::write(&path, &jpeg[..40]).unwrap();
    let err = imread(&path).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert_names_file(&err, &path, "cannot decode");
    // The whole file decodes: the error above is the truncation.
    std::fs::write(&path, &jpeg).unwrap();
    let img = imread(&path).unwrap();
    assert_eq!((img.width, img.height, img.channels), (8, 8, 3));
}

#[test]
fn truncated_png_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.png");
    let mut png = Vec::new();
    let pixels: Vec<u8> = (0..64 * 64 * 3).map(|i| (i * 7 % 251) as u8).collect();
    image::RgbImage::from_raw(64, 64, pixels)
        .unwrap()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(&path, &png[..png.len() / 2]).unwrap();
    assert_names_file(&imread(&path).unwrap_err(), &path, "cannot decode");
}

#[test]
fn decompression_bomb_is_refused_from_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut jpeg = jpeg_8x8();
    // Declare 60000 x 60000 in the SOF segment (mozjpeg writes progressive, FF C2): marker, length (2),
    // precision (1), height (2), width (2).
    let sof = jpeg.windows(2).position(|w| w[0] == 0xFF && (0xC0..=0xC2).contains(&w[1])).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    let path = dir.path().join("bomb.jpg");
    std::fs::write(&path, &jpeg).unwrap();
    let err = imread(&path).unwrap_err();
    assert!(matches!(err, Error::TooLarge { width: 60000, height: 60000, .. }), "{err}");
    assert_names_file(&err, &path, "too large");

    // The limit is configurable and applies to every format.
    let png = dir.path().join("small.png");
    image::RgbImage::new(20, 10).save(&png).unwrap();
    let err =
        imread_with_limits(&png, &Limits { max_pixels: 199, ..Limits::default() }).unwrap_err();
    assert!(matches!(err, Error::TooLarge { width: 20, height: 10, .. }), "{err}");
    assert!(
        imread_with_limits(&png, &Limits { max_side: 20, max_pixels: 200, ..Limits::default() })
            .is_ok()
    );
}

#[test]
fn zero_width_bmp_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A 24-bit BMP header (BITMAPINFOHEADER) declaring 0 x 4 pixels.
    let mut bmp = Vec::new();
    bmp.extend_from_slice(b"BM");
    bmp.extend_from_slice(&54u32.to_le_bytes()); // file size
    bmp.extend_from_slice(&[0; 4]);
    bmp.extend_from_slice(&54u32.to_le_bytes()); // pixel data offset
    bmp.extend_from_slice(&40u32.to_le_bytes()); // header size
    bmp.extend_from_slice(&0i32.to_le_bytes()); // width
    bmp.extend_from_slice(&4i32.to_le_bytes()); // height
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&24u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 24]);
    let path = dir.path().join("zero.bmp");
    std::fs::write(&path, &bmp).unwrap();
    let err = imread(&path).unwrap_err();
    assert!(matches!(err, Error::ZeroSize { .. } | Error::Decode { .. }), "{err}");
    assert_names_file(&err, &path, "zero.bmp");
}

#[test]
fn decode_memory_is_bounded_before_decoding() {
    // A 300x300 16-bit RGBA PNG needs 720,000 bytes decoded; with a 700,000-byte limit it is
    // refused before any pixel is decoded, with the limit named.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("deep.png");
    let img = image::ImageBuffer::<image::Rgba<u16>, Vec<u16>>::from_pixel(
        300,
        300,
        image::Rgba([1, 2, 3, 4]),
    );
    img.save(&png).unwrap();
    let limits = Limits { max_decode_bytes: 700_000, ..Limits::default() };
    let err = imread_with_limits(&png, &limits).unwrap_err().to_string();
    assert!(err.contains("720000 bytes") && err.contains("700000"), "{err}");
    assert!(imread_with_limits(&png, &Limits::default()).is_ok());
}

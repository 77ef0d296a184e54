//! Decode + resize + normalise of a 512x512 PNG and JPEG, and the 512 -> 64 resize alone.
//!
//! `benches/compare_cv2.py` runs this on the same files it times cv2 on and prints the ratios. Run alone,
//! the bench writes its own 512x512 test images (`CV_PREPROCESS_BENCH_DIR` points at other ones:
//! `bench512.png`, `bench512.jpg`).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use cv_preprocess::{Interpolation, Normalize, Preprocessor, imread, resize};

fn files() -> (PathBuf, PathBuf) {
    let dir = match std::env::var_os("CV_PREPROCESS_BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let dir = std::env::temp_dir().join("cv-preprocess-bench");
            std::fs::create_dir_all(&dir).unwrap();
            // A smooth colour field with some texture, so neither codec sees a trivial image.
            let mut rgb = vec![0u8; 512 * 512 * 3];
            for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
                let (x, y) = ((i % 512) as f32, (i / 512) as f32);
                px[0] = (128.0 + 100.0 * (x / 37.0).sin() * (y / 53.0).cos()) as u8;
                px[1] = ((x + y) / 4.0) as u8 ^ ((i * 7919 % 13) as u8);
                px[2] = (255.0 * (y / 512.0)) as u8;
            }
            image::RgbImage::from_raw(512, 512, rgb.clone())
                .unwrap()
                .save(dir.join("bench512.png"))
                .unwrap();
            let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            c.set_size(512, 512);
            c.set_quality(95.0);
            let mut started = c.start_compress(Vec::new()).unwrap();
            started.write_scanlines(&rgb).unwrap();
            std::fs::write(dir.join("bench512.jpg"), started.finish().unwrap()).unwrap();
            dir
        }
    };
    (dir.join("bench512.png"), dir.join("bench512.jpg"))
}

fn bench(c: &mut Criterion) {
    let (png, jpg) = files();
    let pre = Preprocessor::new((64, 64), Interpolation::Linear, Normalize::IMAGENET_BGR);
    let mut g = c.benchmark_group("pipeline");
    g.bench_function("png_512", |b| b.iter(|| pre.run(black_box(&[&png])).unwrap()));
    g.bench_function("jpeg_512", |b| b.iter(|| pre.run(black_box(&[&jpg])).unwrap()));
    g.finish();
    let img = imread(&png).unwrap();
    let mut g = c.benchmark_group("resize");
    g.bench_function("512_to_64_linear", |b| {
        b.iter(|| resize(black_box(&img), 64, 64, Interpolation::Linear).unwrap())
    });
    g.finish();
    let mut g = c.benchmark_group("decode");
    g.bench_function("png_512", |b| b.iter(|| imread(black_box(&png)).unwrap()));
    g.bench_function("jpeg_512", |b| b.iter(|| imread(black_box(&jpg)).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

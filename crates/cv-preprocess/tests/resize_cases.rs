//! Resize edge cases. The literal expected values were printed by cv2 5.0.0 (opencv-python-headless
//! 5.0.0.93): `cv2.resize(src, (w, h), interpolation=...)`. The sweep at the end asks cv2 live.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use cv_preprocess::{Image, Interpolation, resize};

use crate::common::{diff_u8, oracle_script, python};

fn gray(width: usize, height: usize, data: &[u8]) -> Image {
    Image { width, height, channels: 1, data: data.to_vec() }
}

fn check(src: &Image, w: usize, h: usize, interp: Interpolation, expected: &[u8]) {
    let out = resize(src, w, h, interp).unwrap();
    assert_eq!((out.width, out.height, out.channels), (w, h, src.channels));
    assert_eq!(out.data, expected, "{}x{} -> {w}x{h} {interp:?}", src.width, src.height);
}

const SRC_4X3: [u8; 12] = [3, 250, 17, 99, 180, 41, 222, 8, 64, 128, 1, 254];

#[test]
fn linear_upscale_uses_the_two_floor_vertical_pass() {
    // LINEAR_EXACT differs here by one level on 6 values: the two floors of INTER_LINEAR's vertical pass.
    let src = gray(4, 3, &SRC_4X3);
    check(
        &src,
        7,
        5,
        Interpolation::Linear,
        &[
            3, 91, 232, 133, 23, 70, 99, 74, 107, 160, 133, 96, 75, 62, 180, 130, 51, 132, 207, 84,
            8, 110, 104, 94, 91, 94, 132, 155, 64, 87, 123, 64, 19, 164, 254,
        ],
    );
    check(
        &src,
        7,
        5,
        Interpolation::LinearExact,
        &[
            3, 91, 233, 134, 23, 70, 99, 74, 107, 160, 133, 96, 76, 63, 180, 131, 51, 132, 207, 84,
            8, 110, 104, 95, 91, 94, 132, 156, 64, 87, 124, 65, 19, 164, 254,
        ],
    );
    check(
        &src,
        7,
        5,
        Interpolation::Area,
        &[
            3, 65, 250, 134, 17, 79, 99, 62, 91, 180, 133, 85, 73, 68, 180, 145, 41, 132, 222, 62,
            8, 103, 102, 99, 87, 75, 148, 172, 64, 80, 128, 65, 1, 191, 254,
        ],
    );
}

#[test]
fn non_integer_downscale() {
    let src = gray(4, 3, &SRC_4X3);
    check(&src, 3, 2, Interpolation::Linear, &[72, 133, 75, 95, 81, 170]);
    check(&src, 3, 2, Interpolation::LinearExact, &[73, 133, 75, 95, 81, 170]);
    check(&src, 3, 2, Interpolation::Area, &[92, 133, 73, 102, 87, 148]);
}

#[test]
fn exact_half_takes_the_area_fast_path() {
    let src = gray(4, 4, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255]);
    check(&src, 2, 2, Interpolation::Linear, &[4, 6, 12, 73]);
}

#[test]
fn one_pixel_source_and_destination_axes() {
    check(&gray(1, 1, &[77]), 3, 2, Interpolation::Linear, &[77; 6]);
    check(&gray(2, 1, &[0, 255]), 7, 1, Interpolation::Linear, &[0, 0, 55, 128, 200, 255, 255]);
    check(
        &gray(2, 1, &[0, 255]),
        7,
        1,
        Interpolation::LinearExact,
        &[0, 0, 55, 128, 200, 255, 255],
    );
    let row: Vec<u8> = (0..49).map(|i| i * 5).collect();
    // 49 -> 1 fails OpenCV's integer-scale test and takes the general area path.
    check(&gray(49, 1, &row), 1, 1, Interpolation::Area, &[120]);
    check(&gray(49, 1, &row), 1, 1, Interpolation::Linear, &[120]);
}

#[test]
fn three_channel_upscale() {
    let src = Image {
        width: 2,
        height: 2,
        channels: 3,
        data: vec![1, 2, 3, 200, 100, 50, 9, 8, 7, 255, 255, 255],
    };
    check(
        &src,
        3,
        3,
        Interpolation::Linear,
        &[
            1, 2, 3, 100, 51, 26, 200, 100, 50, 5, 5, 5, 116, 91, 79, 228, 178, 153, 9, 8, 7, 132,
            131, 131, 255, 255, 255,
        ],
    );
}

#[test]
fn same_size_is_a_copy_and_zero_size_is_an_error() {
    let src = gray(4, 3, &SRC_4X3);
    assert_eq!(resize(&src, 4, 3, Interpolation::Linear).unwrap(), src);
    let err = resize(&src, 0, 3, Interpolation::Linear).unwrap_err().to_string();
    assert!(err.contains("sizes must be positive"), "{err}");
}

/// Every interpolation, 1-4 channels, on the shapes where OpenCV takes a special path: 1-pixel axes,
/// exact and inexact integer factors, factors just off 2, up- and downscales, asked of cv2 live.
#[test]
fn edge_shapes_match_cv2() {
    let py = python();
    let mut child = Command::new(py)
        .arg(oracle_script())
        .arg("resize")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start the cv2 oracle");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    type Shape = (usize, usize);
    let shapes: &[(Shape, Shape)] = &[
        ((1, 1), (64, 64)),
        ((1, 7), (3, 64)),
        ((9, 1), (64, 2)),
        ((128, 128), (64, 64)),
        ((129, 128), (64, 64)),
        ((127, 130), (64, 65)),
        ((192, 64), (64, 64)),
        ((196, 49), (4, 1)),
        ((49, 49), (1, 1)),
        ((3, 3), (1, 1)),
        ((2, 2), (1, 1)),
        ((64, 64), (65, 63)),
        ((5, 640), (64, 64)),
        ((1500, 1), (64, 64)),
        ((33, 17), (1, 64)),
        ((300, 200), (100, 100)),
        ((100, 100), (300, 40)),
        ((63, 65), (64, 64)),
    ];
    let mut seed = 0;
    let mut failures = Vec::new();
    for &((w, h), (dw, dh)) in shapes {
        for cn in 1..=4 {
            for interp in ["linear", "linear-exact", "area"] {
                seed += 1;
                let req = serde_json::json!({"w": w, "h": h, "cn": cn, "dw": dw, "dh": dh, "interp": interp, "seed": seed});
                writeln!(stdin, "{req}").unwrap();
                let mut line = String::new();
                stdout.read_line(&mut line).unwrap();
                let v: serde_json::Value = serde_json::from_str(&line).expect("bad oracle answer");
                let bytes = |k: &str| -> Vec<u8> {
                    v[k].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u8).collect()
                };
                let src = Image { width: w, height: h, channels: cn, data: bytes("src") };
                let ours = resize(&src, dw, dh, interp.parse().unwrap()).unwrap();
                if let Some(d) = diff_u8(&ours.data, &bytes("out")) {
                    failures.push(format!("{w}x{h}x{cn} -> {dw}x{dh} {interp}: {d}"));
                }
            }
        }
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert!(
        failures.is_empty(),
        "{} of {seed} cases differ from cv2:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

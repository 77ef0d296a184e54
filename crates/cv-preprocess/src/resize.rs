//! `cv2.resize` on uint8 HWC images, integer for integer (../shared/opencv/RESIZE.md is the specification).

use crate::{Error, Image};

/// Interpolation modes of `cv2.resize` that this crate reproduces bit for bit on uint8 images.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Interpolation {
    /// `cv2.INTER_LINEAR` (the default): 11-bit fixed-point bilinear; exact 2x downscales take the area path.
    #[default]
    Linear,
    /// `cv2.INTER_LINEAR_EXACT`: 8-bit fixed-point bilinear, rounded once.
    LinearExact,
    /// `cv2.INTER_AREA`: pixel-area averaging when shrinking, bilinear-like when enlarging.
    Area,
}

impl std::str::FromStr for Interpolation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "linear" | "inter_linear" => Ok(Self::Linear),
            "linear-exact" | "linear_exact" | "inter_linear_exact" => Ok(Self::LinearExact),
            "area" | "inter_area" => Ok(Self::Area),
            other => Err(format!(
                "unknown interpolation '{other}' (expected linear, linear-exact or area)"
            )),
        }
    }
}

const COEF_BITS: u32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

/// Resizes `src` to `width` x `height` exactly as `cv2.resize(src, (width, height), interpolation=...)`.
///
/// Works for 1 to 4 channels. Errors when either size is zero.
pub fn resize(
    src: &Image,
    width: usize,
    height: usize,
    interpolation: Interpolation,
) -> Result<Image, Error> {
    if width == 0 || height == 0 || src.width == 0 || src.height == 0 {
        return Err(Error::InvalidSize(format!(
            "cannot resize {}x{} to {width}x{height}: sizes must be positive",
            src.width, src.height
        )));
    }
    if !(1..=4).contains(&src.channels) || src.data.len() != src.width * src.height * src.channels {
        return Err(Error::InvalidSize(format!(
            "image buffer of {} bytes does not hold {}x{}x{} (1 to 4 channels)",
            src.data.len(),
            src.width,
            src.height,
            src.channels
        )));
    }
    if width == src.width && height == src.height {
        return Ok(src.clone());
    }
    let (sw, sh) = (src.width, src.height);
    // OpenCV's scale and its integer test: scale = 1 / (dsize / ssize), computed in f64 exactly so.
    let inv_x = width as f64 / sw as f64;
    let inv_y = height as f64 / sh as f64;
    let scale_x = 1.0 / inv_x;
    let scale_y = 1.0 / inv_y;
    let iscale_x = scale_x.round_ties_even();
    let iscale_y = scale_y.round_ties_even();
    let is_area_fast =
        (scale_x - iscale_x).abs() < f64::EPSILON && (scale_y - iscale_y).abs() < f64::EPSILON;
    let geometry = Geometry {
        sw,
        sh,
        dw: width,
        dh: height,
        cn: src.channels,
        scale_x,
        scale_y,
        inv_x,
        inv_y,
    };

    let data = match interpolation {
        Interpolation::Linear if is_area_fast && iscale_x == 2.0 && iscale_y == 2.0 => {
            area_fast(&src.data, &geometry, 2, 2)
        }
        Interpolation::Linear => linear(&src.data, &geometry, CoordMode::Linear),
        Interpolation::LinearExact
            if is_area_fast && iscale_x == 2.0 && iscale_y == 2.0 && src.channels != 2 =>
        {
            area_fast(&src.data, &geometry, 2, 2)
        }
        Interpolation::LinearExact => linear_exact(&src.data, &geometry),
        Interpolation::Area if scale_x >= 1.0 && scale_y >= 1.0 => {
            if is_area_fast {
                area_fast(&src.data, &geometry, iscale_x as usize, iscale_y as usize)
            } else {
                area_general(&src.data, &geometry)
            }
        }
        Interpolation::Area => linear(&src.data, &geometry, CoordMode::Area),
    };
    Ok(Image { width, height, channels: src.channels, data })
}

struct Geometry {
    sw: usize,
    sh: usize,
    dw: usize,
    dh: usize,
    cn: usize,
    scale_x: f64,
    scale_y: f64,
    inv_x: f64,
    inv_y: f64,
}

#[derive(Clone, Copy)]
enum CoordMode {
    Linear,
    Area,
}

/// Source index and fraction for destination index `d`, as OpenCV's resize table setup computes them.
fn source_coord(d: usize, scale: f64, inv_scale: f64, mode: CoordMode) -> (i64, f32) {
    match mode {
        CoordMode::Linear => {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let s = f.floor();
            (s as i64, f - s)
        }
        CoordMode::Area => {
            let s = (d as f64 * scale).floor() as i64;
            let f = ((d + 1) as f64 - (s + 1) as f64 * inv_scale) as f32;
            let f = if f <= 0.0 { 0.0 } else { f - f.floor() };
            (s, f)
        }
    }
}

fn coefficients(f: f32) -> [i32; 2] {
    [((1.0 - f) * COEF_SCALE).round_ties_even() as i32, (f * COEF_SCALE).round_ties_even() as i32]
}

/// INTER_LINEAR (and INTER_AREA when enlarging): 11-bit coefficients, horizontal pass in exact integers,
/// vertical pass with OpenCV's two floors.
fn linear(src: &[u8], g: &Geometry, mode: CoordMode) -> Vec<u8> {
    let cn = g.cn;
    // Horizontal table: per destination column, the source column (clamped) and its two coefficients.
    // `true` marks a clamped column (p[s] * c0 only: OpenCV's columns from `xmax` on).
    let mut xtab: Vec<(usize, [i32; 2], bool)> = Vec::with_capacity(g.dw);
    for dx in 0..g.dw {
        let (mut s, mut f) = source_coord(dx, g.scale_x, g.inv_x, mode);
        let mut clamped = false;
        if s < 0 {
            s = 0;
            f = 0.0;
        }
        if s + 1 >= g.sw as i64 {
            clamped = true;
            if s >= g.sw as i64 - 1 {
                s = g.sw as i64 - 1;
                f = 0.0;
            }
        }
        xtab.push((s as usize, coefficients(f), clamped));
    }
    // Columns are clamped only at the end (OpenCV's `xmax`): two taps before it, one from it on.
    let xmax = xtab.iter().position(|t| t.2).unwrap_or(xtab.len());
    let (two_taps, one_tap) = xtab.split_at(xmax);
    let row_len = g.sw * cn;
    let hpass = |sy: usize, out: &mut [i32]| {
        let row = &src[sy * row_len..(sy + 1) * row_len];
        match cn {
            1 => hresize::<1>(row, two_taps, one_tap, out),
            2 => hresize::<2>(row, two_taps, one_tap, out),
            3 => hresize::<3>(row, two_taps, one_tap, out),
            _ => hresize::<4>(row, two_taps, one_tap, out),
        }
    };
    let out_row = g.dw * cn;
    let mut out = vec![0u8; g.dh * out_row];
    let mut h0 = vec![0i32; out_row];
    let mut h1 = vec![0i32; out_row];
    // Rows currently held in h0 / h1, to reuse the horizontal pass between neighbouring output rows.
    let mut held: [Option<usize>; 2] = [None, None];
    let last_row = g.sh as i64 - 1;
    for dy in 0..g.dh {
        let (s, f) = source_coord(dy, g.scale_y, g.inv_y, mode);
        let r0 = s.clamp(0, last_row) as usize;
        let r1 = (s + 1).clamp(0, last_row) as usize;
        let [b0, b1] = coefficients(f);
        if held[0] != Some(r0) {
            if held[1] == Some(r0) {
                std::mem::swap(&mut h0, &mut h1);
                held.swap(0, 1);
            } else {
                hpass(r0, &mut h0);
                held[0] = Some(r0);
            }
        }
        if held[1] != Some(r1) {
            hpass(r1, &mut h1);
            held[1] = Some(r1);
        }
        let dst = &mut out[dy * out_row..(dy + 1) * out_row];
        for ((d, &a), &b) in dst.iter_mut().zip(&h0).zip(&h1) {
            let v = (((b0 * (a >> 4)) >> 16) + ((b1 * (b >> 4)) >> 16) + 2) >> 2;
            *d = v.clamp(0, 255) as u8;
        }
    }
    out
}

/// One row's horizontal pass, exact integers: H = p[s] * c0 + p[s + 1] * c1 for the columns of
/// `two_taps`, then p[s] * c0 for the clamped ones of `one_tap`.
fn hresize<const CN: usize>(
    row: &[u8],
    two_taps: &[(usize, [i32; 2], bool)],
    one_tap: &[(usize, [i32; 2], bool)],
    out: &mut [i32],
) {
    let (two, one) = out.split_at_mut(two_taps.len() * CN);
    for (o, &(sx, [c0, c1], _)) in two.chunks_exact_mut(CN).zip(two_taps) {
        let p: &[u8] = &row[sx * CN..sx * CN + 2 * CN];
        for ch in 0..CN {
            o[ch] = i32::from(p[ch]) * c0 + i32::from(p[CN + ch]) * c1;
        }
    }
    for (o, &(sx, [c0, _], _)) in one.chunks_exact_mut(CN).zip(one_tap) {
        let p: &[u8] = &row[sx * CN..sx * CN + CN];
        for ch in 0..CN {
            o[ch] = i32::from(p[ch]) * c0;
        }
    }
}

/// INTER_LINEAR_EXACT: 8-bit coefficients from f64 coordinates, one rounding at the end.
fn linear_exact(src: &[u8], g: &Geometry) -> Vec<u8> {
    fn taps(n: usize, d: usize, scale: f64) -> (usize, usize, u32, u32) {
        let fval = scale * (d as f64 + 0.5) - 0.5;
        let i = fval.floor();
        if i < 0.0 || n == 1 {
            return (0, 0, 256, 0);
        }
        let i_us = i as usize;
        if i_us >= n - 1 {
            return (n - 1, n - 1, 256, 0);
        }
        let c1 = ((fval - i) * 256.0).round_ties_even() as u32;
        (i_us, i_us + 1, 256 - c1, c1)
    }
    let cn = g.cn;
    let xtab: Vec<_> = (0..g.dw).map(|dx| taps(g.sw, dx, g.scale_x)).collect();
    let row_len = g.sw * cn;
    let hpass = |sy: usize, out: &mut [u32]| {
        let row = &src[sy * row_len..(sy + 1) * row_len];
        for (dx, &(x0, x1, c0, c1)) in xtab.iter().enumerate() {
            for ch in 0..cn {
                out[dx * cn + ch] = row[x0 * cn + ch] as u32 * c0 + row[x1 * cn + ch] as u32 * c1;
            }
        }
    };
    let out_row = g.dw * cn;
    let mut out = vec![0u8; g.dh * out_row];
    let mut h0 = vec![0u32; out_row];
    let mut h1 = vec![0u32; out_row];
    for dy in 0..g.dh {
        let (y0, y1, b0, b1) = taps(g.sh, dy, g.scale_y);
        hpass(y0, &mut h0);
        hpass(y1, &mut h1);
        let dst = &mut out[dy * out_row..(dy + 1) * out_row];
        for ((d, &a), &b) in dst.iter_mut().zip(&h0).zip(&h1) {
            *d = ((a * b0 + b * b1 + 32768) >> 16).min(255) as u8;
        }
    }
    out
}

/// INTER_AREA with an integer factor on both axes: block means.
fn area_fast(src: &[u8], g: &Geometry, kx: usize, ky: usize) -> Vec<u8> {
    let cn = g.cn;
    let row_len = g.sw * cn;
    let out_row = g.dw * cn;
    let mut out = vec![0u8; g.dh * out_row];
    let shift_path = kx == 2 && ky == 2 && cn != 2;
    let scale = 1.0f32 / (kx * ky) as f32;
    for dy in 0..g.dh {
        for dx in 0..g.dw {
            for ch in 0..cn {
                let mut sum = 0u32;
                for yy in 0..ky {
                    let row = &src[(dy * ky + yy) * row_len..];
                    for xx in 0..kx {
                        sum += row[(dx * kx + xx) * cn + ch] as u32;
                    }
                }
                out[dy * out_row + dx * cn + ch] = if shift_path {
                    ((sum + 2) >> 2) as u8
                } else {
                    saturate_f32(sum as f32 * scale)
                };
            }
        }
    }
    out
}

fn saturate_f32(v: f32) -> u8 {
    v.round_ties_even().clamp(0.0, 255.0) as u8
}

/// One entry of OpenCV's area decimation table: destination index, source index, weight.
struct Decimate {
    di: usize,
    si: usize,
    alpha: f32,
}

fn area_table(ssize: usize, dsize: usize, scale: f64) -> Vec<Decimate> {
    let mut tab = Vec::with_capacity(ssize * 2);
    for dx in 0..dsize {
        let fsx1 = dx as f64 * scale;
        let fsx2 = fsx1 + scale;
        let cell = scale.min(ssize as f64 - fsx1);
        let mut sx1 = fsx1.ceil() as i64;
        let mut sx2 = fsx2.floor() as i64;
        sx2 = sx2.min(ssize as i64 - 1);
        sx1 = sx1.min(sx2);
        if sx1 as f64 - fsx1 > 1e-3 {
            tab.push(Decimate {
                di: dx,
                si: (sx1 - 1) as usize,
                alpha: ((sx1 as f64 - fsx1) / cell) as f32,
            });
        }
        for sx in sx1..sx2 {
            tab.push(Decimate { di: dx, si: sx as usize, alpha: (1.0 / cell) as f32 });
        }
        if fsx2 - sx2 as f64 > 1e-3 {
            tab.push(Decimate {
                di: dx,
                si: sx2 as usize,
                alpha: ((fsx2 - sx2 as f64).min(1.0).min(cell) / cell) as f32,
            });
        }
    }
    tab
}

/// INTER_AREA downscale by a non-integer factor: f32 overlap weights, accumulated in OpenCV's order.
fn area_general(src: &[u8], g: &Geometry) -> Vec<u8> {
    let cn = g.cn;
    let xtab = area_table(g.sw, g.dw, g.scale_x);
    let ytab = area_table(g.sh, g.dh, g.scale_y);
    let row_len = g.sw * cn;
    let out_row = g.dw * cn;
    let mut out = vec![0u8; g.dh * out_row];
    let mut buf = vec![0f32; out_row];
    let mut sum = vec![0f32; out_row];
    let flush = |out: &mut [u8], dy: usize, sum: &[f32]| {
        for (d, &s) in out[dy * out_row..(dy + 1) * out_row].iter_mut().zip(sum) {
            *d = saturate_f32(s);
        }
    };
    let mut prev_dy = ytab.first().map_or(0, |t| t.di);
    for t in &ytab {
        let row = &src[t.si * row_len..(t.si + 1) * row_len];
        buf.fill(0.0);
        for x in &xtab {
            let (d, s) = (x.di * cn, x.si * cn);
            for ch in 0..cn {
                buf[d + ch] += row[s + ch] as f32 * x.alpha;
            }
        }
        let beta = t.alpha;
        if t.di != prev_dy {
            flush(&mut out, prev_dy, &sum);
            for (s, &b) in sum.iter_mut().zip(&buf) {
                *s = beta * b;
            }
            prev_dy = t.di;
        } else {
            for (s, &b) in sum.iter_mut().zip(&buf) {
                *s += beta * b;
            }
        }
    }
    flush(&mut out, prev_dy, &sum);
    out
}

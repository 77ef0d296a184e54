//! `ssrnet-parity preprocess`: images -> NCHW float32 .npy, exactly as cv2.imread + cv2.resize,
//! `/255`, mean/std per channel. Every parameter defaults to the SSRNet profile's
//! (`parity_engine::profile::ssrnet`: 64x64, INTER_LINEAR, ImageNet mean/std on B, G, R).

use std::path::PathBuf;

use cv_preprocess::{ChannelOrder, Interpolation, Normalize, Preprocessor};

use crate::Verdict;

#[derive(clap::Args)]
pub struct Args {
    /// Images to decode like cv2.imread and resize like cv2.resize.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Where to write the N x 3 x H x W float32 tensor (.npy).
    #[arg(long)]
    out: PathBuf,
    /// Also write the N x H x W x 3 uint8 BGR resized images (.npy).
    #[arg(long)]
    resized_out: Option<PathBuf>,
    /// Destination size, WIDTHxHEIGHT, each side at most 16384 (default: the SSRNet profile's).
    #[arg(long, value_parser = parse_size)]
    size: Option<(usize, usize)>,
    /// cv2.resize interpolation: linear (INTER_LINEAR), linear-exact or area (default: the
    /// SSRNet profile's, linear).
    #[arg(long)]
    interpolation: Option<Interpolation>,
    /// Per-channel mean, in output channel order (default: the SSRNet profile's).
    #[arg(long, value_delimiter = ',', num_args = 3)]
    mean: Option<Vec<f32>>,
    /// Per-channel standard deviation, in output channel order (default: the SSRNet profile's).
    #[arg(long, value_delimiter = ',', num_args = 3)]
    std: Option<Vec<f32>>,
    /// Output channel order: bgr (as cv2 decodes) or rgb (default: the SSRNet profile's, bgr).
    #[arg(long, value_parser = ["bgr", "rgb"])]
    channel_order: Option<String>,
}

/// The largest `--size` side: a 16384x16384 batch of one is already 3 GiB of float32.
const MAX_SIDE: usize = 16384;

fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let (w, h) =
        s.split_once(['x', 'X']).ok_or_else(|| format!("expected WIDTHxHEIGHT, got '{s}'"))?;
    let parse = |v: &str| v.trim().parse::<usize>().ok().filter(|&n| n > 0);
    match (parse(w), parse(h)) {
        (Some(w), Some(h)) if w <= MAX_SIDE && h <= MAX_SIDE => Ok((w, h)),
        (Some(_), Some(_)) => Err(format!("each side must be at most {MAX_SIDE}, got '{s}'")),
        _ => Err(format!("expected positive WIDTHxHEIGHT, got '{s}'")),
    }
}

pub fn run(args: Args) -> anyhow::Result<Verdict> {
    let ssrnet = parity_engine::profile::ssrnet::image();
    let three = |v: &[f32]| -> [f32; 3] { [v[0], v[1], v[2]] };
    let order = match args.channel_order.as_deref() {
        Some("rgb") => ChannelOrder::Rgb,
        Some(_) => ChannelOrder::Bgr,
        None => ssrnet.normalize.order,
    };
    let size = args.size.or(ssrnet.size).expect("the SSRNet profile states its size");
    let normalize = Normalize {
        mean: args.mean.as_deref().map_or(ssrnet.normalize.mean, three),
        std: args.std.as_deref().map_or(ssrnet.normalize.std, three),
        order,
    };
    let interpolation = args.interpolation.unwrap_or(ssrnet.interpolation);
    let request = parity_engine::preprocess::Request {
        images: args.images,
        out: args.out,
        resized_out: args.resized_out,
        preprocessor: Preprocessor::new(size, interpolation, normalize),
    };
    parity_engine::preprocess::run(&request)?;
    Ok(Verdict::Pass)
}

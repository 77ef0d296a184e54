//! `ssrnet-parity preprocess`: images -> NCHW float32 .npy, exactly as the reference pipeline.

use crate::Verdict;

#[derive(clap::Args)]
pub struct Args {
    /// Images to decode like cv2.imread and resize like cv2.resize.
    #[arg(required = true)]
    images: Vec<std::path::PathBuf>,
}

pub fn run(_args: Args) -> anyhow::Result<Verdict> {
    anyhow::bail!("preprocess is not implemented yet")
}

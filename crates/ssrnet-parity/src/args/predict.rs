//! `ssrnet-parity predict IMAGE...`: the age and the interval the original C++ `Age` type reports,
//! for a model with the SSRNet profile, over any number of images ([`parity_engine::predict`]).
//! Rows are written in path order as soon as their batch is done ([`crate::print::predict`]); an
//! image that cannot be read is named on stderr (and in JSON Lines, as a record).

use std::path::PathBuf;

use anyhow::Result;

use crate::Verdict;
use crate::print::Format;
use crate::print::predict::{Prediction, Rows};
use crate::print::terminal::with_progress;
use parity_engine::BackendName;
use parity_engine::predict::{Request, Row};

#[derive(clap::Args)]
pub struct Args {
    /// Face crops: files, directories (recursive), glob patterns (quoted: 'faces/**/*.jpg') or
    /// @LIST files (one path a line); decoded and resized exactly as cv2.
    #[arg(required = true, value_name = "IMAGES")]
    images: Vec<PathBuf>,
    /// The model (default: the committed demo model, which carries demo weights).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_parser = crate::args::backend(), default_value_t = BackendName::Ort)]
    backend: BackendName,
    /// text, markdown, json (one array) or jsonl (one record a line); all written as they come.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Images per inference call (a model whose batch axis is fixed to 1 runs them one by one).
    /// The default of 8 keeps a batch's activations in cache: on SSRNet it took 6% less CPU than 32.
    #[arg(long, default_value_t = 8, value_parser = crate::args::values::batch_size)]
    batch: usize,
    /// Inference sessions running batches at once, each holding its own copy of the model
    /// (default: one per core, at most 4; 1 when only --threads is given).
    #[arg(long, value_parser = crate::args::values::thread_count)]
    jobs: Option<usize>,
    /// Intra-op threads of each session (default: 1 with several sessions, else the backend's
    /// choice).
    #[arg(long, value_parser = crate::args::values::thread_count)]
    threads: Option<usize>,
    /// Go on past unreadable images without failing the run (they are still listed and counted).
    #[arg(long)]
    skip_unreadable: bool,
    /// Only part K of N of the images (0-based, in sorted path order), or `auto` from a Slurm
    /// job array or a Kubernetes Indexed Job.
    #[arg(long, value_name = "K/N|auto", value_parser = parity_engine::shard::parse)]
    shard: Option<parity_engine::shard::ShardArg>,
    #[command(flatten)]
    profile: crate::args::ProfileArg,
}

pub fn run(args: Args) -> Result<Verdict> {
    crate::print::no_html(args.format)?;
    let request = Request {
        images: args.images,
        model: args.model.unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_MODEL)),
        backend: args.backend,
        batch: args.batch,
        jobs: args.jobs,
        threads: args.threads,
        skip_unreadable: args.skip_unreadable,
        shard: args.shard,
        profile: args.profile.profile,
    };
    let mut out = Rows::new(args.format);
    let error = with_progress("predicting", 0, false, |terminal| {
        let mut row = |row: Row<'_>| -> Result<()> {
            match row {
                Row::Age { image, age, interval } => {
                    let image = image.display().to_string();
                    terminal.suspend(|| out.row(&Prediction { image, age, interval }))
                }
                Row::Unreadable { image, why } => out.unreadable(image, why),
            }
        };
        parity_engine::predict::run(&request, terminal, &mut row)
    })?;
    out.finish()?;
    match error {
        Some(e) => Err(e.into()),
        None => Ok(Verdict::Pass),
    }
}

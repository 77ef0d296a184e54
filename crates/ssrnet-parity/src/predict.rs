//! `ssrnet-parity predict IMAGE...`: the age and the interval the original C++ `Age` type reports,
//! for a model with the SSRNet profile, over any number of images.
//!
//! The images stream: a decoder thread reads them a batch at a time, decoding the batch's files in
//! parallel on every core (rayon), while the previous batch runs as one inference call; each row
//! is written as soon as its batch is done. Memory holds two batches, whatever the corpus size.
//! An image that cannot be read is reported by name and the run goes on; the run is then an
//! error (exit 2) with the count, unless `--skip-unreadable`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::sync_channel;

use anyhow::{Result, bail};
use parity_core::{NamedTensors, Tensor};
use rayon::prelude::*;
use serde::Serialize;

use crate::Verdict;
use crate::backends::BackendName;
use crate::onnx_model::OnnxModel;
use crate::output::Format;

#[derive(clap::Args)]
pub struct Args {
    /// Face crops: files, directories (recursive), glob patterns (quoted: 'faces/**/*.jpg') or
    /// @LIST files (one path a line); decoded and resized exactly as cv2.
    #[arg(required = true, value_name = "IMAGES")]
    images: Vec<PathBuf>,
    /// The model (default: the committed demo model, which carries demo weights).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = BackendName::Ort)]
    backend: BackendName,
    /// text, markdown, json (one array) or jsonl (one record a line); all written as they come.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Images per inference call (a model whose batch axis is fixed to 1 runs them one by one).
    #[arg(long, default_value_t = 32, value_parser = crate::output::batch_size)]
    batch: usize,
    /// Intra-op threads of the backend (default: the backend's choice).
    #[arg(long, value_parser = crate::output::thread_count)]
    threads: Option<usize>,
    /// Go on past unreadable images without failing the run (they are still listed and counted).
    #[arg(long)]
    skip_unreadable: bool,
    /// Only part K of N of the images (0-based, in sorted path order), or `auto` from a Slurm
    /// job array or a Kubernetes Indexed Job.
    #[arg(long, value_name = "K/N|auto", value_parser = crate::shard::parse)]
    shard: Option<crate::shard::ShardArg>,
    #[command(flatten)]
    profile: crate::profile::ProfileArg,
}

#[derive(Serialize)]
struct Prediction {
    image: String,
    age: f32,
    interval: [i64; 2],
}

#[derive(Serialize)]
struct Unreadable<'a> {
    image: String,
    error: &'a str,
}

pub fn run(args: Args) -> Result<Verdict> {
    let model =
        args.model.clone().unwrap_or_else(|| crate::paths::repo_default(crate::paths::DEMO_MODEL));
    let onnx = OnnxModel::read(&model)?;
    let info = onnx.model_info()?;
    let profile = crate::profile::Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let Some(output) = profile.age_output() else {
        bail!(
            "{}: predict estimates ages with SSRNet models; this model's metadata and signature \
             are not SSRNet's (pass --profile ssrnet if it is one)",
            model.display()
        );
    };
    let pre = profile.preprocessor(&info)?;
    let mut files = crate::corpus::expand_all(&args.images)?;
    if let Some(shard) = args.shard.map(|s| s.resolve()).transpose()? {
        files = shard.select(files.len()).into_iter().map(|i| files[i].clone()).collect();
    }
    // The decoder thread works while the backend runs: the backend's idle threads must not spin.
    let options = parity_core::Options { shared_cores: true, ..profile.options(args.threads) };
    let mut runnable = crate::parity::prepare(args.backend, &model, &options)?;
    let input = info.inputs[0].name.clone();

    let total = files.len();
    let bar = crate::output::progress(total as u64, "predicting");
    let mut out = Rows::new(args.format);
    let mut unreadable = crate::corpus::Unreadable::new(&bar);
    let (tx, rx) = sync_channel(1);
    std::thread::scope(|scope| -> Result<()> {
        let (pre, files) = (&pre, &files);
        scope.spawn(move || {
            for chunk in files.chunks(args.batch) {
                let decoded: Vec<_> = chunk.par_iter().map(|p| pre.load(p)).collect();
                if tx.send((chunk, decoded)).is_err() {
                    break;
                }
            }
        });
        for (paths, decoded) in rx {
            let mut good = Vec::with_capacity(paths.len());
            let mut images = Vec::with_capacity(paths.len());
            for (path, image) in paths.iter().zip(decoded) {
                match image {
                    Ok(image) => {
                        good.push(path);
                        images.push(image);
                    }
                    // One image named alone: its error is the run's one error line.
                    Err(e) if total == 1 => bail!("{e}"),
                    Err(e) => {
                        let why = e.to_string();
                        let named = path.display().to_string();
                        let why =
                            if why.contains(&named) { why } else { format!("{named}: {why}") };
                        unreadable.note(&why);
                        out.unreadable(path, &why)?;
                    }
                }
            }
            bar.inc(paths.len() as u64);
            if images.is_empty() {
                continue;
            }
            let (tensor, shape) = pre.normalize.batch(&images)?;
            let feed =
                NamedTensors::from([(input.clone(), Tensor::from_f32(shape.to_vec(), tensor)?)]);
            let what = format!("{} images from {}", good.len(), good[0].display());
            let result = crate::parity::run_inputs(runnable.as_mut(), &feed)
                .map_err(|e| crate::parity::backend_error(args.backend, &model, &what, e))?;
            let ages =
                result.get(output).and_then(|t| t.as_f32()).filter(|a| a.len() == good.len());
            let Some(ages) = ages else {
                bail!(
                    "{}: output '{output}' is not a float32 tensor with one value per image",
                    model.display()
                );
            };
            for (path, &age) in good.iter().zip(ages) {
                if !age.is_finite() {
                    bail!("{}: the model produced a non-finite age ({age})", path.display());
                }
                let interval = crate::profile::age_interval(age);
                let row = Prediction { image: path.display().to_string(), age, interval };
                bar.suspend(|| out.row(&row))?;
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    out.finish()?;
    unreadable.verdict(total, args.skip_unreadable, "")?;
    // Warned only once the run is done, so an error stays the last line on stderr.
    for warning in profile.warnings(&onnx) {
        eprintln!("warning: {}", crate::output::escape_control(&warning));
    }
    Ok(Verdict::Pass)
}

/// Rows written as they come, in one of the formats; the header goes out with the first row (or
/// at the end), so a run that fails before any row prints nothing on stdout.
struct Rows {
    format: Format,
    out: std::io::Stdout,
    started: bool,
    written: usize,
}

impl Rows {
    fn new(format: Format) -> Rows {
        Rows { format, out: std::io::stdout(), started: false, written: 0 }
    }

    fn start(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.started, true) {
            return Ok(());
        }
        let mut out = self.out.lock();
        match self.format {
            Format::Json => write!(out, "[")?,
            Format::Markdown => writeln!(out, "| image | age | interval |\n|---|---|---|")?,
            Format::Text => writeln!(out, "{:<8} {:<9} image", "age", "interval")?,
            Format::Jsonl => {}
        }
        Ok(())
    }

    fn row(&mut self, row: &Prediction) -> Result<()> {
        self.start()?;
        let mut out = self.out.lock();
        let interval = format!("{}-{}", row.interval[0], row.interval[1]);
        let image = crate::output::escape_control(&row.image);
        match self.format {
            Format::Json => {
                let sep = if self.written == 0 { "\n  " } else { ",\n  " };
                write!(out, "{sep}{}", serde_json::to_string(row)?)?;
            }
            Format::Jsonl => writeln!(out, "{}", serde_json::to_string(row)?)?,
            Format::Markdown => writeln!(out, "| {image} | {:.3} | {interval} |", row.age)?,
            Format::Text => writeln!(out, "{:<8.3} {interval:<9} {image}", row.age)?,
        }
        self.written += 1;
        Ok(())
    }

    /// An unreadable image as a record of its own in JSON Lines (stderr names it in every format).
    fn unreadable(&mut self, path: &std::path::Path, why: &str) -> Result<()> {
        if self.format == Format::Jsonl {
            let record = Unreadable { image: path.display().to_string(), error: why };
            writeln!(self.out.lock(), "{}", serde_json::to_string(&record)?)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.start()?;
        let mut out = self.out.lock();
        if self.format == Format::Json {
            writeln!(out, "{}]", if self.written == 0 { "" } else { "\n" })?;
        }
        out.flush()?;
        Ok(())
    }
}

//! `ssrnet-parity record`: write a golden set from a trusted backend, so a later export can be
//! regressed against this one. The cases stream a chunk at a time: read (images decoded) on every
//! core ([`parity_engine::read_ahead`]), run one by one (or `--batch` to a call), and written (npz
//! compression) on every core, into a staging directory renamed into place at the end.

use std::path::{Path, PathBuf};

use anyhow::Result;
use parity_core::golden::{Case, Manifest, ManifestCase, ManifestModel, write_npz_streaming};
use parity_core::{NamedTensors, Tolerance};

use crate::Verdict;
use parity_core::onnx::OnnxModel;
use parity_engine::BackendName;

#[derive(clap::Args)]
pub struct Args {
    /// The model to record.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    source: crate::args::SourceArgs,
    #[command(flatten)]
    profile: crate::args::ProfileArg,
    /// The golden directory to write (replaced only if it is empty or already a golden set).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The trusted backend.
    #[arg(long, value_parser = crate::args::backend(), default_value_t = BackendName::Ort)]
    backend: BackendName,
    /// Intra-op threads of the backend (default 1: reading and writing the cases keep the other
    /// cores busy; a large model may want more).
    #[arg(long, value_parser = crate::output::thread_count)]
    threads: Option<usize>,
    /// Cases per inference call on a model whose batch axis is dynamic (default 1: each case
    /// alone); the outputs are split back and recorded case by case.
    #[arg(long, default_value_t = 1, value_parser = crate::output::batch_size)]
    batch: usize,
    /// Record NaN and infinite outputs as expected values (refused by default: such a golden set
    /// fails against every later run, unless checked with --nan-equal).
    #[arg(long)]
    allow_nonfinite: bool,
}

pub fn run(args: Args) -> Result<Verdict> {
    let Some(source) = args.source.source() else {
        anyhow::bail!(
            "record needs inputs: --inputs DIR (images), --golden DIR, --random N or --tensors FILE..."
        );
    };
    refuse_output_over_inputs(&args.out, &args.source)?;
    let onnx = OnnxModel::read(&args.model)?;
    let info = onnx.model_info()?;
    let profile =
        parity_engine::profile::Profile::resolve(args.profile.profile, &onnx, &info, None)?;
    let source = source.open(&info, &profile)?;
    // Reading and writing run on the other cores while the backend runs: its idle threads (with
    // --threads) must not spin.
    let threads = Some(args.threads.unwrap_or(1));
    let options = parity_core::Options { shared_cores: true, ..profile.options(threads) };
    let mut runnable = crate::parity::prepare(args.backend, &args.model, &options)?;
    let sha = parity_core::digest::file_sha256(&args.model)?;
    let bar = crate::output::progress(source.len() as u64, "recording");
    // Nothing is held but a few chunks of cases and the manifest's small entries; an error leaves
    // --out as it was.
    let mut failure = None;
    let mut recorded = 0;
    let written = write_npz_streaming(&args.out, |sink| {
        let mut record_all = || -> Result<Manifest> {
            let mut from_images = false;
            let terminal = crate::terminal::Terminal::new(&bar);
            let mut unreadable = parity_engine::corpus::Unreadable::new(&terminal);
            let positions: Vec<usize> = (0..source.len()).collect();
            // Three stages overlap: the cases are read (images decoded) on a thread of their own,
            // run on this one (one by one, or --batch to a call), and written a chunk at a time on
            // a third, each chunk's files compressed in parallel.
            std::thread::scope(|scope| -> Result<()> {
                let cases =
                    parity_engine::read_ahead::in_background(scope, source.ahead(&positions));
                let chunk = parity_engine::read_ahead::chunk_len();
                let (to_writer, chunks) = std::sync::mpsc::sync_channel::<Vec<_>>(1);
                let sink = &mut *sink;
                let writer = scope.spawn(move || -> parity_core::Result<()> {
                    chunks.into_iter().try_for_each(|c| sink.write_all_with_entries(&c))
                });
                let mut pending = Vec::with_capacity(chunk);
                let mut group = Vec::with_capacity(args.batch);
                // Runs the group's cases (one call with --batch on a dynamic model) into the
                // chunk being filled, handing full chunks to the writer; false once the writer
                // has stopped (its error is waiting below).
                let mut run_group =
                    |group: &mut Vec<parity_engine::inputs::InputCase>| -> Result<bool> {
                        let inputs: Vec<&NamedTensors> = group.iter().map(|c| &c.inputs).collect();
                        let outputs = crate::parity::run_together(runnable.as_mut(), &inputs);
                        for (input, outputs) in group.drain(..).zip(outputs) {
                            let outputs = outputs.map_err(|e| {
                                let what = format!("case {}", input.name);
                                crate::parity::backend_error(args.backend, &args.model, &what, e)
                            })?;
                            if !args.allow_nonfinite {
                                refuse_non_finite(&input.name, &outputs)?;
                            }
                            from_images |= input.image.is_some();
                            let entry = ManifestCase {
                                image: input
                                    .image
                                    .as_deref()
                                    .map(|image| relative(image, &args.out)),
                                source: input.source,
                                ..Default::default()
                            };
                            let mut case = Case::new(input.name, input.inputs, outputs);
                            case.extras = input.extras;
                            pending.push((case, entry));
                            if pending.len() == chunk
                                && to_writer
                                    .send(std::mem::replace(
                                        &mut pending,
                                        Vec::with_capacity(chunk),
                                    ))
                                    .is_err()
                            {
                                return Ok(false);
                            }
                        }
                        Ok(true)
                    };
                for read in cases {
                    bar.inc(1);
                    // An image of a corpus that cannot be read is named, and the run goes on.
                    let Some(input) = source.noted(read, &mut unreadable)? else { continue };
                    group.push(input);
                    if group.len() == args.batch && !run_group(&mut group)? {
                        break;
                    }
                }
                if !group.is_empty() {
                    run_group(&mut group)?;
                }
                if !pending.is_empty() {
                    let _ = to_writer.send(pending);
                }
                drop(to_writer);
                writer.join().map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
                Ok(())
            })?;
            let consequence = "; nothing written (--skip-unreadable records the rest)";
            unreadable.verdict(source.len(), args.source.skip_unreadable, consequence)?;
            Ok(manifest(&args, &onnx, &info, &profile, sha.clone(), from_images))
        };
        match record_all() {
            Ok(m) => {
                recorded = sink.len();
                Ok(Some(m))
            }
            Err(e) => {
                let message = format!("{e:#}");
                failure = Some(e);
                Err(parity_core::Error::Input(message))
            }
        }
    });
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    written?;
    crate::output::note(&format!("wrote {recorded} cases to {}", args.out.display()));
    Ok(Verdict::Pass)
}

/// The manifest of a recorded set (its `cases` are streamed by the sink, case by case).
fn manifest(
    args: &Args,
    onnx: &OnnxModel,
    info: &parity_core::ModelInfo,
    profile: &parity_engine::profile::Profile,
    sha: String,
    from_images: bool,
) -> Manifest {
    let mut manifest = Manifest {
        format: Some(parity_core::names::GOLDEN_FORMAT.into()),
        version: Some(1),
        model: Some(ManifestModel {
            file: relative(&args.model, &args.out),
            sha256: Some(sha),
            ..Default::default()
        }),
        tolerance: info.outputs.iter().map(|o| (o.name.clone(), Tolerance::DEFAULT)).collect(),
        preprocess: from_images.then(|| {
            let pre = profile.preprocessor(info).expect("images were preprocessed");
            serde_json::json!({
                "decode": "cv2.imread(path) (IMREAD_COLOR), reproduced by cv-preprocess",
                "resize": {"width": pre.size.0, "height": pre.size.1, "interpolation": "cv2.INTER_LINEAR"},
                "channel_order": "BGR",
                "mean": pre.normalize.mean,
                "std": pre.normalize.std,
            })
        }),
        provenance: Some(serde_json::json!({
            "recorded_by": format!("ssrnet-parity {} record", env!("CARGO_PKG_VERSION")),
            "backend": args.backend.as_str(),
            "model_metadata": onnx.metadata(),
        })),
        ..Default::default()
    };
    manifest.set_model_info(info);
    manifest
}

/// An expected output holding NaN or infinity is an error naming the case and the output: a golden
/// set recorded so would fail forever (`--allow-nonfinite` records it anyway).
fn refuse_non_finite(case: &str, outputs: &NamedTensors) -> Result<()> {
    for (name, t) in outputs {
        if let Some(i) = t.data().first_non_finite() {
            let value = t.data().to_f64_vec()[i];
            anyhow::bail!(
                "case {case}: output '{name}' holds {value} at element {i}: a golden set must hold finite expected values (--allow-nonfinite records them anyway); nothing written"
            );
        }
    }
    Ok(())
}

/// `path` relative to the directory `base` (for portable manifests), else absolute.
fn relative(path: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    pathdiff::diff_paths(abs(path), abs(base))
        .unwrap_or_else(|| abs(path))
        .to_string_lossy()
        .into_owned()
}

/// `--out` must not be, or hold, the inputs it is recorded from: replacing it would destroy them.
fn refuse_output_over_inputs(out: &Path, source: &crate::args::SourceArgs) -> Result<()> {
    let Ok(out_dir) = out.canonicalize() else { return Ok(()) };
    let dirs = source.golden.iter().chain(&source.inputs).cloned();
    let parents = source.tensors.iter().filter_map(|t| t.parent().map(Path::to_path_buf));
    for dir in dirs.chain(parents) {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        if dir.canonicalize().is_ok_and(|d| d == out_dir) {
            anyhow::bail!(
                "{}: is also where the inputs are read from; refusing to replace it",
                out.display()
            );
        }
    }
    Ok(())
}

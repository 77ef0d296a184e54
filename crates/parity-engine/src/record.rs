//! A golden set written from a trusted backend, so that a later export can be regressed against
//! this one. The cases stream a chunk at a time: read (images decoded) on every core
//! ([`crate::read_ahead`]), run one by one (or `batch` to a call), and written (npz compression)
//! on every core, into a staging directory renamed into place at the end: an error leaves the
//! output as it was.

use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;

use parity_core::compare::Tolerances;
use parity_core::golden::{Case, CaseSink, Manifest, ManifestCase, ManifestModel};
use parity_core::onnx::OnnxModel;
use parity_core::{ModelInfo, NamedTensors, Runnable, Tolerance};

use crate::batch::{Batch, Batcher};
use crate::error::invalid;
use crate::inputs::{CaseSource, InputCase, Source};
use crate::profile::{Profile, ProfileChoice};
use crate::sink::{Event, Sink};
use crate::{BackendName, Result};

/// What to record, and how.
#[derive(Debug, Clone)]
pub struct Request {
    /// The model to record.
    pub model: PathBuf,
    /// Where the cases come from.
    pub source: Source,
    /// Go on past images of a corpus that cannot be read (they are still named).
    pub skip_unreadable: bool,
    /// The golden directory to write (replaced only if it is empty or already a golden set).
    pub out: PathBuf,
    /// The trusted backend.
    pub backend: BackendName,
    /// Intra-op threads of the backend (default 1: reading and writing keep the other cores busy).
    pub threads: Option<usize>,
    /// Cases per inference call on a model whose batch axis is dynamic (with
    /// [`Batch::Auto`], batched where that stays within the default tolerance of batch-1 runs).
    pub batch: Batch,
    /// Record NaN and infinite outputs as expected values (refused otherwise).
    pub allow_nonfinite: bool,
    /// The model family's profile.
    pub profile: ProfileChoice,
}

/// Records `request`; returns how many cases were written. Each case read is an
/// [`Event::Progress`] to `sink`, and an unreadable image an [`Event::Unreadable`].
pub fn run(request: &Request, sink: &dyn Sink) -> Result<usize> {
    refuse_output_over_inputs(&request.out, &request.source)?;
    let onnx = OnnxModel::read(&request.model)?;
    let info = onnx.model_info()?;
    let profile = Profile::resolve(request.profile, &onnx, &info, None)?;
    let source = request.source.open(&info, &profile)?;
    // Reading and writing run on the other cores while the backend runs: its idle threads must
    // not spin.
    let threads = Some(request.threads.unwrap_or(1));
    let options = parity_core::Options { shared_cores: true, ..profile.options(threads) };
    let runnable = crate::load::prepare(request.backend, &request.model, &options, sink)?;
    let sha = parity_core::digest::file_sha256(&request.model)?;
    let batcher = Batcher::new(request.batch);
    let tolerances = Tolerances::uniform(Tolerance::DEFAULT);
    let mut recorder =
        Recorder { request, runnable, batcher, tolerances, sink, from_images: false };
    let mut failure = None;
    let mut recorded = 0;
    let written = parity_core::golden::write_npz_streaming(&request.out, |cases| {
        match recorder.all(&source, cases) {
            Ok(()) => {
                recorded = cases.len();
                Ok(Some(recorder.manifest(&onnx, &info, &profile, sha)))
            }
            Err(e) => {
                let message = e.to_string();
                failure = Some(e);
                Err(parity_core::Error::Input(message))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    written?;
    Ok(recorded)
}

/// One recording in progress.
struct Recorder<'a> {
    request: &'a Request,
    runnable: Box<dyn Runnable>,
    /// How the cases share calls.
    batcher: Batcher,
    /// What batched calls are held to against batch-1 runs ([`Batch::Auto`]): the tolerance the
    /// golden set states.
    tolerances: Tolerances,
    sink: &'a dyn Sink,
    /// Whether any case was made from an image (the manifest then states the preprocessing).
    from_images: bool,
}

/// Recorded cases waiting to go to the writer a chunk at a time.
struct Pending {
    cases: Vec<(Case, ManifestCase)>,
    chunk: usize,
    writer: SyncSender<Vec<(Case, ManifestCase)>>,
}

impl Pending {
    /// Keeps `case`, handing a full chunk to the writer; false once the writer has stopped (its
    /// error is waiting for the caller).
    fn push(&mut self, case: (Case, ManifestCase)) -> bool {
        self.cases.push(case);
        if self.cases.len() < self.chunk {
            return true;
        }
        let full = std::mem::replace(&mut self.cases, Vec::with_capacity(self.chunk));
        self.writer.send(full).is_ok()
    }

    /// The last, partial chunk to the writer.
    fn flush(self) {
        if !self.cases.is_empty() {
            // A stopped writer's error is waiting for the caller.
            let _ = self.writer.send(self.cases);
        }
    }
}

impl Recorder<'_> {
    /// Every case: read on a thread of its own, run on this one (`batch` to a call), written a
    /// chunk at a time on a third, each chunk's files compressed in parallel.
    fn all(&mut self, source: &CaseSource<'_>, out: &mut CaseSink<'_>) -> Result<()> {
        let mut unreadable = crate::corpus::Unreadable::new(self.sink);
        let positions: Vec<usize> = (0..source.len()).collect();
        std::thread::scope(|scope| -> Result<()> {
            let cases = crate::read_ahead::in_background(scope, source.ahead(&positions));
            let chunk = crate::read_ahead::chunk_len();
            let (to_writer, chunks) = std::sync::mpsc::sync_channel::<Vec<_>>(1);
            let writer = scope.spawn(move || -> parity_core::Result<()> {
                chunks.into_iter().try_for_each(|c| out.write_all_with_entries(&c))
            });
            let mut pending =
                Pending { cases: Vec::with_capacity(chunk), chunk, writer: to_writer };
            let mut group = Vec::with_capacity(self.batcher.most());
            for read in cases {
                self.sink.event(Event::Progress(1));
                // An image of a corpus that cannot be read is named, and the run goes on.
                let Some(input) = source.noted(read, &mut unreadable)? else { continue };
                group.push(input);
                if group.len() == self.batcher.most()
                    && !self.run_group(&mut group, &mut pending)?
                {
                    break;
                }
            }
            if !group.is_empty() {
                self.run_group(&mut group, &mut pending)?;
            }
            pending.flush();
            writer.join().map_err(|_| invalid("the writer thread panicked"))??;
            Ok(())
        })?;
        let consequence = "; nothing written (--skip-unreadable records the rest)";
        unreadable.verdict(source.len(), self.request.skip_unreadable, consequence)
    }

    /// Runs `group` (one call with a batch on a dynamic model) into `pending`; false once the
    /// writer has stopped.
    fn run_group(&mut self, group: &mut Vec<InputCase>, pending: &mut Pending) -> Result<bool> {
        let (backend, model) = (self.request.backend, &self.request.model);
        let inputs: Vec<&NamedTensors> = group.iter().map(|c| &c.inputs).collect();
        let outputs = self.batcher.run(self.runnable.as_mut(), &inputs, &self.tolerances);
        for (input, outputs) in group.drain(..).zip(outputs) {
            let outputs = outputs.map_err(|e| {
                crate::load::backend_error(backend, model, &format!("case {}", input.name), e)
            })?;
            if !self.request.allow_nonfinite {
                refuse_non_finite(&input.name, &outputs)?;
            }
            self.from_images |= input.image.is_some();
            let entry = ManifestCase {
                image: input.image.as_deref().map(|image| relative(image, &self.request.out)),
                source: input.source,
                ..Default::default()
            };
            let mut case = Case::new(input.name, input.inputs, outputs);
            case.extras = input.extras;
            if !pending.push((case, entry)) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The manifest of the recorded set (its `cases` are streamed by the writer, case by case).
    fn manifest(
        &self,
        onnx: &OnnxModel,
        info: &ModelInfo,
        profile: &Profile,
        sha: String,
    ) -> Manifest {
        let request = self.request;
        let mut manifest = Manifest {
            format: Some(parity_core::names::GOLDEN_FORMAT.into()),
            version: Some(1),
            model: Some(ManifestModel {
                file: relative(&request.model, &request.out),
                sha256: Some(sha),
                ..Default::default()
            }),
            tolerance: info.outputs.iter().map(|o| (o.name.clone(), Tolerance::DEFAULT)).collect(),
            preprocess: self.from_images.then(|| preprocess_section(profile, info)),
            provenance: Some(serde_json::json!({
                "recorded_by": format!("ssrnet-parity {} record", env!("CARGO_PKG_VERSION")),
                "backend": request.backend.as_str(),
                "model_metadata": onnx.metadata(),
            })),
            ..Default::default()
        };
        manifest.set_model_info(info);
        manifest
    }
}

/// The manifest's `preprocess` section of a set recorded from images.
fn preprocess_section(profile: &Profile, info: &ModelInfo) -> serde_json::Value {
    let pre = profile.preprocessor(info).expect("images were preprocessed");
    serde_json::json!({
        "decode": "cv2.imread(path) (IMREAD_COLOR), reproduced by cv-preprocess",
        "resize": {"width": pre.size.0, "height": pre.size.1, "interpolation": "cv2.INTER_LINEAR"},
        "channel_order": "BGR",
        "mean": pre.normalize.mean,
        "std": pre.normalize.std,
    })
}

/// An expected output holding NaN or infinity is an error naming the case and the output: a
/// golden set recorded so would fail forever (`allow_nonfinite` records it anyway).
fn refuse_non_finite(case: &str, outputs: &NamedTensors) -> Result<()> {
    for (name, t) in outputs {
        if let Some(i) = t.data().first_non_finite() {
            let value = t.data().to_f64_vec()[i];
            bail!(
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

/// `out` must not be, or hold, the inputs it is recorded from: replacing it would destroy them.
fn refuse_output_over_inputs(out: &Path, source: &Source) -> Result<()> {
    let Ok(out_dir) = out.canonicalize() else { return Ok(()) };
    let dirs: Vec<PathBuf> = match source {
        Source::Golden(dir) | Source::Images(dir) => vec![dir.clone()],
        Source::Tensors(files) => {
            files.iter().filter_map(|t| t.parent().map(Path::to_path_buf)).collect()
        }
        Source::Random { .. } => Vec::new(),
    };
    for dir in dirs {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        if dir.canonicalize().is_ok_and(|d| d == out_dir) {
            bail!(
                "{}: is also where the inputs are read from; refusing to replace it",
                out.display()
            );
        }
    }
    Ok(())
}

//! `compare`: backends against a reference backend on the same inputs; no goldens.
//!
//! The cases stream: they are read a chunk at a time on every core ([`crate::read_ahead`]), each
//! is run on the reference, then handed to the other backends, which run concurrently
//! ([`crate::stream`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use parity_core::compare::Tolerances;
use parity_core::onnx::OnnxModel;
use parity_core::{NamedTensors, Runnable, Tolerance};

use crate::batch::Batcher;
use crate::corpus::Unreadable;
use crate::error::stop_point;
use crate::inputs::{InputCase, Source};
use crate::load::{backend_error, prepare};
use crate::profile::{Profile, ProfileChoice};
use crate::report::{Concluded, ShardPart};
use crate::settings::{Criteria, Plan, Scale};
use crate::sink::Sink;
use crate::stream::StreamCase;
use crate::{BackendName, Result};

/// A comparison of backends against a reference backend.
#[derive(Debug, Clone)]
pub struct Request {
    /// The model every backend runs.
    pub model: PathBuf,
    /// Where the cases come from.
    pub source: Source,
    /// Go on past images of a corpus that cannot be read (still named and counted).
    pub skip_unreadable: bool,
    /// The backends compared (none: all but the reference, those whose runtime refuses the model
    /// skipped).
    pub backends: Vec<BackendName>,
    /// The backend whose outputs are taken as expected.
    pub reference: BackendName,
    /// What the outputs are held to.
    pub criteria: Criteria,
    /// Intra-op threads per backend (default: the backend's choice).
    pub threads: Option<usize>,
    /// How the cases are spread, and which part of them runs.
    pub scale: Scale,
    /// The model family's profile.
    pub profile: ProfileChoice,
}

/// Compares `request`'s backends with its reference; each case on each backend and each
/// unreadable image is an event to `sink`.
pub fn run(request: &Request, sink: &dyn Sink) -> Result<Concluded> {
    let onnx = OnnxModel::read(&request.model)?;
    let info = onnx.model_info()?;
    let profile = Profile::resolve(request.profile, &onnx, &info, None)?;
    let source = request.source.open(&info, &profile)?;
    let tols = request.criteria.tolerances(Tolerances::uniform(Tolerance::DEFAULT), &info)?;
    let plan = Plan {
        command: "compare",
        model: &request.model,
        profile: &profile,
        backends: others(request)?,
        skip_refused: request.backends.is_empty(),
        criteria: &request.criteria,
        threads: request.threads,
        scale: request.scale,
        busy_reader: true,
    };
    let options = parity_core::Options { shared_cores: true, ..profile.options(request.threads) };
    let runnable = prepare(request.reference, &request.model, &options, sink)?;
    let (shard, positions) = request.scale.positions(source.len())?;
    let mut unreadable = Unreadable::new(sink);
    let mut ahead = source.ahead(&positions);
    let mut reference = Reference {
        backend: request.reference,
        model: &request.model,
        runnable,
        batcher: Batcher::new(plan.scale.batch),
        tolerances: &tols,
        count: positions.len(),
        batch: VecDeque::new(),
    };
    let mut read = |k: usize| -> Result<Option<StreamCase>> {
        stop_point(sink)?;
        // An image of a corpus that cannot be read is named, and the run goes on.
        reference.case(k, |j| source.noted(ahead.get(j), &mut unreadable))
    };
    let sides = plan.run(positions.len(), &mut read, &tols, shard.is_some(), sink)?;
    drop(ahead);
    let reference = format!("backend {} on {}", request.reference.as_str(), source.what);
    let mut report = plan.report(reference.clone(), positions.len() - unreadable.count(), sides);
    if let Some(shard) = shard {
        let (total, nan_equal) = (source.len(), request.criteria.nan_equal);
        report.shard = Some(ShardPart {
            model_sha256: parity_core::digest::file_sha256(&request.model)?,
            reference_sha256: parity_core::digest::sha256(reference.as_bytes()),
            ..ShardPart::new(shard, total, positions, &tols, nan_equal, &plan.backends)
        });
    }
    let error = unreadable.verdict(source.len(), request.skip_unreadable, "").err();
    Ok(Concluded { report, error })
}

/// The backends compared: those chosen, but the reference.
fn others(request: &Request) -> Result<Vec<BackendName>> {
    let others: Vec<BackendName> = crate::registry::chosen(&request.backends)
        .into_iter()
        .filter(|b| *b != request.reference)
        .collect();
    if others.is_empty() {
        bail!(
            "nothing to compare: --backend names only the reference '{}'",
            request.reference.as_str()
        );
    }
    Ok(others)
}

/// The reference backend over the cases: read and run a batch at a time, then handed out one by
/// one.
struct Reference<'a> {
    backend: BackendName,
    model: &'a Path,
    runnable: Box<dyn Runnable>,
    /// How the cases share its calls.
    batcher: Batcher,
    /// What its batched calls are held to against its batch-1 runs ([`crate::batch::Batch::Auto`]).
    tolerances: &'a Tolerances,
    count: usize,
    batch: VecDeque<(usize, Option<StreamCase>)>,
}

impl Reference<'_> {
    /// Case `k` with the reference's outputs as expected (`None`: a case `read` skipped).
    fn case(
        &mut self,
        k: usize,
        mut read: impl FnMut(usize) -> Result<Option<InputCase>>,
    ) -> Result<Option<StreamCase>> {
        if self.batch.front().is_none_or(|(j, _)| *j != k) {
            self.batch.clear();
            let cases = (k..(k + self.batcher.most()).min(self.count))
                .map(|j| Ok((j, read(j)?)))
                .collect::<Result<Vec<_>>>()?;
            self.run(cases)?;
        }
        Ok(self.batch.pop_front().expect("a case read for every position").1)
    }

    /// `cases` through the reference in one call, into the batch handed out.
    fn run(&mut self, cases: Vec<(usize, Option<InputCase>)>) -> Result<()> {
        let inputs: Vec<&NamedTensors> =
            cases.iter().filter_map(|(_, c)| c.as_ref()).map(|c| &c.inputs).collect();
        let outputs = self.batcher.run(self.runnable.as_mut(), &inputs, self.tolerances);
        let mut expected = outputs.into_iter();
        for (j, case) in cases {
            let Some(case) = case else {
                self.batch.push_back((j, None));
                continue;
            };
            let outputs = expected.next().expect("one result per case").map_err(|e| {
                backend_error(self.backend, self.model, &format!("case {}", case.name), e)
            })?;
            let case = StreamCase { name: case.name, inputs: case.inputs, expected: outputs };
            self.batch.push_back((j, Some(case)))
        }
        Ok(())
    }
}

//! What `check`, `compare` and `diff` share: the criteria their outputs are held to
//! ([`Criteria`]), how a run over many cases is spread ([`Scale`]), and the streamed run of
//! `check` and `compare` itself.

use std::path::Path;

use parity_core::compare::{CompareOptions, Tolerances};
use parity_core::{ModelInfo, Options};

use crate::batch::Batch;
use crate::profile::Profile;
use crate::report::{ParityReport, SideReport};
use crate::shard::{Shard, ShardArg};
use crate::sink::Sink;
use crate::stream::{Comparison, Spread, StreamCase, run_backends};
use crate::{BackendName, Result};

/// The tolerances and NaN rule a run's outputs are held to, as the user stated them.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// Absolute tolerance of every output (default: the golden set's, else 1e-4).
    pub atol: Option<f64>,
    /// Relative tolerance of every output (default: the golden set's, else 0).
    pub rtol: Option<f64>,
    /// Per-output tolerances `NAME:ATOL[:RTOL]`; they win over `atol` and `rtol`.
    pub per_output: Vec<String>,
    /// NaN against NaN counts as equal (NaN against a number always fails).
    pub nan_equal: bool,
}

impl Criteria {
    /// The tolerances over `base` (a golden set's, or the defaults); a per-output tolerance must
    /// name one of `info`'s outputs.
    pub fn tolerances(&self, base: Tolerances, info: &ModelInfo) -> Result<Tolerances> {
        let mut tols = base;
        if self.atol.is_some() || self.rtol.is_some() {
            let atol = self.atol.unwrap_or(tols.default.atol);
            let rtol = self.rtol.unwrap_or(tols.default.rtol);
            tols = Tolerances::uniform(parity_core::Tolerance::new(atol, rtol)?);
        }
        for spec in &self.per_output {
            let (name, t) = parity_core::Tolerance::parse_override(spec)?;
            if !info.outputs.iter().any(|o| o.name == name) {
                let names: Vec<&str> = info.outputs.iter().map(|o| o.name.as_str()).collect();
                bail!(
                    "--output-tol {spec}: the model has no output '{name}' (its outputs: {})",
                    names.join(", ")
                );
            }
            tols = tols.with(name, t);
        }
        Ok(tols)
    }

    /// How values compare.
    pub fn options(&self) -> CompareOptions {
        CompareOptions { nan_equal: self.nan_equal }
    }
}

/// How a run over many cases is spread: workers at once, cases per call, and which part of the
/// cases this process runs.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Workers at once, each running a chunk of cases on one backend instance (default:
    /// [`Spread::new`]'s).
    pub jobs: Option<usize>,
    /// Cases per inference call on a model whose batch axis is dynamic.
    pub batch: Batch,
    /// Run only this part of the cases (a shard's report, for `merge`).
    pub shard: Option<ShardArg>,
}

impl Default for Scale {
    /// Every case, one a call, workers as [`Spread::new`] chooses.
    fn default() -> Scale {
        Scale { jobs: None, batch: Batch::Size(1), shard: None }
    }
}

impl Scale {
    /// The spread, each instance with `threads` intra-op threads.
    pub fn spread(&self, threads: Option<usize>) -> Spread {
        Spread::new(self.jobs, threads, self.batch)
    }

    /// The shard (if any) and the positions it runs of `total` cases.
    pub fn positions(&self, total: usize) -> Result<(Option<Shard>, Vec<usize>)> {
        let shard = self.shard.map(ShardArg::resolve).transpose()?;
        let positions = match shard {
            Some(s) => s.select(total),
            None => (0..total).collect(),
        };
        Ok((shard, positions))
    }
}

/// A run's model, backends and settings, ready to stream cases through (`check`, `compare`).
pub(crate) struct Plan<'a> {
    /// `check` or `compare`.
    pub command: &'static str,
    pub model: &'a Path,
    pub profile: &'a Profile,
    /// The backends that run, in report order.
    pub backends: Vec<BackendName>,
    /// The backends are the default set, not ones the user named: one whose runtime refuses the
    /// model is skipped.
    pub skip_refused: bool,
    pub criteria: &'a Criteria,
    pub threads: Option<usize>,
    pub scale: Scale,
    /// Something else runs beside the backends (`compare`'s reference, on the reader's thread).
    pub busy_reader: bool,
}

impl Plan<'_> {
    /// Cases `0..count`, read by `read`, through every backend (each case's report kept with
    /// `keep_all`).
    pub fn run(
        &self,
        count: usize,
        read: &mut dyn FnMut(usize) -> Result<Option<StreamCase>>,
        tolerances: &Tolerances,
        keep_all: bool,
        sink: &dyn Sink,
    ) -> Result<Vec<SideReport>> {
        let spread = self.scale.spread(self.threads);
        // Workers side by side share the cores: idle runtime threads must not spin.
        let shared_cores = spread.workers > 1 || self.busy_reader;
        let threads = spread.threads(self.threads);
        let options = Options { shared_cores, ..self.profile.options(threads) };
        let comparison = Comparison {
            tolerances,
            options: self.criteria.options(),
            keep_all,
            skip_refused: self.skip_refused,
        };
        run_backends(&self.backends, self.model, &options, count, read, spread, comparison, sink)
    }

    /// The report of `count` cases against `reference`.
    pub fn report(&self, reference: String, count: usize, sides: Vec<SideReport>) -> ParityReport {
        let model = self.model.display().to_string();
        ParityReport::new(self.command, model, reference, count, self.profile.name(), sides)
    }
}

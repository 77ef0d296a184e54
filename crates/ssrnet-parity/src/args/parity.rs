//! Flags shared by `check`, `compare` and `diff`.

use parity_engine::settings::{Criteria, Scale};

use crate::print::Output;

/// How a run over many cases is spread: workers at once, cases per call, and which part of the
/// cases.
#[derive(clap::Args, Clone, Debug)]
pub struct ScaleArgs {
    /// Workers at once, each running a chunk of cases on one backend instance (default: one per
    /// core, or the cores divided by --threads).
    #[arg(long, value_parser = crate::args::values::thread_count)]
    pub jobs: Option<usize>,
    /// Run part K of N of the cases (0-based; case i belongs to part i mod N), or `auto` / `auto/N`
    /// from a Slurm job array or a Kubernetes Indexed Job; `--format json` then writes a partial
    /// report for `merge`.
    #[arg(long, value_name = "K/N|auto", value_parser = parity_engine::shard::parse)]
    pub shard: Option<parity_engine::shard::ShardArg>,
    /// Cases per inference call on a model whose batch axis is dynamic (default 1: each case
    /// alone, as golden sets are recorded); the outputs are split back and compared case by case.
    /// `auto`: 8 a call on each backend whose batched call, tried on the first cases, stays within
    /// the tolerance of its batch-1 runs, else one.
    #[arg(long, default_value = "1", value_name = "N|auto", value_parser = crate::args::values::batch_or_auto)]
    pub batch: parity_engine::batch::Batch,
}

impl ScaleArgs {
    /// The engine's scale.
    pub fn scale(&self) -> Scale {
        Scale { jobs: self.jobs, batch: self.batch, shard: self.shard }
    }
}

/// Flags shared by `check`, `compare` and `diff`: tolerances, threads, output format.
#[derive(clap::Args, Clone, Debug)]
pub struct ParityArgs {
    /// Intra-op threads per backend instance (default: one when several workers run, else the
    /// backend's choice).
    #[arg(long, value_parser = crate::args::values::thread_count)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub out: Output,
    /// Absolute tolerance for every output (default: the manifest's, else 1e-4).
    #[arg(long)]
    pub atol: Option<f64>,
    /// Relative tolerance for every output (default: the manifest's, else 0).
    #[arg(long)]
    pub rtol: Option<f64>,
    // (A doc comment would be read as an intra-doc link by rustdoc.)
    #[arg(
        long = "output-tol",
        value_name = "NAME:ATOL[:RTOL]",
        help = "Per-output tolerance NAME:ATOL[:RTOL]; repeatable; wins over --atol/--rtol"
    )]
    pub output_tol: Vec<String>,
    /// Count NaN against NaN as equal (NaN against a number always fails).
    #[arg(long)]
    pub nan_equal: bool,
}

impl ParityArgs {
    /// The engine's criteria.
    pub fn criteria(&self) -> Criteria {
        Criteria {
            atol: self.atol,
            rtol: self.rtol,
            per_output: self.output_tol.clone(),
            nan_equal: self.nan_equal,
        }
    }
}

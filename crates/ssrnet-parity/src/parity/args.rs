//! Flags shared by `check`, `compare` and `diff`.

use anyhow::Result;
use parity_core::ModelInfo;
use parity_core::compare::{CompareOptions, Tolerances};

use parity_engine::stream::Spread;

use crate::output::Format;

/// How a run over many cases is spread: backends at once, and which part of the cases.
#[derive(clap::Args, Clone, Debug)]
pub struct ScaleArgs {
    /// Backends run at once (default: all of them on a machine with more than one core).
    #[arg(long, value_parser = crate::output::thread_count)]
    pub jobs: Option<usize>,
    /// Run part K of N of the cases (0-based; case i belongs to part i mod N), or `auto` / `auto/N`
    /// from a Slurm job array or a Kubernetes Indexed Job; `--format json` then writes a partial
    /// report for `merge`.
    #[arg(long, value_name = "K/N|auto", value_parser = parity_engine::shard::parse)]
    pub shard: Option<parity_engine::shard::ShardArg>,
    /// Cases per inference call on a model whose batch axis is dynamic (default 1: each case
    /// alone, as golden sets are recorded); the outputs are split back and compared case by case.
    #[arg(long, default_value_t = 1, value_parser = crate::output::batch_size)]
    pub batch: usize,
}

impl ScaleArgs {
    /// The spread for `backends` backends.
    pub fn spread(&self, backends: usize) -> Spread {
        Spread::new(self.jobs, backends, self.batch)
    }
}

/// Flags shared by `check`, `compare` and `diff`: tolerances, threads, output format.
#[derive(clap::Args, Clone, Debug)]
pub struct ParityArgs {
    /// Intra-op threads per backend (default: the backend's choice).
    #[arg(long, value_parser = crate::output::thread_count)]
    pub threads: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
    /// Flags over `base` (the manifest's tolerances, or the defaults); `--output-tol` must name
    /// one of `info`'s outputs.
    pub fn resolve(&self, base: Tolerances, info: &ModelInfo) -> Result<Tolerances> {
        let mut tols = base;
        if self.atol.is_some() || self.rtol.is_some() {
            let atol = self.atol.unwrap_or(tols.default.atol);
            let rtol = self.rtol.unwrap_or(tols.default.rtol);
            let t = parity_core::Tolerance::new(atol, rtol)?;
            tols = Tolerances::uniform(t);
        }
        for spec in &self.output_tol {
            let (name, t) = parity_core::Tolerance::parse_override(spec)?;
            if !info.outputs.iter().any(|o| o.name == name) {
                let names: Vec<&str> = info.outputs.iter().map(|o| o.name.as_str()).collect();
                anyhow::bail!(
                    "--output-tol {spec}: the model has no output '{name}' (its outputs: {})",
                    names.join(", ")
                );
            }
            tols = tols.with(name, t);
        }
        Ok(tols)
    }

    pub fn options(&self) -> CompareOptions {
        CompareOptions { nan_equal: self.nan_equal }
    }
}

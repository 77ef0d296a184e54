//! What the user typed: one module per subcommand (its flags, turned into the engine's request,
//! the result handed to [`crate::print`]), the flag groups several share ([`parity`], and
//! [`ProfileArg`], [`SourceArgs`] here), and clap parsers for the engine's values (the engine knows
//! no clap) and for bounded numbers ([`values`]).

pub mod bench;
pub mod check;
pub mod compare;
pub mod diff;
pub mod inspect;
pub mod localize;
pub mod merge;
pub mod parity;
pub mod predict;
pub mod preprocess;
pub mod record;
pub mod values;

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use parity_engine::BackendName;
use parity_engine::inputs::Source;
use parity_engine::profile::ProfileChoice;

/// `--profile`, for every command that runs a model.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct ProfileArg {
    /// The model family's profile: image preprocessing, task findings, batching hints.
    #[arg(long, value_parser = profile(), default_value = "auto")]
    pub profile: ProfileChoice,
}

/// A profile name: the engine's list, each with its help.
fn profile() -> impl TypedValueParser<Value = ProfileChoice> {
    let names = ProfileChoice::ALL.map(|(_, name, about)| PossibleValue::new(name).help(about));
    PossibleValuesParser::new(names)
        .map(|name| name.parse::<ProfileChoice>().expect("one of the possible values"))
}

/// A backend name: the engine's list, each with its help, as clap shows them.
pub fn backend() -> impl TypedValueParser<Value = BackendName> {
    let names = BackendName::ALL.map(|b| PossibleValue::new(b.as_str()).help(b.about()));
    PossibleValuesParser::new(names)
        .map(|name| name.parse::<BackendName>().expect("one of the possible values"))
}

/// Where `compare`, `diff`, `record` and `localize` take their inputs from (`compare` and `diff`
/// default to `--random 8 --seed 0`).
#[derive(clap::Args, Clone, Debug)]
pub struct SourceArgs {
    /// Images, decoded and resized exactly as cv2, one case each: a directory (recursive), a glob
    /// pattern or @LIST (as `predict` takes them).
    #[arg(long, value_name = "DIR|PATTERN|@LIST", group = "source")]
    pub inputs: Option<PathBuf>,
    /// The inputs of a golden set (either layout).
    #[arg(long, value_name = "DIR", group = "source")]
    pub golden: Option<PathBuf>,
    /// N seeded random batch-1 cases (floats standard-normal, integers from {0, 1}, fair bools);
    /// at most 100,000.
    #[arg(long, value_name = "N", group = "source", value_parser = crate::args::values::random_count)]
    pub random: Option<usize>,
    /// Tensor files, one case each, named by file stem: `.npz` holding every model input by name
    /// (other arrays are ignored), or `.npy` for a model with one input.
    #[arg(long, value_name = "FILE", num_args = 1.., group = "source")]
    pub tensors: Vec<PathBuf>,
    /// Seed of the first random case (case i uses seed + i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Go on past images of an --inputs corpus that cannot be read without failing the run (they
    /// are still named and counted).
    #[arg(long)]
    pub skip_unreadable: bool,
}

impl SourceArgs {
    /// The source given, if any.
    pub fn source(&self) -> Option<Source> {
        if let Some(spec) = &self.inputs {
            return Some(Source::Images(spec.clone()));
        }
        if !self.tensors.is_empty() {
            return Some(Source::Tensors(self.tensors.clone()));
        }
        if let Some(dir) = &self.golden {
            return Some(Source::Golden(dir.clone()));
        }
        self.random.map(|count| Source::Random { count, seed: self.seed })
    }

    /// The source given, else `count` random cases from `--seed`.
    pub fn source_or_random(&self, count: usize) -> Source {
        self.source().unwrap_or(Source::Random { count, seed: self.seed })
    }
}

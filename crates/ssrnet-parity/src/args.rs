//! clap parsers for the engine's values (the engine knows no clap).

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use parity_engine::BackendName;
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

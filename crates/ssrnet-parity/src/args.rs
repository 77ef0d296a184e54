//! clap parsers for the engine's values (the engine knows no clap).

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use parity_engine::BackendName;

/// A backend name: the engine's list, each with its help, as clap shows them.
pub fn backend() -> impl TypedValueParser<Value = BackendName> {
    let names = BackendName::ALL.map(|b| PossibleValue::new(b.as_str()).help(b.about()));
    PossibleValuesParser::new(names)
        .map(|name| name.parse::<BackendName>().expect("one of the possible values"))
}

//! The CLI side of `check`, `compare` and `diff`: the flags the three share ([`args`]) and
//! printing the engine's report ([`report`]).

pub mod args;
pub mod report;

pub use args::{ParityArgs, ScaleArgs};

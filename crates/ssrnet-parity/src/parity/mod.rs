//! The CLI side of `check`, `compare` and `diff`: the flags the three share ([`args`]), printing
//! the engine's report ([`report`]), and loading a model on a backend for `predict` ([`run`]).

pub mod args;
pub mod report;
pub mod run;

pub use args::{ParityArgs, ScaleArgs};
pub use parity_engine::batch::run_inputs;
pub use run::{backend_error, prepare};

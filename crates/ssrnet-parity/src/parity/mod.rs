//! The CLI side of `check`, `compare` and `diff`: loading a model on a backend outside the
//! engine's streams ([`run`]), printing the engine's report ([`report`]), and the flags the three
//! share ([`args`]).

pub mod args;
pub mod report;
pub mod run;

pub use args::{ParityArgs, ScaleArgs};
pub use parity_engine::batch::{batch_agnostic, compare_cases, run_inputs, run_together};
pub use parity_engine::report::{ParityReport, ShardPart, SideReport};
pub use run::{backend_error, prepare};

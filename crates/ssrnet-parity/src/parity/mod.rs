//! The engine behind `check`, `compare` and `diff`: run the same inputs through prepared models
//! ([`run`]), compare outputs with the core's tolerance rules, fold the results into one report and
//! print it ([`report`]); many cases streamed through several backends at once ([`stream`]); the
//! flags the three share ([`args`]).

pub mod args;
pub mod report;
pub mod run;
pub mod stream;

pub use args::{ParityArgs, ScaleArgs};
pub use parity_engine::batch::{batch_agnostic, compare_cases, run_inputs, run_together};
pub use report::{ParityReport, ShardPart, SideReport};
pub use run::{backend_error, prepare};

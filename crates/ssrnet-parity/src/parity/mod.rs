//! The engine behind `check`, `compare` and `diff`: run the same inputs through prepared models
//! ([`run`]), compare outputs with the core's tolerance rules, fold the results into one report and
//! print it ([`report`]); the flags the three share ([`args`]).

pub mod args;
pub mod report;
pub mod run;

pub use args::ParityArgs;
pub use report::{ParityReport, SideReport};
pub use run::{backend_error, batch_agnostic, compare_cases, prepare, run_inputs};

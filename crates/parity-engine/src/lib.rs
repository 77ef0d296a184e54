//! The engine behind ssrnet-parity's front ends (the CLI, and the Python package): everything that
//! is not argument parsing or rendering. It prints nothing; its errors are one type ([`Error`]).
//!
//! | module | what |
//! |---|---|
//! | [`registry`] | the backends by name ([`BackendName`]), the one list every front end offers |
//! | [`sink`] | what a run has to say, as events a front end renders (the engine prints nothing) |
//! | [`corpus`] | what an argument naming images expands to, and the images that could not be read |
//! | [`inputs`] | where a run's cases come from: images, golden sets, tensor files, seeded random |
//! | [`inspect`] | what a model declares, and which backends can run it |
//! | [`load`] | a model loaded on a backend: one-line refusals, declared opsets as warnings |
//! | [`batch`] | cases through a prepared model, sharing calls where they can; outputs compared |
//! | [`stream`] | many cases through several backends at once, each compared as it comes |
//! | [`check`] | a golden set (or cases in memory) on every chosen backend, against the goldens |
//! | [`compare`] | backends against a reference backend on the same inputs |
//! | [`diff`] | a new export held to an earlier one's outputs on one backend |
//! | [`settings`] | what check, compare and diff share: criteria, scale |
//! | [`report`] | the report of a check, compare, diff or merge: serde types and their verdicts |
//! | [`shard`] | a deterministic part of a run's cases (`K/N`, or the batch engine's index) |
//! | [`read_ahead`] | cases read a chunk at a time on every core while the backends run |
//! | [`mod@bench`] | latency, throughput and GFLOP/s per backend, batch and thread count |
//! | [`localize`] | where two runs of a model part, node by node: the culprit, or an accumulation |
//! | [`record`] | a golden set written from a trusted backend, streamed a chunk at a time |
//! | [`merge`] | the shards' reports of one run folded into the run's report |
//! | [`predict`] | ages over an image corpus, rows in path order, on sessions that decode and infer |
//! | [`preprocess`] | images to an NCHW float32 `.npy`, exactly as cv2, then normalised |
//! | [`pairing`] | which of one export's inputs or outputs stands for which of another's |
//! | [`profile`] | what is specific to a model family, one module each (`plain`, `ssrnet`) |
//!
//! # Example
//!
//! A check of the committed demo model against its golden set on tract, events dropped
//! ([`sink::Quiet`]); the report is the one `ssrnet-parity check --backend tract --format json`
//! prints:
//!
//! ```
//! use parity_engine::check::{Request, run};
//! use parity_engine::report::Outcome;
//! use parity_engine::{BackendName, sink::Quiet};
//!
//! let request = Request {
//!     model: None, // the model the golden set's manifest names
//!     golden: "../../fixtures/golden".into(),
//!     backends: vec![BackendName::Tract],
//!     criteria: Default::default(), // the golden set's tolerances
//!     threads: None,
//!     scale: Default::default(), // every case, one a call
//!     profile: Default::default(),
//! };
//! let report = run(&request, &Quiet)?;
//! assert_eq!(report.verdict, Outcome::Pass);
//! assert_eq!((report.cases, report.backends[0].name.as_str()), (38, "tract"));
//! # Ok::<(), parity_engine::Error>(())
//! ```
//!
//! Which backends a run uses, and the part of 10 cases that shard 1 of 4 runs:
//!
//! ```
//! use parity_engine::registry::{BackendName, chosen};
//! use parity_engine::shard::Shard;
//!
//! let backends = chosen(&["rten".parse::<BackendName>()?]);
//! assert_eq!(backends, [BackendName::Rten]);
//! assert_eq!(chosen(&[]).len(), 4);
//! assert_eq!(Shard { index: 1, count: 4 }.select(10), [1, 5, 9]);
//! # Ok::<(), parity_engine::Error>(())
//! ```

#![deny(missing_docs)]

#[macro_use]
mod error;
pub mod batch;
pub mod bench;
pub mod check;
pub mod compare;
pub mod corpus;
pub mod diff;
pub mod inputs;
pub mod inspect;
pub mod load;
pub mod localize;
pub mod merge;
pub mod pairing;
pub mod predict;
pub mod preprocess;
pub mod profile;
pub mod read_ahead;
pub mod record;
pub mod registry;
pub mod report;
pub mod samples;
mod schedule;
pub mod settings;
pub mod shard;
pub mod sink;
pub mod stream;

pub use error::{Error, Result};
pub use registry::BackendName;

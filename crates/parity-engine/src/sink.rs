//! What the engine has to say while it runs, as events ([`Event`]) handed to a [`Sink`]: the engine
//! itself never writes to stdout or stderr. A front end renders them (the CLI: a progress bar and
//! lines on stderr); a caller that wants none passes [`Quiet`]. The sink is also how a caller asks
//! a long run to stop ([`Sink::stop_requested`]).

use parity_core::CaseReport;

use crate::BackendName;

/// Something that happened during a run.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The run has `n` units of work in all (cases times backends, images); sent before the
    /// first [`Event::Progress`].
    Planned(u64),
    /// `n` more units of the run's work are done (cases on a backend, images).
    Progress(u64),
    /// A backend compared a case (as soon as it did: backends side by side interleave).
    Case {
        /// The backend.
        backend: BackendName,
        /// The case's comparison.
        report: &'a CaseReport,
    },
    /// Something a user should read once the run is over (a model beyond a backend's declared
    /// opsets).
    Warning(&'a str),
    /// An input of a corpus could not be read; the message names it (`PATH: why`). The run goes
    /// on; each input is reported once.
    Unreadable(&'a str),
    /// The run went on past unreadable inputs (`skip_unreadable`): `skipped` of `total`.
    SkippedUnreadable {
        /// How many inputs could not be read.
        skipped: usize,
        /// How many the run had.
        total: usize,
    },
}

/// Where a run's events go.
pub trait Sink: Sync {
    /// One event, as it happens (from any of the run's threads).
    fn event(&self, event: Event<'_>);

    /// Whether the caller asked the run to end: checked between cases, and the run then fails
    /// with [`crate::Error::Interrupted`]. A sink that cannot be asked says no.
    fn stop_requested(&self) -> bool {
        false
    }
}

/// A sink that drops every event.
pub struct Quiet;

impl Sink for Quiet {
    fn event(&self, _event: Event<'_>) {}
}

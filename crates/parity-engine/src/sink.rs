//! What the engine has to say while it runs, as events ([`Event`]) handed to a [`Sink`]: the engine
//! itself never writes to stdout or stderr. A front end renders them (the CLI: a progress bar and
//! lines on stderr); a caller that wants none passes [`Quiet`].

/// Something that happened during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
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
}

/// A sink that drops every event.
pub struct Quiet;

impl Sink for Quiet {
    fn event(&self, _event: Event<'_>) {}
}

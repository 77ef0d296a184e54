//! The CLI's rendering of the engine's events: lines on stderr, printed around the run's progress
//! bar so they never tear it.

use parity_engine::sink::{Event, Sink};

use crate::output::escape_control;

/// Events rendered on stderr around a progress bar.
pub struct Terminal {
    bar: indicatif::ProgressBar,
}

impl Terminal {
    /// Lines printed around `bar`.
    pub fn new(bar: &indicatif::ProgressBar) -> Terminal {
        Terminal { bar: bar.clone() }
    }
}

impl Sink for Terminal {
    fn event(&self, event: Event<'_>) {
        let line = match event {
            Event::Unreadable(why) => format!("unreadable: {}", escape_control(why)),
            Event::SkippedUnreadable { skipped, total } => {
                format!("skipped {skipped} of {total} unreadable images (each named above)")
            }
        };
        self.bar.suspend(|| eprintln!("{line}"));
    }
}

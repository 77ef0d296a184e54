//! The CLI's rendering of the engine's events: progress on the run's bar, lines on stderr printed
//! around it so they never tear it, warnings kept for the end of the run, and with `--format
//! jsonl` each case's comparison as a JSON line on stdout.

use parity_engine::sink::{Event, Sink};

use crate::print::escape_control;

/// Events rendered on the terminal around a progress bar.
pub struct Terminal {
    bar: indicatif::ProgressBar,
    case_lines: bool,
    stop: crate::print::capture::Stop,
    warnings: crate::print::capture::AtEnd,
}

impl Terminal {
    /// Rendered around `bar`; no JSON lines. Warnings are kept for the end of this thread's run,
    /// which stops when this thread's caller asks ([`crate::print::capture::capturing`]).
    pub fn new(bar: &indicatif::ProgressBar) -> Terminal {
        Terminal {
            bar: bar.clone(),
            case_lines: false,
            stop: crate::print::capture::Stop::current(),
            warnings: crate::print::capture::AtEnd::current(),
        }
    }

    /// Also each compared case as a JSON line on stdout (`--format jsonl`) when `on`.
    pub fn with_case_lines(self, on: bool) -> Terminal {
        Terminal { case_lines: on, ..self }
    }
}

impl Sink for Terminal {
    fn event(&self, event: Event<'_>) {
        let line = match event {
            Event::Planned(n) => return self.bar.set_length(n),
            Event::Progress(n) => return self.bar.inc(n),
            Event::Case { backend, report } => {
                if self.case_lines {
                    // A closed stdout shows again, as the error of the summary line after.
                    let _ = crate::print::report::print_case_line(backend.as_str(), report);
                }
                return;
            }
            Event::Warning(warning) => return self.warnings.keep(warning.to_string()),
            Event::Unreadable(why) => format!("unreadable: {}", escape_control(why)),
            Event::SkippedUnreadable { skipped, total } => {
                format!("skipped {skipped} of {total} unreadable images (each named above)")
            }
        };
        self.bar.suspend(|| eprintln!("{line}"));
    }

    fn stop_requested(&self) -> bool {
        self.stop.requested()
    }
}

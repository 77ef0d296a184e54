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

    /// Runs `f` (without its lines tearing the bar).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Also each compared case as a JSON line on stdout (`--format jsonl`) when `on`.
    pub fn with_case_lines(self, on: bool) -> Terminal {
        Terminal { case_lines: on, ..self }
    }
}

/// `run` with a progress bar of `len` steps (0: as the engine plans) saying `what` on stderr, the
/// engine's events rendered around it (each compared case as a JSON line too, with `case_lines`);
/// the bar is gone before `run`'s result is printed.
pub fn with_progress<T>(
    what: &str,
    len: u64,
    case_lines: bool,
    run: impl FnOnce(&Terminal) -> T,
) -> T {
    let bar = crate::print::progress(len, what);
    let result = run(&Terminal::new(&bar).with_case_lines(case_lines));
    bar.finish_and_clear();
    result
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

//! Where a run's output goes besides stdout: the warnings kept for its end ([`AtEnd`]), and, for
//! another front end (the Python package), the JSON document kept instead of printed
//! ([`capturing`]) with the caller's request to stop ([`Stop`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::escape_control;

thread_local! {
    /// The warnings of the run on this thread, printed once at its end when it ends without an
    /// error (an error stays the one line on stderr), in the order first given. The run's other
    /// threads reach them through their sink ([`AtEnd::current`]), so runs on several threads at
    /// once (Python's) each keep their own.
    static AT_END: AtEnd = AtEnd::default();
}

/// The warnings kept for the end of one run.
#[derive(Clone, Default)]
pub struct AtEnd(Arc<std::sync::Mutex<Vec<String>>>);

impl AtEnd {
    /// The warnings of the run on this thread.
    pub fn current() -> AtEnd {
        AT_END.with(AtEnd::clone)
    }

    /// Keeps `warning`; the same warning given twice is kept once.
    pub fn keep(&self, warning: String) {
        let mut kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !kept.contains(&warning) {
            kept.push(warning);
        }
    }

    /// The warnings kept, which are kept no longer.
    fn take(&self) -> Vec<String> {
        let mut kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *kept)
    }
}

/// Prints `warnings` on stderr, `warning: ` first.
pub fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {}", escape_control(warning));
    }
}

/// The warnings of the run on this thread, which are kept no longer.
pub fn take_warnings() -> Vec<String> {
    AtEnd::current().take()
}

/// What a subcommand run by [`crate::document`] concluded.
#[derive(Debug, Clone)]
pub struct Document {
    /// The JSON document `--format json` prints, as its text (numbers as the command line writes
    /// them: an f32 as its shortest decimal), or `None` for a command that prints none.
    pub json: Option<String>,
    /// The exit code the command would have ended with: 0 pass, 1 a negative verdict, 2 an error.
    pub exit_code: u8,
    /// The warnings the command would have printed at its end.
    pub warnings: Vec<String>,
    /// The `error:` line printed after the document (a report whose verdict is an error).
    pub error: Option<String>,
    /// The report as `--format markdown` prints it (check, compare, diff, merge, localize).
    pub markdown: Option<String>,
    /// The report as the page `--format html` writes (check, compare, diff, merge, localize).
    pub html: Option<String>,
}

/// What [`capturing`] kept of a run's output.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// The JSON document [`crate::print::print_json`] was given.
    pub json: Option<String>,
    /// The report in Markdown.
    pub markdown: Option<String>,
    /// The report as an HTML page.
    pub html: Option<String>,
}

thread_local! {
    /// While [`capturing`] runs on this thread: what it keeps.
    static CAPTURED: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
    /// While [`capturing`] runs on this thread: the caller's request to stop.
    static STOP: std::cell::RefCell<Option<Arc<AtomicBool>>> = const { std::cell::RefCell::new(None) };
}

/// `f` run with [`crate::print::print_json`] keeping its document instead of printing it (and a
/// report's Markdown beside it), [`crate::print::note`] silent, and [`Stop::current`] reading
/// `stop`; returns `f`'s result and what was kept.
pub fn capturing<R>(stop: &Arc<AtomicBool>, f: impl FnOnce() -> R) -> (R, Captured) {
    CAPTURED.with(|c| *c.borrow_mut() = Some(Captured::default()));
    STOP.with(|s| *s.borrow_mut() = Some(Arc::clone(stop)));
    let result = f();
    STOP.with(|s| s.borrow_mut().take());
    let kept = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (result, kept)
}

/// The request to stop of the caller of [`capturing`] on this thread, if any: read from any
/// thread of the run (the command line stops by its signal handler instead).
#[derive(Clone, Default)]
pub struct Stop(Option<Arc<AtomicBool>>);

impl Stop {
    /// This thread's caller's.
    pub fn current() -> Stop {
        Stop(STOP.with(|s| s.borrow().clone()))
    }

    /// Whether the caller asked the run to stop (checked between cases).
    pub fn requested(&self) -> bool {
        self.0.as_ref().is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Whether this thread is inside [`capturing`].
pub fn is_capturing() -> bool {
    CAPTURED.with(|c| c.borrow().is_some())
}

/// Inside [`capturing`], `json` is the document kept.
pub fn keep_json(json: String) {
    keep(|kept| kept.json = Some(json));
}

/// Inside [`capturing`], `markdown` is the report's Markdown kept.
pub fn keep_markdown(markdown: String) {
    keep(|kept| kept.markdown = Some(markdown));
}

/// Inside [`capturing`], `html` is the report's page kept.
pub fn keep_html(html: String) {
    keep(|kept| kept.html = Some(html));
}

fn keep(f: impl FnOnce(&mut Captured)) {
    CAPTURED.with(|c| c.borrow_mut().as_mut().map(f));
}

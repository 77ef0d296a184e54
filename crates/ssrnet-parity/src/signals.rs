//! Signal dispositions of the CLI process: a closed pipe ends it quietly, and an interrupt
//! (SIGINT, SIGTERM) removes the outputs it was writing before it exits.

use signal_hook::consts::{SIGINT, SIGTERM};

/// Installs both dispositions; call once, first thing in `main`.
pub fn install() {
    reset_sigpipe();
    clean_up_on_interrupt();
}

/// A closed pipe (`ssrnet-parity check | head`) ends the process quietly instead of panicking in
/// `println!`.
fn reset_sigpipe() {
    // SAFETY: restoring the default disposition of SIGPIPE before any thread or output exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// On SIGINT or SIGTERM, a watcher thread removes every unfinished output (the staging files and
/// directories of [`parity_core::staging`]; a finished output is never touched), prints one
/// `error:` line and exits with 128 + the signal number (130, 143), as a shell reports it.
fn clean_up_on_interrupt() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        // Without the watcher, the default disposition stays: the process still ends, and the
        // next write beside an abandoned staging directory removes it.
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let removed = parity_core::staging::abandon_all();
            let name = if signal == SIGINT { "SIGINT" } else { "SIGTERM" };
            let what = match removed {
                0 => String::new(),
                1 => "; removed 1 unfinished output".to_string(),
                n => format!("; removed {n} unfinished outputs"),
            };
            eprintln!("error: interrupted by {name}{what}");
            std::process::exit(128 + signal);
        }
    });
}

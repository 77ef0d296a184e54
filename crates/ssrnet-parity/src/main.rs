//! The `ssrnet-parity` binary: the process's set-up, then the library's [`ssrnet_parity::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: first thing in main, before any thread starts.
    unsafe { ssrnet_parity::set_up_process() };
    ssrnet_parity::run(std::env::args_os())
}

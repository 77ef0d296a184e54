//! A call into the engine that Ctrl-C can stop: the work runs on a thread of its own with the GIL
//! released, while the calling thread wakes every few milliseconds to let Python handle a signal.
//! On `KeyboardInterrupt` it asks the work to stop (the run ends between cases), waits for it,
//! and raises.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use pyo3::prelude::*;

use crate::ParityError;

/// How often the waiting thread lets Python run its signal handlers.
const POLL: Duration = Duration::from_millis(20);

/// `work` run to its end, or stopped through `stop` when a signal handler raises (Ctrl-C).
pub fn run<T: Send + 'static>(
    py: Python<'_>,
    stop: &Arc<AtomicBool>,
    work: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    let (done, mut result) = channel();
    let worker = std::thread::Builder::new()
        .name("ssrnet-parity".into())
        .spawn(move || {
            // The caller has gone only when it was interrupted, and then wants nothing back.
            let _ = done.send(work());
        })
        .map_err(|e| ParityError::new_err(format!("cannot start the run's thread: {e}")))?;
    let outcome = loop {
        // A receiver is not `Sync`: it moves to the released section and back.
        let (received, receiver) = py.detach(move || (result.recv_timeout(POLL), result));
        result = receiver;
        match received {
            Ok(value) => break Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(raised) = py.check_signals() {
                    stop.store(true, Ordering::Relaxed);
                    // The run ends at its next case; nothing it wrote is left half-written.
                    let _ = py.detach(move || result.recv());
                    break Err(raised);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                break Err(ParityError::new_err(
                    "internal error (a bug in ssrnet-parity, please report it): the run's thread \
                     ended without a result",
                ));
            }
        }
    };
    let _ = py.detach(|| worker.join());
    outcome
}

/// A sink for runs whose events Python does not show: it drops them, and asks the run to stop
/// once `stop` is set (by [`run`], on Ctrl-C).
pub struct Stoppable(pub Arc<AtomicBool>);

impl parity_engine::sink::Sink for Stoppable {
    fn event(&self, _event: parity_engine::sink::Event<'_>) {}

    fn stop_requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

//! The boundary between Python and the library: errors become the Python
//! exceptions the CLI's exit codes correspond to, a Rust panic becomes a
//! `RuntimeError` instead of unwinding into the interpreter, and long calls
//! run without the GIL while the calling thread keeps servicing Ctrl-C.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use repcollapse::Error;

use crate::progress::Bars;

/// How often the waiting thread wakes to run Python's signal handlers.
/// 50 ms keeps Ctrl-C responsive at a negligible cost (one syscall per wake).
const POLL: Duration = Duration::from_millis(50);

/// How long an interrupted call waits for its worker to stop after
/// [`repcollapse::limits::cancel`]. The engine loops and simulations check
/// the flag every few milliseconds; the wait only runs out on work with no
/// check (a single huge factorisation), which then ends in the background.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Maps a library error to the exception a Python caller expects: bad input
/// (the CLI's exit status 2: a parameter out of range, an unknown key, an
/// unreadable or malformed file) is a `ValueError`, everything else (a
/// divergence, a numerical failure, a failed write; exit status 1) a
/// `RuntimeError`. The message is the CLI's, without its `error: ` prefix.
pub fn to_pyerr(e: Error) -> PyErr {
    if e.is_bad_input() {
        PyValueError::new_err(e.to_string())
    } else {
        PyRuntimeError::new_err(e.to_string())
    }
}

/// The `RuntimeError` for a panic payload.
fn panic_error(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into());
    PyRuntimeError::new_err(format!("internal error in repcollapse (Rust panic): {msg}"))
}

/// Runs a short computation with the GIL released (other Python threads go
/// on) and any panic caught. Used for calls that finish in milliseconds
/// (theory, export, parsing a model file), where a worker thread would cost
/// more than the call.
pub fn quick<T: Send>(py: Python<'_>, f: impl FnOnce() -> repcollapse::Result<T> + Send) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(e)),
        Err(payload) => Err(panic_error(payload)),
    }
}

/// Runs a long computation on a worker thread, without the GIL. The calling
/// thread wakes every [`POLL`] to run Python's signal handlers and, if
/// `progress` is a callable, to pass it the position of the library's
/// progress bar (`progress(position, length, message)`). On Ctrl-C the
/// library's work is cancelled ([`repcollapse::limits::cancel`]: every
/// engine step loop, simulation and ensemble stops at its next check), the
/// call waits (without the GIL) for the worker to return, so its threads are
/// free again, and raises `KeyboardInterrupt`; the worker's result is
/// dropped. The cancellation is process-wide: a call running at the same
/// time on another Python thread stops too.
pub fn interruptible<T: Send + 'static>(
    py: Python<'_>,
    f: impl FnOnce() -> repcollapse::Result<T> + Send + 'static,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    let bars = Bars::default();
    let worker_bars = bars.clone();
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("repcollapse-worker".into())
        .spawn(move || {
            worker_bars.attach();
            // A send error means the caller was interrupted and left: nothing to do.
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    // `detach` needs a `Sync` closure; a receiver is only `Send`.
    let rx = std::sync::Mutex::new(rx);
    let report = |py: Python<'_>| match progress {
        Some(cb) => bars.report(py, cb),
        None => Ok(()),
    };
    loop {
        let outcome = py.detach(|| rx.lock().expect("only this thread locks it").recv_timeout(POLL));
        match outcome {
            Ok(result) => {
                report(py)?;
                return match result {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(e)) => Err(to_pyerr(e)),
                    Err(payload) => Err(panic_error(payload)),
                };
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    repcollapse::limits::cancel();
                    let _ = py.detach(|| rx.lock().expect("only this thread locks it").recv_timeout(STOP_WAIT));
                    repcollapse::limits::clear_cancel();
                    return Err(interrupt);
                }
                report(py)?;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("repcollapse worker thread ended without a result"))
            }
        }
    }
}

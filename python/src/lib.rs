//! `repcollapse._native`: the compiled half of the `repcollapse` Python
//! package. It holds no model logic: every function calls the library entry
//! points that the `repcollapse` CLI calls, and converts their results to
//! dicts and numpy arrays (`convert`). Errors, panics, the GIL and Ctrl-C
//! are handled at one boundary (`guard`), progress bars in `progress`.
use std::time::Duration;

use pyo3::prelude::*;

mod convert;
mod guard;
mod model_file;
mod progress;
mod registry;

/// The version of the Rust crate these bindings were built from.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Test hook for the call boundary: sleeps `seconds` on a worker thread in
/// `steps` steps, advancing a library progress bar; returns the bar's final
/// position. Used by the tests of Ctrl-C, GIL release and progress.
#[pyfunction]
#[pyo3(signature = (seconds, steps = 10, progress = None))]
fn _test_sleep(py: Python<'_>, seconds: f64, steps: u64, progress: Option<Bound<'_, PyAny>>) -> PyResult<u64> {
    let step = Duration::from_secs_f64(seconds / steps.max(1) as f64);
    guard::interruptible(
        py,
        move || {
            let bar = repcollapse::report::progress::bar(steps, true);
            for _ in 0..steps {
                // Polls the cancellation like every library loop, so Ctrl-C ends it.
                if repcollapse::limits::cancelled() {
                    break;
                }
                std::thread::sleep(step);
                bar.inc(1);
            }
            Ok(bar.position())
        },
        progress.as_ref(),
    )
}

/// Test hook: panics inside the library call boundary, on the calling
/// thread (`worker=False`, as `theory` runs) or on a worker thread (as
/// `simulate` runs). Must raise `RuntimeError`, never abort the interpreter.
#[pyfunction]
fn _test_panic(py: Python<'_>, worker: bool) -> PyResult<()> {
    fn boom() -> repcollapse::Result<()> {
        panic!("deliberate panic from repcollapse._native._test_panic")
    }
    if worker {
        guard::interruptible(py, boom, None)
    } else {
        guard::quick(py, boom)
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    progress::install();
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(_test_sleep, m)?)?;
    m.add_function(wrap_pyfunction!(_test_panic, m)?)?;
    m.add_function(wrap_pyfunction!(registry::theory, m)?)?;
    m.add_function(wrap_pyfunction!(registry::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(registry::export, m)?)?;
    m.add_function(wrap_pyfunction!(registry::run_study, m)?)?;
    m.add_function(wrap_pyfunction!(registry::models, m)?)?;
    m.add_function(wrap_pyfunction!(registry::study_kinds, m)?)?;
    m.add_class::<model_file::Model>()?;
    Ok(())
}

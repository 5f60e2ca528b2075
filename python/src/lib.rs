//! `repcollapse._native`: the compiled half of the `repcollapse` Python
//! package. It holds no model logic: every function calls the library entry
//! points that the `repcollapse` CLI calls, and converts their results to
//! dicts and numpy arrays (`convert`). Errors, panics, the GIL and Ctrl-C
//! are handled at one boundary (`guard`).
use pyo3::prelude::*;

mod convert;
mod guard;
mod model_file;

/// The version of the Rust crate these bindings were built from.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_class::<model_file::Model>()?;
    Ok(())
}

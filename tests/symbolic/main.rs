//! Symbolic layer tests: model-file parsing and errors, derivatives, printing, the interpreter against the JIT, deep expressions, and property tests.
//!
//! One test crate per capability (see tests/README.md); shared helpers live in tests/support/.
#[path = "../support/mod.rs"]
mod support;

mod model_files;
mod depth;
mod jit;
mod properties;

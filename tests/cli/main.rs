//! Command-line tests: the model verbs (theory, simulate, export), analyze, budgets and limits, and robustness of outputs (atomic writes, umask, thread-count independence).
//!
//! One test crate per capability (see tests/README.md); shared helpers live in tests/support/.
#[path = "../support/mod.rs"]
mod support;

mod model_verbs;
mod analyze;
mod head;
mod teacher;
mod budgets;
mod requests;
mod robustness;
mod periodic;
mod nulls;
mod large_models;
mod bounds;

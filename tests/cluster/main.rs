//! Cluster tests: sharded study runs, resume, merge and the SLURM job arguments (the SLURM end-to-end run is scripts/slurm-test).
//!
//! One test crate per capability (see tests/README.md); shared helpers live in tests/support/.
#[path = "../support/mod.rs"]
mod support;

mod sweep;

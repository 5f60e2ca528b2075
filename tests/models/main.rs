//! Model tests: the microscopic simulations against their reduced theories, for Models E, H and T and the real-data learners, plus the random streams and the allocation-free hot loops they rely on.
//!
//! One test crate per capability (see tests/README.md); shared helpers live in tests/support/.
#[path = "../support/mod.rs"]
mod support;

mod embedding;
mod head;
mod teacher;
mod realdata;
mod normal_block;
mod steps_allocate_nothing;
mod ssl;
mod ssl_map;

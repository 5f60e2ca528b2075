//! Helpers shared by every test crate (tests/engine, tests/symbolic,
//! tests/models, tests/cli, tests/cluster and tests/regressions.rs):
//! - `bin`: the one way to run the release binary;
//! - `jacobian`: central differences of a vector field, for checking exact
//!   Jacobians and parameter derivatives;
//! - `counting_alloc`: a per-thread counting global allocator, for the
//!   checks that hot loops allocate nothing;
//! - `nulls`: the walker that finds nulls without a sibling explanation.
// Each crate uses a different subset of these helpers.
#![allow(dead_code)]

pub mod bin;
pub mod counting_alloc;
pub mod jacobian;
pub mod nulls;

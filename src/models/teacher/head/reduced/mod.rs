//! The head sub-model's ODEs, one sub-module per reduction: the full
//! order-parameter ODE and its exact channel reduction for
//! permutation-symmetric states, and its symmetry (slice) reduction
//! (`docs/teacher.md`).
pub mod channel;
pub mod cycle_region;
pub mod order_params;
pub mod slice;

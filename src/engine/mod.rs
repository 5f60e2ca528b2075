//! Generic analysis engine: vector fields, integration, fixed points,
//! stability, continuation and two-parameter boundaries.
pub mod bifurcation;
pub mod boundary;
pub mod continuation;
pub mod examples;
pub mod spectrum;
pub mod vector_field;

pub use vector_field::{Invariant, InvariantKind, VectorField};

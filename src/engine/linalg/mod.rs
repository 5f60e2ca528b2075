//! Linear algebra shared by the solvers: the dense LU layer, a sparse LU
//! with a reusable symbolic analysis for large sparse systems, determinants as
//! sign and log-modulus, slice vector helpers, and the Jacobian spectra every
//! stability statement is read from.
pub mod block_spectrum;
pub mod lu;
pub mod signed_log;
pub mod sparse_jacobian;
pub mod sparse_lu;
pub mod spectrum;
pub mod vector;

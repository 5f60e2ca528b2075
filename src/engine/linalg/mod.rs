//! Dense linear algebra shared by the solvers: one LU layer, determinants as
//! sign and log-modulus, slice vector helpers, and the Jacobian spectra every
//! stability statement is read from.
pub mod lu;
pub mod signed_log;
pub mod spectrum;
pub mod vector;

//! Dense linear algebra shared by the solvers: LU factorisations and the
//! Jacobian spectra every stability statement is read from.
pub mod lu;
pub mod spectrum;

//! Model T on a finite training set: full-batch gradient descent and its
//! exact (linear, spectral) gradient flow with the hat-matrix frustration
//! operator (`docs/teacher.md`).
pub mod experiment;
pub mod reduced;
pub mod simulation;

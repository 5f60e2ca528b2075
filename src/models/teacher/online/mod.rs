//! Model T with online SGD (fresh samples every step) and its
//! `D -> infinity` order-parameter ODE (`docs/teacher.md`).
pub mod experiment;
pub mod momentum;
pub mod reduced;
pub mod simulation;
pub mod theory;
pub mod wpass;

//! Model H's order-parameter ODEs, one sub-module per reduction
//! (`docs/head.md`, "Exact class-level ODE" and "Simplex-symmetric reduction").
pub mod class_level;
pub mod simplex;

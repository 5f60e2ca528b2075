//! Model H's order-parameter ODEs, one sub-module per reduction
//! (`docs/head.md`, "Reduced theory": the exact class-level ODE and the simplex reduction).
pub mod class_level;
pub mod momentum;
pub mod simplex;
pub mod sphere;

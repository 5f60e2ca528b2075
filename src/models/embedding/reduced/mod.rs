//! Model E's order-parameter ODEs, one sub-module per reduction
//! (`docs/embedding.md` sections 3 and 4), and the lift of the class-level
//! one back to a simulated run's samples.
pub mod class_level;
pub mod simplex;
pub mod trajectory;

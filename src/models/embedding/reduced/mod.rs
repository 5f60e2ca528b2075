//! Model E's order-parameter ODEs, one sub-module per reduction
//! (`docs/embedding.md` sections 3 and 4; momentum: `docs/optimisers.md`), and the lift of the class-level
//! one back to a simulated run's samples.
pub mod class_level;
pub mod momentum;
pub mod sign_flow;
pub mod simplex;
pub mod sphere;
pub mod trajectory;

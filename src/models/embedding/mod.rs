//! Model E: free sample and label embeddings,
//! `dx_i/dt = -eta_x sum_c A_ic (x_i - y_c)`, `dy_c/dt = -eta_y (1/n) sum_i A_ic (y_c - x_i)`.
//! Theory: `docs/embedding.md`. Layout: `src/models/README.md`.
pub mod api;
pub mod config;
pub mod experiment;
pub mod export;
/// The optimisers live in `models::common` (shared with Models T, the real-data and SSL learners); re-exported under their first path.
pub use crate::models::common::optimizer;
pub mod reduced;
pub mod simulation;
pub mod sphere;
pub mod studies;
pub mod theory;

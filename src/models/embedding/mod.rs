//! Model E: free sample and label embeddings,
//! `dx_i/dt = -eta_x sum_c A_ic (x_i - y_c)`, `dy_c/dt = -eta_y (1/n) sum_i A_ic (y_c - x_i)`.
//! Theory: `docs/embedding.md`. Layout: `src/models/README.md`.
pub mod api;
pub mod config;
pub mod experiment;
pub mod export;
pub mod optimizer;
pub mod reduced;
pub mod simulation;
pub mod studies;
pub mod theory;

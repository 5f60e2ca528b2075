//! Model H: a shared projection head `W` with stop-gradient variants.
//! Theory: `docs/head.md`. Layout: `src/models/README.md`.
pub mod api;
pub mod config;
pub mod experiment;
pub mod export;
pub mod reduced;
pub mod simulation;
pub mod studies;
pub mod theory;

//! Real data: encoders trained in the shared embedding space on labelled
//! data (the bundled UCI optical digits or any CSV), with label noise as
//! frustration, the finite-data theory of Model T with the real design
//! matrix, and the studies that compare them. Theory: `docs/realdata.md`.
//! Layout: `src/models/README.md`.
pub mod api;
pub mod config;
pub mod data;
pub mod encoder;
pub mod experiment;
pub mod export;
pub mod noise;
pub mod simulation;
pub mod studies;
pub mod theory;

//! Model H: a shared projection head `W` with stop-gradient variants.
pub mod api;
pub mod attractor;
pub mod boundary;
pub mod class_level;
pub mod config;
pub mod experiment;
pub mod fixed_points;
pub mod meanfield;
pub mod simulation;
pub mod studies;
pub mod symmetric;
pub mod theory;

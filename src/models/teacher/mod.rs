//! Model T: linear teacher-student, online SGD with its `D -> infinity`
//! order-parameter ODE, the finite-data gradient flow, and the head variant.
pub mod api;
pub mod config;
pub mod experiment;
pub mod finite_experiment;
pub mod finite_simulation;
pub mod finite_theory;
pub mod head_channel;
pub mod head_experiment;
pub mod head_ode;
pub mod head_simulation;
pub mod metrics;
pub mod ode;
pub mod simulation;
pub mod statistics;
pub mod studies;
pub mod theory;
pub mod wpass;

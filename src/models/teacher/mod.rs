//! Model T: linear teacher-student, as three sub-models with the shape of
//! `src/models/README.md` each:
//! - [`online`]: online SGD and its `D -> infinity` order-parameter ODE;
//! - [`finite`]: a finite training set, full-batch GD and its exact flow;
//! - [`head`]: online SGD with a projection head (Model H's variants).
//!
//! What they share sits at this level: the configuration (one schema for
//! the `teacher-student` registry entry), the teacher's Gaussian statistics,
//! the collapse metrics from order parameters, the registry entry points and
//! the studies. Theory: `docs/teacher.md`.
pub mod api;
pub mod config;
pub mod export;
pub mod finite;
pub mod head;
pub mod metrics;
pub mod orthant;
pub mod online;
pub mod statistics;
pub mod studies;

//! repcollapse: dynamics of representation collapse, from microscopic
//! simulation to reduced order-parameter ODEs and their bifurcations.
//!
//! Layout: one folder per model under [`models`] (simulation, reduced
//! theory, experiments, studies, and `api.rs` with the entry points), generic
//! layers that name no model ([`engine`], [`symbolic`], [`study`], [`report`],
//! [`cli`]), and the [`registry`] that lists models and study kinds:
//!
//! ```text
//! parameters -> models/<m>/config -> simulation | reduced theory -> engine
//!            -> experiment / studies -> report (figures, CSV, JSON, report.md)
//! cli, Python bindings -> registry -> models/<m>/api.rs
//! ```
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod limits;
pub mod model_api;
pub mod models;
pub mod random;
pub mod registry;
pub mod report;
pub mod request;
pub mod simd;
pub mod stats;
pub mod study;
pub mod symbolic;

pub use error::{Error, Result};

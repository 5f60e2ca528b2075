//! repcollapse: dynamics of representation collapse, from microscopic
//! simulation to reduced order-parameter ODEs and their bifurcations.
//!
//! Layout: `model` (microscopic models and their simulation), `theory`
//! (reduced order-parameter ODEs), `engine` (generic vector-field analyses),
//! `symbolic` (model files), `study` and `report` (studies, figures, reports),
//! `cli` (command line).
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod model;
// Temporary until the models/ layout lands on main (then: models/mod.rs).
#[path = "models/realdata/mod.rs"]
pub mod realdata;
pub mod report;
pub mod stats;
pub mod study;
pub mod symbolic;
pub mod theory;

pub use error::{Error, Result};

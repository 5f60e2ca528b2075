//! repcollapse: dynamics of representation collapse, from microscopic
//! simulation to reduced order-parameter ODEs and their bifurcations.
//!
//! Layout: `model` (microscopic models and their simulation), `theory`
//! (reduced order-parameter ODEs), `engine` (generic vector-field analyses),
//! `symbolic` (model files), `study` and `report` (studies, figures, reports),
//! `cli` (command line).
pub mod engine;
pub mod error;
pub mod symbolic;

pub use error::{Error, Result};

//! Figures, result files and the markdown report.
pub mod atomic;
pub mod plot;
pub mod analysis;
pub mod periodic;
pub mod progress;

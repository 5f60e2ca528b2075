//! Model H studies (figures e-h).
pub mod ablation;
pub mod meanfield;
pub mod phase;
pub mod spectrum;

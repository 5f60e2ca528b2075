//! Model H studies (figures e-h, and p2: optimisers).
pub mod ablation;
pub mod meanfield;
pub mod optim;
pub mod phase;
pub mod spectrum;
pub mod sphere;

//! Model E studies (figures a-d, and p1: optimisers).
pub mod convergence;
pub mod optim;
pub mod slow_rate;
pub mod spectrum;
pub mod two_timescales;

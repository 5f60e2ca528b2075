//! Model E studies (figures a-d).
pub mod convergence;
pub mod slow_rate;
pub mod spectrum;
pub mod two_timescales;

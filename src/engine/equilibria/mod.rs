//! Equilibria `F(x; p) = 0` at fixed parameters: Newton polish, the deflated
//! multi-start search, and linear stability with zero-mode attribution.
pub mod newton;
pub mod search;
pub mod stability;

//! Equilibria `F(x; p) = 0` at fixed parameters: Newton polish, the deflated
//! multi-start search, linear stability with zero-mode attribution, and the
//! first Lyapunov coefficient (criticality) of a Hopf point.
pub mod lyapunov;
pub mod newton;
pub mod search;
pub mod stability;

//! The one interface of every time stepper: an attempted step of adaptive
//! size, the state after the last accepted step, dense output inside it,
//! and counters. The explicit Dormand-Prince pairs
//! ([`ExplicitStepper`](super::explicit_rk::ExplicitStepper)) and Radau IIA
//! ([`RadauStepper`](super::radau::RadauStepper)) implement it, and the
//! driver ([`integrate`](super::integrate)) steps through it; a new method
//! only has to implement [`Stepper`].
use crate::engine::VectorField;

/// Outcome of one attempted step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Attempt {
    Accepted,
    /// Rejected by the error test (the step size was reduced).
    Rejected,
    /// The error estimate was not finite (the vector field returned NaN or
    /// inf in a trial stage); the step size was reduced tenfold.
    NonFinite,
}

/// Counters of one integration (summed over methods by the driver).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepStats {
    pub accepted: u64,
    pub rejected: u64,
    /// Evaluations of `F`.
    pub rhs: u64,
    /// Evaluations of the Jacobian (implicit method only).
    pub jacobians: u64,
    /// LU factorisations (implicit method only; one real + one complex each).
    pub factorizations: u64,
}

/// Why a stepper cannot continue at all (as opposed to a rejected step,
/// which it retries with a smaller size).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepFailure {
    /// The implicit method's Newton matrix `(gamma/h) I - J` was singular
    /// five times in a row.
    Singular,
}

/// An adaptive one-step method for `dx/dt = F(x; p)` that owns its state
/// `(t, y)` and step size `h`.
pub trait Stepper {
    /// Time after the last accepted step.
    fn t(&self) -> f64;
    /// Step size the next attempt will try.
    fn h(&self) -> f64;
    /// State after the last accepted step.
    fn y(&self) -> &[f64];
    /// Counters so far.
    fn stats(&self) -> StepStats;
    /// Tries one step `t -> t + h` (never past `t_end`). On
    /// [`Attempt::Accepted`] the state advances; otherwise `h` shrinks and
    /// the state stays. The flag reports that the method detected
    /// stiffness on this step (explicit methods; always `false` otherwise).
    fn try_step(&mut self, field: &dyn VectorField, p: &[f64], t_end: f64) -> Result<(Attempt, bool), StepFailure>;
    /// The solution at `t` inside the last accepted step, from the method's
    /// own continuous extension (which may evaluate `F` for extra stages).
    fn dense_output(&mut self, field: &dyn VectorField, p: &[f64], t: f64, out: &mut [f64]);
}

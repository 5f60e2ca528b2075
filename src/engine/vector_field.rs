//! The one abstraction every analysis is generic over: a parametrised,
//! autonomous vector field
//!
//! ```text
//!     dx/dt = F(x; p),   x in R^n,  p in R^m
//! ```
//!
//! with its exact state Jacobian `J = dF/dx` and its exact parameter
//! derivative `dF/dp_k`. Parameters are passed explicitly (as in
//! DifferentialEquations.jl's `f(du, u, p, t)`) so that continuation can vary
//! them without mutating or cloning the model, and so that a field can be
//! shared across rayon threads.

use faer::MatMut;

/// Why a zero eigenvalue of the Jacobian at a fixed point is expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InvariantKind {
    /// A conserved quantity `C(x)`: its gradient `c` is a *left* null vector,
    /// `c^T J = 0`, at every point (not only at fixed points).
    Conservation,
    /// A continuous symmetry (translation, scaling, rotation): its generator
    /// `v` at a fixed point is a *right* null vector, `J v = 0`, tangent to a
    /// family of fixed points.
    Symmetry,
}

/// A known source of zero modes, evaluated at a particular state.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Invariant {
    /// Human-readable name, e.g. "centre of mass of class 2".
    pub name: String,
    pub kind: InvariantKind,
    /// Gradient of the conserved quantity (Conservation) or symmetry generator
    /// (Symmetry) at the state the invariant was evaluated at; length `dim()`.
    pub vector: Vec<f64>,
}

/// A parametrised vector field `dx/dt = F(x; p)`.
///
/// Implementations must not allocate in [`rhs`](VectorField::rhs),
/// [`jacobian`](VectorField::jacobian) or
/// [`param_derivative`](VectorField::param_derivative): they sit in the
/// integrators' and continuation's inner loops.
pub trait VectorField: Send + Sync {
    /// Model name used in reports.
    fn name(&self) -> &str;
    /// State dimension `n`.
    fn dim(&self) -> usize;
    /// Names of the `n` state variables, in state order.
    fn state_names(&self) -> Vec<String>;
    /// Names of the `m` parameters, in parameter order.
    fn param_names(&self) -> Vec<String>;
    /// The model's own parameter values (from its file or its config).
    fn default_params(&self) -> Vec<f64>;
    /// The model's own initial state.
    fn initial_state(&self) -> Vec<f64>;

    /// `out = F(x; p)`.
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]);
    /// `jac[(i, j)] = dF_i/dx_j (x; p)`; `jac` is `n x n`.
    fn jacobian(&self, x: &[f64], p: &[f64], jac: MatMut<'_, f64>);
    /// `out_i = dF_i/dp_k (x; p)`.
    fn param_derivative(&self, x: &[f64], p: &[f64], k: usize, out: &mut [f64]);

    /// Names of optional observables (functions of the state reported
    /// alongside it).
    fn observable_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// `out_j = observable_j(x; p)`; `out` has `observable_names().len()` entries.
    fn observables(&self, _x: &[f64], _p: &[f64], _out: &mut [f64]) {}
    /// Known conservation laws and symmetries at state `x`, used to attribute
    /// zero modes of the Jacobian. A field that knows none returns an empty
    /// list and the engine falls back to a numerical family test.
    fn invariants(&self, _x: &[f64], _p: &[f64]) -> Vec<Invariant> {
        Vec::new()
    }

    /// Index of a parameter by name.
    fn param_index(&self, name: &str) -> Option<usize> {
        self.param_names().iter().position(|n| n == name)
    }
}

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

use faer::{Mat, MatMut};

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

    /// The structurally non-zero entries `(i, j)` of `J = dF/dx` (every
    /// other entry is zero for all `x` and `p`), or `None` when the field
    /// does not know its sparsity (then `J` is treated as dense). Large
    /// sparse systems are solved with sparse LU on this pattern.
    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        None
    }
    /// `out[k] = J_{pattern[k]}(x; p)` for the `pattern` of
    /// [`jacobian_pattern`](VectorField::jacobian_pattern). The default
    /// evaluates the dense Jacobian (allocating `n x n`) and gathers;
    /// fields that report a pattern override it with an `O(nnz)` evaluation.
    fn jacobian_entries(&self, x: &[f64], p: &[f64], pattern: &[(usize, usize)], out: &mut [f64]) {
        let n = self.dim();
        let mut jac = faer::Mat::<f64>::zeros(n, n);
        self.jacobian(x, p, jac.as_mut());
        for (o, &(i, j)) in out.iter_mut().zip(pattern) {
            *o = jac[(i, j)];
        }
    }

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

    /// Second derivative of `F` in state along two directions,
    /// `out_i = B_i(u, v) = sum_{j,k} d^2 F_i / dx_j dx_k (x; p) u_j v_k`
    /// (symmetric and bilinear; the `B` of Kuznetsov's normal-form formulas).
    ///
    /// Default: central difference of the exact Jacobian,
    /// `B(u, v) = [J(x + h u) v - J(x - h u) v] / 2h`, with
    /// `h = eps^(1/3) (1 + |x|_inf) / |u|_inf`: the truncation error
    /// `h^2/6 |D^4 F|` and the rounding error `eps |J| / h` balance at that
    /// step, leaving a relative error of about `eps^(2/3) ~ 4e-11`. It
    /// allocates two `n x n` matrices: not for inner loops. Fields with exact
    /// higher derivatives (model files) override it and
    /// [`exact_higher_derivatives`](Self::exact_higher_derivatives).
    fn second_derivative(&self, x: &[f64], p: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        second_by_differences(self, x, p, u, v, out);
    }

    /// Third derivative of `F` in state along three directions,
    /// `out_i = C_i(u, v, w) = sum_{j,k,l} d^3 F_i / dx_j dx_k dx_l u_j v_k w_l`
    /// (symmetric and trilinear).
    ///
    /// Default: second central difference of the exact Jacobian,
    /// `C(u, v, w) = [J(x+hu+hw) v - J(x+hu-hw) v - J(x-hu+hw) v + J(x-hu-hw) v] / 4h^2`
    /// with `h = eps^(1/4) (1 + |x|_inf) / max(|u|_inf, |w|_inf)`: truncation
    /// `O(h^2 |D^5 F|)` against rounding `eps |J| / h^2`, a relative error of
    /// about `eps^(1/2) ~ 1e-8`, enough for the sign and three to four digits
    /// of a Lyapunov coefficient.
    fn third_derivative(&self, x: &[f64], p: &[f64], u: &[f64], v: &[f64], w: &[f64], out: &mut [f64]) {
        third_by_differences(self, x, p, u, v, w, out);
    }

    /// Whether [`second_derivative`](Self::second_derivative) and
    /// [`third_derivative`](Self::third_derivative) are exact (symbolic) rather
    /// than the finite-difference defaults.
    fn exact_higher_derivatives(&self) -> bool {
        false
    }
}

// ---------------------------------------------------------------------------
// Finite-difference defaults of the higher directional derivatives, built on
// the field's exact Jacobian (step sizes and error balance documented on the
// trait methods). They live here, not in a solver module, so that the trait
// imports nothing from the rest of the engine.
// ---------------------------------------------------------------------------


fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

/// `out += c J(x + a u + b w) v` for one stencil point.
#[allow(clippy::too_many_arguments)]
fn add_jv<F: VectorField + ?Sized>(
    field: &F,
    x: &[f64],
    p: &[f64],
    (a, u): (f64, &[f64]),
    (b, w): (f64, &[f64]),
    v: &[f64],
    c: f64,
    jac: &mut Mat<f64>,
    xs: &mut [f64],
    out: &mut [f64],
) {
    let n = x.len();
    for i in 0..n {
        xs[i] = x[i] + a * u[i] + b * w[i];
    }
    field.jacobian(xs, p, jac.as_mut());
    for (i, o) in out.iter_mut().enumerate() {
        let s: f64 = (0..n).map(|j| jac[(i, j)] * v[j]).sum();
        *o += c * s;
    }
}

/// `B(u, v) = [J(x + h u) v - J(x - h u) v] / 2h`, `h = eps^(1/3) (1 + |x|) / |u|`.
pub(crate) fn second_by_differences<F: VectorField + ?Sized>(field: &F, x: &[f64], p: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
    let n = x.len();
    out.fill(0.0);
    let un = inf_norm(u);
    if un == 0.0 || inf_norm(v) == 0.0 {
        return;
    }
    let h = f64::EPSILON.cbrt() * (1.0 + inf_norm(x)) / un;
    let mut jac = Mat::<f64>::zeros(n, n);
    let mut xs = vec![0.0; n];
    let zero = vec![0.0; n];
    add_jv(field, x, p, (h, u), (0.0, &zero), v, 0.5 / h, &mut jac, &mut xs, out);
    add_jv(field, x, p, (-h, u), (0.0, &zero), v, -0.5 / h, &mut jac, &mut xs, out);
}

/// `C(u, v, w) = [J(x+hu+hw) v - J(x+hu-hw) v - J(x-hu+hw) v + J(x-hu-hw) v] / 4h^2`,
/// `h = eps^(1/4) (1 + |x|) / max(|u|, |w|)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn third_by_differences<F: VectorField + ?Sized>(
    field: &F,
    x: &[f64],
    p: &[f64],
    u: &[f64],
    v: &[f64],
    w: &[f64],
    out: &mut [f64],
) {
    let n = x.len();
    out.fill(0.0);
    let scale = inf_norm(u).max(inf_norm(w));
    if inf_norm(u) == 0.0 || inf_norm(v) == 0.0 || inf_norm(w) == 0.0 {
        return;
    }
    let h = f64::EPSILON.powf(0.25) * (1.0 + inf_norm(x)) / scale;
    let c = 0.25 / (h * h);
    let mut jac = Mat::<f64>::zeros(n, n);
    let mut xs = vec![0.0; n];
    for (a, b, sign) in [(h, h, 1.0), (h, -h, -1.0), (-h, h, -1.0), (-h, -h, 1.0)] {
        add_jv(field, x, p, (a, u), (b, w), v, sign * c, &mut jac, &mut xs, out);
    }
}

//! Newton polish of an approximate fixed point, `F(x; p) = 0`, robust to
//! singular Jacobians.
//!
//! Fixed points of the models this crate studies often come in continuous
//! families (symmetries, conservation laws), where the Jacobian is singular
//! *at the solution*. A plain Newton step `J dx = -F` is then undefined, so
//! each step is the minimum-norm least-squares (Gauss-Newton) step
//!
//! ```text
//!     dx = -J^+ F,   J^+ = sum_{sigma_i > rcond * sigma_max} v_i u_i^T / sigma_i
//! ```
//!
//! from a truncated SVD `J = U diag(sigma) V^T`. On a family the step is
//! orthogonal to the kernel, so Newton converges (quadratically in the
//! transverse directions) to a nearby point of the family instead of drifting
//! along it. The step is globalised by backtracking on `||F||_2` with an
//! Armijo condition on the Gauss-Newton model (see [`newton_polish`]).
//!
//! Large sparse fields ([`sparse_pattern`](crate::engine::linalg::sparse_jacobian::sparse_pattern):
//! `n >= 200`, at most 10% structural non-zeros) take the plain Newton step
//! `J dx = -F` by sparse LU instead, at a cost that grows with the
//! non-zeros rather than with `n^3`; a singular Jacobian on the way ends
//! that Newton iteration with an error (there is no sparse pseudo-inverse).
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::svd::{self, ComputeSvdVectors};
use faer::diag::Diag;
use faer::{Mat, Par};

use crate::engine::linalg::sparse_jacobian::SparseJacobian;
use crate::engine::linalg::vector::norm;
use crate::engine::VectorField;
use crate::error::{Error, Result};

/// Controls of [`newton_polish`].
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct NewtonOptions {
    /// Converged when `||F(x; p)||_2 <= tol` (absolute, in the units of `F`).
    pub tol: f64,
    /// Maximal number of Newton steps.
    pub max_iter: usize,
    /// Singular values below `rcond * sigma_max` are treated as zero in the
    /// pseudo-inverse (the numerical rank cut-off).
    pub rcond: f64,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        NewtonOptions { tol: 1e-11, max_iter: 50, rcond: 1e-10 }
    }
}

/// Result of [`newton_polish`]. A non-converged outcome is not an error: the
/// caller (e.g. multi-start fixed-point search) decides what to do with it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NewtonOutcome {
    /// Last iterate (the polished point if `converged`).
    pub x: Vec<f64>,
    /// `||F(x; p)||_2` at `x`.
    pub residual_norm: f64,
    /// Number of Newton steps taken.
    pub iterations: usize,
    /// Whether `residual_norm <= tol`.
    pub converged: bool,
}

/// Preallocated Jacobian, SVD factors and scratch memory, so that repeated
/// factorisations (Newton steps, kernel computations) do not allocate; for a
/// large sparse field ([`SvdWorkspace::for_field`]) a sparse LU instead of
/// the SVD.
pub(crate) struct SvdWorkspace {
    pub(crate) jac: Mat<f64>,
    pub(crate) u: Mat<f64>,
    pub(crate) v: Mat<f64>,
    s: Diag<f64>,
    mem: MemBuffer,
    sparse: Option<SparseJacobian>,
}

impl SvdWorkspace {
    pub(crate) fn new(n: usize) -> Self {
        // Sequential: these factorisations are small and are themselves run
        // inside rayon tasks (multi-start), where nested parallelism only costs.
        let req = svd::svd_scratch::<f64>(
            n,
            n,
            ComputeSvdVectors::Full,
            ComputeSvdVectors::Full,
            Par::Seq,
            Default::default(),
        );
        SvdWorkspace {
            jac: Mat::zeros(n, n),
            u: Mat::zeros(n, n),
            v: Mat::zeros(n, n),
            s: Diag::zeros(n),
            mem: MemBuffer::new(req),
            sparse: None,
        }
    }

    /// The workspace `field` is solved in: sparse LU for a large sparse
    /// field (module docs), the dense SVD otherwise.
    pub(crate) fn for_field(field: &dyn VectorField) -> Self {
        match SparseJacobian::for_field(field) {
            Some(sparse) => SvdWorkspace {
                jac: Mat::zeros(0, 0),
                u: Mat::zeros(0, 0),
                v: Mat::zeros(0, 0),
                s: Diag::zeros(0),
                mem: MemBuffer::new(StackReq::EMPTY),
                sparse: Some(sparse),
            },
            None => Self::new(field.dim()),
        }
    }

    /// Whether the last factored Jacobian is regular: `sigma_min > rcond
    /// sigma_max` (dense), a successful sparse LU (sparse).
    pub(crate) fn is_regular(&self, rcond: f64) -> bool {
        match &self.sparse {
            Some(_) => true,
            None => {
                let n = self.s.column_vector().nrows();
                n > 0 && self.sigma(n - 1) > rcond * self.sigma(0)
            }
        }
    }

    /// Evaluates the Jacobian at `(x, p)` and factors it, `J = U S V^T`,
    /// singular values in non-increasing order.
    pub(crate) fn factor(&mut self, field: &dyn VectorField, x: &[f64], p: &[f64]) -> Result<()> {
        if let Some(sparse) = &mut self.sparse {
            if !sparse.evaluate(field, x, p) {
                return Err(Error::numerical(
                    "Jacobian LU",
                    format!("Jacobian of `{}` has non-finite entries at this point", field.name()),
                ));
            }
            if !sparse.factor_shifted(0.0) {
                return Err(Error::numerical(
                    "Jacobian LU",
                    format!("the Jacobian of `{}` is singular at this point (sparse LU has no pseudo-inverse)", field.name()),
                ));
            }
            return Ok(());
        }
        self.jac.fill(0.0);
        field.jacobian(x, p, self.jac.as_mut());
        if !self.jac.as_ref().is_all_finite() {
            return Err(Error::numerical(
                "Jacobian SVD",
                format!("Jacobian of `{}` has non-finite entries at x = {x:?}", field.name()),
            ));
        }
        svd::svd(
            self.jac.as_ref(),
            self.s.as_mut(),
            Some(self.u.as_mut()),
            Some(self.v.as_mut()),
            Par::Seq,
            MemStack::new(&mut self.mem),
            Default::default(),
        )
        .map_err(|e| Error::numerical("Jacobian SVD", format!("{e:?}")))
    }

    /// `i`-th singular value (non-increasing in `i`).
    pub(crate) fn sigma(&self, i: usize) -> f64 {
        self.s.column_vector()[i]
    }

    /// Minimum-norm least-squares step `out = -J^+ f` with the rank cut-off
    /// `sigma_i > rcond * sigma_max`. Returns `||P f||^2`, where `P` projects
    /// onto the retained left singular vectors; `-2 ||P f||^2` is the
    /// directional derivative of `||F||^2` along the step.
    /// Sparse: the Newton step `out = -J^-1 f`, and `||f||^2`.
    pub(crate) fn min_norm_step(&mut self, f: &[f64], rcond: f64, out: &mut [f64]) -> f64 {
        if let Some(sparse) = &mut self.sparse {
            out.iter_mut().zip(f).for_each(|(o, v)| *o = -v);
            sparse.solve_in_place(out);
            return f.iter().map(|v| v * v).sum();
        }
        let n = f.len();
        out.fill(0.0);
        if n == 0 {
            return 0.0;
        }
        let cut = rcond * self.sigma(0);
        let mut predicted = 0.0;
        for i in 0..n {
            let s = self.sigma(i);
            if s.is_nan() || s <= cut || s == 0.0 {
                break;
            }
            let mut coef = 0.0;
            for (r, fr) in f.iter().enumerate() {
                coef += self.u[(r, i)] * fr;
            }
            predicted += coef * coef;
            let w = coef / s;
            for (r, o) in out.iter_mut().enumerate() {
                *o -= w * self.v[(r, i)];
            }
        }
        predicted
    }
}

/// Newton polish of `x0` towards a zero of `F(.; p)`.
///
/// Iterates `x <- x + lambda dx` with the minimum-norm step `dx = -J^+ F`
/// (module docs). `lambda` starts at 1 and is halved until the Armijo
/// condition on the Gauss-Newton model,
///
/// ```text
///     ||F(x + lambda dx)||^2 <= ||F(x)||^2 - 2 c lambda ||P F(x)||^2,   c = 1e-4,
/// ```
///
/// holds (`P` as in the truncated pseudo-inverse); if `lambda` falls below
/// `1e-10` the iteration stops unconverged (a local minimum of `||F||` that is
/// not a zero). Errors only on malformed input or a non-finite Jacobian.
pub fn newton_polish(
    field: &dyn VectorField,
    x0: &[f64],
    p: &[f64],
    opts: &NewtonOptions,
) -> Result<NewtonOutcome> {
    let n = field.dim();
    if x0.len() != n {
        return Err(Error::invalid("x0 (length)", x0.len(), format!("{n} (state dimension)")));
    }
    let m = field.param_names().len();
    if p.len() != m {
        return Err(Error::invalid("p (length)", p.len(), format!("{m} (parameters of `{}`)", field.name())));
    }
    if opts.tol.is_nan() || opts.tol <= 0.0 {
        return Err(Error::invalid("newton.tol", opts.tol, "> 0"));
    }
    if !(opts.rcond > 0.0 && opts.rcond < 1.0) {
        return Err(Error::invalid("newton.rcond", opts.rcond, "(0, 1)"));
    }
    let mut ws = SvdWorkspace::for_field(field);
    newton_with_workspace(field, x0, p, opts, &mut ws)
}

pub(crate) fn newton_with_workspace(
    field: &dyn VectorField,
    x0: &[f64],
    p: &[f64],
    opts: &NewtonOptions,
    ws: &mut SvdWorkspace,
) -> Result<NewtonOutcome> {
    const ARMIJO: f64 = 1e-4;
    const MIN_LAMBDA: f64 = 1e-10;
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut f = vec![0.0; n];
    let mut dx = vec![0.0; n];
    let mut x_trial = vec![0.0; n];
    let mut f_trial = vec![0.0; n];

    field.rhs(&x, p, &mut f);
    let mut r = norm(&f);
    if !r.is_finite() {
        return Ok(NewtonOutcome { x, residual_norm: r, iterations: 0, converged: false });
    }
    let mut iterations = 0;
    while r > opts.tol && iterations < opts.max_iter {
        ws.factor(field, &x, p)?;
        let predicted = ws.min_norm_step(&f, opts.rcond, &mut dx);
        if predicted == 0.0 {
            break; // J = 0 (or F orthogonal to its range): no descent direction
        }
        let mut lambda = 1.0;
        let accepted = loop {
            for i in 0..n {
                x_trial[i] = x[i] + lambda * dx[i];
            }
            field.rhs(&x_trial, p, &mut f_trial);
            let r_trial = norm(&f_trial);
            if r_trial.is_finite() && r_trial * r_trial <= r * r - 2.0 * ARMIJO * lambda * predicted {
                break Some(r_trial);
            }
            lambda *= 0.5;
            if lambda < MIN_LAMBDA {
                break None;
            }
        };
        iterations += 1;
        match accepted {
            Some(r_trial) => {
                std::mem::swap(&mut x, &mut x_trial);
                std::mem::swap(&mut f, &mut f_trial);
                r = r_trial;
            }
            None => break,
        }
    }
    Ok(NewtonOutcome { x, residual_norm: r, iterations, converged: r <= opts.tol })
}

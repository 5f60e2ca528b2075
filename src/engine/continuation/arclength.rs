//! The generic pseudo-arclength core: bordered Newton corrector, tangent and
//! adaptive predictor-corrector step for any implicitly defined curve
//! `H(u) = 0`, `H: R^N -> R^{N-1}` (Keller 1977). Equilibrium branches,
//! two-parameter boundaries and every later curve reuse it.
//!
//! From a point `u_k` with unit tangent `t_k` one step is
//!
//! ```text
//!   predictor:  u^0 = u_k + ds t_k
//!   corrector:  Newton on  [ H(u) = 0 ;  <t_k, u - u^0> = 0 ]
//!               with the bordered Jacobian [ dH/du ; t_k^T ]
//!   tangent:    [ dH/du(u_{k+1}) ; t_k^T ] z = e_N,  t_{k+1} = z / |z|
//! ```
//!
//! so that `<t_k, t_{k+1}> > 0`: the orientation is inherited and the curve
//! passes folds without special treatment. The step `ds` shrinks on
//! corrector failure or on a tangent turning by more than ~26 degrees, and
//! grows after fast convergence. Linear solves use faer's partial-pivoting
//! LU ([`DenseLu`]) in a preallocated workspace, or, for a curve that
//! reports the sparsity of `dH/du` ([`ImplicitCurve::sparse_pattern`]), a
//! [`SparseLu`] of the bordered matrix (pattern of `dH/du` plus the full
//! border row) whose symbolic analysis is done once per curve.
use faer::{Mat, MatMut};

use crate::engine::linalg::lu::DenseLu;
use crate::engine::linalg::sparse_lu::SparseLu;
use crate::engine::linalg::signed_log::SignedLog;
use crate::engine::linalg::vector::{dot, inf_norm};

/// An implicitly defined curve `H(u) = 0`, `H: R^N -> R^{N-1}`, with exact
/// (or, where documented, partly finite-difference) Jacobian.
pub trait ImplicitCurve {
    /// Number of unknowns `N`.
    fn n_unknowns(&self) -> usize;
    /// `out = H(u)`, `N - 1` entries.
    fn residual(&mut self, u: &[f64], out: &mut [f64]);
    /// `jac = dH/du`, an `(N-1) x N` view.
    fn jacobian(&mut self, u: &[f64], jac: MatMut<'_, f64>);
    /// Called after each accepted point (e.g. to update phase references).
    fn accept(&mut self, _u: &[f64]) {}
    /// The structurally non-zero entries `(row, col)` of `dH/du`, when the
    /// curve is to be solved sparse; `None` (the default): dense.
    fn sparse_pattern(&self) -> Option<Vec<(usize, usize)>> {
        None
    }
    /// `out[k] = dH/du` at `pattern[k]` (the pattern of
    /// [`sparse_pattern`](ImplicitCurve::sparse_pattern)).
    fn sparse_jacobian(&mut self, _u: &[f64], _pattern: &[(usize, usize)], _out: &mut [f64]) {}
}

/// The bordered matrix `[dH/du; c^T]` of a sparse curve in a [`SparseLu`].
struct SparseBordered {
    lu: SparseLu,
    pattern: Vec<(usize, usize)>,
    entries: Vec<f64>,
    /// LU value slots of `pattern`, then of the border row `(N-1, j)`.
    slots: Vec<usize>,
    border_slots: Vec<usize>,
}

/// Newton corrector and tangent computation for an [`ImplicitCurve`] with a
/// preallocated bordered LU workspace.
pub struct ArclengthSolver {
    n: usize,
    lu: DenseLu,
    sparse: Option<SparseBordered>,
    res: Vec<f64>,
    border: Vec<f64>,
    /// Newton tolerance (max-norm of the residual).
    pub tol: f64,
    pub max_iter: usize,
}

impl ArclengthSolver {
    pub fn new(n_unknowns: usize, tol: f64, max_iter: usize) -> Self {
        ArclengthSolver {
            n: n_unknowns,
            lu: DenseLu::new(n_unknowns),
            sparse: None,
            res: vec![0.0; n_unknowns],
            border: vec![0.0; n_unknowns],
            tol,
            max_iter,
        }
    }

    /// The solver for `curve`: sparse bordered LU when the curve reports a
    /// sparsity pattern, dense otherwise ([`new`](Self::new)).
    pub fn for_curve<C: ImplicitCurve + ?Sized>(curve: &C, tol: f64, max_iter: usize) -> Self {
        let n = curve.n_unknowns();
        let Some(pattern) = curve.sparse_pattern() else { return Self::new(n, tol, max_iter) };
        let mut all = pattern.clone();
        all.extend((0..n).map(|j| (n - 1, j)));
        let lu = SparseLu::new(n, &all);
        let slots = pattern.iter().map(|&(i, j)| lu.slot(i, j).expect("entry in its own pattern")).collect();
        let border_slots = (0..n).map(|j| lu.slot(n - 1, j).expect("border in the pattern")).collect();
        ArclengthSolver {
            n,
            lu: DenseLu::new(0),
            sparse: Some(SparseBordered { entries: vec![0.0; pattern.len()], lu, pattern, slots, border_slots }),
            res: vec![0.0; n],
            border: vec![0.0; n],
            tol,
            max_iter,
        }
    }

    /// Whether the bordered systems are solved by sparse LU.
    pub fn is_sparse(&self) -> bool {
        self.sparse.is_some()
    }

    fn factor(&mut self) -> bool {
        match &mut self.sparse {
            Some(sp) => sp.lu.factor(),
            None => self.lu.factor(),
        }
    }

    fn solve_in_place(&mut self, b: &mut [f64]) {
        match &mut self.sparse {
            Some(sp) => sp.lu.solve_in_place(b),
            None => self.lu.solve_in_place(b),
        }
    }

    fn log_det(&self) -> SignedLog {
        match &self.sparse {
            Some(sp) => sp.lu.log_det(),
            None => self.lu.log_det(),
        }
    }

    fn assemble<C: ImplicitCurve + ?Sized>(&mut self, curve: &mut C, u: &[f64], border: &[f64]) {
        if let Some(sp) = &mut self.sparse {
            curve.sparse_jacobian(u, &sp.pattern, &mut sp.entries);
            let vals = sp.lu.values_mut();
            vals.fill(0.0);
            for (&k, &v) in sp.slots.iter().zip(&sp.entries) {
                vals[k] += v;
            }
            for (&k, &b) in sp.border_slots.iter().zip(border) {
                vals[k] += b;
            }
            return;
        }
        let n = self.n;
        let mut m = self.lu.matrix_mut();
        curve.jacobian(u, m.as_mut().submatrix_mut(0, 0, n - 1, n));
        for (j, b) in border.iter().enumerate() {
            m[(n - 1, j)] = *b;
        }
    }

    /// Newton's method on `[H(u) = 0; <c, u> = gamma]`, updating `u` in
    /// place. Converged when the residual max-norm is below `tol` (or the
    /// update is below `tol (1 + |u|)` with the residual below `1e3 tol`,
    /// for large-magnitude solutions where round-off limits the residual).
    /// Returns the number of iterations, or `None` on divergence, a
    /// singular bordered matrix or `max_iter` exhausted.
    pub fn correct<C: ImplicitCurve + ?Sized>(
        &mut self,
        curve: &mut C,
        u: &mut [f64],
        c: &[f64],
        gamma: f64,
    ) -> Option<usize> {
        let n = self.n;
        let mut last_du = f64::INFINITY;
        for it in 0..=self.max_iter {
            curve.residual(u, &mut self.res[..n - 1]);
            self.res[n - 1] = dot(c, u) - gamma;
            let rnorm = inf_norm(&self.res);
            if !rnorm.is_finite() {
                return None;
            }
            if rnorm <= self.tol || (last_du <= self.tol * (1.0 + inf_norm(u)) && rnorm <= 1e3 * self.tol) {
                return Some(it);
            }
            if it == self.max_iter {
                break;
            }
            self.assemble(curve, u, c);
            if !self.factor() {
                return None;
            }
            let mut res = std::mem::take(&mut self.res);
            self.solve_in_place(&mut res);
            self.res = res;
            let du = inf_norm(&self.res);
            if !du.is_finite() || (it >= 2 && du > 2.0 * last_du) {
                return None;
            }
            for (ui, di) in u.iter_mut().zip(&self.res) {
                *ui -= di;
            }
            last_du = du;
        }
        None
    }

    /// Same as [`correct`](Self::correct) with the constraint `u_k = value`.
    pub fn correct_fixed<C: ImplicitCurve + ?Sized>(
        &mut self,
        curve: &mut C,
        u: &mut [f64],
        k: usize,
        value: f64,
    ) -> Option<usize> {
        let mut e = std::mem::take(&mut self.border);
        e.fill(0.0);
        e[k] = 1.0;
        let r = self.correct(curve, u, &e, value);
        self.border = e;
        r
    }

    /// Unit tangent at `u` oriented so that `<border, t> > 0`: solves
    /// `[dH/du; border^T] z = e_N` and normalises. Returns the determinant
    /// of the bordered matrix, whose sign equals that of
    /// `det [dH/du; t^T]` (the branch-point test function), or `None` if
    /// the bordered matrix is singular.
    pub fn tangent<C: ImplicitCurve + ?Sized>(
        &mut self,
        curve: &mut C,
        u: &[f64],
        border: &[f64],
        t: &mut [f64],
    ) -> Option<SignedLog> {
        self.assemble(curve, u, border);
        if !self.factor() {
            return None;
        }
        let det = self.log_det();
        t.fill(0.0);
        t[self.n - 1] = 1.0;
        self.solve_in_place(t);
        let norm = dot(t, t).sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return None;
        }
        t.iter_mut().for_each(|v| *v /= norm);
        Some(det)
    }

    /// A unit null vector of `dH/du` at `u` from the SVD (no orientation):
    /// used once to start a curve, when no previous tangent exists.
    /// A sparse solver has no SVD: it takes the tangent bordered by the last
    /// unknown, `[dH/du; e_N^T] z = e_N` (a null vector wherever that
    /// bordered matrix is regular, i.e. away from folds in `u_N`).
    pub fn null_vector<C: ImplicitCurve + ?Sized>(&mut self, curve: &mut C, u: &[f64]) -> Option<Vec<f64>> {
        let n = self.n;
        if self.sparse.is_some() {
            let mut e = vec![0.0; n];
            e[n - 1] = 1.0;
            let mut t = vec![0.0; n];
            self.tangent(curve, u, &e, &mut t)?;
            return Some(t);
        }
        let mut a = Mat::<f64>::zeros(n - 1, n);
        curve.jacobian(u, a.as_mut());
        if !a.as_ref().is_all_finite() {
            return None;
        }
        let svd = a.svd().ok()?;
        let v = svd.V();
        Some((0..n).map(|i| v[(i, n - 1)]).collect())
    }
}

/// A box constraint `lo <= u[index] <= hi` on which a curve stops.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    pub index: usize,
    pub lo: f64,
    pub hi: f64,
}

/// Step-size control of [`arclength_step`].
#[derive(Clone, Copy, Debug)]
pub struct StepControl {
    pub ds_min: f64,
    pub ds_max: f64,
}

impl StepControl {
    /// The step bounds for a step from `u`, relative to the solution's
    /// magnitude: `ds_min` and `ds_max` times `max(1, ||u||_2)`. An
    /// arclength step then changes the solution by a bounded *fraction*
    /// (`ds_max = 0.1`: at most ~10%) however large it is, so a branch that
    /// grows to large states (Bazykin's interior equilibrium, x* = 1/(1 -
    /// alpha) -> 100) costs a number of steps logarithmic, not linear, in its
    /// magnitude; below unit magnitude the bounds are absolute, as before.
    pub fn relative_to(self, u: &[f64]) -> StepControl {
        let scale = dot(u, u).sqrt();
        let scale = if scale.is_finite() { scale.max(1.0) } else { 1.0 };
        StepControl { ds_min: self.ds_min * scale, ds_max: self.ds_max * scale }
    }
}

/// An accepted step.
pub struct Step {
    pub det: SignedLog,
    pub iterations: usize,
    /// The new point lies on a [`Bound`].
    pub hit_bound: bool,
}

/// Minimum cosine between consecutive tangents (about 26 degrees): a larger
/// turn within one step suggests the corrector jumped to another branch.
const MIN_TANGENT_COS: f64 = 0.9;

/// One predictor-corrector step from `(u, t)` into `(u_new, t_new)`,
/// halving `ds` until it succeeds or falls below `ds_min` (then `None`).
/// If the new point leaves a bound, it is replaced by the curve point on
/// the bound (corrector with `u[index] = bound` from the linear
/// interpolation). On success `ds` is adapted: x1.5 after at most 3 Newton
/// iterations, x0.7 after more than 6.
#[allow(clippy::too_many_arguments)]
pub fn arclength_step<C: ImplicitCurve + ?Sized>(
    solver: &mut ArclengthSolver,
    curve: &mut C,
    u: &[f64],
    t: &[f64],
    ds: &mut f64,
    ctl: StepControl,
    bounds: &[Bound],
    u_new: &mut [f64],
    t_new: &mut [f64],
) -> Option<Step> {
    loop {
        for i in 0..u.len() {
            u_new[i] = u[i] + *ds * t[i];
        }
        let gamma = dot(t, u_new);
        if let Some(iterations) = solver.correct(curve, u_new, t, gamma) {
            let mut ok = true;
            let mut hit_bound = false;
            // First bound crossed along the chord u -> u_new.
            let mut cross: Option<(f64, usize, f64)> = None;
            for b in bounds {
                let (a, v) = (u[b.index], u_new[b.index]);
                // Leaving the box (also from a point exactly on its edge,
                // where the sign test (v - lim)(a - lim) < 0 never fires),
                // or landing exactly on an edge.
                for (lim, outside) in [(b.lo, v < b.lo && a >= b.lo), (b.hi, v > b.hi && a <= b.hi)] {
                    if outside || (v - lim == 0.0 && a != lim) {
                        let f = (lim - a) / (v - a);
                        if cross.is_none_or(|(g, _, _)| f < g) {
                            cross = Some((f, b.index, lim));
                        }
                    }
                }
            }
            if let Some((f, k, lim)) = cross {
                for i in 0..u.len() {
                    u_new[i] = u[i] + f * (u_new[i] - u[i]);
                }
                ok = solver.correct_fixed(curve, u_new, k, lim).is_some();
                hit_bound = true;
            }
            if ok {
                if let Some(det) = solver.tangent(curve, u_new, t, t_new) {
                    if dot(t, t_new) >= MIN_TANGENT_COS || *ds <= ctl.ds_min {
                        if iterations <= 3 {
                            *ds = (*ds * 1.5).min(ctl.ds_max);
                        } else if iterations > 6 {
                            *ds = (*ds * 0.7).max(ctl.ds_min);
                        }
                        return Some(Step { det, iterations, hit_bound });
                    }
                }
            }
        }
        if *ds <= ctl.ds_min {
            return None;
        }
        *ds = (*ds * 0.5).max(ctl.ds_min);
    }
}

//! Pseudo-arclength continuation of equilibria in one parameter, and the
//! generic arclength machinery (bordered Newton corrector, tangent, adaptive
//! step) that the two-parameter boundary tracer reuses.
//!
//! A branch of equilibria is a curve `u(s) = (x(s), p(s))` in `R^{n+1}` on
//! which `H(u) = F(x, p) = 0`, parametrised by arclength `s` (Keller 1977).
//! From a point `u_k` with unit tangent `t_k` one step is
//!
//! ```text
//!   predictor:  u^0 = u_k + ds t_k
//!   corrector:  Newton on  [ H(u) = 0 ;  <t_k, u - u^0> = 0 ]
//!               with the bordered Jacobian [ dH/du ; t_k^T ]
//!   tangent:    [ dH/du(u_{k+1}) ; t_k^T ] z = e_{n+1},  t_{k+1} = z / |z|
//! ```
//!
//! so that `<t_k, t_{k+1}> > 0`: the orientation is inherited and the curve
//! passes folds without special treatment. The step `ds` shrinks on
//! corrector failure or on a tangent turning by more than ~26 degrees, and
//! grows after fast convergence. Lengths are Euclidean in `(x, p)` without
//! weights; on equilibrium branches the step bounds `ds`, `ds_min`, `ds_max`
//! are relative to `max(1, ||(x, p)||)` ([`StepControl::relative_to`]), so
//! large states do not exhaust `max_steps`.
//!
//! The Jacobian `[J | F_p]` is exact (from [`VectorField`]); linear solves
//! use faer's partial-pivoting LU in a preallocated workspace, so the
//! stepping loop does not allocate except for the eigenvalue computation at
//! each accepted point (faer's eigensolver allocates internally).
use std::io::Write;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor as lu_factor, solve as lu_solve};
use faer::perm::PermRef;
use faer::{c64, Mat, MatMut, Par};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub use crate::engine::continuation::test_functions::{Bifurcation, BifurcationKind, SignedLog, TestFunctions};
use crate::engine::continuation::test_functions::{bialternate_product, hopf_frequency, locate_on_arc, stability};
use crate::engine::linalg::spectrum::sorted_eigenvalues;
use crate::engine::VectorField;
use crate::error::{Error, Result};

// ---------------------------------------------------------------------------
// Configuration and results
// ---------------------------------------------------------------------------

pub(crate) fn default_ds() -> f64 {
    1e-2
}
pub(crate) fn default_ds_min() -> f64 {
    1e-8
}
pub(crate) fn default_ds_max() -> f64 {
    0.1
}
pub(crate) fn default_max_steps() -> usize {
    2000
}
/// What is left of the process-wide `--max-seconds` (infinite if unset).
pub(crate) fn default_max_seconds() -> f64 {
    crate::limits::remaining_seconds()
}
pub(crate) fn default_newton_tol() -> f64 {
    1e-10
}
pub(crate) fn default_newton_max_iter() -> usize {
    10
}
pub(crate) fn default_true() -> bool {
    true
}
fn default_direction() -> f64 {
    1.0
}

/// Settings of one-parameter continuation (one struct, as in
/// BifurcationKit's `ContinuationPar`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContinuationParams {
    /// Index of the continued parameter in the field's parameter vector.
    pub param: usize,
    /// Lower bound of the continued parameter; the branch stops on it.
    pub p_min: f64,
    /// Upper bound of the continued parameter; the branch stops on it.
    pub p_max: f64,
    /// Initial arclength step (times `max(1, ||(x, p)||)`, as `ds_min` and `ds_max`).
    #[serde(default = "default_ds")]
    pub ds: f64,
    /// Smallest step before giving up (relative, as `ds`).
    #[serde(default = "default_ds_min")]
    pub ds_min: f64,
    /// Largest step (relative, as `ds`: `ds_max max(1, ||(x, p)||)`).
    #[serde(default = "default_ds_max")]
    pub ds_max: f64,
    /// Maximum number of accepted steps.
    #[serde(default = "default_max_steps")]
    pub max_steps: usize,
    /// Wall-time budget in seconds for one call (`f64::INFINITY`: none); a
    /// branch that runs out stops with [`StopReason::Budget`], keeping its points.
    #[serde(default = "default_max_seconds")]
    pub max_seconds: f64,
    /// Newton convergence tolerance (max-norm of the residual).
    #[serde(default = "default_newton_tol")]
    pub newton_tol: f64,
    /// Newton iterations per corrector call.
    #[serde(default = "default_newton_max_iter")]
    pub newton_max_iter: usize,
    /// Monitor test functions and locate fold, branch and Hopf points.
    #[serde(default = "default_true")]
    pub detect_bifurcations: bool,
    /// +1 to start towards increasing parameter, -1 towards decreasing.
    #[serde(default = "default_direction")]
    pub direction: f64,
    /// At every branch point of the first branch, also continue the second
    /// branch through it (both sides), without further switching.
    #[serde(default)]
    pub branch_switching: bool,
}

impl ContinuationParams {
    /// Parameter `param` on `[p_min, p_max]`, every other setting at its
    /// default (`ds = 1e-2`, `ds_min = 1e-8`, `ds_max = 0.1`, 2000 steps,
    /// Newton `1e-10` / 10 iterations, detection on, increasing direction,
    /// no branch switching).
    pub fn new(param: usize, p_min: f64, p_max: f64) -> Self {
        ContinuationParams {
            param,
            p_min,
            p_max,
            ds: default_ds(),
            ds_min: default_ds_min(),
            ds_max: default_ds_max(),
            max_steps: default_max_steps(),
            max_seconds: default_max_seconds(),
            newton_tol: default_newton_tol(),
            newton_max_iter: default_newton_max_iter(),
            detect_bifurcations: true,
            direction: 1.0,
            branch_switching: false,
        }
    }

    /// Check every setting against its valid range for a field with
    /// `n_params` parameters.
    pub fn validate(&self, n_params: usize) -> Result<()> {
        if self.param >= n_params {
            return Err(Error::invalid("param", self.param, format!("0..{n_params} (parameter index)")));
        }
        if !(self.p_min.is_finite() && self.p_max.is_finite() && self.p_min < self.p_max) {
            return Err(Error::invalid(
                "p_min/p_max",
                format!("[{}, {}]", self.p_min, self.p_max),
                "finite with p_min < p_max",
            ));
        }
        if !(self.ds_min > 0.0 && self.ds_min.is_finite()) {
            return Err(Error::invalid("ds_min", self.ds_min, "> 0"));
        }
        if !(self.ds_max >= self.ds_min && self.ds_max.is_finite()) {
            return Err(Error::invalid("ds_max", self.ds_max, format!(">= ds_min = {}", self.ds_min)));
        }
        if !(self.ds >= self.ds_min && self.ds <= self.ds_max) {
            return Err(Error::invalid("ds", self.ds, format!("[ds_min, ds_max] = [{}, {}]", self.ds_min, self.ds_max)));
        }
        if !(self.newton_tol > 0.0 && self.newton_tol < 1.0) {
            return Err(Error::invalid("newton_tol", self.newton_tol, "(0, 1)"));
        }
        if self.newton_max_iter == 0 {
            return Err(Error::invalid("newton_max_iter", 0, ">= 1"));
        }
        if self.max_steps == 0 {
            return Err(Error::invalid("max_steps", 0, ">= 1"));
        }
        if !(self.max_seconds > 0.0) {
            return Err(Error::invalid("max_seconds", self.max_seconds, "> 0 (or infinite for no limit)"));
        }
        if !(self.direction == 1.0 || self.direction == -1.0) {
            return Err(Error::invalid("direction", self.direction, "+1 or -1"));
        }
        Ok(())
    }
}

/// One computed equilibrium of a branch.
#[derive(Clone, Debug)]
pub struct BranchPoint {
    /// Value of the continued parameter.
    pub param: f64,
    pub state: Vec<f64>,
    /// All eigenvalues have `Re < -eps` (linear asymptotic stability).
    pub stable: bool,
    /// Number of eigenvalues with `Re > eps` (see
    /// [`stability`](crate::engine::continuation::test_functions::stability)).
    pub n_unstable: usize,
    /// Jacobian eigenvalues, sorted by decreasing real part.
    pub eigenvalues: Vec<c64>,
}

/// Why a branch (or a boundary curve) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Reached `p_min` or `p_max` (the last point lies on the bound).
    ParameterBound,
    /// `max_steps` accepted steps.
    MaxSteps,
    /// The corrector failed even with `ds = ds_min`.
    StepTooSmall,
    /// The wall-time budget (`max_seconds`) ran out.
    Budget,
}

impl StopReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            StopReason::ParameterBound => "parameter-bound",
            StopReason::MaxSteps => "max-steps",
            StopReason::StepTooSmall => "step-too-small",
            StopReason::Budget => "budget",
        }
    }
}

/// A continued branch of equilibria, in arclength order.
#[derive(Clone, Debug)]
pub struct Branch {
    pub points: Vec<BranchPoint>,
    pub stop: StopReason,
}

/// Branches and the special points located on them.
#[derive(Clone, Debug)]
pub struct ContinuationResult {
    pub branches: Vec<Branch>,
    pub bifurcations: Vec<Bifurcation>,
}

fn state_object(names: &[String], state: &[f64]) -> Value {
    let mut m = Map::new();
    for (i, v) in state.iter().enumerate() {
        let key = names.get(i).cloned().unwrap_or_else(|| format!("x{i}"));
        m.insert(key, json!(v));
    }
    Value::Object(m)
}

impl ContinuationResult {
    /// JSON document
    /// `{"param_name", "branches": [{"stop", "points": [{"param", "state": {name: value},
    /// "stable", "n_unstable"}]}], "bifurcations": [{"kind", "param", "state",
    /// "branch", "index", "frequency"?}]}`.
    pub fn to_json(&self, state_names: &[String], param_name: &str) -> Value {
        let branches: Vec<Value> = self
            .branches
            .iter()
            .map(|b| {
                let points: Vec<Value> = b
                    .points
                    .iter()
                    .map(|p| {
                        json!({
                            "param": p.param,
                            "state": state_object(state_names, &p.state),
                            "stable": p.stable,
                            "n_unstable": p.n_unstable,
                        })
                    })
                    .collect();
                json!({ "stop": b.stop.as_str(), "points": points })
            })
            .collect();
        let bifs: Vec<Value> = self
            .bifurcations
            .iter()
            .map(|b| {
                let mut v = json!({
                    "kind": b.kind.as_str(),
                    "param": b.param,
                    "state": state_object(state_names, &b.state),
                    "branch": b.branch,
                    "index": b.index,
                });
                if let Some(w) = b.frequency {
                    v["frequency"] = json!(w);
                }
                v
            })
            .collect();
        json!({ "param_name": param_name, "branches": branches, "bifurcations": bifs })
    }

    /// CSV table with header `branch,kind,index,<param_name>,<state names>,stable,n_unstable,frequency`.
    /// Branch points have `kind = point`; each located special point follows
    /// the branch point it comes after, with its kind and empty stability
    /// columns (stability is not defined at the critical point).
    pub fn write_csv(&self, w: &mut dyn Write, state_names: &[String], param_name: &str) -> std::io::Result<()> {
        write!(w, "branch,kind,index,{param_name}")?;
        for s in state_names {
            write!(w, ",{s}")?;
        }
        writeln!(w, ",stable,n_unstable,frequency")?;
        let row = |w: &mut dyn Write, state: &[f64]| -> std::io::Result<()> {
            for v in state {
                write!(w, ",{v}")?;
            }
            Ok(())
        };
        for (bi, b) in self.branches.iter().enumerate() {
            for (i, p) in b.points.iter().enumerate() {
                write!(w, "{bi},point,{i},{}", p.param)?;
                row(w, &p.state)?;
                writeln!(w, ",{},{},", p.stable, p.n_unstable)?;
                for s in self.bifurcations.iter().filter(|s| s.branch == bi && s.index == i) {
                    write!(w, "{bi},{},{i},{}", s.kind.as_str(), s.param)?;
                    row(w, &s.state)?;
                    match s.frequency {
                        Some(f) => writeln!(w, ",,,{f}")?,
                        None => writeln!(w, ",,,")?,
                    }
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Dense LU workspace
// ---------------------------------------------------------------------------

/// A square matrix with an in-place partial-pivoting LU factorisation and
/// solve, all storage allocated once (faer's low-level API with a
/// preallocated scratch buffer).
pub struct DenseLu {
    n: usize,
    mat: Mat<f64>,
    perm: Vec<usize>,
    perm_inv: Vec<usize>,
    buf: MemBuffer,
}

impl DenseLu {
    pub fn new(n: usize) -> Self {
        let req = lu_factor::lu_in_place_scratch::<usize, f64>(n, n, Par::Seq, Default::default())
            .or(lu_solve::solve_in_place_scratch::<usize, f64>(n, 1, Par::Seq));
        DenseLu { n, mat: Mat::zeros(n, n), perm: vec![0; n], perm_inv: vec![0; n], buf: MemBuffer::new(req) }
    }

    /// The matrix to fill before [`factor`](Self::factor).
    pub fn matrix_mut(&mut self) -> MatMut<'_, f64> {
        self.mat.as_mut()
    }

    /// Factor in place; returns `det` as a [`SignedLog`], or `None` if a
    /// pivot is zero or non-finite (singular matrix).
    pub fn factor(&mut self) -> Option<SignedLog> {
        let (info, _) = lu_factor::lu_in_place(
            self.mat.as_mut(),
            &mut self.perm,
            &mut self.perm_inv,
            Par::Seq,
            MemStack::new(&mut self.buf),
            Default::default(),
        );
        let mut sign = if info.transposition_count % 2 == 0 { 1.0 } else { -1.0 };
        let mut log = 0.0;
        for i in 0..self.n {
            let d = self.mat[(i, i)];
            if d == 0.0 || !d.is_finite() {
                return None;
            }
            if d < 0.0 {
                sign = -sign;
            }
            log += d.abs().ln();
        }
        Some(SignedLog { sign, log })
    }

    /// Overwrite `b` with `A^{-1} b` using the last factorisation.
    pub fn solve_in_place(&mut self, b: &mut [f64]) {
        let perm = PermRef::new_checked(&self.perm, &self.perm_inv, self.n);
        let rhs = MatMut::from_column_major_slice_mut(b, self.n, 1);
        lu_solve::solve_in_place::<usize, f64, f64>(
            self.mat.as_ref(),
            self.mat.as_ref(),
            perm,
            rhs,
            Par::Seq,
            MemStack::new(&mut self.buf),
        );
    }
}

// ---------------------------------------------------------------------------
// Generic arclength machinery
// ---------------------------------------------------------------------------

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
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| if v.abs() > m || v.is_nan() { v.abs() } else { m })
}

/// Newton corrector and tangent computation for an [`ImplicitCurve`] with a
/// preallocated bordered LU workspace.
pub struct ArclengthSolver {
    n: usize,
    lu: DenseLu,
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
            res: vec![0.0; n_unknowns],
            border: vec![0.0; n_unknowns],
            tol,
            max_iter,
        }
    }

    fn assemble<C: ImplicitCurve + ?Sized>(&mut self, curve: &mut C, u: &[f64], border: &[f64]) {
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
            self.lu.factor()?;
            self.lu.solve_in_place(&mut self.res);
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
        let det = self.lu.factor()?;
        t.fill(0.0);
        t[self.n - 1] = 1.0;
        self.lu.solve_in_place(t);
        let norm = dot(t, t).sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return None;
        }
        t.iter_mut().for_each(|v| *v /= norm);
        Some(det)
    }

    /// A unit null vector of `dH/du` at `u` from the SVD (no orientation):
    /// used once to start a curve, when no previous tangent exists.
    pub fn null_vector<C: ImplicitCurve + ?Sized>(&mut self, curve: &mut C, u: &[f64]) -> Option<Vec<f64>> {
        let n = self.n;
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

// ---------------------------------------------------------------------------
// Equilibrium branches
// ---------------------------------------------------------------------------

/// `H(x, p_k) = F(x; p)` with the other parameters frozen.
struct EquilibriumCurve<'a> {
    field: &'a dyn VectorField,
    n: usize,
    k: usize,
    p: Vec<f64>,
    fp: Vec<f64>,
}

impl ImplicitCurve for EquilibriumCurve<'_> {
    fn n_unknowns(&self) -> usize {
        self.n + 1
    }
    fn residual(&mut self, u: &[f64], out: &mut [f64]) {
        self.p[self.k] = u[self.n];
        self.field.rhs(&u[..self.n], &self.p, out);
    }
    fn jacobian(&mut self, u: &[f64], mut jac: MatMut<'_, f64>) {
        let n = self.n;
        self.p[self.k] = u[n];
        self.field.jacobian(&u[..n], &self.p, jac.as_mut().submatrix_mut(0, 0, n, n));
        self.field.param_derivative(&u[..n], &self.p, self.k, &mut self.fp);
        for i in 0..n {
            jac[(i, n)] = self.fp[i];
        }
    }
}

/// Evaluates Jacobian spectra and test functions at branch points.
struct Probe<'a> {
    field: &'a dyn VectorField,
    n: usize,
    k: usize,
    p: Vec<f64>,
    jac: Mat<f64>,
}

impl Probe<'_> {
    fn eigenvalues(&mut self, u: &[f64]) -> Result<Vec<c64>> {
        self.p[self.k] = u[self.n];
        self.field.jacobian(&u[..self.n], &self.p, self.jac.as_mut());
        sorted_eigenvalues(&self.jac)
    }
    fn tests(&mut self, u: &[f64], t: &[f64], det: SignedLog) -> Result<(TestFunctions, Vec<c64>)> {
        let ev = self.eigenvalues(u)?;
        Ok((TestFunctions { fold: t[self.n], branch: det, hopf: bialternate_product(&ev) }, ev))
    }
}

fn branch_point(u: &[f64], n: usize, eigenvalues: Vec<c64>) -> BranchPoint {
    let (n_unstable, stable) = stability(&eigenvalues);
    BranchPoint { param: u[n], state: u[..n].to_vec(), stable, n_unstable, eigenvalues }
}

/// Sign change of a test function between consecutive points: `Some(true)`
/// for a proper change, `Some(false)` if it is exactly zero at the new point.
fn crossed(a: f64, b: f64) -> Option<bool> {
    if a * b < 0.0 {
        Some(true)
    } else if b == 0.0 && a != 0.0 {
        Some(false)
    } else {
        None
    }
}

/// Continue the branch of equilibria through `(x0, p0)` in parameter
/// `cp.param` by pseudo-arclength (see the module documentation).
///
/// `x0` is first corrected by Newton at fixed `p0`; the initial tangent is
/// the null vector of `[J | F_p]` oriented along `cp.direction`. With
/// `cp.detect_bifurcations` every special point between consecutive points
/// is located by regula falsi on its test function (accuracy of the arc
/// parameter `~1e-10`; see [`crate::engine::continuation::test_functions`]). Neutral saddles
/// are not reported. With `cp.branch_switching` the second branch through
/// every branch point of the first branch is continued on both sides (see
/// `Tracer::switch`) and appended to `branches`. A field whose equilibria are not isolated (a
/// conservation law or continuous symmetry makes `[J | F_p]` rank-deficient
/// everywhere) cannot be continued and fails at the start.
pub fn continue_equilibria(
    field: &dyn VectorField,
    x0: &[f64],
    p0: &[f64],
    cp: &ContinuationParams,
) -> Result<ContinuationResult> {
    let n = field.dim();
    let m = field.param_names().len();
    cp.validate(m.max(p0.len()))?;
    if x0.len() != n || x0.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid("x0", format!("{x0:?}"), format!("{n} finite values")));
    }
    if p0.len() < m || p0.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid("p0", format!("{p0:?}"), format!("{m} finite values")));
    }
    let k = cp.param;
    let pname = field.param_names().get(k).cloned().unwrap_or_else(|| format!("p{k}"));
    if p0[k] < cp.p_min || p0[k] > cp.p_max {
        return Err(Error::invalid(pname, p0[k], format!("[p_min, p_max] = [{}, {}]", cp.p_min, cp.p_max)));
    }

    let nu = n + 1;
    let mut curve = EquilibriumCurve { field, n, k, p: p0.to_vec(), fp: vec![0.0; n] };
    let probe = Probe { field, n, k, p: p0.to_vec(), jac: Mat::zeros(n, n) };
    let mut solver = ArclengthSolver::new(nu, cp.newton_tol, cp.newton_max_iter);

    let mut u: Vec<f64> = x0.iter().copied().chain([p0[k]]).collect();
    solver.correct_fixed(&mut curve, &mut u, n, p0[k]).ok_or_else(|| {
        Error::numerical(
            "continuation start",
            format!("Newton did not converge to an equilibrium from x0 = {x0:?} at {pname} = {}", p0[k]),
        )
    })?;
    let mut t = solver.null_vector(&mut curve, &u).ok_or_else(|| {
        Error::numerical("continuation start", "singular value decomposition of [J | F_p] failed")
    })?;
    if t[n] * cp.direction < 0.0 {
        t.iter_mut().for_each(|v| *v = -*v);
    }
    let mut t_new = vec![0.0; nu];
    solver.tangent(&mut curve, &u, &t, &mut t_new).ok_or_else(|| {
        Error::numerical(
            "continuation start",
            format!("[J | F_p] is rank-deficient at {pname} = {}: equilibria are not isolated", u[n]),
        )
    })?;
    t.copy_from_slice(&t_new);

    let mut tracer = Tracer { solver, curve, probe, cp, n, started: std::time::Instant::now() };
    let (branch, mut bifurcations) = tracer.trace(u, t, 0)?;
    let mut branches = vec![branch];
    if cp.branch_switching {
        let starts: Vec<Bifurcation> =
            bifurcations.iter().filter(|b| b.kind == BifurcationKind::Branch).cloned().collect();
        for bp in starts {
            for (u1, t1) in tracer.switch(&bp) {
                let index = branches.len();
                let (branch, bifs) = tracer.trace(u1, t1, index)?;
                branches.push(branch);
                bifurcations.extend(bifs);
            }
        }
    }
    bifurcations.sort_by_key(|b| (b.branch, b.index));
    Ok(ContinuationResult { branches, bifurcations })
}

/// Largest parameter change per step, as a fraction of `p_max - p_min`,
/// once the relative step exceeds the absolute `ds_max`.
const PARAM_WINDOW_FRACTION: f64 = 0.05;

/// The per-branch state of [`continue_equilibria`].
struct Tracer<'a> {
    solver: ArclengthSolver,
    curve: EquilibriumCurve<'a>,
    probe: Probe<'a>,
    cp: &'a ContinuationParams,
    n: usize,
    started: std::time::Instant,
}

impl Tracer<'_> {
    /// Starting points of the second branch through the branch point `bp`:
    /// the direction `tau2` spanning, with the current tangent, the
    /// two-dimensional null space of `[J | F_p]` (from its SVD), and one
    /// corrected point `u_bp +- ds tau2` on each side (corrector on the
    /// hyperplane `<tau2, u - u_bp> = +-ds`). Sides whose corrector fails or
    /// falls back onto the original branch are skipped.
    fn switch(&mut self, bp: &Bifurcation) -> Vec<(Vec<f64>, Vec<f64>)> {
        let (n, nu) = (self.n, self.n + 1);
        let u_bp: Vec<f64> = bp.state.iter().copied().chain([bp.param]).collect();
        let mut a = Mat::<f64>::zeros(n, nu);
        self.curve.jacobian(&u_bp, a.as_mut());
        let Ok(svd) = a.svd() else { return Vec::new() };
        let v = svd.V();
        // Component of the last two right singular vectors orthogonal to the tangent.
        let t1 = &bp.tangent;
        let mut best: Option<Vec<f64>> = None;
        for c in [nu - 1, nu - 2] {
            let col: Vec<f64> = (0..nu).map(|i| v[(i, c)]).collect();
            let proj = dot(&col, t1);
            let mut perp: Vec<f64> = col.iter().zip(t1).map(|(x, t)| x - proj * t).collect();
            let norm = dot(&perp, &perp).sqrt();
            if best.as_ref().is_none_or(|b| norm > dot(b, b).sqrt()) && norm > 0.0 {
                perp.iter_mut().for_each(|x| *x /= norm);
                best = Some(perp);
            }
        }
        let Some(tau2) = best else { return Vec::new() };
        let ds = self.cp.ds;
        let mut out = Vec::new();
        for sign in [1.0, -1.0] {
            let dir: Vec<f64> = tau2.iter().map(|x| sign * x).collect();
            let mut u: Vec<f64> = u_bp.iter().zip(&dir).map(|(a, d)| a + ds * d).collect();
            let gamma = dot(&dir, &u);
            if self.solver.correct(&mut self.curve, &mut u, &dir, gamma).is_none() {
                continue;
            }
            // Distance to the original branch's tangent line through u_bp:
            // a point on the old branch would lie O(ds^2) from it.
            let d: Vec<f64> = u.iter().zip(&u_bp).map(|(a, b)| a - b).collect();
            let along = dot(&d, t1);
            let off = (dot(&d, &d) - along * along).max(0.0).sqrt();
            if off < 0.25 * ds {
                continue;
            }
            let mut t = vec![0.0; nu];
            if self.solver.tangent(&mut self.curve, &u, &dir, &mut t).is_some() {
                out.push((u, t));
            }
        }
        out
    }

    /// Continue from `(u, t)` until a bound, `max_steps` or step failure,
    /// monitoring and locating special points.
    fn trace(&mut self, mut u: Vec<f64>, mut t: Vec<f64>, branch: usize) -> Result<(Branch, Vec<Bifurcation>)> {
        let (n, nu, cp) = (self.n, self.n + 1, self.cp);
        let Tracer { solver, curve, probe, .. } = self;
        let mut t_new = vec![0.0; nu];
        let det = solver.tangent(curve, &u, &t, &mut t_new).ok_or_else(|| {
            Error::numerical("continuation", format!("singular bordered Jacobian at the start of branch {branch}"))
        })?;
        t.copy_from_slice(&t_new);
        let (mut tests, ev) = probe.tests(&u, &t, det)?;
        let mut points = vec![branch_point(&u, n, ev)];
        let mut bifurcations = Vec::new();
        let mut u_new = vec![0.0; nu];
        let mut t_loc = vec![0.0; nu];
        let base = StepControl { ds_min: cp.ds_min, ds_max: cp.ds_max };
        // Steps relative to the solution's magnitude (see StepControl::relative_to).
        let mut ds = cp.ds * base.relative_to(&u).ds_max / cp.ds_max;
        let bounds = [Bound { index: n, lo: cp.p_min, hi: cp.p_max }];
        let mut stop = StopReason::MaxSteps;

        let started = self.started;
        for _ in 0..cp.max_steps {
            if cp.max_seconds.is_finite() && started.elapsed().as_secs_f64() > cp.max_seconds {
                stop = StopReason::Budget;
                break;
            }
            // Relative steps, but growing beyond the absolute ds_max only as
            // far as the parameter moves by at most 1/20 of [p_min, p_max]
            // per step: two special points within one step (two sign
            // changes of a test function) would go unseen.
            let mut ctl = base.relative_to(&u);
            let window = PARAM_WINDOW_FRACTION * (cp.p_max - cp.p_min) / t[n].abs().max(f64::MIN_POSITIVE);
            ctl.ds_max = ctl.ds_max.min(window).max(base.ds_max).max(ctl.ds_min);
            ds = ds.clamp(ctl.ds_min, ctl.ds_max);
            let Some(step) = arclength_step(solver, curve, &u, &t, &mut ds, ctl, &bounds, &mut u_new, &mut t_new)
            else {
                stop = StopReason::StepTooSmall;
                break;
            };
            let (tests_new, ev) = probe.tests(&u_new, &t_new, step.det)?;
            if cp.detect_bifurcations {
                let sigma1 = dot(&t, &u_new) - dot(&t, &u);
                // A special point inside a step longer than the absolute
                // ds_max (a relative step on a large state): retake the step
                // at the absolute ds_max before locating it, so the locator
                // works on a short arc (on a long one its corrector can land
                // on the other branch through a branch point).
                let crossing = crossed(tests.fold, tests_new.fold).is_some()
                    || crossed(tests.branch.sign, tests_new.branch.sign).is_some()
                    || crossed(tests.hopf.sign, tests_new.hopf.sign).is_some();
                if crossing && sigma1.abs() > base.ds_max * (1.0 + 1e-9) {
                    ds = base.ds_max;
                    continue;
                }
                let xtol = 1e-10 * (1.0 + sigma1.abs());
                let index = points.len() - 1;
                for kind in [BifurcationKind::Fold, BifurcationKind::Branch, BifurcationKind::Hopf] {
                    let (f0, f1) = match kind {
                        BifurcationKind::Fold => (tests.fold, tests_new.fold),
                        BifurcationKind::Branch => (tests.branch.sign, tests_new.branch.sign),
                        BifurcationKind::Hopf => (tests.hopf.sign, tests_new.hopf.sign),
                    };
                    let Some(proper) = crossed(f0, f1) else { continue };
                    let located = if proper {
                        let (r0, r1) = match kind {
                            BifurcationKind::Fold => (tests.fold, tests_new.fold),
                            BifurcationKind::Branch => (1.0 * tests.branch.sign, tests_new.branch.relative_to(&tests.branch)),
                            BifurcationKind::Hopf => (1.0 * tests.hopf.sign, tests_new.hopf.relative_to(&tests.hopf)),
                        };
                        let (reference_b, reference_h) = (tests.branch, tests.hopf);
                        let t_ref = t.clone();
                        locate_on_arc(solver, curve, &u, &t, sigma1, r0, r1, xtol, |s, c, x| {
                            let det = s.tangent(c, x, &t_ref, &mut t_loc)?;
                            Some(match kind {
                                BifurcationKind::Fold => t_loc[n],
                                BifurcationKind::Branch => det.relative_to(&reference_b),
                                BifurcationKind::Hopf => {
                                    probe.eigenvalues(x).ok().map(|ev| bialternate_product(&ev).relative_to(&reference_h))?
                                }
                            })
                        })
                    } else {
                        Some(u_new.clone())
                    };
                    let Some(x) = located else { continue };
                    let ev = probe.eigenvalues(&x)?;
                    let frequency = match kind {
                        BifurcationKind::Hopf => match hopf_frequency(&ev) {
                            Some(w) => Some(w),
                            None => continue, // neutral saddle
                        },
                        _ => None,
                    };
                    let mut tangent = vec![0.0; nu];
                    if solver.tangent(curve, &x, &t, &mut tangent).is_none() {
                        tangent.copy_from_slice(&t);
                    }
                    bifurcations.push(Bifurcation {
                        kind,
                        param: x[n],
                        state: x[..n].to_vec(),
                        branch,
                        index,
                        frequency,
                        tangent,
                        eigenvalues: ev,
                    });
                }
            }
            points.push(branch_point(&u_new, n, ev));
            tests = tests_new;
            std::mem::swap(&mut u, &mut u_new);
            std::mem::swap(&mut t, &mut t_new);
            curve.accept(&u);
            if step.hit_bound {
                stop = StopReason::ParameterBound;
                break;
            }
        }
        Ok((Branch { points, stop }, bifurcations))
    }
}

//! Multi-start search for the fixed points `F(x; p) = 0` of a vector field,
//! with de-duplication of points and of continuous families of points.
//!
//! Each start minimises `phi(x) = ||F(x; p)||^2 / 2` (exact gradient
//! `J^T F`) with argmin's L-BFGS and a More-Thuente line search, which pulls
//! far-away starts into a basin of a zero; the result is then polished with
//! the singular-Jacobian-safe Newton iteration of [`newton`](super::newton).
//! Starts whose Newton polish does not reach `||F|| <= tol` (local minima of
//! `phi` that are not zeros) are dropped.
//!
//! The default box of the CLI is scale-aware ([`default_box`]): equilibria of
//! polynomial and rational models scale like the parameters and their
//! ratios (`x' = x - eps x^2` has its zero at `1/eps`), so the box covers the
//! magnitudes of the parameters and of their reciprocals.
//!
//! Found roots are deflated (Farrell, Birkisson & Funke, "Deflation
//! techniques for finding distinct solutions of nonlinear partial
//! differential equations", SIAM J. Sci. Comput. 37, A2026 (2015)): a start
//! whose ordinary search ends on an already known isolated root is searched
//! again with the deflated residual `G(x) = M(x) F(x)`,
//!
//! ```text
//!     M(x) = prod_i (1 / ||x - r_i||^2 + 1),
//! ```
//!
//! which has the same zeros as `F` except the known roots `r_i`, where
//! `||G|| -> infinity`; so starts in the basin of a known root reach a new
//! one. The starts run in fixed batches ([`BATCH`]); the roots known before a
//! batch deflate all of its starts, so the result does not depend on the
//! number of threads.
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::engine::equilibria::newton::{newton_with_workspace, NewtonOptions, SvdWorkspace};
use crate::engine::linalg::sparse_jacobian::sparse_pattern;
use crate::engine::linalg::spectrum::jacobian_matrix;
use crate::engine::equilibria::stability::{classify, kernels, StabilityOptions, StabilityReport};
use crate::engine::linalg::vector::{dist, norm};
use crate::engine::VectorField;
use crate::error::{Error, Result};

/// Controls of [`find_fixed_points`].
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FixedPointOptions {
    /// Number of random starts, in addition to the model's initial state and
    /// the origin (which are always tried).
    pub starts: usize,
    /// Seed of the ChaCha8 generator of the random starts: the result is a
    /// deterministic function of `(field, p, options)`.
    pub seed: u64,
    /// Sampling box `[lo_i, hi_i]` per state variable. Empty: the symmetric
    /// box `|x_i| <= 2 max(1, |x0_i|)` around the origin, `x0` the model's
    /// initial state (the box of the model studies, which start from an
    /// attractor's neighbourhood). The CLI, the Python API and
    /// [`full_diagram`](crate::engine::analysis::full_diagram) pass the
    /// scale-aware [`default_box`] instead.
    pub bounds: Vec<(f64, f64)>,
    /// A point is a fixed point when `||F(x; p)||_2 <= tol`.
    pub tol: f64,
    /// Points closer than `dedup_tol * max(1, ||x||)` are the same point.
    pub dedup_tol: f64,
    /// Wall-time budget in seconds (`f64::INFINITY`: none). Starts not begun
    /// when it runs out are skipped; the points found so far are kept and
    /// the search reports `stopped = "budget"`.
    pub max_seconds: f64,
    /// `true`: the caller asked for `starts` by name (`--starts N`), so the
    /// large-system cut of the default ([`LARGE_START_BUDGET`]) does not
    /// apply, even when N equals the default.
    pub starts_explicit: bool,
}

impl Default for FixedPointOptions {
    fn default() -> Self {
        FixedPointOptions {
            starts: 32,
            seed: 0,
            bounds: Vec::new(),
            tol: 1e-10,
            dedup_tol: 1e-6,
            // What is left of the process-wide `--max-seconds` (infinite if unset).
            max_seconds: crate::limits::remaining_seconds(),
            starts_explicit: false,
        }
    }
}

/// Largest reciprocal `1/|p_j|` that [`default_box`] takes as a scale: a
/// parameter below `1e-4` (a tolerance, a tiny rate) would otherwise spread
/// the starts over a box where the unit-scale roots are rarely sampled.
const MAX_RECIPROCAL_SCALE: f64 = 1e4;

/// Default half-width of the search box,
///
/// ```text
///     2 max(1, |x0_i|, |p_j|, min(1/|p_j|, 1e4)  over p_j != 0):
/// ```
///
/// equilibria of polynomial and rational models scale with the parameters
/// (Lorenz: `z = r - 1`) and with their ratios, among them the reciprocals of
/// small coefficients of higher powers (`x' = x - eps x^2 - ...` has the zero
/// `x = 1/eps`: Bazykin's prey-only equilibrium `(100, 0)` at `eps = 0.01`).
/// Non-finite when a value is (the caller reports which).
pub fn default_box(x0: &[f64], p: &[f64]) -> f64 {
    let reciprocal = p.iter().filter(|v| **v != 0.0).map(|v| (1.0 / v.abs()).min(MAX_RECIPROCAL_SCALE));
    2.0 * x0.iter().chain(p).map(|v| v.abs()).chain(reciprocal).fold(1.0f64, |m, v| if v.is_nan() { f64::NAN } else { m.max(v) })
}

/// Starts per batch of the deflated search (module docs): a constant, so
/// that the batches, and with them the result, do not depend on the
/// number of threads.
pub const BATCH: usize = 8;

/// Everything [`find_fixed_points_report`] found, with what it skipped.
#[derive(Clone, Debug, Serialize)]
pub struct FixedPointSearch {
    pub points: Vec<FixedPoint>,
    /// Converged candidates that were rejected, with the reason (a
    /// non-finite Jacobian, a residual that is small only in absolute terms).
    pub skipped: Vec<SkippedPoint>,
    /// `Some("budget")` when the wall-time budget ran out.
    pub stopped: Option<String>,
    /// Starts that were not run because of the budget.
    pub starts_not_run: usize,
    /// Set when the default bound of a large system cut the random starts.
    pub starts_note: Option<String>,
}

/// A candidate point that was not reported, and why.
#[derive(Clone, Debug, Serialize)]
pub struct SkippedPoint {
    pub state: Vec<f64>,
    pub reason: String,
}

/// A fixed point (or the representative of a family of fixed points).
#[derive(Clone, Debug, Serialize)]
pub struct FixedPoint {
    pub state: Vec<f64>,
    /// `||F(state; p)||_2`.
    pub residual: f64,
    pub report: StabilityReport,
    /// `field.observables(state, p)`, in the order of `observable_names()`.
    pub observables: Vec<f64>,
}

/// `phi(x) = ||F(x; p)||^2 / 2` for argmin.
///
/// Every evaluation is counted and the search's deadline checked: argmin's
/// L-BFGS runs its More-Thuente line search without an iteration limit, and
/// on fields such as `x^-1024 - 1` that line search did not end (issue 15).
/// Past [`MAX_EVALS`] evaluations or the deadline, the evaluation fails, which
/// ends the minimisation (the start then goes to Newton from where it is).
struct ResidualNormSq<'a> {
    field: &'a dyn VectorField,
    p: &'a [f64],
    evals: std::cell::Cell<u64>,
    deadline: Option<std::time::Instant>,
    /// The Jacobian pattern of a large sparse field (`J^T F` in `O(nnz)`).
    sparse_pattern: Option<Vec<(usize, usize)>>,
}

/// Cost plus gradient evaluations of one L-BFGS minimisation: 200
/// iterations with up to ~25 line-search evaluations each.
const MAX_EVALS: u64 = 5_000;

/// Bound on the random starts of a large sparse system: the default work
/// of the multi-start search scales like `starts * n`, so above
/// [`SPARSE_MIN_DIM`](crate::engine::linalg::sparse_jacobian::SPARSE_MIN_DIM)
/// states the default number of random starts is cut to
/// `LARGE_START_BUDGET / n` (at least 2); the result says so
/// (`FixedPointSearch::starts_note`); a number the caller gave by name
/// (`FixedPointOptions::starts_explicit`) is run as asked.
pub const LARGE_START_BUDGET: usize = 8_000;

impl ResidualNormSq<'_> {
    fn charge(&self) -> std::result::Result<(), argmin::core::Error> {
        let n = self.evals.get() + 1;
        self.evals.set(n);
        if n > MAX_EVALS || crate::limits::cancelled() || self.deadline.is_some_and(|d| std::time::Instant::now() > d) {
            return Err(argmin::core::Error::msg("evaluation or time budget of the minimisation exhausted"));
        }
        Ok(())
    }
}

impl CostFunction for ResidualNormSq<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        self.charge()?;
        let mut f = vec![0.0; x.len()];
        self.field.rhs(x, self.p, &mut f);
        let c = 0.5 * f.iter().map(|v| v * v).sum::<f64>();
        if c.is_finite() {
            Ok(c)
        } else {
            Err(argmin::core::Error::msg("non-finite residual"))
        }
    }
}

impl Gradient for ResidualNormSq<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    /// `grad phi = J^T F`.
    fn gradient(&self, x: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        self.charge()?;
        let n = x.len();
        let mut f = vec![0.0; n];
        self.field.rhs(x, self.p, &mut f);
        if let Some(pattern) = &self.sparse_pattern {
            let mut entries = vec![0.0; pattern.len()];
            self.field.jacobian_entries(x, self.p, pattern, &mut entries);
            let mut g = vec![0.0; n];
            for (&(i, j), a) in pattern.iter().zip(&entries) {
                g[j] += a * f[i];
            }
            return Ok(g);
        }
        let jac = jacobian_matrix(self.field, x, self.p);
        Ok((0..n).map(|j| (0..n).map(|i| jac[(i, j)] * f[i]).sum()).collect())
    }
}

/// L-BFGS on `phi` from `x0`; falls back to `x0` when argmin stops with an
/// error (e.g. a line search that cannot progress from an exact zero).
fn minimise(field: &dyn VectorField, p: &[f64], x0: &[f64], deadline: Option<std::time::Instant>) -> Vec<f64> {
    const MAX_ITERS: u64 = 200;
    let problem = ResidualNormSq { field, p, evals: std::cell::Cell::new(0), deadline, sparse_pattern: sparse_pattern(field) };
    let solver = match LBFGS::new(MoreThuenteLineSearch::new(), 7).with_tolerance_grad(1e-14) {
        Ok(s) => s,
        Err(_) => return x0.to_vec(),
    };
    let solver = match solver.with_tolerance_cost(0.0) {
        Ok(s) => s,
        Err(_) => return x0.to_vec(),
    };
    let run = Executor::new(problem, solver)
        .configure(|state| state.param(x0.to_vec()).max_iters(MAX_ITERS))
        .ctrlc(false)
        .timer(false)
        .run();
    match run {
        Ok(res) => match res.state().get_best_param() {
            Some(x) if x.iter().all(|v| v.is_finite()) => x.clone(),
            _ => x0.to_vec(),
        },
        Err(_) => x0.to_vec(),
    }
}

fn validate(field: &dyn VectorField, p: &[f64], opts: &FixedPointOptions) -> Result<Vec<(f64, f64)>> {
    let n = field.dim();
    let m = field.param_names().len();
    if p.len() != m {
        return Err(Error::invalid("p (length)", p.len(), format!("{m} (parameters of `{}`)", field.name())));
    }
    if !(opts.tol > 0.0 && opts.tol.is_finite()) {
        return Err(Error::invalid("fixed_points.tol", opts.tol, "> 0"));
    }
    if !(opts.dedup_tol > 0.0 && opts.dedup_tol.is_finite()) {
        return Err(Error::invalid("fixed_points.dedup_tol", opts.dedup_tol, "> 0"));
    }
    if !(opts.max_seconds > 0.0) {
        return Err(Error::invalid("fixed_points.max_seconds", opts.max_seconds, "> 0 (or infinite for no limit)"));
    }
    if opts.bounds.is_empty() {
        let x0 = field.initial_state();
        if x0.len() != n {
            return Err(Error::invalid(
                format!("initial state of `{}` (length)", field.name()),
                x0.len(),
                format!("{n} (state dimension)"),
            ));
        }
        return Ok(x0
            .iter()
            .map(|v| {
                let half = 2.0 * v.abs().max(1.0);
                if half.is_finite() { (-half, half) } else { (-2.0, 2.0) }
            })
            .collect());
    }
    if opts.bounds.len() != n {
        return Err(Error::invalid("fixed_points.bounds (length)", opts.bounds.len(), format!("0 or {n}")));
    }
    for (i, &(lo, hi)) in opts.bounds.iter().enumerate() {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::invalid(format!("fixed_points.bounds[{i}]"), format!("({lo}, {hi})"), "finite lo < hi"));
        }
    }
    Ok(opts.bounds.clone())
}

/// All fixed points of `field` at parameters `p` found from the multi-start
/// search (module docs), classified with [`classify`].
///
/// De-duplication, in start order (deterministic): a converged point within
/// `dedup_tol * max(1, ||x||)` of a kept one is dropped. A point whose
/// spectrum equals (to `1e-6` relative) that of a kept family point
/// (`family_dimension > 0`, no unexplained zero modes) and that is connected
/// to it within the family is merged into it. Connection is tested by
/// walking from the kept point along the family: each step goes, within the
/// right kernel of `J` at the current point, towards the candidate (steps of
/// at most `0.25 max(1, ||x||)`), followed by a minimum-norm Newton
/// correction back onto `F = 0`. On a flat (affine) family the first step
/// reaches the candidate exactly, which is the affine-tangent-space test; on
/// curved families (circles of fixed points) the walk follows the curve. The
/// walk gives up (points kept separate) when the kernel dimension changes,
/// Newton fails, or the distance stops decreasing.
///
/// Converged points outside the sampling box enlarged tenfold about its
/// centre are discarded as escapes to infinity (fields with `F -> 0` at
/// infinity). Output is sorted lexicographically by state.
pub fn find_fixed_points(field: &dyn VectorField, p: &[f64], opts: &FixedPointOptions) -> Result<Vec<FixedPoint>> {
    Ok(find_fixed_points_report(field, p, opts)?.points)
}

/// Whether `x` passes the acceptance test of a fixed point: `J(x)` finite;
/// for every component the residual is small against the first-order size
/// of the terms of `F_i` (for a monomial `c x^k`, `x dF/dx = k c x^k`),
///
/// ```text
///     |F_i(x)| <= 1e-14 + 1e-7 sum_j |J_ij(x)| max(|x_j|, 1e-8);
/// ```
///
/// and the linearisation is valid at the point's resolution: wherever
/// `J` predicts a change `|J_ij| s_j >= 1e-6` over `s_j = 1e-8 max(1, |x_j|)`,
/// the actual change `F_i(x + s_j e_j) - F_i(x)` agrees with it to 50%.
/// The first test rejects points where `F` is merely tiny, e.g.
/// `x' = 17.6 x^1025` at `x = 0.974` (`F = 3e-11`, but the terms are
/// `1025 F`); the second rejects limits onto a singularity, e.g.
/// `x' = 3 - x/y, y' = x` near `(0, 0)`, where `F` is `O(1)` within `1e-8`
/// of the point although `J` is finite there. `Err(reason)` says which test failed.
pub fn accept_fixed_point(field: &dyn VectorField, x: &[f64], p: &[f64]) -> std::result::Result<(), String> {
    let n = x.len();
    let jac = jacobian_matrix(field, x, p);
    let mut f = vec![0.0; n];
    field.rhs(x, p, &mut f);
    for i in 0..n {
        let mut scale = 0.0;
        for j in 0..n {
            let v = jac[(i, j)];
            if !v.is_finite() {
                return Err(format!("the Jacobian entry ({i}, {j}) is {v} here"));
            }
            scale += v.abs() * x[j].abs().max(1e-8);
        }
        if !(f[i].abs() <= 1e-14 + 1e-7 * scale) {
            return Err(format!(
                "residual |F_{i}| = {:.3e} is not small against the size of its terms ({scale:.3e}): a near-zero of F, not a zero",
                f[i].abs()
            ));
        }
    }
    let mut xs = x.to_vec();
    let mut fs = vec![0.0; n];
    for j in 0..n {
        let s = 1e-8 * x[j].abs().max(1.0);
        xs[j] = x[j] + s;
        field.rhs(&xs, p, &mut fs);
        xs[j] = x[j];
        for i in 0..n {
            let predicted = jac[(i, j)] * s;
            if predicted.abs() < 1e-6 {
                continue;
            }
            let actual = fs[i] - f[i];
            if !((actual - predicted).abs() <= 0.5 * predicted.abs()) {
                return Err(format!(
                    "F_{i} changes by {actual:.3e} over {s:.1e} in x_{j} where the Jacobian predicts {predicted:.3e}: \
                     a singularity of F, not a resolved zero"
                ));
            }
        }
    }
    Ok(())
}

/// Norm of the minimum-norm Newton step `J^+ F` at `x`.
fn newton_step_norm(field: &dyn VectorField, x: &[f64], p: &[f64], ws: &mut SvdWorkspace) -> Result<f64> {
    let n = x.len();
    let mut f = vec![0.0; n];
    let mut dx = vec![0.0; n];
    field.rhs(x, p, &mut f);
    ws.factor(field, x, p)?;
    ws.min_norm_step(&f, NewtonOptions::default().rcond, &mut dx);
    Ok(norm(&dx))
}

/// A candidate is settled when its Newton step is below `1e-8 max(1, ||x||)`.
/// If not, up to 200 more Newton steps (enough for roots of moderate
/// multiplicity, where Newton converges linearly with ratio `1 - 1/m`);
/// a candidate that still moves is a near-zero (or a root of very high
/// multiplicity whose location is not resolved) and is given up.
fn settle(
    field: &dyn VectorField,
    p: &[f64],
    x: Vec<f64>,
    r: f64,
    ws: &mut SvdWorkspace,
) -> std::result::Result<(Vec<f64>, f64), (Vec<f64>, String)> {
    let small = |x: &[f64], step: f64| step <= 1e-8 * norm(x).max(1.0);
    match newton_step_norm(field, &x, p, ws) {
        Ok(step) if small(&x, step) => return Ok((x, r)),
        Ok(_) => {}
        Err(e) => return Err((x, format!("Jacobian not usable here: {e}"))),
    }
    let more = NewtonOptions { tol: 0.0, max_iter: 200, ..NewtonOptions::default() };
    let out = match newton_with_workspace(field, &x, p, &more, ws) {
        Ok(out) => out,
        Err(e) => return Err((x, format!("Jacobian not usable here: {e}"))),
    };
    match newton_step_norm(field, &out.x, p, ws) {
        Ok(step) if small(&out.x, step) && out.residual_norm.is_finite() => Ok((out.x, out.residual_norm)),
        Ok(step) => Err((
            out.x,
            format!(
                "Newton still moves by {step:.3e} after 200 more steps: F is small here but has no resolved zero \
                 (a near-zero, or a root of very high multiplicity)"
            ),
        )),
        Err(e) => Err((out.x, format!("Jacobian not usable here: {e}"))),
    }
}

/// A root is deflated when `sigma_min(J) > ISOLATED_RCOND sigma_max(J)`
/// there (regular, hence isolated; deflation is proven for regular roots).
const ISOLATED_RCOND: f64 = 1e-8;

/// The deflation operator `M(x) = prod_i (1/||x - r_i||^2 + 1)` of Farrell,
/// Birkisson & Funke (2015), power 2 and shift 1, over the known roots `r_i`.
struct Deflation<'a> {
    roots: &'a [Vec<f64>],
}

impl Deflation<'_> {
    /// `ln M(x)`, and `grad ln M(x) = sum_i -2 (x - r_i) / (d_i^2 (1 + d_i^2))`
    /// (`d_i = ||x - r_i||`) into `grad`. Infinite on a known root.
    fn log_m(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        grad.fill(0.0);
        let mut log_m = 0.0;
        for r in self.roots {
            let d2: f64 = x.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum();
            if d2 == 0.0 {
                return f64::INFINITY;
            }
            log_m += (1.0 + 1.0 / d2).ln();
            let c = -2.0 / (d2 * (1.0 + d2));
            for ((g, a), b) in grad.iter_mut().zip(x).zip(r) {
                *g += c * (a - b);
            }
        }
        log_m
    }

    /// Damped deflated Newton from `x0`: the Newton step for
    /// `G = M F` is the ordinary (minimum-norm) step `d = -J^+ F` scaled,
    ///
    /// ```text
    ///     dG = d / (1 - eta),   eta = grad(ln M) . d
    /// ```
    ///
    /// (Sherman-Morrison on `G' = M J + F grad(M)^T`; Farrell et al. 2015,
    /// eq. 3.4), backtracked until `||G||` decreases (Armijo, `1e-4`).
    /// Converged at `||F|| <= newton.tol`, which is a new root: `||G||` is
    /// unbounded near the known ones. `None` when the damping fails (a local
    /// minimum of `||G||`), the step is not finite, or 100 steps do not converge.
    fn search(&self, field: &dyn VectorField, p: &[f64], x0: &[f64], newton: &NewtonOptions, ws: &mut SvdWorkspace) -> Option<(Vec<f64>, f64)> {
        const MAX_ITER: usize = 100;
        const ARMIJO: f64 = 1e-4;
        const MIN_LAMBDA: f64 = 1e-8;
        let n = x0.len();
        let mut x = x0.to_vec();
        let (mut f, mut d, mut g) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (mut x_trial, mut f_trial, mut g_trial) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        if self.log_m(&x, &mut g).is_infinite() {
            // A seed on a known root (the model's initial state often is
            // one): step off it by 1% of its scale, where ||G|| is finite
            // and decreases away from the root.
            x.iter_mut().for_each(|v| *v += 1e-2 * v.abs().max(1.0));
        }
        field.rhs(&x, p, &mut f);
        let mut r = norm(&f);
        // ln ||G|| = ln M + ln ||F||: compared in logs, M overflows near a root.
        let mut log_g = self.log_m(&x, &mut g) + r.ln();
        for _ in 0..MAX_ITER {
            if r <= newton.tol {
                return Some((x, r));
            }
            if !log_g.is_finite() && log_g > 0.0 {
                return None;
            }
            ws.factor(field, &x, p).ok()?;
            if ws.min_norm_step(&f, newton.rcond, &mut d) == 0.0 {
                return None;
            }
            let eta: f64 = g.iter().zip(&d).map(|(a, b)| a * b).sum();
            let tau = 1.0 / (1.0 - eta);
            if !tau.is_finite() {
                return None;
            }
            let mut lambda = 1.0;
            loop {
                for i in 0..n {
                    x_trial[i] = x[i] + lambda * tau * d[i];
                }
                field.rhs(&x_trial, p, &mut f_trial);
                let r_trial = norm(&f_trial);
                let log_trial = self.log_m(&x_trial, &mut g_trial) + r_trial.ln();
                if log_trial.is_finite() && log_trial <= log_g + (1.0 - ARMIJO * lambda).ln() || r_trial == 0.0 {
                    std::mem::swap(&mut x, &mut x_trial);
                    std::mem::swap(&mut f, &mut f_trial);
                    std::mem::swap(&mut g, &mut g_trial);
                    r = r_trial;
                    log_g = log_trial;
                    break;
                }
                lambda *= 0.5;
                if lambda < MIN_LAMBDA {
                    return None;
                }
            }
        }
        (r <= newton.tol).then_some((x, r))
    }
}

/// Passes of the final deflation sweep (each finds at most two new roots).
const MAX_SWEEPS: usize = 16;

/// The accepted points, the rejected candidates, and the accepted isolated
/// roots that deflate later searches.
struct Roots {
    points: Vec<(Vec<f64>, f64)>,
    skipped: Vec<SkippedPoint>,
    deflated: Vec<Vec<f64>>,
}

/// Settles a converged candidate and applies the acceptance test
/// ([`accept_fixed_point`]); candidates within `dedup_tol max(1, ||x||)` of a
/// kept or skipped one are dropped. Accepted regular roots are also deflated
/// from then on.
fn admit(field: &dyn VectorField, p: &[f64], opts: &FixedPointOptions, x: Vec<f64>, r: f64, roots: &mut Roots, ws: &mut SvdWorkspace) {
    let n = x.len();
    let scale = opts.dedup_tol * norm(&x).max(1.0);
    if roots.points.iter().any(|(y, _)| dist(&x, y) <= scale) || roots.skipped.iter().any(|s| dist(&x, &s.state) <= scale) {
        return;
    }
    // Newton may stop as soon as ||F|| <= tol; at a degenerate root that
    // is far from the root (linear convergence). Continue until the
    // Newton step is negligible, or give the candidate up.
    let (x, r) = match settle(field, p, x, r, ws) {
        Ok(v) => v,
        Err((x, reason)) => {
            roots.skipped.push(SkippedPoint { state: x, reason });
            return;
        }
    };
    match accept_fixed_point(field, &x, p) {
        Ok(()) => {
            // Deflation removes isolated (regular) roots only: on a family of
            // fixed points every neighbour is a root too, and the family
            // merge of `find_fixed_points_report` handles those.
            if n > 0 && ws.factor(field, &x, p).is_ok() && ws.is_regular(ISOLATED_RCOND) {
                roots.deflated.push(x.clone());
            }
            roots.points.push((x, r));
        }
        Err(reason) => roots.skipped.push(SkippedPoint { state: x, reason }),
    }
}

/// [`find_fixed_points`] with the candidates it rejected and the budget
/// state. One start or point that fails (non-finite values, a singular
/// classification) is skipped and listed, never fatal.
pub fn find_fixed_points_report(field: &dyn VectorField, p: &[f64], opts: &FixedPointOptions) -> Result<FixedPointSearch> {
    let bounds = validate(field, p, opts)?;
    let n = field.dim();
    let stab = StabilityOptions::default();
    let started = std::time::Instant::now();

    // Only the default number of starts is cut: a number given by name is honoured.
    let default_starts = !opts.starts_explicit && opts.starts == FixedPointOptions::default().starts;
    let n_random = if default_starts && sparse_pattern(field).is_some() {
        opts.starts.min((LARGE_START_BUDGET / n.max(1)).max(2))
    } else {
        opts.starts
    };
    let starts_note = (n_random < opts.starts).then(|| {
        format!(
            "large sparse system (n = {n}): {n_random} of the {} random starts were run (the default bound of the \
             search is {LARGE_START_BUDGET} / n starts); pass `--starts N` to run N starts",
            opts.starts
        )
    });
    let mut starts: Vec<Vec<f64>> = Vec::with_capacity(n_random + 2);
    starts.push(field.initial_state());
    starts.push(vec![0.0; n]);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    for k in 0..n_random {
        // Centre + half-width * u, u in [-1, 1] (no overflow for huge boxes);
        // every other start is scale-aware: |u| log-uniform in [1e-4, 1], so
        // equilibria at small scales inside a large box are sampled too.
        let log_scale = k % 2 == 1;
        starts.push(
            bounds
                .iter()
                .map(|&(lo, hi)| {
                    let (c, half) = (0.5 * lo + 0.5 * hi, 0.5 * hi - 0.5 * lo);
                    let u: f64 = rng.random_range(-1.0..1.0);
                    let u = if log_scale { u.signum() * 10f64.powf(-4.0 * u.abs()) } else { u };
                    c + half * u
                })
                .collect(),
        );
    }
    let in_box = |x: &[f64]| {
        x.iter().zip(&bounds).all(|(v, &(lo, hi))| {
            let (c, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
            (v - c).abs() <= 10.0 * half
        })
    };

    let newton = NewtonOptions { tol: opts.tol, ..NewtonOptions::default() };
    let not_run = std::sync::atomic::AtomicUsize::new(0);
    let mut found_roots = Roots { points: Vec::new(), skipped: Vec::new(), deflated: Vec::new() };
    let mut settle_ws = SvdWorkspace::for_field(field);
    for batch in starts.chunks(BATCH) {
        let known = Deflation { roots: &found_roots.deflated };
        // rayon's indexed collect keeps start order, so the result does not
        // depend on scheduling.
        let found: Vec<[Option<(Vec<f64>, f64)>; 2]> = batch
            .par_iter()
            .map(|x0| {
                if crate::limits::out_of_time(started, opts.max_seconds) {
                    not_run.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return [None, None];
                }
                let mut ws = SvdWorkspace::for_field(field);
                let mut f = vec![0.0; n];
                field.rhs(x0, p, &mut f);
                let deadline = opts.max_seconds.is_finite().then(|| started + std::time::Duration::from_secs_f64(opts.max_seconds.min(1e9)));
                let guess = if norm(&f) <= opts.tol { x0.clone() } else { minimise(field, p, x0, deadline) };
                let plain = match newton_with_workspace(field, &guess, p, &newton, &mut ws) {
                    Ok(out) => (out.converged && in_box(&out.x)).then_some((out.x, out.residual_norm)),
                    Err(_) => None, // non-finite Jacobian on the way: not a fixed point
                };
                // Search again, deflated, when this start only led back to a known root (or nowhere).
                let again = !known.roots.is_empty()
                    && plain.as_ref().is_none_or(|(x, _)| known.roots.iter().any(|r| dist(x, r) <= opts.dedup_tol * norm(r).max(1.0)));
                let other = if again {
                    known.search(field, p, x0, &newton, &mut ws).filter(|(x, _)| in_box(x))
                } else {
                    None
                };
                [plain, other]
            })
            .collect();
        for (x, r) in found.into_iter().flatten().flatten() {
            admit(field, p, opts, x, r, &mut found_roots, &mut settle_ws);
        }
    }
    // Deflation sweep from the model's initial state and the origin (the
    // first two starts): each pass deflates every root known so far, until a
    // pass finds nothing new (Farrell et al.: distinct roots from one guess).
    for _ in 0..MAX_SWEEPS {
        // Without a regular root there is nothing to deflate: the sweep would
        // only repeat the ordinary search from the first start.
        if found_roots.deflated.is_empty()
            || crate::limits::out_of_time(started, opts.max_seconds)
        {
            break;
        }
        let before = found_roots.points.len();
        let seeds = if starts[0] == starts[1] { &starts[..1] } else { &starts[..2] };
        for x0 in seeds {
            let known = Deflation { roots: &found_roots.deflated };
            let mut ws = SvdWorkspace::for_field(field);
            if let Some((x, r)) = known.search(field, p, x0, &newton, &mut ws).filter(|(x, _)| in_box(x)) {
                admit(field, p, opts, x, r, &mut found_roots, &mut settle_ws);
            }
        }
        if found_roots.points.len() == before {
            break;
        }
    }
    let Roots { points, mut skipped, .. } = found_roots;
    // A point whose classification fails (e.g. non-finite eigenvalues) is
    // skipped and reported, not fatal.
    let classified: Vec<std::result::Result<StabilityReport, String>> =
        points.par_iter().map(|(x, _)| classify(field, x, p, &stab).map_err(|e| e.to_string())).collect();
    let mut reports: Vec<StabilityReport> = Vec::with_capacity(points.len());
    let mut good: Vec<(Vec<f64>, f64)> = Vec::with_capacity(points.len());
    for (pt, rep) in points.into_iter().zip(classified) {
        match rep {
            Ok(r) => {
                reports.push(r);
                good.push(pt);
            }
            Err(reason) => skipped.push(SkippedPoint { state: pt.0, reason: format!("classification failed: {reason}") }),
        }
    }
    let points = good;

    let mut kept: Vec<usize> = Vec::new();
    let mut ws = SvdWorkspace::for_field(field);
    for (i, (x, _)) in points.iter().enumerate() {
        let mut merged = false;
        for &k in &kept {
            let rep = &reports[k];
            if rep.family_dimension == 0
                || rep.unexplained_zero_modes > 0
                || reports[i].family_dimension != rep.family_dimension
                || !same_spectrum(rep, &reports[i])
            {
                continue;
            }
            if connected_in_family(field, p, &points[k].0, x, rep.family_dimension, &stab, opts, &mut ws).unwrap_or(false) {
                merged = true;
                break;
            }
        }
        if !merged {
            kept.push(i);
        }
    }

    let mut out: Vec<FixedPoint> = kept
        .into_iter()
        .map(|i| {
            let (state, residual) = points[i].clone();
            let mut observables = vec![0.0; field.observable_names().len()];
            field.observables(&state, p, &mut observables);
            FixedPoint { state, residual, report: reports[i].clone(), observables }
        })
        .collect();
    out.sort_by(|a, b| {
        a.state.iter().zip(&b.state).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    });
    let starts_not_run = not_run.into_inner();
    Ok(FixedPointSearch {
        points: out,
        skipped,
        stopped: (starts_not_run > 0).then(|| "budget".to_string()),
        starts_not_run,
        starts_note,
    })
}

fn same_spectrum(a: &StabilityReport, b: &StabilityReport) -> bool {
    let scale = a.eigenvalues.iter().map(|l| l.re.hypot(l.im)).fold(1.0_f64, f64::max);
    a.eigenvalues.len() == b.eigenvalues.len()
        && a.eigenvalues.iter().zip(&b.eigenvalues).all(|(x, y)| (x.re - y.re).hypot(x.im - y.im) <= 1e-6 * scale)
}

/// Walk along the family through `a` towards `b` (see [`find_fixed_points`]).
#[allow(clippy::too_many_arguments)]
fn connected_in_family(
    field: &dyn VectorField,
    p: &[f64],
    a: &[f64],
    b: &[f64],
    family_dimension: usize,
    stab: &StabilityOptions,
    opts: &FixedPointOptions,
    ws: &mut SvdWorkspace,
) -> Result<bool> {
    const MAX_STEPS: usize = 400;
    const MAX_STALLS: usize = 4;
    let n = a.len();
    let arrive = opts.dedup_tol * norm(b).max(1.0);
    let newton = NewtonOptions { tol: opts.tol, ..NewtonOptions::default() };
    let mut h_max = 0.25 * norm(a).max(1.0);
    let mut c = a.to_vec();
    let mut best = dist(&c, b);
    let mut stalls = 0;
    let mut d = vec![0.0; n];
    let mut t = vec![0.0; n];
    let mut trial = vec![0.0; n];
    for _ in 0..MAX_STEPS {
        if best <= arrive {
            return Ok(true);
        }
        ws.factor(field, &c, p)?;
        let (right, _) = kernels(ws, stab.zero_tol);
        if right.len() != family_dimension {
            return Ok(false);
        }
        for i in 0..n {
            d[i] = b[i] - c[i];
        }
        // Tangential part of the direction to b; at a point of the family
        // where it vanishes (b "behind" c on a closed curve) any tangent
        // direction decreases the distance, so take the first kernel vector.
        t.fill(0.0);
        for v in &right {
            let coef: f64 = v.iter().zip(&d).map(|(x, y)| x * y).sum();
            for (ti, vi) in t.iter_mut().zip(v) {
                *ti += coef * vi;
            }
        }
        let t_norm = norm(&t);
        if t_norm <= 1e-3 * best {
            t.copy_from_slice(&right[0]);
        } else {
            t.iter_mut().for_each(|ti| *ti /= t_norm);
        }
        let step = h_max.min(best);
        for i in 0..n {
            trial[i] = c[i] + step * t[i];
        }
        let out = newton_with_workspace(field, &trial, p, &newton, ws)?;
        if !out.converged {
            return Ok(false);
        }
        let now = dist(&out.x, b);
        if now < best * (1.0 - 1e-9) {
            best = now;
            stalls = 0;
            c = out.x;
        } else {
            stalls += 1;
            h_max *= 0.5;
            if stalls > MAX_STALLS {
                return Ok(false);
            }
        }
    }
    Ok(best <= arrive)
}

/// JSON summary of fixed points:
/// `{"fixed_points": [{"state": {name: value}, "residual", "eigenvalues":
/// [{"re", "im"}], "stability", "zero_modes", "unexplained_zero_modes",
/// "family_dimension", "attributed": [{"name", "kind"}], "observables":
/// {name: value}}]}`.
pub fn fixed_points_json(field: &dyn VectorField, points: &[FixedPoint]) -> Value {
    let names = field.state_names();
    let obs_names = field.observable_names();
    let list: Vec<Value> = points
        .iter()
        .map(|fp| {
            let state: Map<String, Value> = names.iter().cloned().zip(fp.state.iter().map(|v| json!(v))).collect();
            let observables: Map<String, Value> =
                obs_names.iter().cloned().zip(fp.observables.iter().map(|v| json!(v))).collect();
            let mut entry = json!({
                "state": state,
                "residual": fp.residual,
                "eigenvalues": fp.report.eigenvalues,
                "stability": fp.report.stability,
                "zero_modes": fp.report.zero_modes,
                "unexplained_zero_modes": fp.report.unexplained_zero_modes,
                "family_dimension": fp.report.family_dimension,
                "attributed": fp.report.attributed,
                "observables": observables,
            });
            if let (Some(note), Some(obj)) = (&fp.report.spectrum_note, entry.as_object_mut()) {
                obj.insert("spectrum_note".into(), json!(note));
            }
            entry
        })
        .collect();
    json!({ "fixed_points": list })
}

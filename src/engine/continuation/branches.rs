//! Pseudo-arclength continuation of equilibria in one parameter
//! ([`continue_equilibria`]), on the generic core of
//! [`arclength`](super::arclength), with the test functions of
//! [`test_functions`](super::test_functions) monitored at every point.
//!
//! A branch of equilibria is a curve `u(s) = (x(s), p(s))` in `R^{n+1}` on
//! which `H(u) = F(x, p) = 0`, parametrised by arclength `s` (Keller 1977).
//! Lengths are Euclidean in `(x, p)` without weights; the step bounds `ds`,
//! `ds_min`, `ds_max` are relative to `max(1, ||(x, p)||)`
//! ([`StepControl::relative_to`]), so large states do not exhaust
//! `max_steps`.
//!
//! The Jacobian `[J | F_p]` is exact (from [`VectorField`]); the stepping
//! loop does not allocate except for the eigenvalue computation at each
//! accepted point (faer's eigensolver allocates internally).
//!
//! Large sparse fields ([`sparse_pattern`]) are solved with the sparse
//! bordered LU of the arclength core, and their spectra (stability and the
//! Hopf test function) come from the diagonal blocks of the Jacobian's block
//! triangular form ([`block_eigenvalues`]); when a block exceeds
//! [`MAX_DENSE_BLOCK`] states the stability is not computed, folds and
//! branch points are still detected, Hopf points are not, and the result
//! says so ([`ContinuationResult::spectrum_note`]).
use faer::{c64, Mat, MatMut};

use crate::engine::continuation::arclength::{arclength_step, ArclengthSolver, Bound, ImplicitCurve, StepControl};
use crate::engine::continuation::params::ContinuationParams;
use crate::engine::continuation::results::{Branch, BranchPoint, ContinuationResult, StopReason};
use crate::engine::continuation::test_functions::{
    bialternate_product, hopf_frequency, locate_on_arc, neutral_saddle, stability, Bifurcation, BifurcationKind, TestFunctions,
};
use crate::engine::equilibria::lyapunov::first_lyapunov_coefficient;
use crate::engine::equilibria::stability::{spectrum_not_computed, MAX_DENSE_BLOCK};
use crate::engine::linalg::block_spectrum::{block_eigenvalues, BlockSpectrum};
use crate::engine::linalg::signed_log::SignedLog;
use crate::engine::linalg::sparse_jacobian::{sparse_pattern, SparseJacobian};
use crate::engine::linalg::spectrum::sorted_eigenvalues;
use crate::engine::linalg::vector::dot;
use crate::engine::VectorField;
use crate::error::{Error, Result};

/// `H(x, p_k) = F(x; p)` with the other parameters frozen.
struct EquilibriumCurve<'a> {
    field: &'a dyn VectorField,
    n: usize,
    k: usize,
    p: Vec<f64>,
    fp: Vec<f64>,
    /// The pattern of `J` when the field is solved sparse.
    j_pattern: Option<Vec<(usize, usize)>>,
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
    /// `[J | F_p]`: the pattern of `J`, then the column `F_p` (taken as full).
    fn sparse_pattern(&self) -> Option<Vec<(usize, usize)>> {
        let j = self.j_pattern.as_ref()?;
        Some(j.iter().copied().chain((0..self.n).map(|i| (i, self.n))).collect())
    }
    fn sparse_jacobian(&mut self, u: &[f64], pattern: &[(usize, usize)], out: &mut [f64]) {
        let n = self.n;
        self.p[self.k] = u[n];
        let nj = pattern.len() - n;
        self.field.jacobian_entries(&u[..n], &self.p, &pattern[..nj], &mut out[..nj]);
        self.field.param_derivative(&u[..n], &self.p, self.k, &mut out[nj..]);
    }
}

/// Evaluates Jacobian spectra and test functions at branch points.
struct Probe<'a> {
    field: &'a dyn VectorField,
    n: usize,
    k: usize,
    p: Vec<f64>,
    jac: Mat<f64>,
    sparse: Option<SparseJacobian>,
    /// Set when a sparse spectrum was too large to compute (then the
    /// eigenvalue lists are empty).
    not_computed: Option<String>,
}

impl Probe<'_> {
    fn eigenvalues(&mut self, u: &[f64]) -> Result<Vec<c64>> {
        self.p[self.k] = u[self.n];
        if let Some(sp) = &mut self.sparse {
            if !sp.evaluate(self.field, &u[..self.n], &self.p) {
                return Err(Error::numerical("eigenvalue decomposition", "matrix has non-finite entries"));
            }
            return match block_eigenvalues(self.n, sp.pattern(), sp.entries(), MAX_DENSE_BLOCK)? {
                BlockSpectrum::Full(ev) => Ok(ev),
                BlockSpectrum::TooLarge { largest, limit } => {
                    self.not_computed = Some(spectrum_not_computed(self.n, largest, limit));
                    Ok(Vec::new())
                }
            };
        }
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
/// parameter `~1e-10`; see [`crate::engine::continuation::test_functions`]). Hopf points
/// carry their first Lyapunov coefficient; zeros of the Hopf test function
/// at a real pair `+-a` are reported as neutral saddles. With `cp.branch_switching` the second branch through
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
    let j_pattern = sparse_pattern(field);
    let sparse = j_pattern.is_some();
    let mut curve = EquilibriumCurve { field, n, k, p: p0.to_vec(), fp: vec![0.0; n], j_pattern };
    let probe = Probe {
        field,
        n,
        k,
        p: p0.to_vec(),
        jac: if sparse { Mat::zeros(0, 0) } else { Mat::zeros(n, n) },
        sparse: if sparse { SparseJacobian::for_field(field) } else { None },
        not_computed: None,
    };
    let mut solver = ArclengthSolver::for_curve(&curve, cp.arclength.newton_tol, cp.arclength.newton_max_iter);

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
    let spectrum_note = tracer.probe.not_computed.take().map(|why| {
        format!("{why}; the points' stability is unknown (null) and Hopf points are not detected on this branch")
    });
    Ok(ContinuationResult { branches, bifurcations, spectrum_note })
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
        let ds = self.cp.arclength.ds;
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
        let base = StepControl { ds_min: cp.arclength.ds_min, ds_max: cp.arclength.ds_max };
        // Steps relative to the solution's magnitude (see StepControl::relative_to).
        let mut ds = cp.arclength.ds * base.relative_to(&u).ds_max / cp.arclength.ds_max;
        let bounds = [Bound { index: n, lo: cp.p_min, hi: cp.p_max }];
        let mut stop = StopReason::MaxSteps;

        let started = self.started;
        for _ in 0..cp.arclength.max_steps {
            if crate::limits::out_of_time(started, cp.max_seconds) {
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
                        BifurcationKind::Hopf | BifurcationKind::NeutralSaddle => (tests.hopf.sign, tests_new.hopf.sign),
                    };
                    let Some(proper) = crossed(f0, f1) else { continue };
                    let located = if proper {
                        let (r0, r1) = match kind {
                            BifurcationKind::Fold => (tests.fold, tests_new.fold),
                            BifurcationKind::Branch => (1.0 * tests.branch.sign, tests_new.branch.relative_to(&tests.branch)),
                            BifurcationKind::Hopf | BifurcationKind::NeutralSaddle => (1.0 * tests.hopf.sign, tests_new.hopf.relative_to(&tests.hopf)),
                        };
                        let (reference_b, reference_h) = (tests.branch, tests.hopf);
                        let t_ref = t.clone();
                        locate_on_arc(solver, curve, &u, &t, sigma1, r0, r1, xtol, |s, c, x| {
                            let det = s.tangent(c, x, &t_ref, &mut t_loc)?;
                            Some(match kind {
                                BifurcationKind::Fold => t_loc[n],
                                BifurcationKind::Branch => det.relative_to(&reference_b),
                                BifurcationKind::Hopf | BifurcationKind::NeutralSaddle => {
                                    probe.eigenvalues(x).ok().map(|ev| bialternate_product(&ev).relative_to(&reference_h))?
                                }
                            })
                        })
                    } else {
                        Some(u_new.clone())
                    };
                    let Some(x) = located else { continue };
                    let ev = probe.eigenvalues(&x)?;
                    let (mut kind, mut frequency, mut lyapunov) = (kind, None, None);
                    if kind == BifurcationKind::Hopf {
                        match (hopf_frequency(&ev), neutral_saddle(&ev)) {
                            (Some(w), _) => {
                                frequency = Some(w);
                                probe.p[probe.k] = x[n];
                                lyapunov = first_lyapunov_coefficient(probe.field, &x[..n], &probe.p, w).ok().map(|nf| nf.l1);
                            }
                            (None, Some(_)) => kind = BifurcationKind::NeutralSaddle,
                            (None, None) => continue, // double zero eigenvalue
                        }
                    }
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
                        lyapunov,
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

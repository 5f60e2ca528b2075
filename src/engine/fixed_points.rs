//! Multi-start search for the fixed points `F(x; p) = 0` of a vector field,
//! with de-duplication of points and of continuous families of points.
//!
//! Each start minimises `phi(x) = ||F(x; p)||^2 / 2` (exact gradient
//! `J^T F`) with argmin's L-BFGS and a More-Thuente line search, which pulls
//! far-away starts into a basin of a zero; the result is then polished with
//! the singular-Jacobian-safe Newton iteration of [`newton`](super::newton).
//! Starts whose Newton polish does not reach `||F|| <= tol` (local minima of
//! `phi` that are not zeros) are dropped.
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::engine::newton::{newton_with_workspace, NewtonOptions, SvdWorkspace};
use crate::engine::spectrum::jacobian_matrix;
use crate::engine::stability::{classify, kernels, StabilityOptions, StabilityReport};
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
    /// initial state.
    pub bounds: Vec<(f64, f64)>,
    /// A point is a fixed point when `||F(x; p)||_2 <= tol`.
    pub tol: f64,
    /// Points closer than `dedup_tol * max(1, ||x||)` are the same point.
    pub dedup_tol: f64,
}

impl Default for FixedPointOptions {
    fn default() -> Self {
        FixedPointOptions { starts: 32, seed: 0, bounds: Vec::new(), tol: 1e-10, dedup_tol: 1e-6 }
    }
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
struct ResidualNormSq<'a> {
    field: &'a dyn VectorField,
    p: &'a [f64],
}

impl CostFunction for ResidualNormSq<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
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
        let n = x.len();
        let mut f = vec![0.0; n];
        self.field.rhs(x, self.p, &mut f);
        let jac = jacobian_matrix(self.field, x, self.p);
        Ok((0..n).map(|j| (0..n).map(|i| jac[(i, j)] * f[i]).sum()).collect())
    }
}

/// L-BFGS on `phi` from `x0`; falls back to `x0` when argmin stops with an
/// error (e.g. a line search that cannot progress from an exact zero).
fn minimise(field: &dyn VectorField, p: &[f64], x0: &[f64]) -> Vec<f64> {
    const MAX_ITERS: u64 = 200;
    let problem = ResidualNormSq { field, p };
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

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
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
    let bounds = validate(field, p, opts)?;
    let n = field.dim();
    let stab = StabilityOptions::default();

    let mut starts: Vec<Vec<f64>> = Vec::with_capacity(opts.starts + 2);
    starts.push(field.initial_state());
    starts.push(vec![0.0; n]);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    for _ in 0..opts.starts {
        starts.push(bounds.iter().map(|&(lo, hi)| rng.random_range(lo..hi)).collect());
    }
    let in_box = |x: &[f64]| {
        x.iter().zip(&bounds).all(|(v, &(lo, hi))| {
            let (c, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
            (v - c).abs() <= 10.0 * half
        })
    };

    let newton = NewtonOptions { tol: opts.tol, ..NewtonOptions::default() };
    // rayon's indexed collect keeps start order, so the result does not depend
    // on scheduling.
    let polished: Vec<Option<(Vec<f64>, f64)>> = starts
        .par_iter()
        .map(|x0| -> Result<Option<(Vec<f64>, f64)>> {
            let mut f = vec![0.0; n];
            field.rhs(x0, p, &mut f);
            let guess = if norm(&f) <= opts.tol { x0.clone() } else { minimise(field, p, x0) };
            let mut ws = SvdWorkspace::new(n);
            let out = match newton_with_workspace(field, &guess, p, &newton, &mut ws) {
                Ok(out) => out,
                Err(_) => return Ok(None), // non-finite Jacobian on the way: not a fixed point
            };
            Ok((out.converged && in_box(&out.x)).then_some((out.x, out.residual_norm)))
        })
        .collect::<Result<_>>()?;

    let mut points: Vec<(Vec<f64>, f64)> = Vec::new();
    for (x, r) in polished.into_iter().flatten() {
        let scale = opts.dedup_tol * norm(&x).max(1.0);
        if !points.iter().any(|(y, _)| dist(&x, y) <= scale) {
            points.push((x, r));
        }
    }
    let reports: Vec<StabilityReport> =
        points.par_iter().map(|(x, _)| classify(field, x, p, &stab)).collect::<Result<_>>()?;

    let mut kept: Vec<usize> = Vec::new();
    let mut ws = SvdWorkspace::new(n);
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
            if connected_in_family(field, p, &points[k].0, x, rep.family_dimension, &stab, opts, &mut ws)? {
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
    Ok(out)
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
            json!({
                "state": state,
                "residual": fp.residual,
                "eigenvalues": fp.report.eigenvalues,
                "stability": fp.report.stability,
                "zero_modes": fp.report.zero_modes,
                "unexplained_zero_modes": fp.report.unexplained_zero_modes,
                "family_dimension": fp.report.family_dimension,
                "attributed": fp.report.attributed,
                "observables": observables,
            })
        })
        .collect();
    json!({ "fixed_points": list })
}

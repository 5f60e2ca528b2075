//! Curves of folds of cycles (LPC) in two parameters, by a minimally
//! augmented system on the collocation equations (Govaerts, *Numerical
//! Methods for Bifurcations of Dynamical Equilibria*, SIAM 2000, ch. 4;
//! Kuznetsov, Govaerts, Doedel, Dhooge, *SIAM J. Numer. Anal.* 43 (2005),
//! "Numerical periodic normalization for codim 1 bifurcations of limit
//! cycles", sec. 5; MatCont's `limitpointcycle`).
//!
//! Let `G(z) = 0`, `z = (U, T, p_1, p_2)`, be the collocation, periodicity
//! and phase equations of [`super::collocation`] with both parameters free,
//! and `A = G_(U, T)` its square Jacobian in the orbit and the period. On a
//! branch of cycles in `p_1` the tangent has a zero `p_1` component exactly
//! where `A` is singular: the fold. The test function `g(z)` is defined by
//! the bordered system
//!
//! ```text
//!   [ A    b ] [ v ]   [ 0 ]        [ A^T  c ] [ w ]   [ 0 ]
//!   [ c^T  0 ] [ g ] = [ 1 ],       [ b^T  0 ] [ g ] = [ 1 ],
//! ```
//!
//! nonsingular near the fold for bordering vectors `b`, `c` close to the
//! left and right null vectors of `A`; `g = 0` exactly at the fold. The LPC
//! curve solves `G(z) = 0, g(z) = 0` (one equation more than the cycles,
//! one unknown more), continued by pseudo-arclength in the same weighted
//! norm as branches of cycles. The gradient of `g` is `g_z = -w^T (A v)_z`;
//! `(A v)_z = G_zz[v, .]` is the derivative of the full Jacobian `G_z`
//! along `v` (extended by zero in `p`), taken by a central difference of
//! two Jacobian assemblies, so no second-derivative tensor is formed. Every
//! matrix is sparse: `A` bordered by one row and column, and `G_z` bordered
//! by the dense rows `g_z` and the arclength row, factored by faer's sparse
//! LU. After every accepted point `b` and `c` are replaced by the current
//! `w` and `v` (normalised), which keeps the bordered system well
//! conditioned, and the phase reference moves to the new orbit. The mesh is
//! the starting orbit's (no adaptation along the curve).
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Lu, SymbolicLu};
use faer::sparse::{SparseColMat, Triplet};
use faer::Mat;
use serde::{Deserialize, Serialize};

use super::branch::{continue_cycles_from_hopf, unknown_weights, wdot, CycleBifurcationKind, CycleContinuationParams};
use super::collocation::{inf_norm, CollocationSystem};
use super::orbit::PeriodicOrbit;
use super::start::OrbitOptions;
use crate::engine::continuation::params::ArclengthParams;
use crate::engine::{BoundaryCurve, Codim2Kind, Codim2Point, StopReason, VectorField};
use crate::error::{Error, Result};

/// Settings of the continuation of an LPC curve in `(p_1, p_2)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LpcCurveParams {
    /// Indices of `p_1` (the parameter the fold was found in) and `p_2`.
    pub params: [usize; 2],
    pub p1_min: f64,
    pub p1_max: f64,
    pub p2_min: f64,
    pub p2_max: f64,
    /// Steps in the weighted norm of cycles; Newton settings.
    #[serde(flatten)]
    pub arclength: ArclengthParams,
    /// Trace both ways from the start.
    #[serde(default = "crate::engine::continuation::params::default_true")]
    pub both_directions: bool,
    /// Discretisation of the cycles (used when the start is computed here,
    /// from a Hopf point near a Bautin point).
    #[serde(default)]
    pub orbit: OrbitOptions,
}

impl LpcCurveParams {
    /// Parameters `params` in the box `[p1_min, p1_max] x [p2_min, p2_max]`;
    /// steps `ds = 0.02`, `ds_min = 1e-7`, `ds_max = 0.1`, 300 steps per
    /// direction, Newton `1e-10` / 12 iterations, both directions.
    pub fn new(params: [usize; 2], p1: (f64, f64), p2: (f64, f64)) -> Self {
        LpcCurveParams {
            params,
            p1_min: p1.0,
            p1_max: p1.1,
            p2_min: p2.0,
            p2_max: p2.1,
            arclength: ArclengthParams { ds: 0.02, ds_min: 1e-7, ds_max: 0.1, max_steps: 300, newton_tol: 1e-10, newton_max_iter: 12 },
            both_directions: true,
            orbit: OrbitOptions::default(),
        }
    }

    pub fn validate(&self, n_params: usize) -> Result<()> {
        let a = &self.arclength;
        if self.params[0] >= n_params || self.params[1] >= n_params || self.params[0] == self.params[1] {
            return Err(Error::invalid("params", format!("{:?}", self.params), format!("two different indices in 0..{n_params}")));
        }
        if !(self.p1_min < self.p1_max && self.p2_min < self.p2_max && self.p1_min.is_finite() && self.p1_max.is_finite() && self.p2_min.is_finite() && self.p2_max.is_finite()) {
            return Err(Error::invalid("box", format!("[{}, {}] x [{}, {}]", self.p1_min, self.p1_max, self.p2_min, self.p2_max), "finite, min < max"));
        }
        if !(a.ds_min > 0.0 && a.ds_max >= a.ds_min && a.ds >= a.ds_min && a.ds <= a.ds_max && a.ds_max.is_finite()) {
            return Err(Error::invalid("ds/ds_min/ds_max", format!("{}/{}/{}", a.ds, a.ds_min, a.ds_max), "0 < ds_min <= ds <= ds_max"));
        }
        if !(a.newton_tol > 0.0 && a.newton_tol < 1.0) || a.newton_max_iter == 0 || a.max_steps == 0 {
            return Err(Error::invalid("newton_tol/newton_max_iter/max_steps", format!("{}/{}/{}", a.newton_tol, a.newton_max_iter, a.max_steps), "(0, 1) / >= 1 / >= 1"));
        }
        self.orbit.validate()
    }
}

/// One fold of cycles on the curve.
#[derive(Clone, Debug)]
pub struct LpcPoint {
    pub p1: f64,
    pub p2: f64,
    pub period: f64,
    /// Minimum and maximum of each state variable over the orbit.
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub orbit: PeriodicOrbit,
}

/// A curve of folds of cycles, ordered from the backward end through the
/// start to the forward end.
#[derive(Clone, Debug)]
pub struct LpcCurve {
    pub params: [usize; 2],
    pub points: Vec<LpcPoint>,
    pub stop_forward: StopReason,
    pub stop_backward: Option<StopReason>,
}

/// The minimally augmented system on one mesh.
struct LpcSystem<'a> {
    sys: CollocationSystem<'a>,
    /// Bordering vectors of `A` (length `n_a`, the `(U, T)` unknowns).
    b: Vec<f64>,
    c: Vec<f64>,
    sym_a: Option<SymbolicLu<usize>>,
    sym_full: Option<SymbolicLu<usize>>,
}

/// `x / |x|_2`.
fn normalised(x: &[f64]) -> Vec<f64> {
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    x.iter().map(|v| v / norm).collect()
}

fn factor(sym: &mut Option<SymbolicLu<usize>>, size: usize, trip: &[Triplet<usize, usize, f64>]) -> Option<Lu<usize, f64>> {
    if trip.iter().any(|t| !t.val.is_finite()) {
        return None;
    }
    let mat = SparseColMat::<usize, f64>::try_new_from_triplets(size, size, trip).ok()?;
    let s = match sym {
        Some(s) => s.clone(),
        None => {
            let s = SymbolicLu::try_new(mat.symbolic()).ok()?;
            *sym = Some(s.clone());
            s
        }
    };
    Lu::try_new_with_symbolic(s, mat.as_ref()).ok()
}

fn solve(lu: &Lu<usize, f64>, rhs: &[f64], transpose: bool) -> Vec<f64> {
    let mut m = Mat::<f64>::from_fn(rhs.len(), 1, |i, _| rhs[i]);
    if transpose {
        lu.solve_transpose_in_place(m.as_mut());
    } else {
        lu.solve_in_place(m.as_mut());
    }
    (0..rhs.len()).map(|i| m[(i, 0)]).collect()
}

impl<'a> LpcSystem<'a> {
    /// Number of `(U, T)` unknowns, equal to the number of equations of `G`.
    fn n_a(&self) -> usize {
        self.sys.t_index() + 1
    }
    fn n_z(&self) -> usize {
        self.n_a() + 2
    }

    /// `G(z)` and its Jacobian triplets (all columns).
    fn jacobian(&mut self, z: &[f64]) -> (Vec<f64>, Vec<Triplet<usize, usize, f64>>) {
        let mut res = vec![0.0; self.n_a()];
        let mut trip = Vec::new();
        self.sys.evaluate(z, None, &mut res, Some(&mut trip));
        (res, trip)
    }

    /// The bordered `A` from the full Jacobian triplets.
    fn bordered_a(&self, trip: &[Triplet<usize, usize, f64>]) -> Vec<Triplet<usize, usize, f64>> {
        let na = self.n_a();
        let mut t: Vec<_> = trip.iter().filter(|t| t.col < na).copied().collect();
        for i in 0..na {
            t.push(Triplet::new(i, na, self.b[i]));
            t.push(Triplet::new(na, i, self.c[i]));
        }
        t
    }

    /// `(g, v, w)` at the point with Jacobian triplets `trip`.
    fn test_function(&mut self, trip: &[Triplet<usize, usize, f64>]) -> Option<(f64, Vec<f64>, Vec<f64>)> {
        let na = self.n_a();
        let t = self.bordered_a(trip);
        let lu = factor(&mut self.sym_a, na + 1, &t)?;
        let mut e = vec![0.0; na + 1];
        e[na] = 1.0;
        let vg = solve(&lu, &e, false);
        let wg = solve(&lu, &e, true);
        let g = vg[na];
        (g.is_finite() && vg.iter().chain(&wg).all(|x| x.is_finite())).then(|| (g, vg[..na].to_vec(), wg[..na].to_vec()))
    }

    /// `g_z = -w^T G_zz[v, .]` by a central difference of `G_z` along `v`.
    fn gradient(&mut self, z: &[f64], v: &[f64], w: &[f64]) -> Vec<f64> {
        let h = 1e-6 * (1.0 + inf_norm(z)) / inf_norm(v).max(f64::MIN_POSITIVE);
        let zp: Vec<f64> = z.iter().enumerate().map(|(i, x)| x + if i < v.len() { h * v[i] } else { 0.0 }).collect();
        let zm: Vec<f64> = z.iter().enumerate().map(|(i, x)| x - if i < v.len() { h * v[i] } else { 0.0 }).collect();
        let (_, tp) = self.jacobian(&zp);
        let (_, tm) = self.jacobian(&zm);
        let mut grad = vec![0.0; self.n_z()];
        // Both assemblies emit the same structural entries in the same order.
        for (a, b) in tp.iter().zip(&tm) {
            grad[a.col] -= w[a.row] * (a.val - b.val) / (2.0 * h);
        }
        grad
    }

    /// The square Jacobian of `(G, g, <row, z> - gamma)` and the residual.
    fn extended(&mut self, z: &[f64], row: &[f64], gamma: f64) -> Option<(Vec<f64>, Lu<usize, f64>, Vec<f64>, Vec<f64>)> {
        let (mut res, mut trip) = self.jacobian(z);
        let (g, v, w) = self.test_function(&trip)?;
        let grad = self.gradient(z, &v, &w);
        let na = self.n_a();
        for (c, &val) in grad.iter().enumerate() {
            trip.push(Triplet::new(na, c, val));
        }
        for (c, &val) in row.iter().enumerate() {
            trip.push(Triplet::new(na + 1, c, val));
        }
        res.push(g);
        res.push(wdot_plain(row, z) - gamma);
        let nz = self.n_z();
        let lu = factor(&mut self.sym_full, nz, &trip)?;
        Some((res, lu, v, w))
    }

    /// Newton on `(G, g) = 0`, `<row, z> = gamma`; on success the bordering
    /// vectors move to the converged null vectors.
    fn correct(&mut self, z: &mut [f64], row: &[f64], gamma: f64, tol: f64, max_iter: usize) -> Option<usize> {
        let mut last_du = f64::INFINITY;
        for it in 0..=max_iter {
            let (res, lu, v, w) = self.extended(z, row, gamma)?;
            let rn = inf_norm(&res);
            if !rn.is_finite() {
                return None;
            }
            if rn <= tol || (last_du <= tol * (1.0 + inf_norm(z)) && rn <= 1e3 * tol) {
                self.b = normalised(&w);
                self.c = normalised(&v);
                return Some(it);
            }
            if it == max_iter {
                break;
            }
            let du = solve(&lu, &res, false);
            let dn = inf_norm(&du);
            if !dn.is_finite() || (it >= 2 && dn > 2.0 * last_du) {
                return None;
            }
            z.iter_mut().zip(&du).for_each(|(x, d)| *x -= d);
            last_du = dn;
            if !(z[self.sys.t_index()] > 0.0) {
                return None;
            }
        }
        None
    }

    /// Tangent at `z`: `[G_z; g_z; row] t = e_last`, unit in `<., .>_W`.
    fn tangent(&mut self, z: &[f64], row: &[f64], weights: &[f64]) -> Option<Vec<f64>> {
        let (_, lu, _, _) = self.extended(z, row, 0.0)?;
        let mut e = vec![0.0; self.n_z()];
        e[self.n_z() - 1] = 1.0;
        let t = solve(&lu, &e, false);
        let norm = wdot(weights, &t, &t).sqrt();
        (norm.is_finite() && norm > 0.0).then(|| t.iter().map(|x| x / norm).collect())
    }
}

fn wdot_plain(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Initial bordering vectors: two steps of inverse iteration with `A`
/// itself, which is nearly singular at a located fold.
fn null_vectors(sys: &mut LpcSystem<'_>, trip: &[Triplet<usize, usize, f64>]) -> Option<(Vec<f64>, Vec<f64>)> {
    let na = sys.n_a();
    let a: Vec<_> = trip.iter().filter(|t| t.col < na).copied().collect();
    let mut sym = None;
    let lu = factor(&mut sym, na, &a)?;
    let mut v: Vec<f64> = (0..na).map(|i| 1.0 + 1e-3 * (i % 7) as f64).collect();
    let mut w = v.clone();
    for _ in 0..2 {
        v = normalised(&solve(&lu, &v, false));
        w = normalised(&solve(&lu, &w, true));
    }
    (v.iter().chain(&w).all(|x| x.is_finite())).then_some((v, w))
}

fn lpc_point(sys: &CollocationSystem<'_>, z: &[f64], params: [usize; 2]) -> LpcPoint {
    let orbit = sys.unpack(z);
    let (min, max) = orbit.min_max();
    LpcPoint { p1: orbit.params[params[0]], p2: orbit.params[params[1]], period: orbit.period, min, max, orbit }
}

/// Continue the curve of folds of cycles through the fold cycle `lpc`
/// (e.g. a located [`CycleBifurcationKind::Lpc`] point of a branch in
/// `p_1`) in `(p_1, p_2) = lp.params`, within the box of `lp`.
pub fn continue_lpc_curve(field: &dyn VectorField, lpc: &PeriodicOrbit, lp: &LpcCurveParams) -> Result<LpcCurve> {
    lp.validate(field.param_names().len().max(lpc.params.len()))?;
    let [k1, k2] = lp.params;
    let fail = |what: &str| Error::numerical("LPC curve", what.to_string());
    let sys = CollocationSystem::new(field, lpc, Some(k1)).with_extra_params(vec![k2]);
    let mut ls = LpcSystem { sys, b: Vec::new(), c: Vec::new(), sym_a: None, sym_full: None };
    let weights = unknown_weights(&ls.sys);
    let mut z = ls.sys.pack(lpc);
    let (_, trip) = ls.jacobian(&z);
    let (v, w) = null_vectors(&mut ls, &trip).ok_or_else(|| fail("singular collocation Jacobian at the start"))?;
    ls.c = v;
    ls.b = w;
    // Correct at fixed p_2.
    let nz = ls.n_z();
    let mut e2 = vec![0.0; nz];
    e2[nz - 1] = 1.0;
    let a = &lp.arclength;
    let p2_start = z[nz - 1];
    ls.correct(&mut z, &e2, p2_start, a.newton_tol, a.newton_max_iter)
        .ok_or_else(|| fail("Newton did not converge on the starting fold (is it a fold of cycles?)"))?;
    ls.sys.set_reference(&z[..ls.sys.t_index()]);
    let t0 = ls.tangent(&z, &e2, &weights).ok_or_else(|| fail("singular extended system at the start"))?;
    let (b0, c0) = (ls.b.clone(), ls.c.clone());
    let (forward, stop_forward) = trace(&mut ls, &z, &t0, &weights, lp);
    let mut points = Vec::new();
    let mut stop_backward = None;
    if lp.both_directions {
        ls.b = b0;
        ls.c = c0;
        ls.sys.set_reference(&z[..ls.sys.t_index()]);
        let back_t: Vec<f64> = t0.iter().map(|x| -x).collect();
        let (backward, stop) = trace(&mut ls, &z, &back_t, &weights, lp);
        points.extend(backward.into_iter().rev());
        stop_backward = Some(stop);
    }
    points.push(lpc_point(&ls.sys, &z, lp.params));
    points.extend(forward);
    Ok(LpcCurve { params: lp.params, points, stop_forward, stop_backward })
}

/// Minimum cosine between consecutive tangents (as for branches of cycles).
const MIN_TANGENT_COS: f64 = 0.9;

/// Pseudo-arclength steps from `(z, t)` until the box, the step budget or
/// the minimum step stops them; the points after the start.
fn trace(ls: &mut LpcSystem<'_>, z0: &[f64], t0: &[f64], weights: &[f64], lp: &LpcCurveParams) -> (Vec<LpcPoint>, StopReason) {
    let a = &lp.arclength;
    let (mut z, mut t) = (z0.to_vec(), t0.to_vec());
    let mut ds = a.ds;
    let mut out = Vec::new();
    let nz = ls.n_z();
    for _ in 0..a.max_steps {
        let accepted = loop {
            let mut zn: Vec<f64> = z.iter().zip(&t).map(|(x, d)| x + ds * d).collect();
            let row: Vec<f64> = t.iter().zip(weights).map(|(x, w)| x * w).collect();
            let gamma = wdot_plain(&row, &zn);
            let (b, c) = (ls.b.clone(), ls.c.clone());
            if let Some(iters) = ls.correct(&mut zn, &row, gamma, a.newton_tol, a.newton_max_iter) {
                if let Some(tn) = ls.tangent(&zn, &row, weights) {
                    if wdot(weights, &t, &tn) >= MIN_TANGENT_COS || ds <= a.ds_min {
                        if iters <= 3 {
                            ds = (ds * 1.5).min(a.ds_max);
                        } else if iters > 6 {
                            ds = (ds * 0.7).max(a.ds_min);
                        }
                        break Some((zn, tn));
                    }
                }
            }
            ls.b = b;
            ls.c = c;
            if ds <= a.ds_min {
                break None;
            }
            ds = (ds * 0.5).max(a.ds_min);
        };
        let Some((zn, tn)) = accepted else {
            return (out, StopReason::StepTooSmall);
        };
        let (p1, p2) = (zn[nz - 2], zn[nz - 1]);
        if p1 < lp.p1_min || p1 > lp.p1_max || p2 < lp.p2_min || p2 > lp.p2_max {
            return (out, StopReason::ParameterBound);
        }
        z = zn;
        t = tn;
        ls.sys.set_reference(&z[..ls.sys.t_index()]);
        out.push(lpc_point(&ls.sys, &z, lp.params));
    }
    (out, StopReason::MaxSteps)
}

/// The LPC curve born at the Bautin point `bautin` of the Hopf curve
/// `hopf` (both in `(p_1, p_2) = lp.params`, from
/// [`continue_boundary`](crate::engine::continue_boundary)): from the Hopf
/// point of the curve nearest the Bautin point on its subcritical side
/// (`l1 > 0`, where the branch of cycles turns back), the cycles are
/// continued in `p_1` within `lp`'s box to their first fold, and the fold
/// is continued in `(p_1, p_2)`. `p_base` holds the other parameters.
pub fn continue_lpc_from_bautin(field: &dyn VectorField, hopf: &BoundaryCurve, bautin: &Codim2Point, p_base: &[f64], lp: &LpcCurveParams) -> Result<LpcCurve> {
    lp.validate(field.param_names().len().max(p_base.len()))?;
    if bautin.kind != Codim2Kind::Bautin {
        return Err(Error::invalid("bautin", bautin.kind.as_str(), "a Bautin point"));
    }
    if [hopf.param, hopf.param2] != lp.params {
        return Err(Error::invalid("params", format!("{:?}", lp.params), format!("the Hopf curve's parameters [{}, {}]", hopf.param, hopf.param2)));
    }
    let start = hopf
        .points
        .iter()
        .filter(|pt| pt.lyapunov.is_some_and(|l| l > 0.0) && pt.frequency.is_some())
        .filter(|pt| (pt.p1, pt.p2) != (bautin.p1, bautin.p2))
        .min_by(|a, b| {
            let d = |pt: &&crate::engine::BoundaryPoint| (pt.p1 - bautin.p1).hypot(pt.p2 - bautin.p2);
            d(a).total_cmp(&d(b))
        })
        .ok_or_else(|| Error::numerical("LPC curve from Bautin", "no subcritical Hopf point (l1 > 0) on the curve"))?;
    let mut p = p_base.to_vec();
    p[lp.params[0]] = start.p1;
    p[lp.params[1]] = start.p2;
    let mut cp = CycleContinuationParams::new(lp.params[0], lp.p1_min, lp.p1_max);
    cp.orbit = lp.orbit.clone();
    cp.arclength.ds = lp.arclength.ds.min(cp.arclength.ds_max);
    let branch = continue_cycles_from_hopf(field, &start.state, &p, start.frequency.expect("filtered"), &cp)?;
    let fold = branch
        .bifurcations
        .iter()
        .find(|b| b.kind == CycleBifurcationKind::Lpc && b.located)
        .ok_or_else(|| Error::numerical("LPC curve from Bautin", format!("no located fold on the branch of cycles from the Hopf point at ({}, {})", start.p1, start.p2)))?;
    continue_lpc_curve(field, &fold.point.orbit, lp)
}

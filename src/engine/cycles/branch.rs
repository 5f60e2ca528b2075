//! Pseudo-arclength continuation of periodic orbits in one parameter, with
//! Floquet multipliers at every point and location of the codimension-one
//! bifurcations of cycles (Kuznetsov, *Elements of Applied Bifurcation
//! Theory*, 3rd ed., ch. 5 and sec. 10.3):
//!
//! * **LPC** (fold of cycles): the parameter component of the tangent
//!   changes sign (a second multiplier passes `+1`);
//! * **PD** (period doubling, flip): a real multiplier passes `-1`, seen as
//!   a change of the parity of the number of real multipliers below `-1`,
//!   located on the test function `mu + 1`;
//! * **NS** (Neimark-Sacker, torus): a complex pair crosses the unit
//!   circle, seen as a change of the number of complex multipliers outside
//!   it, located on `|mu| - 1`.
//!
//! The unknowns `z = (U, T, p)` are the collocation node values, the period
//! and the parameter ([`super::collocation`]). Arclength is measured in
//! `<a, b>_W = sum_g w_g <a_g, b_g> + a_T b_T + a_p b_p` with the
//! trapezoidal node weights `w_g` (sum 1), i.e. the `L2(0, 1)` norm of the
//! orbit profile. A step is the usual predictor `z + ds t`, the Newton
//! corrector on `<t, z - z_pred>_W = 0` (a sparse bordered solve), and the
//! new tangent from `[G_z; (W t)^T] t' = e`. The phase reference is the last
//! accepted orbit; every `adapt_every` steps the mesh is re-equidistributed.
//!
//! Special points are located between two accepted points by the Illinois
//! variant of regula falsi on the projection `sigma = <t, z - z_k>_W`, with
//! a corrector at every trial point. A point counts as located
//! ([`CycleBifurcation::located`]) only when the search converged and the
//! multipliers there confirm it ([`confirm`]); otherwise it is still
//! reported, flagged, with the reason. Near a homoclinic orbit (periods of
//! tens of the local time scale on a mesh of 40 intervals) the computed
//! monodromy loses even its trivial multiplier `1`, and the parameter
//! component of the tangent shrinks to round-off (`|t_p| ~ 1e-12`), so both
//! change sign at random: such crossings are not special points.
use crate::engine::continuation::illinois::Illinois;
use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::collocation::{CollocationSystem, NewtonSettings};
use super::floquet::Multipliers;
use super::mesh::adapted_mesh;
use super::orbit::PeriodicOrbit;
use super::period_doubling::period_doubling_start;
use super::start::{hopf_start, OrbitOptions};
use crate::engine::continuation::params::ArclengthParams;
use crate::engine::StopReason;
use crate::engine::VectorField;
use crate::error::{Error, Result};

pub(crate) fn default_newton_tol() -> f64 {
    1e-10
}
pub(crate) fn default_newton_max_iter() -> usize {
    12
}

/// The step and corrector defaults of cycle continuation: `ds = 0.02`,
/// `ds_min = 1e-7`, `ds_max = 0.5` (in the `<., .>_W` norm), 200 steps,
/// Newton `1e-10` / 12 iterations.
pub fn cycle_arclength_defaults() -> ArclengthParams {
    ArclengthParams { ds: 0.02, ds_min: 1e-7, ds_max: 0.5, max_steps: 200, newton_tol: default_newton_tol(), newton_max_iter: default_newton_max_iter() }
}
fn default_adapt_every() -> usize {
    5
}
fn default_direction() -> f64 {
    1.0
}

/// Settings of the continuation of cycles.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CycleContinuationParams {
    /// Index of the continued parameter.
    pub param: usize,
    pub p_min: f64,
    pub p_max: f64,
    /// Steps in the `<., .>_W` norm (from a Hopf point the first cycle's
    /// amplitude is about `sqrt(2) ds`), the step budget, and the corrector's
    /// Newton settings: the shared struct with the cycle defaults
    /// [`cycle_arclength_defaults`] (flattened in serialised form, where a
    /// missing key takes the shared struct's own default).
    #[serde(flatten)]
    pub arclength: ArclengthParams,
    /// Wall-time budget in seconds (infinite: none).
    #[serde(default = "crate::engine::continuation::params::default_max_seconds")]
    pub max_seconds: f64,
    /// Re-equidistribute the mesh every this many accepted steps (0: never).
    #[serde(default = "default_adapt_every")]
    pub adapt_every: usize,
    /// Locate LPC, PD and NS points.
    #[serde(default = "crate::engine::continuation::params::default_true")]
    pub detect_bifurcations: bool,
    /// Starting from an orbit: +1 towards increasing parameter, -1 decreasing.
    #[serde(default = "default_direction")]
    pub direction: f64,
    /// Discretisation, and Newton settings of the solves at fixed
    /// parameters (the continuation's corrector uses `arclength`'s).
    #[serde(default)]
    pub orbit: OrbitOptions,
}

impl CycleContinuationParams {
    /// Parameter `param` on `[p_min, p_max]`, everything else at its default.
    pub fn new(param: usize, p_min: f64, p_max: f64) -> Self {
        CycleContinuationParams {
            param,
            p_min,
            p_max,
            arclength: cycle_arclength_defaults(),
            max_seconds: crate::engine::continuation::params::default_max_seconds(),
            adapt_every: default_adapt_every(),
            detect_bifurcations: true,
            direction: 1.0,
            orbit: OrbitOptions::default(),
        }
    }

    pub fn validate(&self, n_params: usize) -> Result<()> {
        if self.param >= n_params {
            return Err(Error::invalid("param", self.param, format!("0..{n_params} (parameter index)")));
        }
        if !(self.p_min.is_finite() && self.p_max.is_finite() && self.p_min < self.p_max) {
            return Err(Error::invalid("p_min/p_max", format!("[{}, {}]", self.p_min, self.p_max), "finite with p_min < p_max"));
        }
        let a = &self.arclength;
        if !(a.ds_min > 0.0 && a.ds_max >= a.ds_min && a.ds >= a.ds_min && a.ds <= a.ds_max && a.ds_max.is_finite()) {
            return Err(Error::invalid("ds/ds_min/ds_max", format!("{}/{}/{}", a.ds, a.ds_min, a.ds_max), "0 < ds_min <= ds <= ds_max"));
        }
        if a.max_steps == 0 {
            return Err(Error::invalid("max_steps", 0, ">= 1"));
        }
        if !(a.newton_tol > 0.0 && a.newton_tol < 1.0) {
            return Err(Error::invalid("newton_tol", a.newton_tol, "(0, 1)"));
        }
        if a.newton_max_iter == 0 {
            return Err(Error::invalid("newton_max_iter", 0, ">= 1"));
        }
        if !(self.max_seconds > 0.0) {
            return Err(Error::invalid("max_seconds", self.max_seconds, "> 0 (or infinite for no limit)"));
        }
        if !(self.direction == 1.0 || self.direction == -1.0) {
            return Err(Error::invalid("direction", self.direction, "+1 or -1"));
        }
        self.orbit.validate()
    }
}

/// One computed cycle of a branch.
#[derive(Clone, Debug)]
pub struct CyclePoint {
    pub param: f64,
    pub period: f64,
    /// Minimum and maximum of each state variable over the orbit.
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub multipliers: Multipliers,
    /// All non-trivial multipliers inside the unit circle.
    pub stable: bool,
    /// Non-trivial multipliers outside the unit circle.
    pub n_unstable: usize,
    pub orbit: PeriodicOrbit,
}

/// The codimension-one bifurcations of cycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CycleBifurcationKind {
    /// Fold (limit point) of cycles.
    Lpc,
    /// Period doubling (flip): a multiplier `-1`.
    Pd,
    /// Neimark-Sacker (torus): a pair `e^{+- i theta}`.
    Ns,
}

impl CycleBifurcationKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            CycleBifurcationKind::Lpc => "lpc",
            CycleBifurcationKind::Pd => "pd",
            CycleBifurcationKind::Ns => "ns",
        }
    }
}

/// A special point on a branch of cycles: a crossing of a test function
/// between two accepted points, and the cycle where it was located.
#[derive(Clone, Debug)]
pub struct CycleBifurcation {
    pub kind: CycleBifurcationKind,
    /// The located cycle (its parameter, period, min/max and multipliers).
    pub point: CyclePoint,
    /// It lies between `points[index]` and `points[index + 1]`.
    pub index: usize,
    /// The search converged and the multipliers at `point` confirm the
    /// kind ([`confirm`]). When false, `point` is the best trial (or the end
    /// of the step) and `note` says why it is not a located point.
    pub located: bool,
    pub note: Option<String>,
}

/// Largest distance of the trivial multiplier from `1` at which the
/// multipliers are trusted (the collocation error of the monodromy: observed
/// <= 1e-9 on the resolved cycles of the tests, 0.4 to 1 on a 40-interval
/// mesh near a homoclinic orbit).
pub const TRIVIAL_MULTIPLIER_TOL: f64 = 1e-3;

/// Largest `|mu - 1|` of the non-trivial multiplier nearest `+1` at a
/// confirmed fold of cycles: `1e-3`, or `sqrt` of the trivial multiplier's
/// error when larger (at a fold `1` is a double multiplier with a Jordan
/// block, so a perturbation `e` of the monodromy moves it by `~sqrt(e)`).
pub const FOLD_MULTIPLIER_TOL: f64 = 1e-3;

/// Whether the multipliers at a crossing of `kind` confirm it (`None`) or
/// why not (`Some(reason)`): they must be accurate (the trivial one within
/// [`TRIVIAL_MULTIPLIER_TOL`] of `1`), and at a fold of cycles a non-trivial
/// real multiplier must be `1` (within [`FOLD_MULTIPLIER_TOL`]); the PD and NS
/// test functions are the multipliers themselves and are checked by the
/// search.
pub fn confirm(kind: CycleBifurcationKind, point: &CyclePoint) -> Option<String> {
    let m = &point.multipliers;
    let e = m.trivial_error();
    if !(e <= TRIVIAL_MULTIPLIER_TOL) {
        return Some(format!(
            "the multipliers are inaccurate here: the trivial one is {e:.2e} from 1 (tolerance {TRIVIAL_MULTIPLIER_TOL:e}); \
             the period {:.6} may be too long for the mesh (near a homoclinic orbit): refine the mesh (ntst) to confirm",
            point.period
        ));
    }
    if kind == CycleBifurcationKind::Lpc {
        let tol = FOLD_MULTIPLIER_TOL.max(e.sqrt());
        match m.fold_test() {
            Some(f) if f.abs() <= tol => {}
            Some(f) => {
                return Some(format!(
                    "the tangent's parameter component changed sign, but no non-trivial multiplier is 1: mu - 1 = {f:.3e} for the \
                     real one nearest +1 (tolerance {tol:.1e}); not a fold of cycles"
                ))
            }
            None => return Some("the tangent's parameter component changed sign, but no non-trivial multiplier is real; not a fold of cycles".into()),
        }
    }
    None
}

/// A branch of cycles with its special points.
#[derive(Clone, Debug)]
pub struct CycleBranch {
    pub param_name: String,
    pub points: Vec<CyclePoint>,
    pub bifurcations: Vec<CycleBifurcation>,
    pub stop: StopReason,
    /// Hopf start only: the first Lyapunov coefficient of the Hopf point.
    pub hopf_l1: Option<f64>,
}

fn multipliers_json(m: &Multipliers) -> Value {
    Value::Array(m.all.iter().map(|z| json!([z.re, z.im])).collect())
}

fn named(names: &[String], v: &[f64]) -> Value {
    let mut m = Map::new();
    for (i, x) in v.iter().enumerate() {
        m.insert(names.get(i).cloned().unwrap_or_else(|| format!("x{i}")), json!(x));
    }
    Value::Object(m)
}

fn point_json(p: &CyclePoint, names: &[String]) -> Value {
    json!({
        "param": p.param,
        "period": p.period,
        "min": named(names, &p.min),
        "max": named(names, &p.max),
        "stable": p.stable,
        "n_unstable": p.n_unstable,
        "multipliers": multipliers_json(&p.multipliers),
    })
}

impl CycleBranch {
    /// JSON `{"param_name", "stop", "hopf_lyapunov"?, "points": [{"param", "period",
    /// "min": {name: value}, "max": {...}, "stable", "n_unstable", "multipliers": [[re, im]]}],
    /// "bifurcations": [{"kind", "index", "located", "located_note"?, ...point fields}]}`.
    pub fn to_json(&self, state_names: &[String]) -> Value {
        let points: Vec<Value> = self.points.iter().map(|p| point_json(p, state_names)).collect();
        let bifs: Vec<Value> = self
            .bifurcations
            .iter()
            .map(|b| {
                let mut v = point_json(&b.point, state_names);
                v["kind"] = json!(b.kind.as_str());
                v["index"] = json!(b.index);
                v["located"] = json!(b.located);
                if let Some(note) = &b.note {
                    v["located_note"] = json!(note);
                }
                v
            })
            .collect();
        let mut out = json!({ "param_name": self.param_name, "stop": self.stop.as_str(), "points": points, "bifurcations": bifs });
        if let Some(l1) = self.hopf_l1 {
            out["hopf_lyapunov"] = json!(l1);
        }
        out
    }

    /// CSV with header `kind,index,<param>,period,<min_x...>,<max_x...>,stable,n_unstable,max_abs_multiplier`;
    /// cycles have `kind = point`, each special point follows the point it comes after
    /// (`kind = lpc|pd|ns`, or `lpc-unconfirmed` etc. when not [`CycleBifurcation::located`]).
    pub fn write_csv(&self, w: &mut dyn Write, state_names: &[String]) -> std::io::Result<()> {
        write!(w, "kind,index,{},period", self.param_name)?;
        for s in state_names {
            write!(w, ",min_{s}")?;
        }
        for s in state_names {
            write!(w, ",max_{s}")?;
        }
        writeln!(w, ",stable,n_unstable,max_abs_nontrivial_multiplier")?;
        let row = |w: &mut dyn Write, kind: &str, i: usize, p: &CyclePoint| -> std::io::Result<()> {
            write!(w, "{kind},{i},{},{}", p.param, p.period)?;
            for v in p.min.iter().chain(&p.max) {
                write!(w, ",{v}")?;
            }
            let mx = p.multipliers.nontrivial().map(|m| m.norm()).fold(0.0, f64::max);
            writeln!(w, ",{},{},{mx}", p.stable, p.n_unstable)
        };
        for (i, p) in self.points.iter().enumerate() {
            row(w, "point", i, p)?;
            for b in self.bifurcations.iter().filter(|b| b.index == i) {
                let kind = if b.located { b.kind.as_str().to_string() } else { format!("{}-unconfirmed", b.kind.as_str()) };
                row(w, &kind, i, &b.point)?;
            }
        }
        Ok(())
    }
}

/// Weighted inner product `<a, b>_W` (node weights repeated per component, then 1, 1).
pub(crate) fn wdot(w: &[f64], a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).zip(w).map(|((x, y), c)| c * x * y).sum()
}

/// The per-unknown weights of `<., .>_W` for `sys`.
pub(crate) fn unknown_weights(sys: &CollocationSystem<'_>) -> Vec<f64> {
    let nw = super::orbit::node_weights(&sys.mesh, sys.scheme.ncol);
    let mut w: Vec<f64> = nw.iter().flat_map(|&c| std::iter::repeat_n(c, sys.n)).collect();
    w.resize(sys.n_unknowns(), 1.0);
    w
}

/// Continuation state.
struct Tracer<'a> {
    sys: CollocationSystem<'a>,
    w: Vec<f64>,
    cp: &'a CycleContinuationParams,
    k: usize,
}

impl<'a> Tracer<'a> {
    fn newton(&self) -> NewtonSettings {
        NewtonSettings { tol: self.cp.arclength.newton_tol, max_iter: self.cp.arclength.newton_max_iter }
    }
    fn p_index(&self) -> usize {
        self.sys.t_index() + 1
    }
    /// Corrector on `<dir, z>_W = gamma` from `z`.
    fn correct(&mut self, z: &mut [f64], dir: &[f64], gamma: f64) -> Option<usize> {
        let row: Vec<f64> = dir.iter().zip(&self.w).map(|(a, b)| a * b).collect();
        let s = self.newton();
        self.sys.newton(z, Some((&row, gamma)), s)
    }
    /// Unit tangent at `z` oriented along `prev`.
    fn tangent(&mut self, z: &[f64], prev: &[f64]) -> Option<Vec<f64>> {
        let row: Vec<f64> = prev.iter().zip(&self.w).map(|(a, b)| a * b).collect();
        let mut t = self.sys.tangent(z, &row)?;
        let norm = wdot(&self.w, &t, &t).sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return None;
        }
        t.iter_mut().for_each(|v| *v /= norm);
        Some(t)
    }
    fn point(&mut self, z: &[f64]) -> Result<CyclePoint> {
        let orbit = self.sys.unpack(z);
        let multipliers = Multipliers::from_transitions(&self.sys.transitions(z))?;
        let (min, max) = orbit.min_max();
        Ok(CyclePoint {
            param: orbit.params[self.k],
            period: orbit.period,
            min,
            max,
            stable: multipliers.stable(),
            n_unstable: multipliers.n_unstable(),
            multipliers,
            orbit,
        })
    }
    /// Move to a new mesh equidistributing the error of `z`; returns the
    /// corrected `z` and tangent on it (`None`: keep the old mesh).
    fn remesh(&mut self, z: &[f64], t: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
        let orbit = self.sys.unpack(z);
        let mesh = adapted_mesh(&orbit, orbit.ntst());
        let moved = orbit.remeshed(mesh.clone(), orbit.ncol);
        let mut tdir = self.sys.unpack(t);
        tdir.period = t[self.sys.t_index()];
        let tmoved = tdir.remeshed(mesh, orbit.ncol);
        let mut sys = CollocationSystem::new(self.sys.field, &moved, Some(self.k));
        std::mem::swap(&mut sys, &mut self.sys);
        self.w = unknown_weights(&self.sys);
        let mut z2 = self.sys.pack(&moved);
        let mut t2 = tmoved.nodes.clone();
        t2.push(t[t.len() - 2]);
        t2.push(t[t.len() - 1]);
        let gamma = wdot(&self.w, &t2, &z2);
        let ok = self.correct(&mut z2, &t2.clone(), gamma).is_some();
        let t_new = if ok { self.tangent(&z2, &t2) } else { None };
        match t_new {
            Some(tn) => {
                self.sys.set_reference(&z2[..self.sys.t_index()]);
                Some((z2, tn))
            }
            None => {
                std::mem::swap(&mut sys, &mut self.sys);
                self.w = unknown_weights(&self.sys);
                None
            }
        }
    }
}

/// Test-function values at a point (LPC: `t_p`; PD and NS: the crossing
/// counts and the continuous test functions).
#[derive(Clone, Copy)]
struct Tests {
    lpc: f64,
    pd_parity: usize,
    pd: Option<f64>,
    ns_count: usize,
    ns: Option<f64>,
}

fn tests_at(point: &CyclePoint, tp: f64) -> Tests {
    let m = &point.multipliers;
    Tests {
        lpc: tp,
        pd_parity: m.n_below_minus_one() % 2,
        pd: m.period_doubling_test(),
        ns_count: m.n_complex_outside(),
        ns: m.neimark_sacker_test(),
    }
}

/// Continue the branch of cycles through `start` (a converged orbit, e.g.
/// from [`solve_orbit`](super::start::solve_orbit)) in parameter `cp.param`,
/// starting towards `cp.direction`.
pub fn continue_cycles(field: &dyn VectorField, start: &PeriodicOrbit, cp: &CycleContinuationParams) -> Result<CycleBranch> {
    cp.validate(field.param_names().len().max(start.params.len()))?;
    let k = cp.param;
    let mut orbit = start.clone();
    if orbit.ncol != cp.orbit.ncol || orbit.ntst() != cp.orbit.ntst {
        orbit = orbit.remeshed(super::orbit::uniform_mesh(cp.orbit.ntst), cp.orbit.ncol);
    }
    let sys = CollocationSystem::new(field, &orbit, Some(k));
    let w = unknown_weights(&sys);
    let mut tr = Tracer { sys, w, cp, k };
    let mut z = tr.sys.pack(&orbit);
    let pi = tr.p_index();
    // Correct at fixed p, then the tangent oriented along +-p.
    let mut e = vec![0.0; z.len()];
    e[pi] = 1.0 / tr.w[pi];
    let p0 = z[pi];
    tr.correct(&mut z, &e, p0)
        .ok_or_else(|| Error::numerical("cycle continuation start", "Newton did not converge on the starting orbit"))?;
    tr.sys.set_reference(&z[..tr.sys.t_index()]);
    let e_dir: Vec<f64> = e.iter().map(|v| v * cp.direction).collect();
    let t = tr
        .tangent(&z, &e_dir)
        .ok_or_else(|| Error::numerical("cycle continuation start", "singular bordered system at the starting orbit"))?;
    run(tr, z, t, field, None)
}

/// Continue the branch of cycles born at the Hopf point `(x0, p)` with
/// frequency `omega` (from equilibrium continuation) in parameter
/// `cp.param`. The first cycle is found on the hyperplane at distance `cp.arclength.ds`
/// from the stationary orbit along the critical eigen-direction, from the
/// normal-form predictor ([`hopf_start`]); the branch then runs away from
/// the Hopf point, whichever side of it in `p` the cycles exist.
pub fn continue_cycles_from_hopf(field: &dyn VectorField, x0: &[f64], p: &[f64], omega: f64, cp: &CycleContinuationParams) -> Result<CycleBranch> {
    cp.validate(field.param_names().len().max(p.len()))?;
    let k = cp.param;
    let hs = hopf_start(field, x0, p, k, omega, &cp.orbit)?;
    let sys = CollocationSystem::new(field, &hs.stationary, Some(k));
    let w = unknown_weights(&sys);
    let mut tr = Tracer { sys, w, cp, k };
    let z0 = tr.sys.pack(&hs.stationary);
    let mut d = hs.direction.clone();
    d.push(0.0);
    d.push(0.0);
    let ds = cp.arclength.ds;
    let mut z: Vec<f64> = z0.iter().zip(&d).map(|(a, b)| a + ds * b).collect();
    let pi = tr.p_index();
    z[pi] += hs.param_curvature * ds * ds;
    tr.sys.set_reference(&z[..tr.sys.t_index()]);
    let gamma = wdot(&tr.w, &d, &z0) + ds;
    tr.correct(&mut z, &d, gamma)
        .ok_or_else(|| Error::numerical("cycle continuation from Hopf", "Newton did not converge on the first cycle (try a smaller ds)"))?;
    tr.sys.set_reference(&z[..tr.sys.t_index()]);
    let t = tr
        .tangent(&z, &d)
        .ok_or_else(|| Error::numerical("cycle continuation from Hopf", "singular bordered system at the first cycle"))?;
    run(tr, z, t, field, hs.l1)
}

/// Continue the period-2 branch born at the period-doubling cycle `pd`
/// (e.g. `bifurcation.point.orbit` of a located
/// [`CycleBifurcationKind::Pd`]) in parameter `cp.param`. The first cycle is
/// found on the hyperplane at distance `cp.arclength.ds` from `pd` traversed twice,
/// along the period-2 direction ([`period_doubling_start`]); the branch runs
/// away from the PD point on whichever side of it the doubled cycles exist.
/// The doubled orbit has twice the intervals of `pd` (`cp.orbit.ntst` is not
/// used); its period is about `2 T`.
pub fn continue_cycles_from_period_doubling(field: &dyn VectorField, pd: &PeriodicOrbit, cp: &CycleContinuationParams) -> Result<CycleBranch> {
    cp.validate(field.param_names().len().max(pd.params.len()))?;
    let k = cp.param;
    let start = period_doubling_start(field, pd)?;
    let sys = CollocationSystem::new(field, &start.orbit, Some(k));
    let w = unknown_weights(&sys);
    let mut tr = Tracer { sys, w, cp, k };
    let z0 = tr.sys.pack(&start.orbit);
    let mut d = start.direction.clone();
    d.push(0.0);
    d.push(0.0);
    let ds = cp.arclength.ds;
    let mut z: Vec<f64> = z0.iter().zip(&d).map(|(a, b)| a + ds * b).collect();
    tr.sys.set_reference(&z[..tr.sys.t_index()]);
    let gamma = wdot(&tr.w, &d, &z0) + ds;
    tr.correct(&mut z, &d, gamma)
        .ok_or_else(|| Error::numerical("cycle continuation from period doubling", "Newton did not converge on the first doubled cycle (try a smaller ds)"))?;
    tr.sys.set_reference(&z[..tr.sys.t_index()]);
    let t = tr
        .tangent(&z, &d)
        .ok_or_else(|| Error::numerical("cycle continuation from period doubling", "singular bordered system at the first doubled cycle"))?;
    run(tr, z, t, field, None)
}

/// Minimum cosine between consecutive tangents (as for equilibria).
const MIN_TANGENT_COS: f64 = 0.9;

fn run(mut tr: Tracer<'_>, mut z: Vec<f64>, mut t: Vec<f64>, field: &dyn VectorField, hopf_l1: Option<f64>) -> Result<CycleBranch> {
    let cp = tr.cp;
    let k = tr.k;
    let started = std::time::Instant::now();
    let param_name = field.param_names().get(k).cloned().unwrap_or_else(|| format!("p{k}"));
    let first = tr.point(&z)?;
    let mut tests = tests_at(&first, t[tr.p_index()]);
    let mut points = vec![first];
    let mut bifurcations: Vec<CycleBifurcation> = Vec::new();
    let mut ds = cp.arclength.ds;
    let mut stop = StopReason::MaxSteps;
    let mut since_adapt = 0;
    'steps: for _ in 0..cp.arclength.max_steps {
        if crate::limits::out_of_time(started, cp.max_seconds) {
            stop = StopReason::Budget;
            break;
        }
        if cp.adapt_every > 0 && since_adapt >= cp.adapt_every {
            since_adapt = 0;
            if let Some((z2, t2)) = tr.remesh(&z, &t) {
                z = z2;
                t = t2;
            }
        }
        let pi = tr.p_index();
        // Predictor-corrector with step halving.
        let (z_new, t_new, hit_bound) = loop {
            let mut zn: Vec<f64> = z.iter().zip(&t).map(|(a, b)| a + ds * b).collect();
            let gamma = wdot(&tr.w, &t, &zn);
            if let Some(iters) = tr.correct(&mut zn, &t, gamma) {
                let mut hit = false;
                let (lo, hi) = (cp.p_min, cp.p_max);
                let mut ok = true;
                if zn[pi] < lo || zn[pi] > hi {
                    let lim = if zn[pi] < lo { lo } else { hi };
                    let f = (lim - z[pi]) / (zn[pi] - z[pi]);
                    for i in 0..zn.len() {
                        zn[i] = z[i] + f * (zn[i] - z[i]);
                    }
                    let mut e = vec![0.0; zn.len()];
                    e[pi] = 1.0 / tr.w[pi];
                    ok = tr.correct(&mut zn, &e, lim).is_some();
                    hit = true;
                }
                if ok {
                    if let Some(tn) = tr.tangent(&zn, &t) {
                        if wdot(&tr.w, &t, &tn) >= MIN_TANGENT_COS || ds <= cp.arclength.ds_min {
                            if iters <= 3 {
                                ds = (ds * 1.5).min(cp.arclength.ds_max);
                            } else if iters > 6 {
                                ds = (ds * 0.7).max(cp.arclength.ds_min);
                            }
                            break (zn, tn, hit);
                        }
                    }
                }
            }
            if ds <= cp.arclength.ds_min {
                stop = StopReason::StepTooSmall;
                break 'steps;
            }
            ds = (ds * 0.5).max(cp.arclength.ds_min);
        };
        let pt = tr.point(&z_new)?;
        let tests_new = tests_at(&pt, t_new[pi]);
        if cp.detect_bifurcations {
            let index = points.len() - 1;
            let sigma1 = wdot(&tr.w, &t, &z_new) - wdot(&tr.w, &t, &z);
            let crossings = [
                (CycleBifurcationKind::Lpc, tests.lpc * tests_new.lpc < 0.0, Some(tests.lpc), Some(tests_new.lpc)),
                (CycleBifurcationKind::Pd, tests.pd_parity != tests_new.pd_parity, tests.pd, tests_new.pd),
                (CycleBifurcationKind::Ns, tests.ns_count != tests_new.ns_count, tests.ns, tests_new.ns),
            ];
            for (kind, crossed, f0, f1) in crossings {
                // A change of the counts alone is not a crossing of the unit
                // circle: two real multipliers below -1 (or inside it) that
                // merge into a complex pair change both the PD parity and
                // the count of complex multipliers outside the circle. A PD
                // (NS) point also needs its continuous test function to
                // change sign over the step.
                let (a, b) = match (f0, f1) {
                    (Some(a), Some(b)) if crossed && a * b < 0.0 => (a, b),
                    _ => continue,
                };
                let (at, search) = match locate(&mut tr, &z, &t, sigma1, a, b, kind) {
                    Some(found) if found.converged => (found.z, None),
                    Some(found) => {
                        let why = format!("the search did not converge: the test function is {:.3e} at the best trial (from {a:.3e} and {b:.3e} at the step's ends)", found.test);
                        (found.z, Some(why))
                    }
                    None => (z_new.clone(), Some("the corrector failed during the search; reported at the end of the step".to_string())),
                };
                let point = tr.point(&at)?;
                let note = search.or_else(|| confirm(kind, &point));
                bifurcations.push(CycleBifurcation { kind, point, index, located: note.is_none(), note });
            }
        }
        points.push(pt);
        tests = tests_new;
        z = z_new;
        t = t_new;
        tr.sys.set_reference(&z[..tr.sys.t_index()]);
        since_adapt += 1;
        if hit_bound {
            stop = StopReason::ParameterBound;
            break;
        }
    }
    Ok(CycleBranch { param_name, points, bifurcations, stop, hopf_l1 })
}

/// The outcome of a search: the trial with the smallest `|test|`, and
/// whether the search converged (the bracket shrank to `xtol`, or the test
/// function vanished, and `|test|` fell below `1e-3` of its values at the
/// step's ends: a bracket that shrinks onto a jump of the test function
/// keeps `|test|` large).
struct Found {
    z: Vec<f64>,
    test: f64,
    converged: bool,
}

/// Regula falsi (Illinois) on the arc between `z0` (sigma = 0, test `f0`)
/// and the next point (sigma1, `f1`), correcting on `<t0, z - z0>_W = sigma`
/// at each trial. `None` if the corrector fails at a trial.
fn locate(tr: &mut Tracer<'_>, z0: &[f64], t0: &[f64], sigma1: f64, f0: f64, f1: f64, kind: CycleBifurcationKind) -> Option<Found> {
    let base = wdot(&tr.w, t0, z0);
    let mut bracket = Illinois::new(0.0, f0, sigma1, f1);
    let mut best: Option<(f64, Vec<f64>)> = None;
    let xtol = 1e-9 * (1.0 + sigma1.abs());
    let mut done = false;
    for _ in 0..60 {
        let s = bracket.trial();
        let mut z: Vec<f64> = z0.iter().zip(t0).map(|(x, d)| x + s * d).collect();
        tr.correct(&mut z, t0, base + s)?;
        let f = match kind {
            CycleBifurcationKind::Lpc => {
                let pi = tr.p_index();
                tr.tangent(&z, t0)?[pi]
            }
            CycleBifurcationKind::Pd | CycleBifurcationKind::Ns => {
                let m = Multipliers::from_transitions(&tr.sys.transitions(&z)).ok()?;
                if kind == CycleBifurcationKind::Pd {
                    m.period_doubling_test()?
                } else {
                    m.neimark_sacker_test()?
                }
            }
        };
        if best.as_ref().is_none_or(|(bf, _)| f.abs() < *bf) {
            best = Some((f.abs(), z.clone()));
        }
        if bracket.update(s, f, xtol) {
            done = true;
            break;
        }
    }
    let scale = f0.abs().max(f1.abs());
    best.map(|(test, z)| Found { converged: done && test <= 1e-3 * scale, test, z })
}


//! Where the symmetric head's oscillation lives in `(f, lambda)`
//! (`docs/teacher.md` section 9.2): the Hopf curve of the drifting state of
//! the slice-reduced head ODE (`slice`), the weight decay below which the
//! drifting state runs off to infinity, and, where asked, how far the stable
//! cycle born at the Hopf point reaches.
//!
//! **Hopf curve.** The drifting state at the config's `(f, lambda_0)` is the
//! equilibrium of the reduced field reached by integration
//! ([`relative_equilibrium`]); continued down in `lambda` it loses stability
//! at one Hopf point `lambda_H`, which is then continued in `(lambda, f)`
//! by the engine's two-parameter Hopf system
//!
//! ```text
//! F(x; lambda, f) = 0,   J v = -omega w,   J w = omega v,   <v, v0> + <w, w0> = 1,   <v, w0> - <w, v0> = 0,
//! ```
//!
//! with the first Lyapunov coefficient `l1` at every point (supercritical
//! where `l1 < 0`: a stable cycle of amplitude `~ sqrt(lambda_H - lambda)`
//! exists just below the curve).
//!
//! **Runoff.** Below `lambda_H` the drifting state continues unstable until
//! its branch turns to infinity (`a^2 - c^2` grows without bound, the
//! continuation's step collapses at a finite `lambda_run`): below
//! `lambda_run(f)` there is no bounded drifting state.
//!
//! **Stable-cycle reach** (the expensive part, one collocation branch per
//! `f`): the cycle continued from the Hopf point down in `lambda` until it
//! loses stability, the mesh stops resolving it (trivial multiplier off by
//! more than [`TRIVIAL_TOL`]), or its branch stops; the lowest stable cycle
//! bounds the region from below only where a resolved cycle loses
//! stability, otherwise the region continues below it, unclassified.
use serde::Serialize;

use crate::engine::{
    continue_boundary, continue_cycles_from_hopf, continue_equilibria, BifurcationKind, BoundaryParams, ContinuationParams, CycleContinuationParams,
    VectorField,
};
use crate::error::{Error, Result};
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::head::reduced::order_params::HEAD_PARAM_NAMES;
use crate::models::teacher::head::reduced::slice::{reduced_model_text, relative_equilibrium};
use crate::symbolic::SymbolicModel;

fn param_index(name: &str) -> usize {
    HEAD_PARAM_NAMES.iter().position(|n| *n == name).expect("a head-ODE parameter")
}

/// One point of the Hopf curve.
#[derive(Clone, Debug, Serialize)]
pub struct HopfPoint {
    pub f: f64,
    pub weight_decay: f64,
    /// Angular frequency at the Hopf point (period at birth `2 pi / omega`).
    pub omega: f64,
    /// First Lyapunov coefficient (`None` where it could not be computed).
    pub l1: Option<f64>,
    /// The drifting state (reduced coordinates) at the point.
    #[serde(skip)]
    pub state: Vec<f64>,
}

/// Where the drifting-state branch ends below the Hopf point at one `f`.
#[derive(Clone, Debug, Serialize)]
pub struct Runoff {
    pub f: f64,
    /// The Hopf point the branch starts from.
    pub lambda_h: f64,
    /// Last weight decay the branch reached.
    pub weight_decay: f64,
    /// The branch turned to infinity there (its last state's largest
    /// entry exceeds [`RUNOFF_SCALE`]); false: it stopped otherwise
    /// (`stop`), and `weight_decay` is only the end of the computation.
    pub runs_off: bool,
    pub stop: String,
}

/// A drifting state whose largest entry exceeds this has run off: the
/// drifting state at `lambda = 0.02`, `f = 0.1` has entries below 10 and
/// `a^2 - c^2 = 19.4` (`docs/teacher.md` 9.1); at `lambda_run` the
/// continuation's last state is `> 10^4`.
pub const RUNOFF_SCALE: f64 = 1e3;

/// How far the stable cycle from the Hopf point at one `f` reaches.
#[derive(Clone, Debug, Serialize)]
pub struct CycleReach {
    pub f: f64,
    pub lambda_h: f64,
    /// Lowest weight decay of the branch's stable, resolved part (from the
    /// Hopf point down; [`TRIVIAL_TOL`]).
    pub lowest_stable: f64,
    /// The next cycle's weight decay where it is resolved and unstable.
    pub first_unstable: Option<f64>,
    /// Period at the Hopf end and at `lowest_stable`.
    pub period_range: [f64; 2],
    /// Cycles computed, and what ends the resolved stable part.
    pub cycles: usize,
    pub end: CycleEnd,
    /// Largest distance of the trivial Floquet multiplier from 1 on the
    /// resolved stable part (the discretisation error of the multipliers).
    pub trivial_error: f64,
}

/// A cycle's trivial Floquet multiplier farther than this from 1 means the
/// collocation mesh no longer resolves the orbit (its other multipliers,
/// hence its stability, are then not trusted): at `ntst = 10` it is
/// `< 1e-3` down to `lambda = 0.0195` at `f = 0.1` and grows to `0.16` at
/// `0.01939` (`docs/teacher.md` 9.2).
pub const TRIVIAL_TOL: f64 = 1e-3;

/// What ends the resolved stable part of a cycle branch.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum CycleEnd {
    /// The next cycle is resolved and unstable.
    LosesStability,
    /// The next cycle's trivial multiplier is off by more than [`TRIVIAL_TOL`].
    MeshUnresolved { weight_decay: f64, trivial_error: f64 },
    /// The branch stopped (step budget, bound, corrector failure).
    BranchStopped { stop: String },
}

/// The region's ingredients (module doc).
#[derive(Clone, Debug, Serialize)]
pub struct CycleRegion {
    /// The Hopf point found at the config's `f` by one-parameter continuation.
    pub start: HopfPoint,
    /// The Hopf curve in increasing `f`.
    pub hopf_curve: Vec<HopfPoint>,
    pub runoff: Vec<Runoff>,
    pub cycles: Vec<CycleReach>,
}

/// Settings of [`cycle_region`].
#[derive(Clone, Debug)]
pub struct RegionOptions {
    /// `f` range of the Hopf curve.
    pub f_range: [f64; 2],
    /// Largest arclength step of the Hopf curve (absolute, in `(x, lambda,
    /// f)`: the 29 coordinates are `O(1)`-`O(10)` and move by `~5` over `f`
    /// in `[0.05, 0.15]`, so `0.5` gives tens of points per direction).
    pub hopf_ds_max: f64,
    /// Step budget per direction of the Hopf curve.
    pub hopf_steps: usize,
    /// Label noises at which the runoff is computed (from the nearest
    /// Hopf-curve point).
    pub runoff_fs: Vec<f64>,
    /// Label noises at which the cycle branch is continued (empty: none).
    pub cycle_fs: Vec<f64>,
    /// Collocation mesh intervals and step budget of each cycle branch.
    pub cycle_ntst: usize,
    pub cycle_steps: usize,
    /// Largest step of the cycle branch (in the collocation norm).
    pub cycle_ds_max: f64,
}

impl Default for RegionOptions {
    fn default() -> Self {
        RegionOptions {
            f_range: [0.05, 0.15],
            hopf_ds_max: 0.5,
            hopf_steps: 80,
            runoff_fs: vec![0.05, 0.075, 0.1, 0.125, 0.15],
            cycle_fs: Vec::new(),
            cycle_ntst: 10,
            cycle_steps: 60,
            cycle_ds_max: 20.0,
        }
    }
}

/// The drifting-state branch continued down in `lambda` from `(x, p)`
/// until it stops (relative steps: the default `ds_max = 0.1` of
/// `|(x, lambda)|` lets the step grow with the state as it runs off).
fn drifting_branch(m: &SymbolicModel, x: &[f64], p: &[f64], detect: bool) -> Result<crate::engine::ContinuationResult> {
    let wd = param_index("weight_decay");
    let mut cp = ContinuationParams::new(wd, 0.25 * p[wd], p[wd]);
    cp.direction = -1.0;
    cp.arclength.ds = 1e-3;
    cp.detect_bifurcations = detect;
    cp.arclength.max_steps = 2000;
    continue_equilibria(m, x, p, &cp)
}

fn runoff_of(branch: &crate::engine::Branch, f: f64, lambda_h: f64) -> Runoff {
    let last = branch.points.last().expect("a branch has its start");
    let scale = last.state.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    Runoff { f, lambda_h, weight_decay: last.param, runs_off: scale > RUNOFF_SCALE, stop: branch.stop.as_str().to_string() }
}

/// The Hopf curve, runoff and stable-cycle reach (module doc) for a config
/// of the mixture teacher with the symmetric head, `d = K = 3`, whose
/// drifting state at the config's own `(f, lambda)` is stable (error
/// otherwise, or where no Hopf point lies below it).
pub fn cycle_region(cfg: &TeacherConfig, opts: &RegionOptions) -> Result<CycleRegion> {
    let (wd, fi) = (param_index("weight_decay"), param_index("f"));
    let m = SymbolicModel::from_toml_str(&reduced_model_text(cfg, None)?, "slice-reduced head ODE")?;
    let p = m.default_params();
    let z = relative_equilibrium(&m, &p)?;
    let res = drifting_branch(&m, &z, &p, true)?;
    let hopf = res
        .bifurcations
        .iter()
        .find(|b| b.kind == BifurcationKind::Hopf)
        .ok_or_else(|| Error::numerical("cycle region", format!("no Hopf point below weight_decay = {} at f = {}", p[wd], p[fi])))?;
    let omega = hopf.frequency.ok_or_else(|| Error::numerical("cycle region", "Hopf point without a frequency"))?;
    let start = HopfPoint { f: p[fi], weight_decay: hopf.param, omega, l1: hopf.lyapunov, state: hopf.state.clone() };
    let mut bp = BoundaryParams::new(wd, fi, opts.f_range[0], opts.f_range[1]);
    bp.arclength.ds = 0.05_f64.min(opts.hopf_ds_max);
    bp.arclength.ds_max = opts.hopf_ds_max;
    bp.arclength.max_steps = opts.hopf_steps;
    let curve = continue_boundary(&m, hopf, &p, &bp)?;
    let mut hopf_curve: Vec<HopfPoint> = curve
        .points
        .iter()
        .map(|pt| HopfPoint { f: pt.p2, weight_decay: pt.p1, omega: pt.frequency.unwrap_or(f64::NAN), l1: pt.lyapunov, state: pt.state.clone() })
        .collect();
    hopf_curve.sort_by(|a, b| a.f.total_cmp(&b.f));
    let nearest = |f: f64| hopf_curve.iter().min_by(|a, b| (a.f - f).abs().total_cmp(&(b.f - f).abs())).expect("the curve holds its start");
    let at = |h: &HopfPoint| {
        let mut q = p.clone();
        q[wd] = h.weight_decay;
        q[fi] = h.f;
        q
    };
    let mut runoff = Vec::new();
    for &f in &opts.runoff_fs {
        let h = nearest(f);
        let r = drifting_branch(&m, &h.state, &at(h), false)?;
        runoff.push(runoff_of(&r.branches[0], h.f, h.weight_decay));
    }
    let mut cycles = Vec::new();
    for &f in &opts.cycle_fs {
        let h = nearest(f);
        let mut cc = CycleContinuationParams::new(wd, 0.25 * h.weight_decay, h.weight_decay * 1.01);
        cc.arclength.ds = 0.3;
        cc.arclength.ds_max = opts.cycle_ds_max;
        cc.arclength.max_steps = opts.cycle_steps;
        cc.orbit.ntst = opts.cycle_ntst;
        let br = continue_cycles_from_hopf(&m, &h.state, &at(h), h.omega, &cc)?;
        // The stable part the mesh resolves; then what ends it.
        let resolved = |c: &crate::engine::CyclePoint| c.multipliers.trivial_error() < TRIVIAL_TOL;
        let stable: Vec<_> = br.points.iter().take_while(|c| c.stable && resolved(c)).collect();
        let (Some(first), Some(low)) = (stable.first(), stable.last()) else {
            return Err(Error::numerical("cycle region", format!("no resolved stable cycle next to the Hopf point at f = {}", h.f)));
        };
        let next = br.points.get(stable.len());
        let (first_unstable, end) = match next {
            Some(c) if resolved(c) => (Some(c.param), CycleEnd::LosesStability),
            Some(c) => (None, CycleEnd::MeshUnresolved { weight_decay: c.param, trivial_error: c.multipliers.trivial_error() }),
            None => (None, CycleEnd::BranchStopped { stop: br.stop.as_str().to_string() }),
        };
        cycles.push(CycleReach {
            f: h.f,
            lambda_h: h.weight_decay,
            lowest_stable: low.param,
            first_unstable,
            period_range: [first.period, low.period],
            cycles: br.points.len(),
            end,
            trivial_error: stable.iter().map(|c| c.multipliers.trivial_error()).fold(0.0, f64::max),
        });
    }
    Ok(CycleRegion { start, hopf_curve, runoff, cycles })
}

impl CycleRegion {
    /// The runoff points where the branch did run off, in increasing `f`.
    pub fn runoff_line(&self) -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = self.runoff.iter().filter(|r| r.runs_off).map(|r| (r.f, r.weight_decay)).collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    }
}

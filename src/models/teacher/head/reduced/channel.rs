//! Exact channel reduction of the Model T head ODE ([`HeadOde`]) for
//! permutation-symmetric states, with weight decay, its non-collapsed fixed
//! points in closed form and the weight-decay phase boundary `f_c`.
//!
//! **Reduction.** The statistics are class-permutation symmetric (`C = c0 I`,
//! `P = I/K`, `M = md I + mo (J - I)`). Take the student axes aligned with
//! an orthonormal basis of class space whose first `K-1` vectors span the
//! centred (separating) subspace and whose `K`-th is `1/sqrt(K)` (common),
//! and every order parameter diagonal in it: `R`, `Y^T`, `Sigma`, `W_h`
//! equal to `r`, `y`, `s`, `w` on every separating axis and to the common
//! values on the common axis. All matrices of the field are then
//! simultaneously diagonal, so each axis (a *channel*) evolves on its own by
//! the scalar field (`m = md - mo` separating, `md + (K-1) mo` common;
//! `g = 1` symmetric head, `0` asymmetric; `u = w^2`; `K p = 1`)
//!
//! ```text
//! dr/dt = -eta_x [u c0 r - w m y + lambda r]
//! dy/dt = -eta_y [u y - K w m r + lambda y]                  (symmetric)
//!       = -eta_y [y - K m r + lambda y]                      (asymmetric)
//! dw/dt = -eta_w [w (r^2 c0 + s) - (1+g) m r y + g w p y^2 + lambda w]
//! ds/dt = -2 eta_x (u + lambda) s + eta_x^2 u (u s + E),   E = u c0 r^2 - 2 w m r y + p y^2
//! ```
//!
//! (tested: the lift of a channel state is a state of [`HeadOde`] whose
//! field is the lift of this field). Label distance: `sqrt(2) |y|`.
//!
//! **Fixed points.** `dr = dy = 0` fix the head:
//! symmetric `(u c0 + lambda)(u + lambda) = K m^2 u`, asymmetric
//! `(u c0 + lambda)(1 + lambda) = K m^2 w`, and the ratio
//! `eta = y/r = K w m/(u + lambda)` (symmetric) or `K m/(1+lambda)`. They do
//! not involve the SGD noise. The spread is slaved,
//! `s = kappa r^2`, `kappa = eta_x u e / (2 (u+lambda) - eta_x u^2)` with
//! `E = e r^2`, and the head equation fixes the scale
//!
//! ```text
//! r^2 = lambda / (-A - kappa),   A = c0 - (1+g) m eta/w + g p eta^2   (A < 0 for lambda > 0).
//! ```
//!
//! Without weight decay the scale equation reads `(A + kappa) r^2 = 0` with
//! `A = 0`, `kappa > 0` whenever `phi > 0`: **no non-collapsed fixed point**
//! (the SGD noise term `kappa`, i.e. the spread it sustains, pushes the head
//! below the value at which `(r, y)` are stationary, and the separation
//! runs away; `docs/teacher.md`). With `lambda > 0` the branch exists while
//! (i) the head quadratic has real roots and (ii) `-A > kappa`. (i) fails
//! at a saddle-node where `w+` meets `w-`:
//! `K m^2 = lambda (1 + sqrt(c0))^2` (symmetric),
//! `K m^2 = 2 (1+lambda) sqrt(c0 lambda)` (asymmetric), independent of the
//! rates; (ii) fails where `r^2 -> infinity` (small `lambda`: the noise
//! runaway survives).
use serde::Serialize;

use faer::MatMut;

use crate::engine::{continue_boundary, BoundaryCurve, BoundaryParams};
use crate::engine::{continue_equilibria, Bifurcation, BifurcationKind, ContinuationParams};
use crate::engine::VectorField;
use crate::error::{Error, Result};
use crate::models::teacher::config::{HeadKind, TeacherConfig};
use crate::models::teacher::head::reduced::order_params::HeadOde;
use crate::models::teacher::statistics::{Teacher, TeacherStats};

/// Index of the label noise `f` in the parameter vector.
pub const LABEL_NOISE: usize = 2;
/// Index of `weight_decay` in the parameter vector.
pub const WEIGHT_DECAY: usize = 6;

/// Which eigen-channel of `M`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Channel {
    /// Centred (class-separating) subspace, multiplicity `K - 1`.
    Separating,
    /// Constant vector (class-averaged embedding).
    Common,
}

/// One channel of the head ODE: state `[r, y, w, s]`, parameters
/// `[eta_x, eta_y, f, sigma, a, eta_w, weight_decay]` (as [`HeadOde`]).
#[derive(Clone, Debug)]
pub struct HeadChannel {
    pub teacher: Teacher,
    pub kind: HeadKind,
    pub channel: Channel,
    pub params: Vec<f64>,
    pub initial: Vec<f64>,
}

/// The channel's statistics: `(c0, m, p, K)`.
fn channel_stats(ch: Channel, st: &TeacherStats) -> (f64, f64, f64) {
    let (ms, mc) = st.m_eigen();
    (st.c0, if ch == Channel::Separating { ms } else { mc }, st.p)
}

impl HeadChannel {
    pub fn new(cfg: &TeacherConfig, channel: Channel, initial: [f64; 4]) -> Result<Self> {
        if cfg.head == HeadKind::None {
            return Err(Error::invalid("head", "\"none\"", "symmetric | asymmetric"));
        }
        let mut params = cfg.ode_params();
        params.extend([cfg.eta_w, cfg.weight_decay]);
        Ok(HeadChannel { teacher: Teacher::new(cfg.teacher, cfg.classes), kind: cfg.head, channel, params, initial: initial.to_vec() })
    }
    fn g(&self) -> f64 {
        f64::from(u8::from(self.kind == HeadKind::Symmetric))
    }
    /// The field with statistics `(c0, m, p)`, rate coefficients
    /// `(x1, x2, y, w)` of the blocks (as in [`HeadOde`]), weight decay `lam`
    /// and `free` multiplying the statistic-free terms (0 gives the
    /// derivative with respect to a statistic; the field is affine in them).
    #[allow(clippy::too_many_arguments)]
    fn eval(&self, x: &[f64], (c0, m, p): (f64, f64, f64), (x1, x2, cy, cw): (f64, f64, f64, f64), lam: f64, free: f64, out: &mut [f64]) {
        let (r, y, w, s) = (x[0], x[1], x[2], x[3]);
        let (u, g, k) = (w * w, self.g(), self.teacher.classes as f64);
        out[0] = -x1 * (u * c0 * r - w * m * y + lam * r * free);
        out[1] = -cy * if g > 0.0 { k * p * u * y - k * w * m * r + lam * y * free } else { k * p * y - k * m * r + lam * y * free };
        out[2] = -cw * (w * (r * r * c0 + s * free) - (1.0 + g) * m * r * y + g * w * p * y * y + lam * w * free);
        let e = u * c0 * r * r - 2.0 * w * m * r * y + p * y * y;
        out[3] = -2.0 * x1 * (u + lam) * s * free + x2 * u * (u * s * free + e);
    }
}

impl VectorField for HeadChannel {
    fn name(&self) -> &str {
        "teacher-student-head-channel"
    }
    fn dim(&self) -> usize {
        4
    }
    fn state_names(&self) -> Vec<String> {
        ["r", "y", "w", "s"].iter().map(|s| s.to_string()).collect()
    }
    fn param_names(&self) -> Vec<String> {
        crate::models::teacher::head::reduced::order_params::HEAD_PARAM_NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.clone()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.initial.clone()
    }
    fn observable_names(&self) -> Vec<String> {
        vec!["label_distance".into()]
    }
    /// `sqrt(2) |y|` (separating channel: distance between two labels).
    fn observables(&self, x: &[f64], _p: &[f64], out: &mut [f64]) {
        out[0] = std::f64::consts::SQRT_2 * x[1].abs();
    }
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        let st = channel_stats(self.channel, &self.teacher.stats(p[2], p[3], p[4]));
        self.eval(x, st, (p[0], p[0] * p[0], p[1], p[5]), p[6], 1.0, out);
    }
    /// Exact (hand-differentiated polynomial field, module doc).
    fn jacobian(&self, x: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (c0, m, pp) = channel_stats(self.channel, &self.teacher.stats(p[2], p[3], p[4]));
        let (ex, ey, ew, lam) = (p[0], p[1], p[5], p[6]);
        let (r, y, w, s) = (x[0], x[1], x[2], x[3]);
        let (u, g, k) = (w * w, self.g(), self.teacher.classes as f64);
        let rows: [[f64; 4]; 4] = [
            [-ex * (u * c0 + lam), ex * w * m, -ex * (2.0 * w * c0 * r - m * y), 0.0],
            if g > 0.0 {
                [ey * k * w * m, -ey * (k * pp * u + lam), -ey * (2.0 * k * pp * w * y - k * m * r), 0.0]
            } else {
                [ey * k * m, -ey * (k * pp + lam), 0.0, 0.0]
            },
            [
                -ew * (2.0 * w * r * c0 - (1.0 + g) * m * y),
                -ew * (-(1.0 + g) * m * r + 2.0 * g * w * pp * y),
                -ew * (r * r * c0 + s + g * pp * y * y + lam),
                -ew * w,
            ],
            {
                let e = u * c0 * r * r - 2.0 * w * m * r * y + pp * y * y;
                let (er, ey_, ew_) = (2.0 * u * c0 * r - 2.0 * w * m * y, -2.0 * w * m * r + 2.0 * pp * y, 2.0 * w * c0 * r * r - 2.0 * m * r * y);
                [
                    ex * ex * u * er,
                    ex * ex * u * ey_,
                    -4.0 * ex * w * s + ex * ex * (4.0 * w * u * s + 2.0 * w * e + u * ew_),
                    -2.0 * ex * (u + lam) + ex * ex * u * u,
                ]
            },
        ];
        for (i, row) in rows.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                jac[(i, j)] = *v;
            }
        }
    }
    /// Exact: each block is a monomial in its rate, the decay terms are
    /// linear in `lambda`, and the field is affine in `(c0, m, p)`, whose
    /// derivatives are `Teacher::stats_derivative`.
    fn param_derivative(&self, x: &[f64], p: &[f64], k: usize, out: &mut [f64]) {
        let st = channel_stats(self.channel, &self.teacher.stats(p[2], p[3], p[4]));
        let (ex, ey, ew, lam) = (p[0], p[1], p[5], p[6]);
        match k {
            0 => self.eval(x, st, (1.0, 2.0 * ex, 0.0, 0.0), lam, 1.0, out),
            1 => self.eval(x, st, (0.0, 0.0, 1.0, 0.0), lam, 1.0, out),
            5 => self.eval(x, st, (0.0, 0.0, 0.0, 1.0), lam, 1.0, out),
            2..=4 => {
                let ds = channel_stats(self.channel, &self.teacher.stats_derivative(p[2], p[3], p[4], k));
                self.eval(x, ds, (ex, ex * ex, ey, ew), lam, 0.0, out);
            }
            6 => {
                out[0] = -ex * x[0];
                out[1] = -ey * x[1];
                out[2] = -ew * x[2];
                out[3] = -2.0 * ex * x[3];
            }
            _ => out.fill(0.0),
        }
    }
}

/// A closed-form non-collapsed fixed point of one channel.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ChannelPoint {
    /// `w+` (larger head) or `w-`.
    pub branch: &'static str,
    /// `[r, y, w, s]`.
    pub state: [f64; 4],
}

/// Why a channel has no non-collapsed fixed point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum NoBranch {
    /// The head equation has no real root (beyond the saddle-node).
    Fold,
    /// The scale `r^2 = lambda/(-A - kappa)` is not positive: the noise
    /// runaway (always at `lambda = 0` with `phi > 0`).
    Runaway,
}

/// The non-collapsed fixed points `w+`, `w-` of a channel at parameters
/// `p` (module doc), with `r > 0`; `Err(reason)` when the `w+` branch does
/// not exist. At `lambda = 0` only the noise-free, unfrustrated channel
/// (`-A = kappa = 0`) has a fixed point, whose scale is free; it is
/// reported as [`NoBranch::Runaway`] too (there is no isolated point).
pub fn channel_fixed_points(sys: &HeadChannel, p: &[f64]) -> std::result::Result<Vec<ChannelPoint>, NoBranch> {
    let (c0, m, pp) = channel_stats(sys.channel, &sys.teacher.stats(p[2], p[3], p[4]));
    let (ex, lam) = (p[0], p[6]);
    let (g, k) = (sys.g(), sys.teacher.classes as f64);
    let km2 = k * m * m;
    // Head roots w > 0 (the mirror -w pairs with -y).
    let ws: Vec<(&'static str, f64)> = if g > 0.0 {
        // c0 u^2 + (lam (1 + c0) - K m^2) u + lam^2 = 0.
        let b = lam * (1.0 + c0) - km2;
        let disc = b * b - 4.0 * c0 * lam * lam;
        if disc < 0.0 || b >= 0.0 {
            return Err(NoBranch::Fold);
        }
        let up = (-b + disc.sqrt()) / (2.0 * c0);
        let um = if up > 0.0 { lam * lam / (c0 * up) } else { 0.0 };
        vec![("w+", up.sqrt()), ("w-", um.sqrt())]
    } else {
        // c0 (1+lam) w^2 - K m^2 w + lam (1+lam) = 0.
        let disc = km2 * km2 - 4.0 * c0 * lam * (1.0 + lam).powi(2);
        if disc < 0.0 || km2 <= 0.0 {
            return Err(NoBranch::Fold);
        }
        let wp = (km2 + disc.sqrt()) / (2.0 * c0 * (1.0 + lam));
        let wm = lam / (c0 * wp);
        vec![("w+", wp), ("w-", wm)]
    };
    let mut out = Vec::new();
    for (branch, w) in ws {
        let u = w * w;
        let eta = if g > 0.0 { k * w * m / (u + lam) } else { k * m / (k * pp + lam) };
        let a = c0 - (1.0 + g) * m * eta / w + g * pp * eta * eta;
        let e = u * c0 - 2.0 * w * m * eta + pp * eta * eta;
        let den = 2.0 * (u + lam) - ex * u * u;
        let kappa = ex * u * e / den;
        let r2 = lam / (-a - kappa);
        if !(den > 0.0 && r2 > 0.0 && r2.is_finite() && w > 0.0) {
            if branch == "w+" {
                return Err(NoBranch::Runaway);
            }
            continue;
        }
        let r = r2.sqrt();
        out.push(ChannelPoint { branch, state: [r, eta * r, w, kappa * r2] });
    }
    Ok(out)
}

/// `f_c` from fixed-point existence: the smallest label noise at which the
/// separating channel's `w+` branch ceases to exist, with the reason
/// (scan of `[0, (K-1)/K]` in 400 steps, then bisection to `1e-12`).
/// `None`: the branch exists on the whole range. The rest of `p` is kept.
pub fn critical_frustration(sys: &HeadChannel, p: &[f64]) -> Result<Option<(f64, NoBranch)>> {
    if !(p[WEIGHT_DECAY] > 0.0) {
        return Err(Error::invalid("weight_decay", p[WEIGHT_DECAY], "(0, inf): without weight decay the non-collapsed branch does not exist (noise runaway)"));
    }
    let k = sys.teacher.classes as f64;
    let f_max = (k - 1.0) / k;
    let mut q = p.to_vec();
    let mut exists = |f: f64| {
        q[LABEL_NOISE] = f;
        channel_fixed_points(sys, &q).err()
    };
    if let Some(reason) = exists(0.0) {
        return Err(Error::numerical("critical frustration", format!("no non-collapsed fixed point even at f = 0 ({reason:?}); weight decay {} too large", p[WEIGHT_DECAY])));
    }
    let n = 400;
    let mut lo = 0.0;
    for i in 1..=n {
        let f = f_max * i as f64 / n as f64;
        if exists(f).is_some() {
            let mut hi = f;
            while hi - lo > 1e-12 {
                let mid = 0.5 * (lo + hi);
                if exists(mid).is_some() {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            let reason = exists(hi).expect("hi is beyond the branch");
            return Ok(Some((0.5 * (lo + hi), reason)));
        }
        lo = f;
    }
    Ok(None)
}

/// The saddle-node of the separating channel's non-collapsed branch found
/// by the engine: [`continue_equilibria`] in `f` from the closed-form `w+`
/// point at `f = 0`, first fold of the first branch. Independent of
/// [`critical_frustration`] (no shared numerical code beyond the field).
pub fn engine_fold(sys: &HeadChannel, p: &[f64]) -> Result<Option<Bifurcation>> {
    let mut p0 = p.to_vec();
    p0[LABEL_NOISE] = 0.0;
    let start = channel_fixed_points(sys, &p0)
        .map_err(|e| Error::numerical("engine fold", format!("no non-collapsed fixed point at f = 0 ({e:?})")))?
        .into_iter()
        .find(|c| c.branch == "w+")
        .ok_or_else(|| Error::numerical("engine fold", "no w+ point at f = 0"))?;
    let k = sys.teacher.classes as f64;
    let cp = ContinuationParams::new(LABEL_NOISE, 0.0, (k - 1.0) / k);
    let res = continue_equilibria(sys, &start.state, &p0, &cp)?;
    Ok(res.bifurcations.into_iter().find(|b| b.kind == BifurcationKind::Fold && b.branch == 0))
}

/// The fold curve `f_c(lambda)` on `[lam_min, lam_max]` (engine fold at
/// `p[6]`, then [`continue_boundary`] in `(f, weight_decay)`).
pub fn engine_boundary(sys: &HeadChannel, p: &[f64], lam_min: f64, lam_max: f64, ds_max: f64) -> Result<BoundaryCurve> {
    if !(lam_min > 0.0 && lam_min <= p[WEIGHT_DECAY] && p[WEIGHT_DECAY] <= lam_max) {
        return Err(Error::invalid("lam_min/lam_max", format!("[{lam_min}, {lam_max}]"), format!("0 < lam_min <= weight_decay = {} <= lam_max", p[WEIGHT_DECAY])));
    }
    let fold = engine_fold(sys, p)?.ok_or_else(|| Error::numerical("engine boundary", format!("no fold at weight_decay = {}", p[WEIGHT_DECAY])))?;
    let k = sys.teacher.classes as f64;
    let mut bp = BoundaryParams::new(LABEL_NOISE, WEIGHT_DECAY, lam_min, lam_max);
    bp.p1_min = 0.0;
    bp.p1_max = (k - 1.0) / k;
    bp.arclength.ds_max = ds_max;
    bp.arclength.ds = bp.arclength.ds.min(ds_max);
    let mut pb = p.to_vec();
    pb[LABEL_NOISE] = fold.param;
    continue_boundary(sys, &fold, &pb, &bp)
}

/// Lifts a separating-channel state (and a common-channel state, used when
/// `d >= K`) to a [`HeadOde`] state: student axis `i < K-1` carries the
/// `i`-th Helmert vector of the centred class subspace, axis `K-1` the
/// common vector `1/sqrt(K)`, axes `>= K` are zero. Requires `d >= K - 1`.
pub fn lift(ode: &HeadOde, sep: [f64; 4], common: [f64; 4]) -> Vec<f64> {
    let (d, k) = (ode.dim, ode.classes);
    let basis = helmert(k);
    let mut r = vec![0.0; d * k];
    let mut yt = vec![0.0; k * d];
    let mut sg = vec![0.0; d * d];
    let mut wh = vec![0.0; d * d];
    for i in 0..d.min(k) {
        let v = if i + 1 < k { sep } else { common };
        for c in 0..k {
            r[i * k + c] = v[0] * basis[i][c];
            yt[c * d + i] = v[1] * basis[i][c];
        }
        wh[i * d + i] = v[2];
        sg[i * d + i] = v[3];
    }
    let op = crate::models::teacher::online::reduced::OrderParams::from_sigma(k, d, r, yt, sg);
    ode.pack(&op, &wh)
}

/// Orthonormal basis of `R^K`: `K-1` Helmert vectors orthogonal to the
/// constant vector, then `1/sqrt(K)`.
pub fn helmert(k: usize) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(k);
    for i in 0..k - 1 {
        let n = ((i + 1) * (i + 2)) as f64;
        let mut v = vec![0.0; k];
        for item in v.iter_mut().take(i + 1) {
            *item = 1.0 / n.sqrt();
        }
        v[i + 1] = -((i + 1) as f64) / n.sqrt();
        out.push(v);
    }
    out.push(vec![1.0 / (k as f64).sqrt(); k]);
    out
}

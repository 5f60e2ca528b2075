//! The oscillation of the symmetric head at weak weight decay
//! (`docs/teacher.md` section 9): where the symmetric non-collapsed point
//! loses stability, and the period and amplitude of the motion that
//! replaces it, measured the same way on the head ODE and on SGD.
//!
//! **Symmetry.** With class-permutation symmetric statistics (`C = c0 I`,
//! `P = I/K`, `M = (md - mo) I + mo J`) the head ODE depends on the class
//! axes only through `C`, `M`, `P`, which commute with every rotation `Q` of
//! the centred class subspace that fixes `1`. So besides the student
//! rotations (`R -> O R`, ...) it is equivariant under `R -> R Q^T`,
//! `Y^T -> Y^T Q^T`: the group is `SO(d) x O(K-1)`. Invariants of the
//! whole group are functions of `Sigma` and of Gram matrices; the
//! separation of the classes that does not depend on `Q` is
//!
//! ```text
//! class_separation = sqrt(2) sigma_min(Y_c),   Y_c = (K-1) x d labels in an orthonormal basis of the centred subspace,
//! ```
//!
//! the smallest distance between two labels over all rotations `Q` (a label
//! difference `y_a - y_b` is `Y_c^T u` with `|u| = sqrt(2)` in that basis),
//! a lower bound of the minimum label distance. A motion along the group
//! orbit (drift) leaves it and `spread = sqrt(tr Sigma)` unchanged but moves
//! the individual label distances.
use faer::Mat;
use serde::Serialize;

use crate::engine::{integrate, sorted_eigenvalues, Grid, IntegrateOptions, Method, VectorField};
use crate::error::{Error, Result};
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::head::reduced::channel::{channel_fixed_points, helmert, lift, Channel, HeadChannel};
use crate::models::teacher::head::reduced::order_params::HeadOde;
use crate::models::teacher::head::theory::head_ode_from_config;

/// `sqrt(2) sigma_min(Y_c)` for labels `y` (`K x d` row-major): the
/// rotation-invariant class separation (module doc).
pub fn class_separation(y: &[f64], k: usize, d: usize) -> f64 {
    let basis = helmert(k);
    let yc: Vec<Vec<f64>> = basis[..k - 1].iter().map(|h| (0..d).map(|i| (0..k).map(|c| h[c] * y[c * d + i]).sum()).collect()).collect();
    let gram = Mat::from_fn(k - 1, k - 1, |a, b| (0..d).map(|i| yc[a][i] * yc[b][i]).sum::<f64>());
    let ev = sorted_eigenvalues(&gram).map(|v| v.iter().map(|z| z.re).fold(f64::INFINITY, f64::min)).unwrap_or(f64::NAN);
    std::f64::consts::SQRT_2 * ev.max(0.0).sqrt()
}

/// `sqrt(tr Sigma)` for a `d x d` row-major `Sigma`.
pub fn spread(s: &[f64], d: usize) -> f64 {
    (0..d).map(|i| s[i * d + i]).sum::<f64>().max(0.0).sqrt()
}

/// Period and amplitude of an oscillating signal after a transient.
#[derive(Clone, Debug, Serialize)]
pub struct Oscillation {
    /// Mean time between successive up-crossings of the signal's mid-range.
    pub period: f64,
    /// Standard deviation of those intervals (0 for a single interval).
    pub period_sd: f64,
    /// Number of intervals the period averages.
    pub cycles: usize,
    /// Minimum and maximum of the signal over the window.
    pub min: f64,
    pub max: f64,
}

/// Period and range of `x(t)` for `t >= t0`: up-crossings of the level
/// `mid = (min + max)/2` with hysteresis (after a counted crossing the next
/// one counts only once the signal has fallen below `mid - h`,
/// `h = hysteresis (max - min)/2`), so noise near the level is not counted
/// as a cycle.
/// `None` with fewer than two crossings (no oscillation in the window).
pub fn oscillation(t: &[f64], x: &[f64], t0: f64, hysteresis: f64) -> Option<Oscillation> {
    let pts: Vec<(f64, f64)> = t.iter().zip(x).filter(|(tt, _)| **tt >= t0).map(|(a, b)| (*a, *b)).collect();
    let min = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let max = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let (mid, h) = (0.5 * (min + max), hysteresis * 0.5 * (max - min));
    let mut armed = false;
    let mut ups = Vec::new();
    for w in pts.windows(2) {
        if w[0].1 < mid - h {
            armed = true;
        }
        if armed && w[0].1 < mid && w[1].1 >= mid {
            // Linear interpolation of the crossing time.
            ups.push(w[0].0 + (w[1].0 - w[0].0) * (mid - w[0].1) / (w[1].1 - w[0].1));
            armed = false;
        }
    }
    if ups.len() < 2 {
        return None;
    }
    let gaps: Vec<f64> = ups.windows(2).map(|w| w[1] - w[0]).collect();
    let n = gaps.len() as f64;
    let period = gaps.iter().sum::<f64>() / n;
    let period_sd = if gaps.len() > 1 { (gaps.iter().map(|g| (g - period).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
    Some(Oscillation { period, period_sd, cycles: gaps.len(), min, max })
}

/// The invariants along a trajectory: `(spread, class_separation, min label distance)`.
pub fn invariants(ode: &HeadOde, x: &[f64]) -> (f64, f64, f64) {
    let (op, _) = ode.unpack(x);
    let (d, k) = (ode.dim, ode.classes);
    (spread(&op.s, d), class_separation(&op.y, k, d), crate::models::common::metrics::label_distances(&op.y, k, d).0)
}

/// The head ODE of a config integrated on the uniform grid `0, dt, ..., t_max`
/// from `x0` (tight tolerances: the motion is slow and long).
pub fn trajectory(ode: &HeadOde, x0: &[f64], t_max: f64, dt: f64) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
    let n = (t_max / dt).round() as usize;
    let opts = IntegrateOptions {
        method: Method::Auto,
        rtol: 1e-10,
        atol: 1e-12,
        t_max,
        grid: Grid::Times((0..=n).map(|i| i as f64 * dt).collect()),
        max_steps: crate::limits::max_ode_steps(),
        max_seconds: crate::limits::remaining_seconds(),
    };
    let tr = integrate(ode, x0, &ode.params, &opts)?;
    Ok((tr.t, tr.states))
}

/// The symmetric non-collapsed point of the full head ODE: the lift of the
/// separating and common channels' `w+` points (`None` where either does
/// not exist).
pub fn symmetric_point(cfg: &TeacherConfig, ode: &HeadOde) -> Result<Option<Vec<f64>>> {
    let sep = HeadChannel::new(cfg, Channel::Separating, [0.0; 4])?;
    let com = HeadChannel::new(cfg, Channel::Common, [0.0; 4])?;
    Ok(match (channel_fixed_points(&sep, &sep.params), channel_fixed_points(&com, &com.params)) {
        (Ok(s), Ok(c)) => Some(lift(ode, s[0].state, c[0].state)),
        _ => None,
    })
}

/// The leading eigenvalue of the head ODE's Jacobian at `x` among those
/// that are not zero modes (`|z| > 1e-9 max(1, max |z|)`; the student
/// rotations give exact zeros), and how many non-zero eigenvalues lie
/// within `1e-7` of it (its numerical multiplicity).
pub fn leading_eigenvalue(ode: &HeadOde, x: &[f64]) -> Result<((f64, f64), usize)> {
    let n = ode.dim();
    let mut j = Mat::<f64>::zeros(n, n);
    ode.jacobian(x, &ode.params, j.as_mut());
    let ev = sorted_eigenvalues(&j)?;
    let scale = ev.iter().map(|z| z.norm()).fold(1.0, f64::max);
    let lead = ev.iter().find(|z| z.norm() > 1e-9 * scale).ok_or_else(|| Error::numerical("leading eigenvalue", "every eigenvalue is zero"))?;
    let mult = ev.iter().filter(|z| z.norm() > 1e-9 * scale && (**z - *lead).norm() < 1e-7 * scale).count();
    Ok(((lead.re, lead.im), mult))
}

/// Where the symmetric point loses stability as the weight decay falls.
#[derive(Clone, Debug, Serialize)]
pub struct Onset {
    pub weight_decay: f64,
    /// The leading non-zero eigenvalue just above the onset `(re, im)`.
    pub eigenvalue: (f64, f64),
    /// Its multiplicity (2: the centred class plane's rotation pairs it).
    pub multiplicity: usize,
}

/// Bisection in the weight decay on `[lo, hi]` (the point must be stable at
/// `hi` and unstable or absent at `lo`) for the sign change of the leading
/// non-zero eigenvalue's real part at the symmetric point, to `tol`.
pub fn symmetric_onset(cfg: &TeacherConfig, lo: f64, hi: f64, tol: f64) -> Result<Onset> {
    let at = |lam: f64| -> Result<Option<((f64, f64), usize)>> {
        let mut c = cfg.clone();
        c.weight_decay = lam;
        let ode = head_ode_from_config(&c)?;
        match symmetric_point(&c, &ode)? {
            Some(x) => leading_eigenvalue(&ode, &x).map(Some),
            None => Ok(None),
        }
    };
    let stable = |v: &Option<((f64, f64), usize)>| matches!(v, Some(((re, _), _)) if *re < 0.0);
    if !stable(&at(hi)?) || stable(&at(lo)?) {
        return Err(Error::invalid("weight decay bracket", format!("[{lo}, {hi}]"), "symmetric point unstable (or absent) at lo and stable at hi"));
    }
    let (mut a, mut b) = (lo, hi);
    while b - a > tol {
        let m = 0.5 * (a + b);
        if stable(&at(m)?) {
            b = m;
        } else {
            a = m;
        }
    }
    let (eigenvalue, multiplicity) = at(b)?.expect("stable at b");
    Ok(Onset { weight_decay: 0.5 * (a + b), eigenvalue, multiplicity })
}

/// What the head ODE does from the config's initial state, judged from the
/// swing (max - min) of the spread over the middle and the last third of
/// `[0, t_max]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Motion {
    /// The swing keeps its size (ratio within `SUSTAINED`) and is at least
    /// 1% of the spread: the invariants move on a stable cycle.
    Cycle,
    /// The swing shrinks and is smaller than the spread's minimum: the
    /// invariants settle (onto a steady or a drifting state whose invariants
    /// are constant).
    Settles,
    /// The swing shrinks but stays larger than the spread's minimum (large
    /// excursions that neither repeat nor die out within `t_max`).
    Irregular,
    /// The swing grows, the spread exceeds `RUNAWAY` or the integration
    /// blows up: no bounded attractor is reached.
    Runaway,
}

/// Ratio band of the last-third to middle-third swing within which an
/// oscillation counts as sustained: a damped or growing oscillation changes
/// its swing by more than 2% over a third of the run at the rates measured
/// near the cycle's birth (`|rate| >= 1e-5` over `t_max/3 = 10^4`: 10%).
pub const SUSTAINED: f64 = 0.02;
/// Spread beyond which the run counts as a runaway (the bounded states of
/// the study's configurations have spreads below 10).
pub const RUNAWAY: f64 = 1e3;

/// The classified motion with its period and spread range over the last
/// third (`None` when the invariants do not oscillate there).
#[derive(Clone, Debug, Serialize)]
pub struct MotionReport {
    pub weight_decay: f64,
    pub label_noise: f64,
    pub motion: Motion,
    /// Swing growth rate `ln(swing_last / swing_middle) / (t_max / 3)`.
    pub swing_rate: f64,
    pub spread: Option<Oscillation>,
    pub separation: Option<Oscillation>,
}

/// Integrates the head ODE of `cfg` to `t_max` (unit output grid) and
/// classifies its motion ([`Motion`]).
pub fn classify_motion(cfg: &TeacherConfig, t_max: f64) -> Result<MotionReport> {
    let ode = head_ode_from_config(cfg)?;
    let report = |motion, swing_rate, spread, separation| MotionReport { weight_decay: cfg.weight_decay, label_noise: cfg.label_noise, motion, swing_rate, spread, separation };
    let (t, xs) = match trajectory(&ode, &ode.initial, t_max, 1.0) {
        Ok(v) => v,
        Err(Error::Numerical { .. }) | Err(Error::Divergence { .. }) => return Ok(report(Motion::Runaway, f64::NAN, None, None)),
        Err(e) => return Err(e),
    };
    let inv: Vec<(f64, f64, f64)> = xs.iter().map(|x| invariants(&ode, x)).collect();
    let sp: Vec<f64> = inv.iter().map(|v| v.0).collect();
    let se: Vec<f64> = inv.iter().map(|v| v.1).collect();
    let (m1, m2) = (t_max / 3.0, 2.0 * t_max / 3.0);
    let cut = t.iter().position(|v| *v > m2).unwrap_or(t.len());
    let swing = |o: &Option<Oscillation>| o.as_ref().map_or(0.0, |o| o.max - o.min);
    let middle = oscillation(&t[..cut], &sp[..cut], m1, 0.2);
    let last = oscillation(&t, &sp, m2, 0.2);
    let separation = oscillation(&t, &se, m2, 0.2);
    let rate = (swing(&last) / swing(&middle)).ln() / (m2 - m1);
    let top = sp[cut.min(sp.len() - 1)..].iter().cloned().fold(0.0, f64::max);
    let ratio = swing(&last) / swing(&middle);
    let motion = if !(top < RUNAWAY) || ratio > 1.0 + SUSTAINED {
        Motion::Runaway
    } else if ratio >= 1.0 - SUSTAINED && swing(&last) >= 0.01 * top {
        Motion::Cycle
    } else if last.as_ref().is_some_and(|o| o.max - o.min > o.min) {
        Motion::Irregular
    } else {
        Motion::Settles
    };
    Ok(report(motion, rate, last, separation))
}

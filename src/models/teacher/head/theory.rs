//! The head sub-model's report for one configuration (`repcollapse theory
//! teacher-student --set head=...`, `docs/teacher.md` sections 4 and 5): the
//! head ODE's trajectory from the config's initial state, its fixed points
//! with their stability, the closed-form channel fixed points and the
//! weight-decay critical frustration.
use faer::Mat;
use serde_json::json;

use crate::engine::{integrate, Grid, IntegrateOptions, Method};
use crate::engine::{find_fixed_points, FixedPoint, FixedPointOptions, VectorField};
use crate::error::Result;
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::head::reduced::channel::{channel_fixed_points, critical_frustration, engine_fold, Channel, HeadChannel};
use crate::models::teacher::head::reduced::order_params::HeadOde;
use crate::models::teacher::head::simulation::output_space;
use crate::models::teacher::metrics::{TeacherMetrics, TeacherScorer};
use crate::models::teacher::statistics::Teacher;

/// Integrates the head ODE from its own initial state on `times` and scores
/// every point in the head's output space; also returns the final state.
pub(super) fn ode_metrics(ode: &HeadOde, scorer: &TeacherScorer, cfg: &TeacherConfig, times: &[f64]) -> Result<(Vec<TeacherMetrics>, Vec<f64>)> {
    let opts = IntegrateOptions {
        method: Method::Auto,
        rtol: cfg.rtol,
        atol: cfg.atol,
        t_max: cfg.t_max,
        grid: Grid::Times(times.to_vec()),
        max_steps: crate::limits::max_ode_steps(),
        max_seconds: crate::limits::remaining_seconds(),
    };
    let traj = integrate(ode, &ode.initial, &ode.params, &opts)?;
    let metrics = traj
        .t
        .iter()
        .zip(&traj.states)
        .map(|(t, x)| {
            let (op, h) = ode.unpack(x);
            scorer.measure(*t, &output_space(&op, &h))
        })
        .collect();
    let x_end = traj.states.last().expect("integration returns at least the start").clone();
    Ok((metrics, x_end))
}

/// Head ODE of a config from the theory's initial state (`R(0)`, `Y(0)`
/// from `init_seed`, `Sigma(0) = init_w^2 (1 - K/D) I`) and `W_h(0) = I`.
pub fn head_ode_from_config(cfg: &TeacherConfig) -> Result<HeadOde> {
    let th = crate::models::teacher::online::theory::TeacherTheory::from_config(cfg)?;
    let op = th.ode.unpack(&th.ode.initial);
    let d = cfg.dim;
    let eye: Vec<f64> = (0..d * d).map(|ij| if ij / d == ij % d { 1.0 } else { 0.0 }).collect();
    HeadOde::new(cfg, &op, &eye)
}

/// Label separation (minimum label distance) below this fraction of the
/// largest label norm: the fixed point is collapsed. Loose because Newton
/// polishes degenerate (non-isolated) collapsed points only to ~1e-5 in
/// the label distance while the residual is ~1e-11.
const COLLAPSE_TOL: f64 = 1e-3;
/// Relative distance within which the trajectory end counts as having
/// reached a fixed point.
const REACHED_TOL: f64 = 1e-3;

/// Fixed points of the head ODE with stability (`engine::find_fixed_points`,
/// zero modes attributed to the declared student rotations). Starts: the
/// end of the ODE trajectory `x_end` (the attractor reached from the
/// config's initial state), the origin, and `starts` random states in the
/// box `|x_i| <= 2 max(1, |x_end_i|)`. Returns the points and the index of
/// the one the trajectory reached: the point nearest `x_end`, if within
/// `REACHED_TOL max(1, |x_end|)` (otherwise the trajectory has not settled
/// by `t_max` and `None` is returned).
pub fn head_fixed_points(ode: &HeadOde, x_end: &[f64], starts: usize) -> Result<(Vec<FixedPoint>, Option<usize>)> {
    let mut probe = ode.clone();
    probe.initial = x_end.to_vec();
    let opts = FixedPointOptions { starts, seed: 0, ..FixedPointOptions::default() };
    let fps = find_fixed_points(&probe, &ode.params, &opts)?;
    let dist = |a: &[f64]| a.iter().zip(x_end).map(|(u, v)| (u - v) * (u - v)).sum::<f64>().sqrt();
    let tol = REACHED_TOL * x_end.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0);
    let reached = (0..fps.len()).min_by(|&i, &j| dist(&fps[i].state).total_cmp(&dist(&fps[j].state))).filter(|&i| dist(&fps[i].state) <= tol);
    Ok((fps, reached))
}

/// JSON of `repcollapse theory teacher-student --set head=...`: the head-ODE
/// trajectory (measures in the head's output space), the fixed points with
/// stability and zero modes, and the asymptotic slow rate: minus the
/// largest real part among the non-zero Jacobian eigenvalues at the fixed
/// point the trajectory reaches, when that point is stable (there is no
/// closed form with a head; `null` otherwise).
pub fn head_theory_json(cfg: &TeacherConfig, starts: usize) -> Result<serde_json::Value> {
    let ode = head_ode_from_config(cfg)?;
    let scorer = TeacherScorer::new(Teacher::new(cfg.teacher, cfg.classes), cfg.label_noise, cfg.sigma, cfg.a);
    let times = cfg.time_grid();
    let (metrics, x_end) = ode_metrics(&ode, &scorer, cfg, &times)?;
    let (fps, reached) = head_fixed_points(&ode, &x_end, starts)?;
    let (d, k) = (cfg.dim, cfg.classes);
    let mut list = crate::engine::fixed_points_json(&ode, &fps)["fixed_points"].clone();
    for (i, fp) in fps.iter().enumerate() {
        let (op, h) = ode.unpack(&fp.state);
        let out = output_space(&op, &h);
        let sep = crate::models::common::metrics::label_distances(&op.y, k, d).0;
        let ymax = op.y.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let kind = if ymax < 1e-9 { "origin" } else if sep < COLLAPSE_TOL * ymax { "collapsed" } else { "non-collapsed" };
        list[i]["kind"] = json!(kind);
        list[i]["reached_from_initial_state"] = json!(Some(i) == reached);
        list[i]["distance_from_trajectory_end"] = json!(fp.state.iter().zip(&x_end).map(|(u, v)| (u - v) * (u - v)).sum::<f64>().sqrt());
        list[i]["head_eigenvalues"] = json!(head_spectrum(&h, d));
        list[i]["metrics_output_space"] = json!(scorer.measure(f64::INFINITY, &out));
    }
    let slow_rate = reached.and_then(|i| {
        let rep = &fps[i].report;
        let stable = matches!(rep.stability, crate::engine::Stability::StableNode | crate::engine::Stability::StableFocus);
        let scale = rep.eigenvalues.iter().map(|z| z.re.hypot(z.im)).fold(1.0, f64::max);
        let tol = crate::engine::StabilityOptions::default().zero_tol * scale;
        stable.then(|| -rep.eigenvalues.iter().filter(|z| z.re.hypot(z.im) > tol).map(|z| z.re).fold(f64::NEG_INFINITY, f64::max))
    });
    let mut f_end = vec![0.0; x_end.len()];
    ode.rhs(&x_end, &ode.params, &mut f_end);
    let end_residual = f_end.iter().map(|v| v * v).sum::<f64>().sqrt();
    let seps: Vec<f64> = metrics.iter().map(|m| m.base.min_label_distance).collect();
    let smax = seps.iter().copied().fold(0.0, f64::max);
    let critical = if cfg.weight_decay > 0.0 { Some(critical_frustration_json(cfg)?) } else { None };
    Ok(json!({
        "model": "teacher-student with head",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "config": cfg.to_json(),
        "critical_frustration": critical,
        "channel_fixed_point": channel_point_json(cfg)?,
        "slow_rate": slow_rate,
        "slow_rate_definition": "minus the largest real part of the non-zero Jacobian eigenvalues at the fixed point reached from the initial state (null when that point is not stable)",
        "separation_ratio_final": seps.last().copied().unwrap_or(f64::NAN) / smax,
        "trajectory_end_residual": end_residual,
        "final_head_eigenvalues": head_spectrum(&ode.unpack(&x_end).1, d),
        "fixed_points": list,
        "trajectory": metrics,
    }))
}

/// `f_c` of the weight-decay phase boundary ([`channel`](super::reduced::channel))
/// by two independent routes: existence of the closed-form non-collapsed
/// branch (bisection; the reason it ends: `Fold` or `Runaway`) and the
/// engine's fold continuation of the channel field (`null` when the branch
/// ends by running away before it folds).
pub fn critical_frustration_json(cfg: &TeacherConfig) -> Result<serde_json::Value> {
    let sys = HeadChannel::new(cfg, Channel::Separating, [0.0; 4])?;
    let existence = critical_frustration(&sys, &sys.params)?;
    let fold = engine_fold(&sys, &sys.params)?;
    Ok(json!({
        "existence": existence.map(|e| e.0),
        "branch_ends_by": existence.map(|e| format!("{:?}", e.1).to_lowercase()),
        "engine_fold": fold.map(|b| b.param),
        "definition": "smallest label noise f at which the separating channel's non-collapsed w+ fixed point ceases to exist at this weight decay (fold: saddle-node with w-; runaway: its scale diverges); engine_fold: fold found by pseudo-arclength continuation in f from f = 0",
    }))
}

/// The closed-form non-collapsed fixed point of the separating and common
/// channels at the config's parameters (`null` fields where it does not
/// exist, with the reason), and its label distance `sqrt(2) y`.
pub fn channel_point_json(cfg: &TeacherConfig) -> Result<serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (name, ch) in [("separating", Channel::Separating), ("common", Channel::Common)] {
        let sys = HeadChannel::new(cfg, ch, [0.0; 4])?;
        out.insert(
            name.into(),
            match channel_fixed_points(&sys, &sys.params) {
                Ok(points) => json!({"points": points.iter().map(|c| json!({"branch": c.branch, "r": c.state[0], "y": c.state[1], "w": c.state[2], "s": c.state[3]})).collect::<Vec<_>>(),
                                     "label_distance_w_plus": points.first().map(|c| std::f64::consts::SQRT_2 * c.state[1])}),
                Err(reason) => json!({"points": [], "none_because": format!("{reason:?}").to_lowercase()}),
            },
        );
    }
    Ok(serde_json::Value::Object(out))
}

/// Eigenvalues `(re, im)` of a d x d head, by decreasing real part.
pub fn head_spectrum(h: &[f64], d: usize) -> Vec<(f64, f64)> {
    let m = Mat::from_fn(d, d, |i, j| h[i * d + j]);
    crate::engine::sorted_eigenvalues(&m).map(|v| v.iter().map(|z| (z.re, z.im)).collect()).unwrap_or_default()
}

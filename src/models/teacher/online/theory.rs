//! Model T theory: trajectories of the order-parameter ODE, its decay rates
//! and its fixed points with their stability.
//!
//! Fixed points. The `(R, Y)` rows obey `d(r, y)/dt = -D H (r, y)` with
//! `D = diag(eta_x I, eta_y K I)` and `H` positive semi-definite, so every
//! row of a fixed point lies in `ker H`, and the spread follows from
//! `0 = -eta_x(2-eta_x) Sigma + eta_x^2 E_res`, i.e.
//! `Sigma* = eta_x / (2 - eta_x) E_res`. Each null
//! vector `u` of `H` gives a conserved quantity `u^T D^{-1} (r, y)` per row,
//! so the fixed point reached from `z0` is the `D^{-1}`-oblique projection
//! `U (U^T D^{-1} U)^{-1} U^T D^{-1} z0` onto `ker H = span U`. Cases:
//!
//! * `ker H = 0` (argmax teacher; mixture with `sigma > 0`): the only fixed
//!   point is the origin, stable; everything contracts.
//! * mixture, `sigma = 0`, `f > 0`: `ker H` is the common mode
//!   (`r = 1`, `y = a 1`): a family of fixed points in which all classes
//!   share one embedding (collapsed).
//! * mixture, `sigma = f = 0`: `ker H = {(r, a r)}` (K-dimensional): a family
//!   of non-collapsed fixed points, `y_c = a R e_c`, `Q = R R^T`.
//!
//! Stability is read from the Jacobian spectrum at the fixed point; zero
//! eigenvalues are counted and attributed to the family (`d dim ker H`
//! directions plus student rotations).
use serde::Serialize;
use serde_json::json;

use crate::engine::{integrate, Grid, IntegrateOptions, Method};
use crate::engine::jacobian_eigenvalues;
use crate::engine::VectorField;
use crate::error::{Error, Result};
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::metrics::{TeacherMetrics, TeacherScorer};
use crate::models::teacher::online::reduced::{row_rates, OrderParams, RowRates, TeacherOde};

/// Eigenvalues with `|Re| <` this are zero modes.
pub const ZERO_TOL: f64 = 1e-8;

/// A fixed point of the ODE with its stability.
#[derive(Clone, Debug, Serialize)]
pub struct TeacherFixedPoint {
    /// "origin", "collapsed family" or "non-collapsed family".
    pub kind: String,
    /// Dimension of `ker H` per student row.
    pub null_dimension: usize,
    pub state: OrderParams,
    /// Jacobian eigenvalues `(re, im)`, decreasing real part.
    pub eigenvalues: Vec<(f64, f64)>,
    pub zero_modes: usize,
    /// "stable", "unstable" or "marginal".
    pub stability: String,
    pub metrics: TeacherMetrics,
}

/// The ODE of a config with its rates.
#[derive(Clone, Debug)]
pub struct TeacherTheory {
    pub ode: TeacherOde,
    pub rates: RowRates,
    pub scorer: TeacherScorer,
    pub cfg: TeacherConfig,
}

impl TeacherTheory {
    /// Theory started from `initial` (an ODE state).
    pub fn new(cfg: &TeacherConfig, initial: Vec<f64>) -> Result<Self> {
        let ode = TeacherOde::new(cfg, initial)?;
        let rates = row_rates(&ode.teacher, &ode.params);
        let scorer = TeacherScorer::new(ode.teacher, cfg.label_noise, cfg.sigma, cfg.a);
        Ok(TeacherTheory { ode, rates, scorer, cfg: cfg.clone() })
    }

    /// Theory from the config's expected initial order parameters:
    /// `R(0)`, `Y(0)` from `init_seed` and `Sigma(0) = init_w^2 (1 - K/D) I`.
    pub fn from_config(cfg: &TeacherConfig) -> Result<Self> {
        let (r, y) = crate::models::teacher::online::simulation::initial_overlaps(cfg);
        let (d, k) = (cfg.dim, cfg.classes);
        let w2 = cfg.init_w * cfg.init_w * (1.0 - k as f64 / cfg.input_dim as f64);
        let s = (0..d * d).map(|ij| if ij / d == ij % d { w2 } else { 0.0 }).collect();
        let probe = TeacherOde::new(cfg, vec![0.0; 2 * d * k + d * (d + 1) / 2])?;
        let x0 = probe.pack(&OrderParams::from_sigma(k, d, r, y, s));
        Self::new(cfg, x0)
    }

    /// Slow separating rate (smallest decay rate of a separating mode).
    pub fn slow_rate(&self) -> f64 {
        self.rates.separating.0
    }
    /// Fast *separating* rate: the end of the fast phase is a few of its
    /// e-folding times. The separation (differences of label embeddings)
    /// is made of separating modes only, so neither the common block nor
    /// the spread enters: counting the common block's slow rate (which is
    /// not part of the separation and can be far slower than the separating
    /// one when `sigma > 0`) made the fast phase "end" after the slow decay
    /// (e.g. at t = 96 for mixture, K = 3, a = 1.8, sigma = 0.4, f = 0.05,
    /// eta_x = 0.9, eta_y = 0.6).
    pub fn fast_rate(&self) -> f64 {
        self.rates.separating.1
    }

    /// Integrates from the initial state; states on `times`.
    pub fn trajectory(&self, times: &[f64]) -> Result<Vec<OrderParams>> {
        let opts = IntegrateOptions {
            method: Method::Auto,
            rtol: self.cfg.rtol,
            atol: self.cfg.atol,
            t_max: times.last().copied().unwrap_or(0.0),
            grid: Grid::Times(times.to_vec()),
            max_steps: crate::limits::max_ode_steps(),
            max_seconds: crate::limits::remaining_seconds(),
        };
        let traj = integrate(&self.ode, &self.ode.initial, &self.ode.params, &opts)?;
        Ok(traj.states.iter().map(|s| self.ode.unpack(s)).collect())
    }

    /// Metrics along a trajectory.
    pub fn metrics(&self, times: &[f64], states: &[OrderParams]) -> Vec<TeacherMetrics> {
        times.iter().zip(states).map(|(t, s)| self.scorer.measure(*t, s)).collect()
    }

    /// Null space of `H` (orthonormal columns, 2K-vectors).
    pub fn null_space(&self) -> Result<Vec<Vec<f64>>> {
        let k = self.ode.classes;
        let st = self.ode.stats(&self.ode.params);
        let n = 2 * k;
        let h = faer::Mat::from_fn(n, n, |i, j| {
            let (a, c) = (i % k, j % k);
            let m = if a == c { st.md } else { st.mo };
            match (i < k, j < k) {
                (true, true) => if a == c { st.c0 } else { 0.0 },
                (false, false) => if a == c { st.p } else { 0.0 },
                _ => -m,
            }
        });
        let eig = h.self_adjoint_eigen(faer::Side::Lower).map_err(|e| Error::numerical("spectrum of H", format!("{e:?}")))?;
        let vals = eig.S().column_vector();
        let scale = (0..n).map(|i| vals[i].abs()).fold(0.0, f64::max).max(1e-300);
        Ok((0..n).filter(|&m| vals[m].abs() <= 1e-10 * scale).map(|m| (0..n).map(|i| eig.U()[(i, m)]).collect()).collect())
    }

    /// The fixed point reached from the initial state, with stability.
    pub fn attractor(&self) -> Result<TeacherFixedPoint> {
        let (d, k) = (self.ode.dim, self.ode.classes);
        let (ex, ey) = (self.ode.params[0], self.ode.params[1]);
        let u = self.null_space()?;
        let x0 = self.ode.unpack(&self.ode.initial);
        let dinv: Vec<f64> = (0..2 * k).map(|i| if i < k { 1.0 / ex } else { 1.0 / (ey * k as f64) }).collect();
        let nu = u.len();
        // Gram = U^T D^-1 U (nu x nu), solved by Gaussian elimination (nu <= 2K).
        let gram: Vec<f64> = (0..nu * nu).map(|ab| (0..2 * k).map(|i| u[ab / nu][i] * dinv[i] * u[ab % nu][i]).sum()).collect();
        let mut r = vec![0.0; d * k];
        let mut y = vec![0.0; k * d];
        for i in 0..d {
            let z: Vec<f64> = (0..2 * k).map(|j| if j < k { x0.r[i * k + j] } else { x0.y[(j - k) * d + i] }).collect();
            let rhs: Vec<f64> = (0..nu).map(|a| (0..2 * k).map(|j| u[a][j] * dinv[j] * z[j]).sum()).collect();
            let coef = solve(&gram, &rhs, nu);
            for j in 0..2 * k {
                let v: f64 = (0..nu).map(|a| coef[a] * u[a][j]).sum();
                if j < k {
                    r[i * k + j] = v;
                } else {
                    y[(j - k) * d + i] = v;
                }
            }
        }
        // Sigma from dSigma/dt = 0: with Sigma = 0 the field's Sigma block is
        // the source eta_x^2 E_res, so Sigma* = source / (eta_x (2 - eta_x)).
        let mut op = OrderParams::from_sigma(k, d, r, y, vec![0.0; d * d]);
        let mut x = self.ode.pack(&op);
        let mut f = vec![0.0; x.len()];
        self.ode.rhs(&x, &self.ode.params, &mut f);
        let a = ex * (2.0 - ex);
        for i in 0..d {
            for j in i..d {
                let qi = self.ode.q_index(i, j);
                x[qi] = f[qi] / a;
            }
        }
        op = self.ode.unpack(&x);
        let ev = jacobian_eigenvalues(&self.ode, &x, &self.ode.params)?;
        let zero_modes = ev.iter().filter(|z| z.re.abs() < ZERO_TOL).count();
        let max_re = ev.iter().filter(|z| z.re.abs() >= ZERO_TOL).map(|z| z.re).fold(f64::NEG_INFINITY, f64::max);
        let stability = if max_re > 0.0 { "unstable" } else if zero_modes > 0 { "stable family (zero modes along the family)" } else { "stable" };
        let sep = crate::models::common::metrics::label_distances(&op.y, k, d).0;
        let kind = if nu == 0 {
            "origin (complete collapse)"
        } else if sep < 1e-9 * (1.0 + op.y.iter().map(|v| v.abs()).fold(0.0, f64::max)) {
            "collapsed family (all classes share one embedding)"
        } else {
            "non-collapsed family"
        };
        Ok(TeacherFixedPoint {
            kind: kind.into(),
            null_dimension: nu,
            metrics: self.scorer.measure(f64::INFINITY, &op),
            state: op,
            eigenvalues: ev.iter().map(|z| (z.re, z.im)).collect(),
            zero_modes,
            stability: stability.into(),
        })
    }

    /// JSON of `repcollapse theory teacher-student`.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        let times = self.cfg.time_grid();
        let states = self.trajectory(&times)?;
        let m = self.metrics(&times, &states);
        let fp = self.attractor()?;
        let st = self.ode.stats(&self.ode.params);
        let (cg_sep, cg_common) = st.c_minus_g();
        let t_fast = 5.0 / self.fast_rate();
        let k_fast = times.iter().position(|&t| t >= t_fast).unwrap_or(times.len() - 1);
        let seps: Vec<f64> = m.iter().map(|x| x.base.min_label_distance).collect();
        let fitted = crate::stats::fit_decay_rate(&times, &seps, t_fast, self.cfg.t_max);
        // The attractor's measures: a fixed point has no time (t = inf would
        // print as null), and at a collapsed point the spread is 0, so
        // separation / spread is 0/0: null with the reason beside it.
        let mut fp_json = serde_json::to_value(&fp).map_err(|e| crate::error::Error::numerical("teacher fixed point JSON", e.to_string()))?;
        if let Some(mj) = fp_json.get_mut("metrics").and_then(|v| v.as_object_mut()) {
            mj.insert("t".into(), json!("fixed point (t -> infinity)"));
            if !fp.metrics.base.separation_to_spread.is_finite() {
                mj.insert("separation_to_spread".into(), serde_json::Value::Null);
                mj.insert("separation_to_spread_note".into(), json!("undefined: the spread is 0 at this fixed point (every sample sits on its class mean)"));
            }
        }
        let mut v = json!({
            "model": "teacher-student",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": self.cfg.to_json(),
            "statistics": {"P_c": st.p, "C": st.c0, "M_diag": st.md, "M_off": st.mo,
                           "C_minus_G_separating": cg_sep, "C_minus_G_common": cg_common},
            "rates": self.rates,
            "slow_rate": self.slow_rate(),
            "collapse_time": if self.slow_rate() > 0.0 { Some(1.0 / self.slow_rate()) } else { None },
            "fitted_slow_rate_ode": fitted,
            "fast_phase_end": t_fast,
            "collapses": self.slow_rate() > 1e-12,
            "fixed_points": [fp_json],
            "trajectory": m,
            "separation_ratio_final": seps.last().copied().unwrap_or(f64::NAN) / seps[k_fast],
        });
        if self.slow_rate() <= 0.0 {
            v["collapse_time_note"] = json!("no collapse: the slow separating rate is not positive");
        }
        if fitted.is_none() {
            v["fitted_slow_rate_ode_note"] = json!("no fit: fewer than 3 positive separations in the window [fast_phase_end, t_max]");
        }
        if !v["separation_ratio_final"].is_number() {
            v["separation_ratio_final_note"] = json!("undefined: the separation at the end of the fast phase is 0 or not finite");
        }
        Ok(v)
    }
}

/// Solves the small dense system `A x = b` (Gaussian elimination with partial pivoting).
fn solve(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut m: Vec<f64> = a.to_vec();
    let mut x = b.to_vec();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| m[i * n + col].abs().total_cmp(&m[j * n + col].abs())).unwrap_or(col);
        for j in 0..n {
            m.swap(col * n + j, piv * n + j);
        }
        x.swap(col, piv);
        let p = m[col * n + col];
        for i in col + 1..n {
            let f = m[i * n + col] / p;
            for j in col..n {
                m[i * n + j] -= f * m[col * n + j];
            }
            x[i] -= f * x[col];
        }
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|j| m[i * n + j] * x[j]).sum();
        x[i] = (x[i] - s) / m[i * n + i];
    }
    x
}

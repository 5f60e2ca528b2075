//! The ensemble member: one seed of Model H stepped through the config's
//! time grid, measured at every grid time, with a divergence check.
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::error::{num, Error, Result};
use crate::models::common::frustration::LabelWeights;
use crate::models::common::metrics::MetricsWorkspace;
use crate::models::embedding::simulation::step_grid;
use crate::models::embedding::optimizer::OptimizerState;
use crate::models::head::config::HeadConfig;

use super::kernels::{gd_step, sgd_step};
use super::metrics::{measure_head, HeadMetrics};
use super::sphere::{normalize_start, sphere_step, SphereWorkspace};
use super::state::{HeadRates, HeadState, HeadWorkspace};

/// One simulated run.
#[derive(Clone, Debug, Serialize)]
pub struct HeadRun {
    pub seed: u64,
    pub metrics: Vec<HeadMetrics>,
    #[serde(skip)]
    pub initial: HeadState,
    #[serde(skip)]
    pub last: HeadState,
}

impl HeadRun {
    /// A run collapses when its final minimum inter-label distance has fallen
    /// below 1% of its largest value over the run (scale-free; GD also
    /// shrinks the within-class spread, so separation/spread alone would not
    /// detect a noise-free collapse).
    pub fn collapsed(&self) -> bool {
        crate::stats::collapsed_by_peak(&self.metrics.iter().map(|m| m.base.min_label_distance).collect::<Vec<_>>())
    }
}

impl HeadRun {
    /// The whole label geometry collapsed: the final *mean* inter-label
    /// distance is below 1% of its peak. With weight decay single directions
    /// of the label subspace can collapse while others survive (the branch
    /// exists per direction), which [`collapsed`](Self::collapsed) already
    /// flags; this is the criterion of the phase diagram, where the branch
    /// disappears in every direction at once.
    pub fn fully_collapsed(&self) -> bool {
        let peak = self.metrics.iter().map(|m| m.base.mean_label_distance).fold(0.0, f64::max);
        self.metrics.last().is_some_and(|m| m.base.mean_label_distance.is_nan() || m.base.mean_label_distance < 0.01 * peak)
    }
}

/// Simulates one seed from `start` (or the random start of `seed`),
/// recording at the config's grid times snapped to whole steps.
pub fn simulate_from(cfg: &HeadConfig, a: &LabelWeights, start: HeadState, seed: u64, times: &[f64]) -> Result<HeadRun> {
    let b = &cfg.base;
    let d = b.dim;
    let r = HeadRates::from_config(cfg);
    let pairs = a.pairs();
    let batch = b.batch.unwrap_or(pairs);
    let step_time = b.dt * batch as f64 / pairs as f64;
    crate::limits::check_sim_steps("dt", b.dt, times.last().copied().unwrap_or(0.0), step_time)?;
    let steps = step_grid(times, step_time);
    let mut ws = HeadWorkspace::new(a, d, batch);
    let mut order: Vec<usize> = (0..pairs).collect();
    let pair_rows = a.pair_row_index();
    let mut rng = crate::models::embedding::simulation::sgd_rng(seed);
    let mut mws = MetricsWorkspace::new(a.classes(), d);
    let mut outputs = vec![0.0; a.samples() * d];
    let mut st = start.clone();
    let scale0 = st.y.iter().chain(&st.w).map(|v| v.abs()).fold(1.0, f64::max);
    let mut metrics = Vec::with_capacity(steps.len());
    let (mut done, mut cursor) = (0u64, pairs);
    // The optimiser wraps the step (no buffers and no calls for plain GD).
    // AdamW's weight decay is decoupled: the step then runs without decay
    // and `finish` applies `lambda` per epoch (a fraction `batch/P` per step).
    let plain = b.optimizer.is_plain_gd();
    let (nx, ny) = (st.x.len(), st.y.len());
    let mut opt = OptimizerState::new(b.optimizer, nx + ny + st.w.len());
    let (r_step, decay) = if b.optimizer.decoupled_decay() { (HeadRates { weight_decay: 0.0, ..r }, r.weight_decay * batch as f64 / pairs as f64) } else { (r, 0.0) };
    let trains = cfg.variant.trains_head();
    // The cosine loss on the sphere (full-batch gd only, checked by the config).
    let cosine = b.loss == crate::models::embedding::sphere::Loss::Cosine;
    let mut sws = cosine.then(|| SphereWorkspace::new(a, d));
    let sphere_rates = (b.dt * r.eta_x, b.dt * r.eta_y / a.per_class(), b.dt * r.eta_w / a.samples() as f64);
    for &target in &steps {
        while done < target {
            crate::limits::poll_deadline(done, step_time, || format!("Model H simulation (seed {seed})"))?;
            if !plain {
                opt.next_step();
                opt.begin(0, &mut st.x);
                opt.begin(nx, &mut st.y);
                if trains {
                    opt.begin(nx + ny, &mut st.w);
                }
            }
            if let Some(sws) = sws.as_mut() {
                let (cx, cy, cw) = sphere_rates;
                sphere_step(a, &mut st, cfg.variant == crate::models::head::config::Variant::Symmetric, trains, cx, cy, cw, sws);
            } else if b.batch.is_none() {
                gd_step(a, &mut st, r_step, b.dt, &mut ws);
            } else {
                if cursor + batch > pairs {
                    order.shuffle(&mut rng);
                    cursor = 0;
                }
                sgd_step(a, &pair_rows, &mut st, r_step, b.dt, &order[cursor..cursor + batch], &mut ws);
                cursor += batch;
            }
            if !plain {
                opt.finish(0, &mut st.x, b.dt * r.eta_x, decay);
                opt.finish(nx, &mut st.y, b.dt * r.eta_y, decay);
                if trains {
                    opt.finish(nx + ny, &mut st.w, b.dt * r.eta_w, decay);
                }
            }
            done += 1;
        }
        let t = done as f64 * step_time;
        let m = measure_head(t, a, &st, &mut outputs, &mut mws);
        let finite = st.y.iter().chain(&st.w).all(|v| v.is_finite() && v.abs() < 1e8 * scale0) && m.base.loss.is_finite();
        if !finite {
            return Err(Error::Divergence {
                what: format!("Model H ({}) gradient descent", cfg.variant.name()),
                detail: format!("step dt = {} blew up at t = {} (seed {seed})", num(b.dt), num(t)),
                advice: "reduce dt (the head makes the dynamics nonlinear: the stable step shrinks as |W|^2 and the rates grow)".into(),
            });
        }
        metrics.push(m);
    }
    Ok(HeadRun { seed, metrics, initial: start, last: st })
}

/// Simulates one seed from its random start on the config's time grid.
pub fn simulate(cfg: &HeadConfig, a: &LabelWeights, seed: u64) -> Result<HeadRun> {
    let mut start = HeadState::random(a, cfg.base.dim, cfg.base.init_scale, cfg.head_init_noise, seed);
    if cfg.base.loss == crate::models::embedding::sphere::Loss::Cosine {
        normalize_start(&mut start);
    }
    simulate_from(cfg, a, start, seed, &cfg.base.time_grid())
}

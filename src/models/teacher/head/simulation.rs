//! Model T with a shared projection head `W_h` (d x d) and stop-gradient,
//! the Model H variants of `docs/head.md` transplanted to the
//! teacher-student setting. Per fresh sample `(xi, l)`, with `x = W xi/sqrt(D)`,
//! `e1 = W_h x - y_l` and `e2 = W_h y_l - x` (all at pre-step values):
//!
//! ```text
//! encoder:  W   <- W   - (eta_x / sqrt(D)) W_h^T e1 xi^T - (eta_x lambda / D) W   (from l1, y stopped)
//! head:     W_h <- W_h - (eta_w / D) [e1 x^T + s e2 y_l^T + lambda W_h]      (s = 1 symmetric, 0 asymmetric)
//! labels:   y_l <- y_l - (eta_y K / D) W_h^T e2      (symmetric: from l2, x stopped)
//!           y_l <- y_l + (eta_y K / D) (x - y_l)     (asymmetric: raw sample means)
//!           y_c <- y_c - (eta_y lambda / D) y_c      (every label, weight decay)
//! ```
//!
//! Weight decay `lambda` (`weight_decay`) is scaled by each parameter's rate
//! as in Model H (`theta -= rate (grad + lambda theta)` per unit time
//! `t = steps / D`), so that it enters the order-parameter ODE at `O(1)`:
//! `-eta_x lambda R`, `-2 eta_x lambda Sigma`, `-eta_y lambda y_c`,
//! `-eta_w lambda W_h`.
//!
//! The encoder update (decay and rank-1 term) is applied lazily, fused with
//! the next step's forward pass ([`Student::update_and_embed`]); the random
//! streams are those of [`crate::models::teacher::online::simulation`] (xoshiro256++
//! samples).
//!
//! The head starts at the identity. Accuracy and spread are measured in the
//! head's output space (`W_h x` against `y_c`).
use rand::SeedableRng;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::teacher::online::simulation::{SampleRng, Stream, StepWorkspace, Student, TEST_SAMPLES};
use crate::models::teacher::config::{HeadKind, TeacherConfig};
use crate::models::teacher::metrics::{TeacherMetrics, TeacherScorer};
use crate::models::teacher::online::reduced::OrderParams;

/// Student with a head.
#[derive(Clone, Debug)]
pub struct HeadStudent {
    pub student: Student,
    /// d x d row-major.
    pub head: Vec<f64>,
    pub kind: HeadKind,
}

/// Extra buffers of a head step.
#[derive(Clone, Debug)]
pub struct HeadWorkspace {
    pub base: StepWorkspace,
    e1: Vec<f64>,
    e2: Vec<f64>,
    g: Vec<f64>,
    yl: Vec<f64>,
    dy: Vec<f64>,
}

impl HeadWorkspace {
    pub fn new(d: usize, dd: usize) -> Self {
        HeadWorkspace { base: StepWorkspace::new(d, dd), e1: vec![0.0; d], e2: vec![0.0; d], g: vec![0.0; d], yl: vec![0.0; d], dy: vec![0.0; d] }
    }
}

impl HeadStudent {
    pub fn initial(cfg: &TeacherConfig, seed: u64) -> Self {
        let d = cfg.dim;
        let head = (0..d * d).map(|ij| if ij / d == ij % d { 1.0 } else { 0.0 }).collect();
        HeadStudent { student: Student::initial(cfg, seed), head, kind: cfg.head }
    }

    /// One SGD step on the sample in `ws.base.xi` with label `l` and weight
    /// decay `lam` (module doc); allocation-free, complete on return.
    pub fn step(&mut self, l: usize, eta_x: f64, eta_y: f64, eta_w: f64, lam: f64, ws: &mut HeadWorkspace) {
        self.student.flush(&mut ws.base);
        self.deferred_step(l, eta_x, eta_y, eta_w, lam, ws);
        self.student.flush(&mut ws.base);
    }

    /// The step with the encoder update left pending (applied in the next
    /// step's forward pass, or by [`Student::flush`]); same values as [`Self::step`].
    pub fn deferred_step(&mut self, l: usize, eta_x: f64, eta_y: f64, eta_w: f64, lam: f64, ws: &mut HeadWorkspace) {
        let s = &mut self.student;
        let (d, dd, k) = (s.dim, s.input_dim, s.classes);
        s.update_and_embed(&mut ws.base);
        let h = &self.head;
        let x = &ws.base.x;
        for i in 0..d {
            ws.yl[i] = s.y[l * d + i];
        }
        for i in 0..d {
            let (mut hx, mut hy) = (0.0, 0.0);
            for j in 0..d {
                hx += h[i * d + j] * x[j];
                hy += h[i * d + j] * ws.yl[j];
            }
            ws.e1[i] = hx - ws.yl[i];
            ws.e2[i] = hy - x[i];
        }
        for j in 0..d {
            ws.g[j] = (0..d).map(|i| h[i * d + j] * ws.e1[i]).sum();
            ws.dy[j] = match self.kind {
                HeadKind::Symmetric => -(0..d).map(|i| h[i * d + j] * ws.e2[i]).sum::<f64>(),
                _ => x[j] - ws.yl[j],
            };
        }
        let cw = eta_x / (dd as f64).sqrt();
        let keep_w = 1.0 - eta_x * lam / dd as f64;
        for i in 0..d {
            ws.base.pending[i] = cw * ws.g[i];
        }
        ws.base.pending_keep = keep_w;
        let sym = f64::from(u8::from(self.kind == HeadKind::Symmetric));
        let ch = eta_w / dd as f64;
        for i in 0..d {
            for j in 0..d {
                let v = self.head[i * d + j];
                self.head[i * d + j] = v - ch * (ws.e1[i] * x[j] + sym * ws.e2[i] * ws.yl[j] + lam * v);
            }
        }
        let cy = eta_y * k as f64 / dd as f64;
        if lam > 0.0 {
            let keep_y = 1.0 - eta_y * lam / dd as f64;
            s.y.iter_mut().for_each(|v| *v *= keep_y);
        }
        for i in 0..d {
            s.y[l * d + i] += cy * ws.dy[i];
        }
        s.defer(&mut ws.base);
    }

    /// Order parameters in the head's output space: `W_h R`, `Y`, `W_h Sigma W_h^T`.
    pub fn output_order_params(&self) -> OrderParams {
        output_space(&self.student.order_params(), &self.head)
    }
}

/// `(R, Y, Sigma) -> (W_h R, Y, W_h Sigma W_h^T)`.
pub fn output_space(op: &OrderParams, head: &[f64]) -> OrderParams {
    let (d, k) = (op.dim, op.classes);
    let r: Vec<f64> = (0..d * k).map(|ik| (0..d).map(|j| head[(ik / k) * d + j] * op.r[j * k + ik % k]).sum()).collect();
    let hs: Vec<f64> = (0..d * d).map(|ij| (0..d).map(|m| head[(ij / d) * d + m] * op.s[m * d + ij % d]).sum()).collect();
    let s: Vec<f64> = (0..d * d).map(|ij| (0..d).map(|m| hs[(ij / d) * d + m] * head[(ij % d) * d + m]).sum()).collect();
    OrderParams::from_sigma(k, d, r, op.y.clone(), s)
}

/// One run with a head.
#[derive(Clone, Debug, Serialize)]
pub struct HeadRun {
    pub seed: u64,
    pub times: Vec<f64>,
    /// Raw order parameters (encoder space) and head.
    pub order: Vec<OrderParams>,
    pub heads: Vec<Vec<f64>>,
    /// Measures in the head's output space.
    pub metrics: Vec<TeacherMetrics>,
    pub empirical_accuracy: Vec<f64>,
}

/// Online SGD with a head, recorded on the config's grid.
pub fn simulate_head(cfg: &TeacherConfig, scorer: &TeacherScorer, seed: u64) -> Result<HeadRun> {
    if cfg.head == HeadKind::None {
        return Err(Error::invalid("head", "\"none\"", "symmetric | asymmetric for the head simulation"));
    }
    let stream = Stream::from_config(cfg);
    let mut hs = HeadStudent::initial(cfg, seed);
    let scale0 = hs.head.iter().fold(hs.student.magnitude(), |m, v| m.max(v.abs()));
    let mut ws = HeadWorkspace::new(cfg.dim, cfg.input_dim);
    let mut rng = SampleRng::seed_from_u64(seed);
    let mut test_rng = SampleRng::seed_from_u64(seed ^ 0x7e57_0000);
    let step_time = 1.0 / cfg.input_dim as f64;
    crate::limits::check_sim_steps("input_dim", cfg.input_dim, cfg.t_max, step_time)?;
    let grid = crate::models::embedding::simulation::step_grid(&cfg.time_grid(), step_time);
    let mut run = HeadRun { seed, times: vec![], order: vec![], heads: vec![], metrics: vec![], empirical_accuracy: vec![] };
    let mut done = 0u64;
    for &target in &grid {
        while done < target {
            crate::limits::poll_deadline(done, step_time, || format!("teacher-student SGD with head (seed {seed})"))?;
            let (_, l) = stream.sample(&mut rng, &mut ws.base.xi);
            hs.deferred_step(l, cfg.eta_x, cfg.eta_y, cfg.eta_w, cfg.weight_decay, &mut ws);
            done += 1;
        }
        hs.student.flush(&mut ws.base);
        let size = hs.head.iter().fold(hs.student.magnitude(), |m, v| if v.is_finite() { m.max(v.abs()) } else { f64::NAN });
        if crate::models::teacher::online::simulation::diverged(size, scale0) {
            return Err(Error::Divergence {
                what: "teacher-student SGD with head".into(),
                detail: format!("parameters reached {size:.3e} (initially {scale0:.3e}) at t = {}", done as f64 * step_time),
                advice: "lower eta_x, eta_y or eta_w".into(),
            });
        }
        let t = done as f64 * step_time;
        run.metrics.push(scorer.measure(t, &hs.output_order_params()));
        run.order.push(hs.student.order_params());
        run.heads.push(hs.head.clone());
        run.times.push(t);
        run.empirical_accuracy.push(head_accuracy(&hs, &stream, &mut test_rng, &mut ws));
    }
    Ok(run)
}

/// Nearest label to `W_h x` on fresh samples.
fn head_accuracy<R: crate::random::NormalFill + ?Sized>(hs: &HeadStudent, stream: &Stream, rng: &mut R, ws: &mut HeadWorkspace) -> f64 {
    let s = &hs.student;
    let (d, k) = (s.dim, s.classes);
    let mut correct = 0usize;
    for _ in 0..TEST_SAMPLES {
        let (c, _) = stream.sample(rng, &mut ws.base.xi);
        s.embed(&ws.base.xi, &mut ws.base.x);
        for i in 0..d {
            ws.g[i] = (0..d).map(|j| hs.head[i * d + j] * ws.base.x[j]).sum();
        }
        let nearest = (0..k)
            .map(|l| ((0..d).map(|i| (ws.g[i] - s.y[l * d + i]).powi(2)).sum::<f64>(), l))
            .min_by(|p, q| p.0.total_cmp(&q.0))
            .map(|p| p.1)
            .unwrap_or(0);
        correct += usize::from(nearest == c);
    }
    correct as f64 / TEST_SAMPLES as f64
}

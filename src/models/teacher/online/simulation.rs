//! Microscopic simulation of Model T, the linear teacher-student model
//! (`docs/teacher.md` section 1), by online SGD.
//!
//! Teacher: `K` orthogonal directions `B_k` with `|B_k|^2 = D`. Because the
//! student starts isotropic outside its prescribed teacher overlaps, any
//! orthogonal `B` is equivalent by rotation; we take `B_k = sqrt(D) e_k`, so
//! the teacher fields are the first `K` input coordinates,
//! `lambda = B xi / sqrt(D) = (xi_1, ..., xi_K)`. This keeps a step `O(d D)`.
//!
//! * `mixture`: class `c` uniform, `lambda = a e_c + sigma z`, the other
//!   `D - K` coordinates standard normal.
//! * `argmax`: `xi ~ N(0, I_D)`, `c = argmax_k lambda_k`.
//! * label noise: with probability `f` the observed label `l` is drawn
//!   uniformly from the `K - 1` other classes.
//!
//! Student: `x = W xi / sqrt(D)` (`W` is d x D), label embeddings `y_c`.
//! Per sample the loss is Model E's, in the student's embedding space,
//! `l = 1/2 |x - y_l|^2`, and one SGD step on a fresh sample is
//!
//! ```text
//!     W   <- W   - (eta_x / sqrt(D)) (x - y_l) xi^T      (each row moves by eta_x/sqrt(D) times xi)
//!     y_l <- y_l + (eta_y K / D)     (x - y_l)
//! ```
//!
//! both evaluated at the pre-step parameters. Time is `t = steps / D`. The
//! factor `K` in the label rate makes `dy_c/dt = -eta_y K E[1{l=c}(y_c - x)]`,
//! the online analogue of Model E's `-(eta_y/n) sum_i A_ic (y_c - x_i)`.
//! Order parameters: `R = W B^T / D` (so `R_ik = W_ik / sqrt(D)`),
//! `Q = W W^T / D`, and `Y`.
//!
//! Initial state: `R(0)` and `Y(0)` are drawn from `init_seed` (the same for
//! every `D` and every ensemble seed, so runs at different `D` start from
//! matched order parameters); the weights orthogonal to the teacher are
//! i.i.d. `N(0, init_w^2)` from the run's seed, so `Q(0) = R R^T + init_w^2 I + O(D^-1/2)`.
//!
//! Random streams of a run with seed `s` (all bit-reproducible):
//! * initial overlaps: ChaCha8 seeded with `init_seed`; orthogonal weights:
//!   ChaCha8 seeded with `s ^ 0x7eac_4e25` (one-off draws, unchanged);
//! * training samples: [`SampleRng`] ([`crate::random::BlockNormalRng`])
//!   seeded with `seed_from_u64(s)`; per step, the `D` coordinates of `xi`
//!   as one block of standard normals (eight interleaved xoshiro256++ lanes,
//!   coordinate `8c + l` from lane `l`, through a 256-layer ziggurat whose
//!   rare slow path draws from the generator's scalar xoshiro256++ stream;
//!   layout in [`crate::random::normal_block`]), then, from the scalar
//!   stream, for `mixture` the class (`random_range(0..K)`), then, if
//!   `label_noise > 0`, one uniform `f64` and, when it is below the noise
//!   level, the wrong class (`random_range(0..K-1)`);
//! * test samples for the empirical accuracy: [`SampleRng`] seeded with
//!   `s ^ 0x7e57_0000`, drawn the same way.
//!
//! History of the sample streams (each change moved the online teacher runs'
//! numbers within their statistical error, and only those: the finite-data
//! training sets use ChaCha8 with one `rand_distr::StandardNormal` per
//! coordinate throughout): ChaCha8 with `StandardNormal` until issue 11;
//! then one xoshiro256++ with `StandardNormal`; now the block generator
//! above (same ziggurat tables and per-draw algorithm as `StandardNormal`,
//! about 3x faster per normal, and the same bits on every SIMD level).
//!
//! Optimisers (`optimizer` key, `docs/optimisers.md` sections 1 and 8):
//! heavy ball, Nesterov and Adam wrap the two-pass step
//! ([`Student::sgd_step`]) through [`OptimizerState`] over the flat vector
//! `(W, Y)`, with learning rates `eta_x/sqrt(D)` for `W` and `eta_y K/D` for
//! `Y` (the per-step factors of the SGD rule above, so Adam's gradients are
//! `e xi^T` and `1{l=c}(y_c - x)`). Plain SGD keeps the fused step below,
//! bit for bit.
//!
//! The step is fused: the rank-1 update of step `t` is applied in the same
//! pass over `W` that computes `x = W xi / sqrt(D)` of step `t + 1`
//! ([`Student::deferred_step`]), so `W` (d x D) is read and written once per
//! step instead of read twice and written once. The values are the same as
//! the two-pass step ([`Student::sgd_step`]) bit for bit.
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::common::optimizer::OptimizerState;
use crate::models::embedding::simulation::step_grid;
use crate::models::teacher::config::{TeacherConfig, TeacherKind};
use crate::models::teacher::metrics::{TeacherMetrics, TeacherScorer};
use crate::models::teacher::online::reduced::OrderParams;
use crate::models::teacher::online::wpass;
use crate::random::{BlockNormalRng, NormalFill};
use crate::simd;

/// Generator of the training and test samples (see the module doc for the
/// stream layout): block ziggurat normals on interleaved xoshiro256++ lanes.
pub type SampleRng = BlockNormalRng;

/// Fresh test samples per recorded time for the empirical accuracy.
pub const TEST_SAMPLES: usize = 256;

/// Teacher and label-noise parameters of the data stream.
#[derive(Clone, Copy, Debug)]
pub struct Stream {
    pub kind: TeacherKind,
    pub classes: usize,
    pub input_dim: usize,
    pub a: f64,
    pub sigma: f64,
    pub label_noise: f64,
}

impl Stream {
    pub fn from_config(cfg: &TeacherConfig) -> Self {
        Stream { kind: cfg.teacher, classes: cfg.classes, input_dim: cfg.input_dim, a: cfg.a, sigma: cfg.sigma, label_noise: cfg.label_noise }
    }

    /// Fills `xi` with a fresh input and returns `(teacher class, observed label)`.
    /// Draw order: `xi` (one block of `D` normals), class, label noise.
    #[inline]
    pub fn sample<R: NormalFill + ?Sized>(&self, rng: &mut R, xi: &mut [f64]) -> (usize, usize) {
        let k = self.classes;
        rng.fill_standard_normal(xi);
        let c = match self.kind {
            TeacherKind::Mixture => {
                let c = rng.random_range(0..k);
                for v in &mut xi[..k] {
                    *v *= self.sigma;
                }
                xi[c] += self.a;
                c
            }
            TeacherKind::Argmax => (0..k).max_by(|&p, &q| xi[p].total_cmp(&xi[q])).unwrap_or(0),
        };
        let l = if self.label_noise > 0.0 && rng.random::<f64>() < self.label_noise {
            (c + 1 + rng.random_range(0..k - 1)) % k
        } else {
            c
        };
        (c, l)
    }
}

/// Student parameters: encoder `w` (d x D row-major) and labels `y` (K x d).
#[derive(Clone, Debug)]
pub struct Student {
    pub w: Vec<f64>,
    pub y: Vec<f64>,
    pub dim: usize,
    pub input_dim: usize,
    pub classes: usize,
}

/// Preallocated buffers of one SGD step, and the pending update of the
/// fused step: `W <- pending_keep W - pending xi_prev^T` is still to be
/// applied when `has_pending` is set (`pending_keep` is 1 without weight
/// decay; `1 * w` is exact, so it costs no bits).
#[derive(Clone, Debug)]
pub struct StepWorkspace {
    pub xi: Vec<f64>,
    pub x: Vec<f64>,
    pub err: Vec<f64>,
    pub xi_prev: Vec<f64>,
    pub pending: Vec<f64>,
    pub pending_keep: f64,
    pub has_pending: bool,
}

impl StepWorkspace {
    pub fn new(dim: usize, input_dim: usize) -> Self {
        StepWorkspace { xi: vec![0.0; input_dim], x: vec![0.0; dim], err: vec![0.0; dim], xi_prev: vec![0.0; input_dim], pending: vec![0.0; dim], pending_keep: 1.0, has_pending: false }
    }
}

/// The initial overlaps `R(0)` (d x K) and labels `Y(0)` (K x d) shared by all
/// seeds and all `D` of a config.
pub fn initial_overlaps(cfg: &TeacherConfig) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.init_seed);
    let (d, k) = (cfg.dim, cfg.classes);
    let r = (0..d * k).map(|_| cfg.init_r * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)).collect();
    let y = (0..k * d).map(|_| cfg.init_y * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)).collect();
    (r, y)
}

impl Student {
    /// The initial student of a config and seed (see module doc).
    pub fn initial(cfg: &TeacherConfig, seed: u64) -> Self {
        let (d, dd, k) = (cfg.dim, cfg.input_dim, cfg.classes);
        let (r, y) = initial_overlaps(cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7eac_4e25);
        let sq = (dd as f64).sqrt();
        let mut w = vec![0.0; d * dd];
        for i in 0..d {
            for j in 0..dd {
                w[i * dd + j] = if j < k { sq * r[i * k + j] } else { cfg.init_w * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng) };
            }
        }
        Student { w, y, dim: d, input_dim: dd, classes: k }
    }

    /// Size of the parameters for divergence checks: the largest `|y|`
    /// entry and the largest sampled `|W|` entry over `sqrt(D)` (`W` rows have
    /// norm `O(sqrt(D))`); NaN if any checked entry is not finite.
    pub fn magnitude(&self) -> f64 {
        let sq = (self.input_dim as f64).sqrt();
        let mut m: f64 = 0.0;
        for v in self.y.iter().copied().chain(self.w.iter().step_by(97).map(|w| w / sq)) {
            if !v.is_finite() {
                return f64::NAN;
            }
            m = m.max(v.abs());
        }
        m
    }

    /// `x = W xi / sqrt(D)` into `x`.
    #[inline]
    pub fn embed(&self, xi: &[f64], x: &mut [f64]) {
        let dd = self.input_dim;
        let s = 1.0 / (dd as f64).sqrt();
        wpass::dot_rows(simd::level(), &self.w, dd, xi, x);
        for xv in x.iter_mut() {
            *xv *= s;
        }
    }

    /// One online SGD step on the sample already in `ws.xi` with observed
    /// label `l` (update rule in the module doc), complete on return.
    /// Allocation-free, `O(d D)`. Same values as [`Self::deferred_step`]
    /// followed by [`Self::flush`].
    #[inline]
    pub fn sgd_step(&mut self, l: usize, eta_x: f64, eta_y: f64, ws: &mut StepWorkspace) {
        self.flush(ws);
        self.deferred_step(l, eta_x, eta_y, ws);
        self.flush(ws);
    }

    /// The fused step on the sample in `ws.xi` with label `l`: one pass over
    /// `W` applies the pending update of the previous step and computes
    /// `x = W xi / sqrt(D)`; then `e = x - y_l`, `y_l += (eta_y K / D) e`, and
    /// the update `W -= (eta_x / sqrt(D)) e xi^T` is left pending (`xi` moves
    /// to `ws.xi_prev`). Call [`Self::flush`] before reading `W`.
    #[inline]
    pub fn deferred_step(&mut self, l: usize, eta_x: f64, eta_y: f64, ws: &mut StepWorkspace) {
        let (d, dd) = (self.dim, self.input_dim);
        self.update_and_embed(ws);
        for i in 0..d {
            ws.err[i] = ws.x[i] - self.y[l * d + i];
        }
        let cw = eta_x / (dd as f64).sqrt();
        for i in 0..d {
            ws.pending[i] = cw * ws.err[i];
        }
        ws.pending_keep = 1.0;
        let cy = eta_y * self.classes as f64 / dd as f64;
        for i in 0..d {
            self.y[l * d + i] += cy * ws.err[i];
        }
        self.defer(ws);
    }

    /// Marks `ws.pending` (already filled, `g_i` per row) as the pending
    /// update `W <- W - g xi^T` with the current sample `ws.xi`.
    #[inline]
    pub fn defer(&self, ws: &mut StepWorkspace) {
        std::mem::swap(&mut ws.xi, &mut ws.xi_prev);
        ws.has_pending = true;
    }

    /// `x = W' xi / sqrt(D)` with `W' = W - pending xi_prev^T`, storing `W'`,
    /// in one pass over `W` (the rows are updated and dotted chunk by chunk
    /// while in L1). Bit-identical to the update followed by [`dot`].
    #[inline]
    pub fn update_and_embed(&mut self, ws: &mut StepWorkspace) {
        if !ws.has_pending {
            self.embed(&ws.xi, &mut ws.x);
            return;
        }
        let dd = self.input_dim;
        let s = 1.0 / (dd as f64).sqrt();
        wpass::update_rows(simd::level(), &mut self.w, dd, ws.pending_keep, &ws.pending, &ws.xi_prev, Some((&ws.xi, &mut ws.x)));
        for xv in ws.x.iter_mut() {
            *xv *= s;
        }
        ws.has_pending = false;
    }

    /// Applies a pending update, if any.
    #[inline]
    pub fn flush(&mut self, ws: &mut StepWorkspace) {
        if !ws.has_pending {
            return;
        }
        wpass::update_rows(simd::level(), &mut self.w, self.input_dim, ws.pending_keep, &ws.pending, &ws.xi_prev, None);
        ws.has_pending = false;
    }

    /// One step of a wrapped optimiser on the sample in `ws.xi` with label
    /// `l`: `opt` remembers `(W, Y)` (Nesterov: moves them to the look-ahead
    /// point), the SGD step of the module doc runs there, and `opt` turns its
    /// displacement `-lr g` into the rule's (`docs/optimisers.md` section 1;
    /// `lr = eta_x/sqrt(D)` for `W`, `eta_y K/D` for `Y`). `opt` covers
    /// `d D + K d` parameters, `W` first. Complete on return, allocation-free.
    #[inline]
    pub fn optimizer_step(&mut self, l: usize, eta_x: f64, eta_y: f64, opt: &mut OptimizerState, ws: &mut StepWorkspace) {
        let nw = self.w.len();
        let (lr_w, lr_y) = (eta_x / (self.input_dim as f64).sqrt(), eta_y * self.classes as f64 / self.input_dim as f64);
        opt.next_step();
        opt.begin(0, &mut self.w);
        opt.begin(nw, &mut self.y);
        self.sgd_step(l, eta_x, eta_y, ws);
        opt.finish(0, &mut self.w, lr_w, 0.0);
        opt.finish(nw, &mut self.y, lr_y, 0.0);
    }

    /// Order parameters `R = W B^T / D`, `Y` and `Sigma = Q - R R^T`,
    /// computed directly as `W P_perp W^T / D` from the weights orthogonal
    /// to the teacher (columns `K..D`), so a small spread is exact.
    pub fn order_params(&self) -> OrderParams {
        let (d, dd, k) = (self.dim, self.input_dim, self.classes);
        let sc = 1.0 / (dd as f64).sqrt();
        let r = (0..d * k).map(|idx| sc * self.w[(idx / k) * dd + idx % k]).collect();
        let mut s = vec![0.0; d * d];
        for i in 0..d {
            for j in i..d {
                let v = self.w[i * dd + k..(i + 1) * dd].iter().zip(&self.w[j * dd + k..(j + 1) * dd]).map(|(a, b)| a * b).sum::<f64>() / dd as f64;
                s[i * d + j] = v;
                s[j * d + i] = v;
            }
        }
        OrderParams::from_sigma(k, d, r, self.y.clone(), s)
    }
}

/// Dot product with eight independent accumulators (a single running sum is
/// a serial dependency chain). The reference definition of the summation
/// order: the dispatched row passes of [`wpass`] give these bits.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(p, q)| p * q).sum();
    for (pa, pb) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += pa[l] * pb[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// `row <- keep row - g old`, then `row . new`, in one pass; the dot product
/// uses the same eight accumulators and tail as [`dot`], so the result is
/// bit-identical to the two passes. The scalar reference of
/// [`wpass::update_rows`] (the tests compare them bit for bit).
#[inline]
pub fn update_dot(row: &mut [f64], keep: f64, g: f64, old: &[f64], new: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let n8 = row.len() / 8 * 8;
    let (body, tail) = row.split_at_mut(n8);
    for ((w, o), x) in body.chunks_exact_mut(8).zip(old.chunks_exact(8)).zip(new.chunks_exact(8)) {
        for l in 0..8 {
            w[l] = keep * w[l] - g * o[l];
            acc[l] += w[l] * x[l];
        }
    }
    for (w, o) in tail.iter_mut().zip(&old[n8..]) {
        *w = keep * *w - g * o;
    }
    let t: f64 = tail.iter().zip(&new[n8..]).map(|(p, q)| p * q).sum();
    acc.iter().sum::<f64>() + t
}

/// One simulated run on the output grid.
#[derive(Clone, Debug, Serialize)]
pub struct TeacherRun {
    pub seed: u64,
    pub times: Vec<f64>,
    pub order: Vec<OrderParams>,
    /// Measures from the measured order parameters (same code as theory).
    pub metrics: Vec<TeacherMetrics>,
    /// Nearest-label accuracy on [`TEST_SAMPLES`] fresh samples.
    pub empirical_accuracy: Vec<f64>,
}

/// Simulates one seed of online SGD, recording at the grid times snapped to
/// whole steps (`t = steps / D`).
pub fn simulate_online(cfg: &TeacherConfig, scorer: &TeacherScorer, seed: u64) -> Result<TeacherRun> {
    let stream = Stream::from_config(cfg);
    let mut student = Student::initial(cfg, seed);
    let scale0 = student.magnitude();
    let mut ws = StepWorkspace::new(cfg.dim, cfg.input_dim);
    let mut rng = SampleRng::seed_from_u64(seed);
    let mut test_rng = SampleRng::seed_from_u64(seed ^ 0x7e57_0000);
    let step_time = 1.0 / cfg.input_dim as f64;
    crate::limits::check_sim_steps("input_dim", cfg.input_dim, cfg.t_max, step_time)?;
    let grid = step_grid(&cfg.time_grid(), step_time);
    let mut run = TeacherRun { seed, times: Vec::new(), order: Vec::new(), metrics: Vec::new(), empirical_accuracy: Vec::new() };
    let plain = cfg.optimizer.is_plain_gd();
    let mut opt = OptimizerState::new(cfg.optimizer, student.w.len() + student.y.len());
    let mut done = 0u64;
    for &target in &grid {
        while done < target {
            crate::limits::poll_deadline(done, step_time, || format!("teacher-student online SGD (seed {seed})"))?;
            let (_, l) = stream.sample(&mut rng, &mut ws.xi);
            if plain {
                student.deferred_step(l, cfg.eta_x, cfg.eta_y, &mut ws);
            } else {
                student.optimizer_step(l, cfg.eta_x, cfg.eta_y, &mut opt, &mut ws);
            }
            done += 1;
        }
        student.flush(&mut ws);
        let size = student.magnitude();
        if diverged(size, scale0) {
            return Err(Error::Divergence {
                what: "teacher-student online SGD".into(),
                detail: format!("parameters reached {size:.3e} (initially {scale0:.3e}) at t = {}", done as f64 * step_time),
                advice: "lower eta_x (SGD needs eta_x < 2, with momentum eta_x/(1-beta) < 2), eta_y or the input scale (a, sigma)".into(),
            });
        }
        let t = done as f64 * step_time;
        let op = student.order_params();
        run.metrics.push(scorer.measure(t, &op));
        run.order.push(op);
        run.times.push(t);
        run.empirical_accuracy.push(empirical_accuracy(&student, &stream, &mut test_rng, &mut ws));
    }
    Ok(run)
}

/// Growth factor beyond which a run counts as diverged. Every stable
/// regime keeps the parameters within a few times their initial size or the
/// teacher's scale; a run that grows by 1e8 is on its way to overflow, and its
/// finite but absurd numbers (losses of 1e200) must not be reported as
/// results, whatever `t_max` is.
pub const DIVERGENCE_GROWTH: f64 = 1e8;

/// Whether a parameter size `size` (NaN = not finite) has diverged from the
/// initial size `scale0`.
pub fn diverged(size: f64, scale0: f64) -> bool {
    !(size <= DIVERGENCE_GROWTH * scale0.max(1.0))
}

/// Fraction of [`TEST_SAMPLES`] fresh inputs whose nearest label is the
/// teacher class.
/// `ws` must have no pending update (its `xi` is used as scratch).
pub fn empirical_accuracy<R: NormalFill + ?Sized>(student: &Student, stream: &Stream, rng: &mut R, ws: &mut StepWorkspace) -> f64 {
    debug_assert!(!ws.has_pending, "flush the pending update before measuring");
    let (d, k) = (student.dim, student.classes);
    let mut correct = 0usize;
    for _ in 0..TEST_SAMPLES {
        let (c, _) = stream.sample(rng, &mut ws.xi);
        student.embed(&ws.xi, &mut ws.x);
        let nearest = (0..k)
            .map(|l| ((0..d).map(|i| (ws.x[i] - student.y[l * d + i]).powi(2)).sum::<f64>(), l))
            .min_by(|p, q| p.0.total_cmp(&q.0))
            .map(|p| p.1)
            .unwrap_or(0);
        correct += usize::from(nearest == c);
    }
    correct as f64 / TEST_SAMPLES as f64
}

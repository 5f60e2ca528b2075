//! Microscopic simulation of Model E (`docs/embedding.md` section 2).
//!
//! Full-batch gradient descent is the explicit Euler discretisation of
//!
//! ```text
//!     dx_i/dt = -eta_x sum_c A_ic (x_i - y_c)
//!     dy_c/dt = -(eta_y / n) sum_i A_ic (y_c - x_i)
//! ```
//!
//! with step `dt`. Minibatch SGD runs over the `P` (sample, label) pairs with
//! positive weight: every epoch visits each pair once in a fresh random order,
//! `batch` pairs per step, each pair contributing its weighted gradient
//! `A_ic (x_i - y_c)` at rates `eta_x dt` and `eta_y dt / n`. An epoch equals
//! one full-batch step, so a step advances time by `dt * batch / P` and
//! `batch = P` is exactly gradient descent. The noise is the reshuffling of
//! pairs: a frustrated sample is pulled towards its two labels at different
//! moments. That noise is multiplicative: it scales with the current
//! geometry, so it cannot by itself make a contracting geometry lose
//! accuracy. Optional additive Langevin noise of temperature `T` (each step
//! adds `sqrt(2 T tau) xi` to every sample, `tau` the time per step) models a
//! noise source that does not scale with the geometry, such as input
//! augmentation; it keeps a floor `~ sqrt(T / eta_x)` on the within-class
//! spread. In plain minibatch SGD a sample not in the batch moves by noise
//! alone, so its `k` pending kicks are added as one `sqrt(k)`-scaled kick
//! when it is next read or measured: the same law with `batch / N` of the
//! normals.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::error::{num, Error, Result};
use crate::models::embedding::config::EmbeddingConfig;
use crate::models::embedding::optimizer::OptimizerState;
use crate::models::embedding::sphere::{self, Loss};
use crate::models::common::frustration::LabelWeights;
use crate::models::common::metrics::{measure, Metrics, MetricsWorkspace};
use crate::random::BlockNormalRng;
use crate::simd::{self, Level};

/// Embeddings: samples `x` (N x d) and labels `y` (K x d), row-major.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Embeddings {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub dim: usize,
}

impl Embeddings {
    /// Random start: `y_c ~ N(0, I_d)`, `x_i ~ N(0, init_scale^2 I_d)`, from a
    /// ChaCha8 stream seeded by `seed` (bit-reproducible).
    pub fn random(a: &LabelWeights, dim: usize, init_scale: f64, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let y: Vec<f64> = (0..a.classes() * dim).map(|_| StandardNormal.sample(&mut rng)).collect();
        let x = (0..a.samples() * dim).map(|_| { let z: f64 = StandardNormal.sample(&mut rng); init_scale * z }).collect();
        Embeddings { x, y, dim }
    }
}

/// One simulated run: metrics on the output grid plus the initial state the
/// theory starts from.
#[derive(Clone, Debug, Serialize)]
pub struct SimulationRun {
    pub seed: u64,
    pub metrics: Vec<Metrics>,
    #[serde(skip)]
    pub initial: Embeddings,
}

/// Preallocated buffers of the update rules: nothing is allocated per step.
struct Workspace {
    gd_scratch: Vec<f64>,
    label_delta: Vec<f64>,
    sample_delta: Vec<f64>,
    order: Vec<usize>,
}

/// Scalar rates of the update rules.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    pub eta_x: f64,
    pub eta_y: f64,
    /// `n = N / K`.
    pub per_class: f64,
}

/// Samples per chunk of the parallel gradient-descent step. The class sums
/// `sum_i A_ic x_i` are accumulated per chunk (samples in index order) and
/// the chunk sums are then added in chunk order, so the result depends on
/// this constant but not on the number of threads. With `N <= GD_CHUNK`
/// there is one chunk and the order is the plain serial one.
pub const GD_CHUNK: usize = 2048;

/// One full-batch gradient-descent step, in place, with old values on the
/// right-hand side:
///
/// ```text
///     x_i <- x_i - dt eta_x (x_i - sum_c A_ic y_c)
///     y_c <- y_c - (dt eta_y / n) (m_c y_c - sum_i A_ic x_i)
/// ```
///
/// Samples are processed in chunks of [`GD_CHUNK`] in parallel (rayon); each
/// chunk accumulates its own class sums, and the chunk sums are reduced in
/// chunk order, so the step is bit-identical for any thread count.
/// `scratch` grows once to `chunks x (K + 1) x d` values (no allocation on
/// later steps with the same shape).
pub fn gd_step(a: &LabelWeights, e: &mut Embeddings, r: Rates, dt: f64, scratch: &mut Vec<f64>) {
    gd_step_on(simd::level(), a, e, r, dt, scratch)
}

/// [`gd_step`] with the chunk pass compiled for a given instruction-set
/// level (one of [`simd::supported`]): the pass is elementwise over the
/// coordinates, so every level gives the same bits (the tests compare them).
pub fn gd_step_on(level: Level, a: &LabelWeights, e: &mut Embeddings, r: Rates, dt: f64, scratch: &mut Vec<f64>) {
    let (d, k, n) = (e.dim, a.classes(), a.samples());
    let chunks = n.div_ceil(GD_CHUNK).max(1);
    // Per chunk: K x d class sums, then a d-long target buffer.
    let per = (k + 1) * d;
    if scratch.len() < chunks * per {
        scratch.resize(chunks * per, 0.0);
    }
    let cx = dt * r.eta_x;
    let y = &e.y;
    let chunk = chunk_pass(level, d);
    let work = |(ci, (xs, buf)): (usize, (&mut [f64], &mut [f64]))| {
        let (pull, target) = buf.split_at_mut(k * d);
        // SAFETY: chunk_pass returns a level's build only for a level the
        // CPU has (simd::level, or simd::supported in the tests).
        unsafe { chunk(a, ci * GD_CHUNK, xs, y, d, cx, pull, target) };
    };
    if chunks > 1 {
        use rayon::prelude::*;
        e.x.par_chunks_mut(GD_CHUNK * d).zip(scratch[..chunks * per].par_chunks_mut(per)).enumerate().for_each(work);
    } else {
        e.x.chunks_mut(GD_CHUNK * d).zip(scratch[..chunks * per].chunks_mut(per)).enumerate().for_each(work);
    }
    // Class sums: chunk sums added in chunk order into chunk 0's buffer
    // (0 + s_0 = s_0 exactly, so one chunk reproduces the serial sum).
    let (first, rest) = scratch[..chunks * per].split_at_mut(per);
    for part in rest.chunks(per) {
        for (s, v) in first[..k * d].iter_mut().zip(&part[..k * d]) {
            *s += v;
        }
    }
    let label_pull = &first[..k * d];
    let cy = dt * r.eta_y / r.per_class;
    for c in 0..k {
        let m = a.class_mass(c);
        for j in 0..d {
            e.y[c * d + j] -= cy * (m * e.y[c * d + j] - label_pull[c * d + j]);
        }
    }
}

/// Signature of one chunk pass ([`gd_chunk`]); `unsafe` because the AVX
/// builds need the CPU feature.
type ChunkPass = unsafe fn(&LabelWeights, usize, &mut [f64], &[f64], usize, f64, &mut [f64], &mut [f64]);

/// The chunk pass compiled for the common dimensions (loops of constant
/// length unroll and the target stays in registers), and once for any d,
/// each at the instruction-set `level`: the same operations in the same
/// order, so the step is bit-identical on every path. Portable SSE2 code
/// moves 2 coordinates per instruction, AVX-512 8: at d = 32 the portable
/// pass was bound by its instructions, not by the stream of `x`.
fn chunk_pass(level: Level, d: usize) -> ChunkPass {
    macro_rules! by_dim {
        ($f:ident) => {
            match d {
                2 => $f::<2>,
                4 => $f::<4>,
                8 => $f::<8>,
                16 => $f::<16>,
                32 => $f::<32>,
                64 => $f::<64>,
                _ => $f::<0>,
            }
        };
    }
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => by_dim!(gd_chunk_avx512),
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => by_dim!(gd_chunk_avx2),
        _ => by_dim!(gd_chunk),
    }
}

/// [`gd_chunk`] compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn gd_chunk_avx512<const D: usize>(a: &LabelWeights, first: usize, xs: &mut [f64], y: &[f64], d: usize, cx: f64, pull: &mut [f64], target: &mut [f64]) {
    gd_chunk::<D>(a, first, xs, y, d, cx, pull, target)
}

/// [`gd_chunk`] compiled with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn gd_chunk_avx2<const D: usize>(a: &LabelWeights, first: usize, xs: &mut [f64], y: &[f64], d: usize, cx: f64, pull: &mut [f64], target: &mut [f64]) {
    gd_chunk::<D>(a, first, xs, y, d, cx, pull, target)
}

/// Sample update and class sums of the samples `first..first + xs.len()/d`.
/// Coordinates run in the inner loops (contiguous, so they vectorise); the
/// target `sum_c A_ic y_cj` adds the same terms in the same order as a
/// per-coordinate sum over the row, so it is bit-identical to it.
/// `D` is the dimension when it is one of the compiled ones, 0 for any.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn gd_chunk<const D: usize>(a: &LabelWeights, first: usize, xs: &mut [f64], y: &[f64], d: usize, cx: f64, pull: &mut [f64], target: &mut [f64]) {
    debug_assert!(D == 0 || D == d);
    let d = if D == 0 { d } else { D };
    pull.fill(0.0);
    let mut local = [0.0f64; 64];
    let target = if D == 0 { &mut target[..d] } else { &mut local[..d] };
    for (off, xi) in xs.chunks_exact_mut(d).enumerate() {
        let xi = &mut xi[..d];
        let (cols, vals) = a.row_slices(first + off);
        target.fill(0.0);
        for (&c, &w) in cols.iter().zip(vals) {
            let pc = &mut pull[c * d..(c + 1) * d];
            for (p, &xv) in pc.iter_mut().zip(xi.iter()) {
                *p += w * xv;
            }
            for (t, &yv) in target.iter_mut().zip(&y[c * d..(c + 1) * d]) {
                *t += w * yv;
            }
        }
        for (xv, &t) in xi.iter_mut().zip(target.iter()) {
            *xv -= cx * (*xv - t);
        }
    }
}

/// Cheap finiteness probe (all labels, a strided subset of samples).
fn check_finite(e: &Embeddings) -> bool {
    e.y.iter().all(|v| v.is_finite()) && e.x.iter().step_by(7).all(|v| v.is_finite())
}

/// The stream of the additive Langevin noise of a run with seed `s`, from
/// [`BlockNormalRng`] seeded with `s ^ 0x1a6e_0015` (see its module doc for
/// the lane layout): one block of `N d` standard normals per step, in
/// sample-major order, for full-batch and optimiser runs; for plain minibatch
/// SGD one block per step holding the pending noise of that batch's samples
/// (and of all samples at each recorded time), see `LangevinNoise::catch_up`. Before issue 11 the noise came one `StandardNormal`
/// draw at a time from the ChaCha8 pair-order stream ([`sgd_rng`]); it now
/// has a stream of its own, and the noisy runs' numbers changed within
/// their statistical error.
pub fn noise_rng(seed: u64) -> BlockNormalRng {
    BlockNormalRng::seed_from_u64(seed ^ 0x1a6e_0015)
}

/// Preallocated state of the Langevin noise: generator, one step's normals
/// `z` (N x d), the amplitude `sqrt(2 T tau)` and, for lazy minibatch noise,
/// the number of noise steps each sample has received.
struct LangevinNoise {
    rng: BlockNormalRng,
    z: Vec<f64>,
    amp: f64,
    /// `applied[i]`: steps of noise already added to sample `i` (lazy mode).
    applied: Vec<u64>,
    /// Samples of the current call with noise pending, and how many steps
    /// of it (lazy mode).
    pending: Vec<(usize, u64)>,
}

impl LangevinNoise {
    /// Every sample receives `sqrt(2 T tau) xi` this step (one normal per
    /// coordinate of `x`).
    fn add_to_all(&mut self, x: &mut [f64]) {
        self.rng.fill_standard_normal(&mut self.z);
        for (v, z) in x.iter_mut().zip(&self.z) {
            *v += self.amp * z;
        }
    }

    /// Brings the samples `rows` up to `step` noise steps. Between two
    /// minibatches that touch it, a sample moves by noise alone, and the sum
    /// of `k` independent `N(0, 2 T tau)` kicks is one `N(0, 2 T tau k)` kick:
    ///
    /// ```text
    ///     x_i <- x_i + sqrt(2 T tau) sqrt(k) xi,   k = step - applied[i]
    /// ```
    ///
    /// so adding the pending noise just before the sample is read again gives
    /// the same law as adding it every step, with `batch / N` of the normals.
    /// The normals of one call come in one block, sample by sample in the
    /// order of `rows` (a row listed twice is brought up to date once).
    fn catch_up(&mut self, x: &mut [f64], d: usize, step: u64, rows: impl Iterator<Item = usize>) {
        self.pending.clear();
        for i in rows {
            if self.applied[i] < step {
                // Marked at once, so that a repeated row is queued only once.
                self.pending.push((i, step - self.applied[i]));
                self.applied[i] = step;
            }
        }
        let m = self.pending.len() * d;
        if m == 0 {
            return;
        }
        self.rng.fill_standard_normal(&mut self.z[..m]);
        for (b, &(i, k)) in self.pending.iter().enumerate() {
            let scale = self.amp * (k as f64).sqrt();
            for j in 0..d {
                x[i * d + j] += scale * self.z[b * d + j];
            }
        }
    }
}

/// Random stream of a run's SGD pair order: stream 1 of the run's seed,
/// independent of the initial state (stream 0) and of the data design
/// (stream 2). Shared by every model so their SGD runs are comparable.
pub fn sgd_rng(seed: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1);
    rng
}

/// Simulates one seed of Model E, recording metrics at the grid times
/// snapped to whole steps. Fails with [`Error::Divergence`] naming the largest
/// stable `dt` if the iteration blows up.
///
/// `max_stable_dt` is gradient descent's bound `2/lambda_max`; a momentum
/// optimiser scales it by [`Optimizer::stable_step_factor`](crate::models::embedding::optimizer::Optimizer::stable_step_factor).
pub fn simulate(cfg: &EmbeddingConfig, a: &LabelWeights, max_stable_dt: f64, seed: u64) -> Result<SimulationRun> {
    let max_stable_dt = max_stable_dt * cfg.optimizer.stable_step_factor();
    if cfg.dt >= max_stable_dt {
        return Err(unstable(cfg.dt, max_stable_dt, "before the first step"));
    }
    let cosine = cfg.loss == Loss::Cosine;
    let mut start = Embeddings::random(a, cfg.dim, cfg.init_scale, seed);
    if cosine {
        sphere::normalize_rows(&mut start.x, cfg.dim);
        sphere::normalize_rows(&mut start.y, cfg.dim);
    }
    let mut e = start.clone();
    let r = Rates { eta_x: cfg.eta_x, eta_y: cfg.eta_y, per_class: a.per_class() };
    let pairs = a.pairs();
    let batch = cfg.batch.unwrap_or(pairs);
    let step_time = cfg.dt * batch as f64 / pairs as f64;
    crate::limits::check_sim_steps("dt", cfg.dt, cfg.t_max, step_time)?;
    let steps = step_grid(&cfg.time_grid(), step_time);
    let mut ws = Workspace {
        gd_scratch: Vec::new(),
        label_delta: vec![0.0; a.classes() * cfg.dim],
        sample_delta: vec![0.0; batch * cfg.dim],
        order: (0..pairs).collect(),
    };
    let pair_rows = a.pair_row_index();
    let mut rng = sgd_rng(seed);
    let mut noise = (cfg.noise > 0.0).then(|| LangevinNoise {
        rng: noise_rng(seed),
        z: vec![0.0; e.x.len()],
        amp: (2.0 * cfg.noise * step_time).sqrt(),
        applied: vec![0; a.samples()],
        pending: Vec::with_capacity(a.samples()),
    });
    let mut mws = MetricsWorkspace::new(a.classes(), cfg.dim);
    let scale0 = start.y.iter().map(|v| v.abs()).fold(1.0, f64::max);
    let mut metrics = Vec::with_capacity(steps.len());
    let (mut done, mut cursor) = (0u64, pairs);
    // The optimiser wraps the step below (no buffers and no calls for plain GD).
    let plain = cfg.optimizer.is_plain_gd();
    // Plain minibatch SGD reads and moves only the batch's samples, so their
    // Langevin noise can be added when they are next read (`catch_up`); an
    // optimiser with state, the sphere and full-batch steps touch every
    // sample every step and take the noise every step.
    let lazy_noise = plain && !cosine && cfg.batch.is_some();
    let d = cfg.dim;
    let nx = e.x.len();
    let mut opt = OptimizerState::new(cfg.optimizer, nx + e.y.len());
    for &target in &steps {
        while done < target {
            crate::limits::poll_deadline(done, step_time, || format!("Model E simulation (seed {seed})"))?;
            if !plain {
                opt.next_step();
                opt.begin(0, &mut e.x);
                opt.begin(nx, &mut e.y);
            }
            if cosine {
                let d = e.dim;
                sphere::gd_step(a, &mut e.x, &mut e.y, d, cfg.dt * r.eta_x, cfg.dt * r.eta_y / r.per_class, &mut ws.gd_scratch);
            } else if cfg.batch.is_none() {
                gd_step(a, &mut e, r, cfg.dt, &mut ws.gd_scratch);
            } else {
                if cursor + batch > pairs {
                    ws.order.shuffle(&mut rng);
                    cursor = 0;
                }
                let rows = &ws.order[cursor..cursor + batch];
                if let Some(noise) = noise.as_mut().filter(|_| lazy_noise) {
                    noise.catch_up(&mut e.x, d, done, rows.iter().map(|&p| pair_rows[p]));
                }
                sgd_step(a, &pair_rows, &mut e, r, cfg.dt, rows, &mut ws.label_delta, &mut ws.sample_delta);
                cursor += batch;
            }
            if !plain {
                opt.finish(0, &mut e.x, cfg.dt * r.eta_x, 0.0);
                opt.finish(nx, &mut e.y, cfg.dt * r.eta_y, 0.0);
            }
            if let Some(noise) = noise.as_mut().filter(|_| !lazy_noise) {
                noise.add_to_all(&mut e.x);
            }
            done += 1;
        }
        if let Some(noise) = noise.as_mut().filter(|_| lazy_noise) {
            // Every sample is measured: bring all of them up to date.
            noise.catch_up(&mut e.x, d, done, 0..a.samples());
        }
        let t = done as f64 * step_time;
        let m = measure(t, &e.x, &e.y, a, cfg.dim, &mut mws);
        if !check_finite(&e) || !m.loss.is_finite() || m.mean_label_distance > 1e8 * scale0 {
            return Err(unstable(cfg.dt, max_stable_dt, &format!("at t = {} (seed {seed})", num(t))));
        }
        metrics.push(m);
    }
    Ok(SimulationRun { seed, metrics, initial: start })
}

fn unstable(dt: f64, max_dt: f64, when: &str) -> Error {
    Error::Divergence {
        what: "Model E gradient descent".into(),
        detail: format!("step dt = {} is unstable {when}: the iteration x <- (I - dt L) x amplifies the fastest mode", num(dt)),
        advice: format!("use dt < {} (= 2 / largest rate of the linear dynamics); dt <= {} keeps the discretisation error small", num(max_dt), num(max_dt / 5.0)),
    }
}

/// One SGD step over the pairs `batch` (indices into the pair list), with
/// every gradient evaluated at the old state (a true minibatch step).
#[allow(clippy::too_many_arguments)]
fn sgd_step(
    a: &LabelWeights,
    pair_rows: &[usize],
    e: &mut Embeddings,
    r: Rates,
    dt: f64,
    batch: &[usize],
    label_delta: &mut [f64],
    sample_delta: &mut [f64],
) {
    let d = e.dim;
    label_delta.fill(0.0);
    let (cx, cy) = (dt * r.eta_x, dt * r.eta_y / r.per_class);
    for (b, &p) in batch.iter().enumerate() {
        let i = pair_rows[p];
        let (c, w) = a.pair(p);
        for j in 0..d {
            let diff = e.x[i * d + j] - e.y[c * d + j];
            sample_delta[b * d + j] = -cx * w * diff;
            label_delta[c * d + j] += cy * w * diff;
        }
    }
    for (b, &p) in batch.iter().enumerate() {
        let i = pair_rows[p];
        for j in 0..d {
            e.x[i * d + j] += sample_delta[b * d + j];
        }
    }
    for (yv, dv) in e.y.iter_mut().zip(label_delta.iter()) {
        *yv += dv;
    }
}

/// Step counts at which to record: each grid time rounded to whole steps,
/// duplicates removed.
pub fn step_grid(times: &[f64], step_time: f64) -> Vec<u64> {
    let mut s: Vec<u64> = times.iter().map(|t| (t / step_time).round() as u64).collect();
    s.dedup();
    s
}

/// Mean inter-label cosine ([`sphere::mean_label_cosine`]) of one seed's
/// full-batch run under `cfg` (either loss) at each time of `times`
/// (sorted, snapped to whole steps): the label-geometry measure of the
/// sphere study, which [`simulate`]'s metrics do not record.
pub fn label_cosine_trajectory(cfg: &EmbeddingConfig, a: &LabelWeights, seed: u64, times: &[f64]) -> Vec<f64> {
    let d = cfg.dim;
    let mut e = Embeddings::random(a, d, cfg.init_scale, seed);
    let cosine = cfg.loss == Loss::Cosine;
    if cosine {
        sphere::normalize_rows(&mut e.x, d);
        sphere::normalize_rows(&mut e.y, d);
    }
    let r = Rates { eta_x: cfg.eta_x, eta_y: cfg.eta_y, per_class: a.per_class() };
    let mut scratch = Vec::new();
    let mut done = 0u64;
    step_grid(times, cfg.dt)
        .into_iter()
        .map(|target| {
            while done < target {
                if cosine {
                    sphere::gd_step(a, &mut e.x, &mut e.y, d, cfg.dt * r.eta_x, cfg.dt * r.eta_y / r.per_class, &mut scratch);
                } else {
                    gd_step(a, &mut e, r, cfg.dt, &mut scratch);
                }
                done += 1;
            }
            sphere::mean_label_cosine(&e.y, a.classes(), d)
        })
        .collect()
}

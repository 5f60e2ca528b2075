//! Microscopic simulation of Model H: a head `W` (d x d) shared by the sample
//! and the label branch (`docs/head.md`).
//!
//! With `ybar_i = sum_c A_ic y_c`, `S_c = sum_i A_ic x_i`, `h = 1` for the
//! full gradient (`head`) and `0` otherwise, and weight decay `lambda`
//! scaled by each parameter's own rate (the usual `theta -= lr (g + wd theta)`),
//! gradient descent is the Euler discretisation of
//!
//! ```text
//!   dx_i/dt = -eta_x [ W^T (W x_i - ybar_i) + h (x_i - W ybar_i) + lambda x_i ]
//!   dy_c/dt = -(eta_y/n) [ W^T (m_c W y_c - S_c)                          ] - eta_y lambda y_c   (symmetric)
//!             -(eta_y/n) [ (m_c y_c - W S_c) + W^T (m_c W y_c - S_c)      ] - eta_y lambda y_c   (head)
//!             -(eta_y/n) [ m_c y_c - S_c                                  ] - eta_y lambda y_c   (asymmetric, none, sg-only)
//!   dW/dt   = -(eta_w/N) [ sum_i (W x_i - ybar_i) x_i^T + g2 sum_c (m_c W y_c - S_c) y_c^T ] - eta_w lambda W
//! ```
//!
//! with `g2 = 1` for `symmetric` and `head` (the label branch's loss `l2`
//! trains W), `g2 = 0` for `asymmetric`, and `W = I` frozen for `none` and
//! `sg-only` (which then coincide with Model E). Minibatch SGD visits the
//! (sample, label) pairs as in Model E: each pair contributes its weighted
//! gradient, the sample's decay rides on its pairs (the weights of a row sum
//! to one), and the label and head decays are applied every step with the
//! fraction `batch / P` of an epoch.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::engine::sorted_eigenvalues;
use crate::error::{Error, Result};
use crate::models::embedding::simulation::{step_grid, Embeddings};
use crate::models::common::frustration::LabelWeights;
use crate::models::head::config::{HeadConfig, Variant};
use crate::models::common::metrics::{measure, Metrics, MetricsWorkspace};

/// The monomorphised pass for embedding dimension `d` (1..=8, loops fully
/// unrolled, no bounds checks), or the generic one (`D = 0`) for any `d`.
macro_rules! by_dimension {
    ($pass:ident, $d:expr) => {
        match $d {
            1 => $pass::<1>,
            2 => $pass::<2>,
            3 => $pass::<3>,
            4 => $pass::<4>,
            5 => $pass::<5>,
            6 => $pass::<6>,
            7 => $pass::<7>,
            8 => $pass::<8>,
            _ => $pass::<0>,
        }
    };
}

/// Sample embeddings `x` (N x d), labels `y` (K x d) and head `w` (d x d),
/// all row-major.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeadState {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Vec<f64>,
    pub dim: usize,
}

impl HeadState {
    /// The Model E random start ([`Embeddings::random`], so `none` and
    /// `sg-only` reproduce Model E seed by seed) and `W = I + noise G / sqrt(d)`
    /// with `G` standard normal from an independent stream.
    pub fn random(a: &LabelWeights, dim: usize, init_scale: f64, noise: f64, seed: u64) -> Self {
        let e = Embeddings::random(a, dim, init_scale, seed);
        // Stream 3 of the seed: the head's start is independent of the embeddings.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(3);
        let mut w = vec![0.0; dim * dim];
        for (k, v) in w.iter_mut().enumerate() {
            let z: f64 = StandardNormal.sample(&mut rng);
            *v = f64::from(u8::from(k / dim == k % dim)) + noise * z / (dim as f64).sqrt();
        }
        HeadState { x: e.x, y: e.y, w, dim }
    }
}

/// The rates and switches of one variant.
#[derive(Clone, Copy, Debug)]
pub struct HeadRates {
    pub variant: Variant,
    pub eta_x: f64,
    pub eta_y: f64,
    pub eta_w: f64,
    pub weight_decay: f64,
}

impl HeadRates {
    pub fn from_config(cfg: &HeadConfig) -> Self {
        HeadRates { variant: cfg.variant, eta_x: cfg.base.eta_x, eta_y: cfg.base.eta_y, eta_w: cfg.eta_w, weight_decay: cfg.weight_decay }
    }
    fn h(&self) -> f64 {
        f64::from(u8::from(self.variant.full_gradient()))
    }
    fn label_uses_head(&self) -> bool {
        matches!(self.variant, Variant::Symmetric | Variant::Head)
    }
}

/// Preallocated buffers: nothing is allocated per step.
pub struct HeadWorkspace {
    /// `W x_i` (N x d).
    wx: Vec<f64>,
    /// `S_c = sum_i A_ic x_i` (K x d).
    s: Vec<f64>,
    /// `W y_c` (K x d).
    wy: Vec<f64>,
    /// Head gradient (d x d).
    gw: Vec<f64>,
    /// Per-label update (K x d).
    dy: Vec<f64>,
    /// Per-sample update (N x d for GD, batch x d for SGD).
    dx: Vec<f64>,
    r: Vec<f64>,
    t: Vec<f64>,
}

impl HeadWorkspace {
    pub fn new(a: &LabelWeights, d: usize, batch: usize) -> Self {
        let (n, k) = (a.samples(), a.classes());
        HeadWorkspace {
            wx: vec![0.0; n * d],
            s: vec![0.0; k * d],
            wy: vec![0.0; k * d],
            gw: vec![0.0; d * d],
            dy: vec![0.0; k * d],
            dx: vec![0.0; n.max(batch) * d],
            r: vec![0.0; d],
            t: vec![0.0; d],
        }
    }
}

#[inline]
fn matvec(w: &[f64], v: &[f64], out: &mut [f64]) {
    let d = v.len();
    for j in 0..d {
        out[j] = (0..d).map(|l| w[j * d + l] * v[l]).sum();
    }
}
#[inline]
fn matvec_t(w: &[f64], v: &[f64], out: &mut [f64]) {
    let d = v.len();
    out.fill(0.0);
    for j in 0..d {
        for l in 0..d {
            out[l] += w[j * d + l] * v[j];
        }
    }
}

/// The per-sample part of [`gd_step`] for the dimension `D` (`0`: any,
/// read from the state): `r_i = W x_i - ybar_i`, `t_i = W ybar_i`, the class
/// sums `S_c += A_ic x_i`, the head gradient `G += r_i x_i^T` and the sample
/// gradient `W^T r_i + h (x_i - t_i) + lambda x_i`, in that order.
#[inline(always)]
fn sample_pass<const D: usize>(a: &LabelWeights, st: &HeadState, ws: &mut HeadWorkspace, h: f64, lam: f64, train: bool) {
    let d = if D == 0 { st.dim } else { D };
    debug_assert_eq!(d, st.dim);
    let w = &st.w[..d * d];
    let (y, wy) = (&st.y, &ws.wy);
    // For a fixed small `d` the per-sample vectors live on the stack, so they
    // stay in registers: accumulated in `ws`, the scalar stores of `r` were
    // reloaded as one 16-byte vector, a store-forwarding stall that took a
    // third of the pass. Same operations in the same order either way.
    let (mut wx, mut r, mut t) = ([0.0; 8], [0.0; 8], [0.0; 8]);
    let (wx, r, t) = if D == 0 { (&mut ws.wx[..d], &mut ws.r[..d], &mut ws.t[..d]) } else { (&mut wx[..d], &mut r[..d], &mut t[..d]) };
    for (i, (xi, dxi)) in st.x.chunks_exact(d).zip(ws.dx.chunks_exact_mut(d)).enumerate() {
        // Re-sliced so that the length is the constant `d` when `D > 0`.
        let (xi, dxi) = (&xi[..d], &mut dxi[..d]);
        let (cols, vals) = a.row_slices(i);
        matvec(w, xi, wx);
        // r accumulates ybar_i (negated below) and t accumulates W ybar_i,
        // each coordinate over the row's labels in row order.
        r.fill(0.0);
        t.fill(0.0);
        for (&c, &v) in cols.iter().zip(vals) {
            let (yc, wyc) = (&y[c * d..(c + 1) * d], &wy[c * d..(c + 1) * d]);
            let sc = &mut ws.s[c * d..(c + 1) * d];
            for j in 0..d {
                r[j] += v * yc[j];
                t[j] += v * wyc[j];
                sc[j] += v * xi[j];
            }
        }
        for j in 0..d {
            r[j] = wx[j] - r[j];
        }
        if train {
            for (gj, &rj) in ws.gw.chunks_exact_mut(d).zip(r.iter()) {
                for l in 0..d {
                    gj[l] += rj * xi[l];
                }
            }
        }
        matvec_t(w, r, dxi);
        for j in 0..d {
            dxi[j] += h * (xi[j] - t[j]) + lam * xi[j];
        }
    }
}

/// One full-batch gradient-descent step of the equations above, every
/// right-hand side evaluated at the old state.
///
/// The per-sample pass (all but `O(K d^2)` of the work) is compiled once per
/// small dimension (`d <= 8`, where the loops unroll completely) and once
/// for any `d`; every variant performs the same floating-point operations
/// in the same order, so the step is bit-identical whichever one runs.
pub fn gd_step(a: &LabelWeights, st: &mut HeadState, r: HeadRates, dt: f64, ws: &mut HeadWorkspace) {
    let d = st.dim;
    let (n_s, k) = (a.samples(), a.classes());
    let n = a.per_class();
    let h = r.h();
    let lam = r.weight_decay;
    ws.s.fill(0.0);
    ws.gw.fill(0.0);
    for c in 0..k {
        matvec(&st.w, &st.y[c * d..(c + 1) * d], &mut ws.wy[c * d..(c + 1) * d]);
    }
    let train = r.variant.trains_head();
    let pass = by_dimension!(sample_pass, d);
    pass(a, st, ws, h, lam, train);
    // Label gradients: q_c = m_c W y_c - S_c.
    for c in 0..k {
        let m = a.class_mass(c);
        for j in 0..d {
            ws.r[j] = m * ws.wy[c * d + j] - ws.s[c * d + j];
        }
        let yc = &st.y[c * d..(c + 1) * d];
        let dyc = &mut ws.dy[c * d..(c + 1) * d];
        if r.label_uses_head() {
            matvec_t(&st.w, &ws.r, dyc);
            if r.variant == Variant::Head {
                matvec(&st.w, &ws.s[c * d..(c + 1) * d], &mut ws.t);
                for j in 0..d {
                    dyc[j] += m * yc[j] - ws.t[j];
                }
            }
        } else {
            for j in 0..d {
                dyc[j] = m * yc[j] - ws.s[c * d + j];
            }
        }
        for j in 0..d {
            dyc[j] = dyc[j] / n + lam * yc[j];
        }
        if r.variant.trains_head() && r.label_uses_head() {
            for j in 0..d {
                for l in 0..d {
                    ws.gw[j * d + l] += ws.r[j] * yc[l];
                }
            }
        }
    }
    let (cx, cy, cw) = (dt * r.eta_x, dt * r.eta_y, dt * r.eta_w);
    for (xv, dv) in st.x.iter_mut().zip(&ws.dx[..n_s * d]) {
        *xv -= cx * dv;
    }
    for (yv, dv) in st.y.iter_mut().zip(&ws.dy) {
        *yv -= cy * dv;
    }
    if r.variant.trains_head() {
        let inv_n = 1.0 / n_s as f64;
        for (wv, g) in st.w.iter_mut().zip(&ws.gw) {
            *wv -= cw * (g * inv_n + lam * *wv);
        }
    }
}

/// The per-pair part of [`sgd_step`] for the dimension `D` (`0`: any), as
/// [`sample_pass`] for [`gd_step`]: same operations in the same order for
/// every `D`.
#[inline(always)]
fn pair_pass<const D: usize>(a: &LabelWeights, pair_rows: &[usize], st: &HeadState, r: HeadRates, batch: &[usize], ws: &mut HeadWorkspace) {
    let d = if D == 0 { st.dim } else { D };
    debug_assert_eq!(d, st.dim);
    let n = a.per_class();
    let h = r.h();
    let lam = r.weight_decay;
    let w = &st.w[..d * d];
    let (mut local, mut rr, mut t) = ([0.0; 16], [0.0; 8], [0.0; 8]);
    // W x_i, W y_c and the per-pair vectors: on the stack for small d (see
    // `sample_pass` for why), else in the workspace.
    let (wxi, wyc) = if D == 0 { ws.wx[..2 * d].split_at_mut(d) } else { local[..2 * d].split_at_mut(d) };
    let (rr, t) = if D == 0 { (&mut ws.r[..d], &mut ws.t[..d]) } else { (&mut rr[..d], &mut t[..d]) };
    for (&p, dxb) in batch.iter().zip(ws.dx.chunks_exact_mut(d)) {
        let i = pair_rows[p];
        let (c, v) = a.pair(p);
        let xi = &st.x[i * d..(i + 1) * d];
        let yc = &st.y[c * d..(c + 1) * d];
        let dxb = &mut dxb[..d];
        matvec(w, xi, wxi);
        matvec(w, yc, wyc);
        for j in 0..d {
            rr[j] = wxi[j] - yc[j];
        }
        matvec_t(w, rr, dxb);
        for j in 0..d {
            dxb[j] = v * (dxb[j] + h * (xi[j] - wyc[j]) + lam * xi[j]);
        }
        if r.variant.trains_head() {
            for (gj, &rj) in ws.gw.chunks_exact_mut(d).zip(rr.iter()) {
                for l in 0..d {
                    gj[l] += v * rj * xi[l];
                }
            }
        }
        // Label branch: q = W y_c - x_i.
        for j in 0..d {
            rr[j] = wyc[j] - xi[j];
        }
        if r.label_uses_head() {
            matvec_t(w, rr, t);
            if r.variant == Variant::Head {
                for j in 0..d {
                    t[j] += yc[j] - wxi[j];
                }
            }
            if r.variant.trains_head() {
                for (gj, &rj) in ws.gw.chunks_exact_mut(d).zip(rr.iter()) {
                    for l in 0..d {
                        gj[l] += v * rj * yc[l];
                    }
                }
            }
        } else {
            for j in 0..d {
                t[j] = yc[j] - xi[j];
            }
        }
        let dyc = &mut ws.dy[c * d..(c + 1) * d];
        for j in 0..d {
            dyc[j] += v * t[j] / n;
        }
    }
}

/// One minibatch SGD step over the pairs `batch` (indices into the pair
/// list), every gradient at the old state.
pub fn sgd_step(a: &LabelWeights, pair_rows: &[usize], st: &mut HeadState, r: HeadRates, dt: f64, batch: &[usize], ws: &mut HeadWorkspace) {
    let d = st.dim;
    let lam = r.weight_decay;
    let frac = batch.len() as f64 / a.pairs() as f64;
    ws.dy.fill(0.0);
    ws.gw.fill(0.0);
    let pass = by_dimension!(pair_pass, d);
    pass(a, pair_rows, st, r, batch, ws);
    let (cx, cy, cw) = (dt * r.eta_x, dt * r.eta_y, dt * r.eta_w);
    for (b, &p) in batch.iter().enumerate() {
        let i = pair_rows[p];
        for j in 0..d {
            st.x[i * d + j] -= cx * ws.dx[b * d + j];
        }
    }
    for (yv, dv) in st.y.iter_mut().zip(&ws.dy) {
        *yv -= cy * (dv + frac * lam * *yv);
    }
    if r.variant.trains_head() {
        let inv_n = 1.0 / a.samples() as f64;
        for (wv, g) in st.w.iter_mut().zip(&ws.gw) {
            *wv -= cw * (g * inv_n + frac * lam * *wv);
        }
    }
}

/// Orthonormal basis (rows, row-major `r x d`) of the label-geometry
/// subspace `span{y_c - mean_c y_c}`, by modified Gram-Schmidt; directions
/// with norm below `1e-10` of the largest centred label are dropped.
pub fn label_subspace(y: &[f64], k: usize, d: usize) -> Vec<f64> {
    let mean: Vec<f64> = (0..d).map(|j| (0..k).map(|c| y[c * d + j]).sum::<f64>() / k as f64).collect();
    let centred: Vec<Vec<f64>> = (0..k).map(|c| (0..d).map(|j| y[c * d + j] - mean[j]).collect()).collect();
    let scale = centred.iter().map(|v| norm(v)).fold(0.0, f64::max);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for mut v in centred {
        for _ in 0..2 {
            for b in &basis {
                let p: f64 = v.iter().zip(b).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(b).for_each(|(a, b)| *a -= p * b);
            }
        }
        let nv = norm(&v);
        if nv > 1e-10 * scale && nv > 0.0 {
            basis.push(v.iter().map(|a| a / nv).collect());
        }
    }
    basis.concat()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// Spectrum of the head restricted to the label-geometry subspace: the
/// eigenvalues `[re, im]` of the compression `Q^T W Q` (`Q` from
/// [`label_subspace`]), sorted by decreasing real part. This is `W`'s
/// spectrum on the subspace when `W` leaves it invariant (see
/// [`label_subspace_invariance`]); the `asymmetric` fixed point (`W = M`)
/// does, the `symmetric` one only guarantees it for `W^2` (`W^2 = M`).
pub fn head_label_spectrum(w: &[f64], y: &[f64], k: usize, d: usize) -> Vec<[f64; 2]> {
    compression_spectrum(w, &label_subspace(y, k, d), d)
}

/// `W^2` (row-major `d x d`).
pub fn square(w: &[f64], d: usize) -> Vec<f64> {
    (0..d * d).map(|i| (0..d).map(|m| w[(i / d) * d + m] * w[m * d + i % d]).sum()).collect()
}

/// Relative size of the part of `W Q` outside the label subspace,
/// `|(I - Q Q^T) W Q|_F / |W Q|_F`: zero when `W` maps the subspace into itself.
pub fn label_subspace_invariance(w: &[f64], y: &[f64], k: usize, d: usize) -> f64 {
    let q = label_subspace(y, k, d);
    let r = q.len() / d;
    let (mut out, mut all) = (0.0, 0.0);
    for b in 0..r {
        let wq: Vec<f64> = (0..d).map(|j| (0..d).map(|l| w[j * d + l] * q[b * d + l]).sum()).collect();
        let mut rest = wq.clone();
        for a in 0..r {
            let p: f64 = (0..d).map(|j| q[a * d + j] * wq[j]).sum();
            (0..d).for_each(|j| rest[j] -= p * q[a * d + j]);
        }
        out += rest.iter().map(|v| v * v).sum::<f64>();
        all += wq.iter().map(|v| v * v).sum::<f64>();
    }
    if all > 0.0 { (out / all).sqrt() } else { 0.0 }
}

fn compression_spectrum(w: &[f64], q: &[f64], d: usize) -> Vec<[f64; 2]> {
    let r = q.len() / d;
    if r == 0 {
        return Vec::new();
    }
    let b = faer::Mat::<f64>::from_fn(r, r, |a, bb| {
        let mut s = 0.0;
        for j in 0..d {
            for l in 0..d {
                s += q[a * d + j] * w[j * d + l] * q[bb * d + l];
            }
        }
        s
    });
    sorted_eigenvalues(&b).map(|ev| ev.iter().map(|e| [e.re, e.im]).collect()).unwrap_or_default()
}

/// Metrics of Model H at one time: the Model E measures computed in the
/// head's output space (samples `W x_i` against labels `y_c`; the loss is the
/// sample branch's `l1`), plus the head spectrum on the label subspace.
#[derive(Clone, Debug, Serialize)]
pub struct HeadMetrics {
    #[serde(flatten)]
    pub base: Metrics,
    pub head_spectrum: Vec<[f64; 2]>,
    /// Eigenvalues of the compression of `W^2` (exactly `M`'s non-trivial
    /// eigenvalues at the symmetric fixed point, invariant subspace or not).
    pub head_squared_spectrum: Vec<[f64; 2]>,
    /// [`label_subspace_invariance`] of `W`.
    pub head_invariance_residual: f64,
}

/// Measures a state (allocates only the small spectrum).
pub fn measure_head(t: f64, a: &LabelWeights, st: &HeadState, outputs: &mut [f64], mws: &mut MetricsWorkspace) -> HeadMetrics {
    let d = st.dim;
    for i in 0..a.samples() {
        matvec(&st.w, &st.x[i * d..(i + 1) * d], &mut outputs[i * d..(i + 1) * d]);
    }
    let q = label_subspace(&st.y, a.classes(), d);
    HeadMetrics {
        base: measure(t, outputs, &st.y, a, d, mws),
        head_spectrum: compression_spectrum(&st.w, &q, d),
        head_squared_spectrum: compression_spectrum(&square(&st.w, d), &q, d),
        head_invariance_residual: label_subspace_invariance(&st.w, &st.y, a.classes(), d),
    }
}

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
    for &target in &steps {
        while done < target {
            crate::limits::poll_deadline(done, step_time, || format!("Model H simulation (seed {seed})"))?;
            if b.batch.is_none() {
                gd_step(a, &mut st, r, b.dt, &mut ws);
            } else {
                if cursor + batch > pairs {
                    order.shuffle(&mut rng);
                    cursor = 0;
                }
                sgd_step(a, &pair_rows, &mut st, r, b.dt, &order[cursor..cursor + batch], &mut ws);
                cursor += batch;
            }
            done += 1;
        }
        let t = done as f64 * step_time;
        let m = measure_head(t, a, &st, &mut outputs, &mut mws);
        let finite = st.y.iter().chain(&st.w).all(|v| v.is_finite() && v.abs() < 1e8 * scale0) && m.base.loss.is_finite();
        if !finite {
            return Err(Error::Divergence {
                what: format!("Model H ({}) gradient descent", cfg.variant.name()),
                detail: format!("step dt = {} blew up at t = {t:.4} (seed {seed})", b.dt),
                advice: "reduce dt (the head makes the dynamics nonlinear: the stable step shrinks as |W|^2 and the rates grow)".into(),
            });
        }
        metrics.push(m);
    }
    Ok(HeadRun { seed, metrics, initial: start, last: st })
}

/// Simulates one seed from its random start on the config's time grid.
pub fn simulate(cfg: &HeadConfig, a: &LabelWeights, seed: u64) -> Result<HeadRun> {
    let start = HeadState::random(a, cfg.base.dim, cfg.base.init_scale, cfg.head_init_noise, seed);
    simulate_from(cfg, a, start, seed, &cfg.base.time_grid())
}

#[cfg(test)]
mod tests {
    //! The passes compiled for a fixed `D` against the generic pass (`D = 0`):
    //! `gd_step` and `sgd_step` promise the same bits whichever one runs.
    use super::*;
    use crate::models::head::config::HeadConfig;

    fn case(variant: &str, dim: usize) -> (LabelWeights, HeadState, HeadRates) {
        let sets: Vec<String> = [format!("variant={variant}"), "frustrated=0.3".into(), "weight_decay=0.07".into(), format!("dim={dim}"), "per_class=10".into()].into();
        let c = HeadConfig::from_sets(&sets).unwrap();
        let a = c.base.label_weights().unwrap();
        let st = HeadState::random(&a, dim, 1.0, 0.3, 11);
        (a, st, HeadRates::from_config(&c))
    }

    fn bits(ws: &HeadWorkspace) -> Vec<u64> {
        ws.dx.iter().chain(&ws.s).chain(&ws.gw).chain(&ws.dy).map(|v| v.to_bits()).collect()
    }

    #[test]
    fn fixed_dimension_passes_match_the_generic_pass_bit_for_bit() {
        for variant in ["head", "symmetric", "asymmetric", "sg-only"] {
            for dim in [3, 6] {
                let (a, st, r) = case(variant, dim);
                let pairs: Vec<usize> = (0..a.pairs()).step_by(3).take(16).collect();
                let rows = a.pair_row_index();
                let run = |fixed: bool| {
                    let mut ws = HeadWorkspace::new(&a, dim, pairs.len());
                    for c in 0..a.classes() {
                        matvec(&st.w, &st.y[c * dim..(c + 1) * dim], &mut ws.wy[c * dim..(c + 1) * dim]);
                    }
                    let (sample, pair) = if fixed { (by_dimension!(sample_pass, dim), by_dimension!(pair_pass, dim)) } else { (sample_pass::<0> as _, pair_pass::<0> as _) };
                    sample(&a, &st, &mut ws, r.h(), r.weight_decay, r.variant.trains_head());
                    let full = bits(&ws);
                    ws.gw.fill(0.0);
                    pair(&a, &rows, &st, r, &pairs, &mut ws);
                    (full, bits(&ws))
                };
                let (generic, fixed) = (run(false), run(true));
                assert!(generic.0.iter().any(|&b| b != 0), "{variant} d = {dim}: the pass wrote nothing");
                assert_eq!(generic, fixed, "{variant} d = {dim}: fixed-D pass differs from the generic one");
            }
        }
    }
}

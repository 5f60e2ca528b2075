//! Training an encoder and label embeddings in one embedding space, with
//! optional shared head (Model H's variants), by full-batch gradient descent
//! or minibatch SGD.
//!
//! Loss (Model E's, in embedding space): `L = sum_i sum_c A_ic l(i, c)`,
//! `l = 1/2 |x_i - y_c|^2` without a head. With a head `W` (d x d) the
//! per-pair terms and stop-gradients are Model H's (`models/head/simulation/`): with
//! `ybar_i = sum_c A_ic y_c`, `S_c = sum_i A_ic x_i`, `m_c = sum_i A_ic`,
//! in matrix form (rows are samples / labels)
//!
//! ```text
//!   R   = X W^T - Ybar                               (rows W x_i - ybar_i)
//!   G_x = R W + h (X - Ybar W^T)                     (dL/dx_i; h = 1 for the full gradient `head`)
//!   Q   = diag(m) Y W^T - S                          (rows m_c W y_c - S_c)
//!   G_y = Q W [+ diag(m) Y - S W^T for `head`]       (symmetric, head)
//!       = diag(m) Y - S                              (asymmetric, none, sg-only)
//!   G_W = R^T X + g2 Q^T Y                           (g2 = 1 for symmetric and head)
//! ```
//!
//! Updates per step of length `dt` (rates as in Models E and H; `n = N/K`):
//! encoder weights `theta -= dt eta_x (dtheta + lambda theta)` with `dtheta`
//! the back-propagation of `G_x` ([`Encoder::backward`]); labels
//! `Y -= dt eta_y (G_y / n + lambda Y)`; head `W -= dt eta_w (G_W / N + lambda W)`.
//! Weight decay acts on the encoder *weights* (Model H puts it on the free
//! embeddings; with an encoder the weights are the free parameters).
//! SGD visits every sample once per epoch in a fresh random order, `batch`
//! samples per step with their full label rows; a step advances time by
//! `dt * b / N` and the decays by the same fraction, so an epoch equals one
//! gradient-descent step.
use faer::linalg::matmul::matmul;
use faer::reborrow::IntoConst;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use super::config::{LabelMode, RealConfig};
use super::data::{split, Dataset, LabelColumn, Split};
use super::encoder::{Encoder, EncoderBuffers};
use super::noise::{one_hot_weights, Transition};
use crate::error::{Error, Result};
use crate::models::common::frustration::LabelWeights;
use crate::models::head::config::Variant;
use crate::models::common::metrics::{label_distances, measure, MetricsWorkspace};

/// Data shared by every seed and every configuration of a sweep that keeps
/// the data keys: the standardised split as faer matrices.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub split: Split,
    /// Training inputs (N x D) and held-out inputs as faer matrices.
    pub xi: Mat<f64>,
    pub xi_test: Mat<f64>,
}

impl Prepared {
    /// Loads the data (bundled digits unless `data_file`), splits and
    /// standardises it.
    pub fn new(cfg: &RealConfig) -> Result<Self> {
        let data = match &cfg.data_file {
            None => Dataset::digits()?,
            Some(p) => Dataset::from_file(p, &LabelColumn::parse(&cfg.label_column))?,
        };
        let split = split(&data, cfg.test_fraction, cfg.train_samples, cfg.split_seed, cfg.whiten)?;
        let to_mat = |d: &Dataset| Mat::from_fn(d.len(), d.dim, |i, j| d.features[i * d.dim + j]);
        Ok(Prepared { xi: to_mat(&split.train), xi_test: to_mat(&split.test), split })
    }
    pub fn classes(&self) -> usize {
        self.split.train.classes()
    }
    pub fn samples(&self) -> usize {
        self.split.train.len()
    }
    pub fn input_dim(&self) -> usize {
        self.split.train.dim
    }
    /// The label-noise transition matrix of `cfg` for these classes.
    pub fn transition(&self, cfg: &RealConfig) -> Result<Transition> {
        Transition::new(&cfg.noise_kind, cfg.noise_rate, self.classes())
    }
}

/// The labels of one noise draw.
#[derive(Clone, Debug)]
pub struct Labels {
    /// Observed labels (equal to the truth for `labels = soft`).
    pub observed: Vec<usize>,
    /// Label weights with the true class as primary.
    pub weights: LabelWeights,
    /// Dense `A` (N x K).
    pub a: Mat<f64>,
}

impl Labels {
    /// Draw `seed` of the noisy labels (sampled) or the soft rows of `T`.
    pub fn draw(cfg: &RealConfig, prep: &Prepared, seed: u64) -> Result<Self> {
        let truth = &prep.split.train.labels;
        let k = prep.classes();
        let transition = prep.transition(cfg)?;
        let (observed, weights) = match cfg.labels {
            LabelMode::Sampled => {
                let obs = transition.draw(truth, seed);
                let w = one_hot_weights(k, truth, &obs)?;
                (obs, w)
            }
            LabelMode::Soft => (truth.clone(), transition.soft_weights(truth)?),
        };
        let mut a = Mat::<f64>::zeros(truth.len(), k);
        for i in 0..truth.len() {
            for (c, v) in weights.row(i) {
                a[(i, c)] = v;
            }
        }
        Ok(Labels { observed, weights, a })
    }
}

/// Trainable state: encoder, labels `Y` (K x d) and head `W` (d x d).
#[derive(Clone, Debug)]
pub struct State {
    pub encoder: Encoder,
    pub y: Mat<f64>,
    pub w: Mat<f64>,
}

impl State {
    /// Encoder from stream 0 of `seed`, labels `N(0, 1)` from stream 1, head
    /// `I + noise G / sqrt(d)` from stream 3 (the streams of Model H).
    pub fn random(cfg: &RealConfig, prep: &Prepared, seed: u64) -> Self {
        let (d, k) = (cfg.dim, prep.classes());
        let encoder = Encoder::random(cfg.encoder, prep.input_dim(), d, cfg.init_scale, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let mut y = Mat::<f64>::zeros(k, d);
        for c in 0..k {
            for j in 0..d {
                y[(c, j)] = StandardNormal.sample(&mut rng);
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(3);
        let mut w = Mat::<f64>::zeros(d, d);
        for i in 0..d {
            for j in 0..d {
                let z: f64 = StandardNormal.sample(&mut rng);
                w[(i, j)] = f64::from(u8::from(i == j)) + cfg.head_init_noise * z / (d as f64).sqrt();
            }
        }
        State { encoder, y, w }
    }
}

/// Preallocated buffers of one training run.
pub struct Workspace {
    enc: EncoderBuffers,
    xb: Mat<f64>,
    ab: Mat<f64>,
    x: Mat<f64>,
    ybar: Mat<f64>,
    r: Mat<f64>,
    gx: Mat<f64>,
    s: Mat<f64>,
    q: Mat<f64>,
    gy: Mat<f64>,
    gw: Mat<f64>,
    mass: Vec<f64>,
    order: Vec<usize>,
}

impl Workspace {
    pub fn new(state: &State, n: usize, k: usize, batch: usize) -> Self {
        let (dd, d) = (state.encoder.input_dim, state.encoder.dim);
        let rows = batch.min(n).max(1);
        Workspace {
            enc: state.encoder.buffers(n.max(rows)),
            xb: Mat::zeros(rows, dd),
            ab: Mat::zeros(rows, k),
            x: Mat::zeros(n, d),
            ybar: Mat::zeros(n, d),
            r: Mat::zeros(n, d),
            gx: Mat::zeros(n, d),
            s: Mat::zeros(k, d),
            q: Mat::zeros(k, d),
            gy: Mat::zeros(k, d),
            gw: Mat::zeros(d, d),
            mass: vec![0.0; k],
            order: (0..n).collect(),
        }
    }
}

/// Rates and switches of one run.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    pub variant: Variant,
    pub eta_x: f64,
    pub eta_y: f64,
    pub eta_w: f64,
    pub weight_decay: f64,
}

impl Rates {
    pub fn from_config(cfg: &RealConfig) -> Self {
        Rates { variant: cfg.variant, eta_x: cfg.eta_x, eta_y: cfg.eta_y, eta_w: cfg.eta_w, weight_decay: cfg.weight_decay }
    }
}

/// One update on the samples `xi` (b x D) with label rows `a` (b x K):
/// `frac = b / N` of an epoch. `n_total` is `N`, `per_class` is `N/K`.
#[allow(clippy::too_many_arguments)]
fn update(st: &mut State, xi: MatRef<'_, f64>, a: MatRef<'_, f64>, r: Rates, dt: f64, frac: f64, n_total: usize, per_class: f64, ws: &mut Workspace) {
    let b = xi.nrows();
    let k = a.ncols();
    let v = r.variant;
    let h = f64::from(u8::from(v.full_gradient()));
    let label_uses_head = matches!(v, Variant::Symmetric | Variant::Head);
    let lam = r.weight_decay;
    let mut x = ws.x.as_mut().subrows_mut(0, b);
    st.encoder.forward(xi, x.as_mut(), &mut ws.enc);
    let x = x.into_const();
    let w = st.w.as_ref();
    let y = st.y.as_ref();
    let mut ybar = ws.ybar.as_mut().subrows_mut(0, b);
    matmul(ybar.as_mut(), Accum::Replace, a, y, 1.0, Par::Seq);
    let ybar = ybar.into_const();
    let mut rr = ws.r.as_mut().subrows_mut(0, b);
    matmul(rr.as_mut(), Accum::Replace, x, w.transpose(), 1.0, Par::Seq);
    sub_assign(rr.as_mut(), ybar);
    let rr = rr.into_const();
    let mut gx = ws.gx.as_mut().subrows_mut(0, b);
    matmul(gx.as_mut(), Accum::Replace, rr, w, 1.0, Par::Seq);
    if h != 0.0 {
        add_assign(gx.as_mut(), x);
        matmul(gx.as_mut(), Accum::Add, ybar, w.transpose(), -1.0, Par::Seq);
    }
    st.encoder.backward(xi, gx.as_ref(), &mut ws.enc);
    // Label side.
    for c in 0..k {
        ws.mass[c] = (0..b).map(|i| a[(i, c)]).sum();
    }
    matmul(ws.s.as_mut(), Accum::Replace, a.transpose(), x, 1.0, Par::Seq);
    let d = st.y.ncols();
    if label_uses_head || v.trains_head() {
        matmul(ws.q.as_mut(), Accum::Replace, y, w.transpose(), 1.0, Par::Seq);
        for j in 0..d {
            for c in 0..k {
                ws.q[(c, j)] = ws.mass[c] * ws.q[(c, j)] - ws.s[(c, j)];
            }
        }
    }
    if label_uses_head {
        matmul(ws.gy.as_mut(), Accum::Replace, ws.q.as_ref(), w, 1.0, Par::Seq);
        if v == Variant::Head {
            for j in 0..d {
                for c in 0..k {
                    ws.gy[(c, j)] += ws.mass[c] * y[(c, j)];
                }
            }
            matmul(ws.gy.as_mut(), Accum::Add, ws.s.as_ref(), w.transpose(), -1.0, Par::Seq);
        }
    } else {
        for j in 0..d {
            for c in 0..k {
                ws.gy[(c, j)] = ws.mass[c] * y[(c, j)] - ws.s[(c, j)];
            }
        }
    }
    if v.trains_head() {
        matmul(ws.gw.as_mut(), Accum::Replace, rr.transpose(), x, 1.0, Par::Seq);
        if label_uses_head {
            matmul(ws.gw.as_mut(), Accum::Add, ws.q.as_ref().transpose(), y, 1.0, Par::Seq);
        }
    }
    // Apply (every gradient above is at the old state).
    st.encoder.update(&ws.enc, dt * r.eta_x, frac * lam);
    let cy = dt * r.eta_y;
    for j in 0..d {
        for c in 0..k {
            let yv = st.y[(c, j)];
            st.y[(c, j)] = yv - cy * (ws.gy[(c, j)] / per_class + frac * lam * yv);
        }
    }
    if v.trains_head() {
        let cw = dt * r.eta_w;
        let inv_n = 1.0 / n_total as f64;
        for j in 0..d {
            for i in 0..d {
                let wv = st.w[(i, j)];
                st.w[(i, j)] = wv - cw * (ws.gw[(i, j)] * inv_n + frac * lam * wv);
            }
        }
    }
}

fn sub_assign(mut a: MatMut<'_, f64>, b: MatRef<'_, f64>) {
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            a[(i, j)] -= b[(i, j)];
        }
    }
}
fn add_assign(mut a: MatMut<'_, f64>, b: MatRef<'_, f64>) {
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            a[(i, j)] += b[(i, j)];
        }
    }
}

/// One full-batch gradient-descent step.
pub fn gd_step(st: &mut State, prep: &Prepared, labels: &Labels, r: Rates, dt: f64, ws: &mut Workspace) {
    let n = prep.samples();
    let per = n as f64 / prep.classes() as f64;
    update(st, prep.xi.as_ref(), labels.a.as_ref(), r, dt, 1.0, n, per, ws);
}

/// One minibatch step on the samples `rows` (gathered into the workspace).
pub fn sgd_step(st: &mut State, prep: &Prepared, labels: &Labels, r: Rates, dt: f64, rows: &[usize], ws: &mut Workspace) {
    let n = prep.samples();
    let per = n as f64 / prep.classes() as f64;
    let b = rows.len();
    for (bi, &i) in rows.iter().enumerate() {
        for j in 0..prep.xi.ncols() {
            ws.xb[(bi, j)] = prep.xi[(i, j)];
        }
        for c in 0..labels.a.ncols() {
            ws.ab[(bi, c)] = labels.a[(i, c)];
        }
    }
    let xb = std::mem::replace(&mut ws.xb, Mat::zeros(0, 0));
    let ab = std::mem::replace(&mut ws.ab, Mat::zeros(0, 0));
    update(st, xb.as_ref().subrows(0, b), ab.as_ref().subrows(0, b), r, dt, b as f64 / n as f64, n, per, ws);
    ws.xb = xb;
    ws.ab = ab;
}

/// Collapse measures at one time (`docs/embedding.md` section 7), in the prediction
/// space `W x` (`x` without a trained head).
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Record {
    pub t: f64,
    pub loss: f64,
    /// Nearest label = true class, training set.
    pub train_accuracy: f64,
    /// Nearest label = observed (possibly noisy) label: how much noise is memorised.
    pub noisy_label_fit: f64,
    /// Nearest label = true class on the held-out split.
    pub test_accuracy: f64,
    pub min_label_distance: f64,
    pub mean_label_distance: f64,
    pub spread: f64,
    pub separation_to_spread: f64,
}

/// Buffers for measuring (allocated once per run).
pub struct Evaluator {
    enc: EncoderBuffers,
    x: Mat<f64>,
    p: Mat<f64>,
    rows: Vec<f64>,
    yrows: Vec<f64>,
    row: Vec<f64>,
    x_test: Mat<f64>,
    p_test: Mat<f64>,
    mws: MetricsWorkspace,
}

impl Evaluator {
    pub fn new(state: &State, prep: &Prepared) -> Self {
        let (n, nt, d, k) = (prep.samples(), prep.split.test.len(), state.encoder.dim, prep.classes());
        Evaluator {
            enc: state.encoder.buffers(n.max(nt)),
            x: Mat::zeros(n, d),
            p: Mat::zeros(n, d),
            rows: vec![0.0; n * d],
            yrows: vec![0.0; k * d],
            row: vec![0.0; d],
            x_test: Mat::zeros(nt, d),
            p_test: Mat::zeros(nt, d),
            mws: MetricsWorkspace::new(k, d),
        }
    }

    /// Every measure at time `t`.
    pub fn measure(&mut self, t: f64, st: &State, prep: &Prepared, labels: &Labels) -> Record {
        let (d, k) = (st.encoder.dim, prep.classes());
        st.encoder.forward(prep.xi.as_ref(), self.x.as_mut(), &mut self.enc);
        matmul(self.p.as_mut(), Accum::Replace, self.x.as_ref(), st.w.transpose(), 1.0, Par::Seq);
        let n = prep.samples();
        for i in 0..n {
            for j in 0..d {
                self.rows[i * d + j] = self.p[(i, j)];
            }
        }
        for c in 0..k {
            for j in 0..d {
                self.yrows[c * d + j] = st.y[(c, j)];
            }
        }
        let m = measure(t, &self.rows, &self.yrows, &labels.weights, d, &mut self.mws);
        let fit = (0..n).filter(|&i| nearest(&self.rows[i * d..(i + 1) * d], &self.yrows, k) == labels.observed[i]).count() as f64 / n as f64;
        let nt = prep.split.test.len();
        let test_accuracy = if nt == 0 {
            f64::NAN
        } else {
            st.encoder.forward(prep.xi_test.as_ref(), self.x_test.as_mut(), &mut self.enc);
            matmul(self.p_test.as_mut(), Accum::Replace, self.x_test.as_ref(), st.w.transpose(), 1.0, Par::Seq);
            let mut ok = 0usize;
            for i in 0..nt {
                for j in 0..d {
                    self.row[j] = self.p_test[(i, j)];
                }
                ok += usize::from(nearest(&self.row, &self.yrows, k) == prep.split.test.labels[i]);
            }
            ok as f64 / nt as f64
        };
        let (mn, mean) = label_distances(&self.yrows, k, d);
        debug_assert_eq!(mn, m.min_label_distance);
        Record {
            t,
            loss: m.loss,
            train_accuracy: m.accuracy,
            noisy_label_fit: fit,
            test_accuracy,
            min_label_distance: mn,
            mean_label_distance: mean,
            spread: m.spread,
            separation_to_spread: m.separation_to_spread,
        }
    }
}

fn nearest(p: &[f64], y: &[f64], k: usize) -> usize {
    let d = p.len();
    (0..k)
        .map(|c| (p.iter().zip(&y[c * d..(c + 1) * d]).map(|(a, b)| (a - b) * (a - b)).sum::<f64>(), c))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(0, |v| v.1)
}

/// One trained seed: records on the output grid and the final state.
#[derive(Clone, Debug)]
pub struct Run {
    pub seed: u64,
    pub records: Vec<Record>,
    pub initial: State,
    pub last: State,
    pub labels: Labels,
}

/// Trains seed `seed` (its own noise draw and initialisation) and records
/// at `times` (snapped to whole sample visits).
pub fn train(cfg: &RealConfig, prep: &Prepared, seed: u64, times: &[f64]) -> Result<Run> {
    let labels = Labels::draw(cfg, prep, seed)?;
    let mut st = State::random(cfg, prep, seed);
    let initial = st.clone();
    let n = prep.samples();
    let batch = cfg.batch.unwrap_or(n).min(n);
    let mut ws = Workspace::new(&st, n, prep.classes(), batch);
    let mut ev = Evaluator::new(&st, prep);
    let rates = Rates::from_config(cfg);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(4);
    // Progress in sample visits: one epoch = N visits = time dt.
    let mut visits: u64 = 0;
    let mut cursor = n; // position in the current epoch's order
    let mut records = Vec::with_capacity(times.len());
    // Steps per seed: t_max / dt epochs of ceil(N / batch) steps each.
    let steps_per_epoch = n.div_ceil(batch.max(1)) as f64;
    crate::limits::check_sim_steps("dt", cfg.dt, times.last().copied().unwrap_or(0.0), cfg.dt / steps_per_epoch)?;
    let mut steps: u64 = 0;
    for &t in times {
        let target = (t / cfg.dt * n as f64).round() as u64;
        while visits < target {
            crate::limits::poll_deadline(steps, cfg.dt / steps_per_epoch, || format!("real-data training (seed {seed})"))?;
            steps += 1;
            if cfg.batch.is_none() {
                gd_step(&mut st, prep, &labels, rates, cfg.dt, &mut ws);
                visits += n as u64;
            } else {
                if cursor >= n {
                    ws.order.shuffle(&mut rng);
                    cursor = 0;
                }
                let end = (cursor + batch).min(n);
                let order = std::mem::take(&mut ws.order);
                sgd_step(&mut st, prep, &labels, rates, cfg.dt, &order[cursor..end], &mut ws);
                ws.order = order;
                visits += (end - cursor) as u64;
                cursor = end;
            }
        }
        let now = visits as f64 * cfg.dt / n as f64;
        if !(0..st.y.ncols()).all(|j| (0..st.y.nrows()).all(|c| st.y[(c, j)].is_finite())) {
            return Err(Error::Divergence {
                what: "real-data training".into(),
                detail: format!("non-finite label embeddings at t = {now:.4} (seed {seed})"),
                advice: "lower dt or eta_x (gradient descent is stable for dt below 2 / the largest rate; `theory real-data` reports it for the linear encoder)".into(),
            });
        }
        records.push(ev.measure(now, &st, prep, &labels));
    }
    Ok(Run { seed, records, initial, last: st, labels })
}

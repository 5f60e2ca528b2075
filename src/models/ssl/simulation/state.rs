//! The learner's state (online network, predictor, BYOL target, SGD
//! velocities), its random start, the hyper-parameters of one run and the
//! preallocated workspace of a step.
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::models::realdata::encoder::{Encoder, EncoderBuffers};
use crate::models::ssl::config::{LossKind, PredictorKind, SslConfig, SslOptimizer, SslVariant};

/// Names of the trainable parameters, in the order of [`State::params`]
/// (divergence messages and the dump use them).
pub const PARAM_NAMES: [&str; 5] = ["encoder.w1", "encoder.w2", "projector", "predictor.w1", "predictor.w2"];

/// Encoder and projector: `z = P f(xi)` (`P` is 0 x 0 without projector, then `z = f(xi)`).
#[derive(Clone, Debug)]
pub struct Net {
    pub encoder: Encoder,
    pub projector: Mat<f64>,
}

/// The predictor `h`: linear `p = W_a z` (`w_b` 0 x 0) or `p = W_b relu(W_a z)`;
/// both 0 x 0 for the variants without predictor.
#[derive(Clone, Debug)]
pub struct Predictor {
    pub wa: Mat<f64>,
    pub wb: Mat<f64>,
}

impl Predictor {
    pub fn is_mlp(&self) -> bool {
        self.wb.nrows() > 0
    }
    pub fn hidden(&self) -> usize {
        if self.is_mlp() {
            self.wa.nrows()
        } else {
            0
        }
    }
}

/// Everything that changes during training.
#[derive(Clone, Debug)]
pub struct State {
    pub online: Net,
    pub predictor: Predictor,
    /// BYOL's EMA target network (None for the other variants: their target is the online network).
    pub target: Option<Net>,
    /// SGD momentum buffers (AdamW: first moments `m`), one per parameter of [`State::params`].
    pub velocity: [Mat<f64>; 5],
    /// AdamW's second moments `s` (0 x 0 for the other rules).
    pub second: [Mat<f64>; 5],
    /// Optimiser steps taken (AdamW's bias-correction exponent `k`).
    pub steps: i32,
}

fn gaussian(rows: usize, cols: usize, std: f64, rng: &mut ChaCha8Rng) -> Mat<f64> {
    let mut m = Mat::<f64>::zeros(rows, cols);
    // Row by row so the draw order does not depend on the storage order.
    for i in 0..rows {
        for j in 0..cols {
            let z: f64 = StandardNormal.sample(rng);
            m[(i, j)] = std * z;
        }
    }
    m
}

impl State {
    /// Random start of seed `seed`: the encoder from stream 0 (the real-data
    /// encoder's start), projector and predictor from stream 1 with entries
    /// `N(0, 1/fan_in)` (the predictor's times `pred_init`); the BYOL target
    /// is a copy of the online network; velocities and moments are zero.
    pub fn random(cfg: &SslConfig, input_dim: usize, seed: u64) -> Self {
        let d = cfg.dim;
        let encoder = Encoder::random(cfg.encoder, input_dim, d, cfg.init_scale, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let projector = if cfg.projector { gaussian(d, d, 1.0 / (d as f64).sqrt(), &mut rng) } else { Mat::zeros(0, 0) };
        let predictor = match (cfg.variant.has_predictor(), cfg.predictor) {
            (false, _) => Predictor { wa: Mat::zeros(0, 0), wb: Mat::zeros(0, 0) },
            (true, PredictorKind::Linear) => Predictor { wa: gaussian(d, d, cfg.pred_init / (d as f64).sqrt(), &mut rng), wb: Mat::zeros(0, 0) },
            (true, PredictorKind::Mlp { hidden }) => {
                let wa = gaussian(hidden, d, cfg.pred_init / (d as f64).sqrt(), &mut rng);
                let wb = gaussian(d, hidden, cfg.pred_init / (hidden as f64).sqrt(), &mut rng);
                Predictor { wa, wb }
            }
        };
        let online = Net { encoder, projector };
        let target = (cfg.variant == SslVariant::Byol).then(|| online.clone());
        let zeros = |m: &Mat<f64>| Mat::zeros(m.nrows(), m.ncols());
        let velocity = [zeros(&online.encoder.w1), zeros(&online.encoder.w2), zeros(&online.projector), zeros(&predictor.wa), zeros(&predictor.wb)];
        let second = if matches!(cfg.optimizer, SslOptimizer::AdamW { .. }) { velocity.clone() } else { std::array::from_fn(|_| Mat::zeros(0, 0)) };
        State { online, predictor, target, velocity, second, steps: 0 }
    }

    /// The parameters in the order of [`PARAM_NAMES`].
    pub fn params(&self) -> [&Mat<f64>; 5] {
        [&self.online.encoder.w1, &self.online.encoder.w2, &self.online.projector, &self.predictor.wa, &self.predictor.wb]
    }
    pub fn params_mut(&mut self) -> [&mut Mat<f64>; 5] {
        [&mut self.online.encoder.w1, &mut self.online.encoder.w2, &mut self.online.projector, &mut self.predictor.wa, &mut self.predictor.wb]
    }
    /// Frobenius norm of every parameter.
    pub fn norms(&self) -> [f64; 5] {
        self.params().map(|p| p.norm_l2())
    }
}

/// Hyper-parameters of a step.
#[derive(Clone, Copy, Debug)]
pub struct Hyper {
    pub variant: SslVariant,
    pub loss: LossKind,
    pub lr: f64,
    pub optimizer: SslOptimizer,
    pub momentum: f64,
    pub weight_decay: f64,
    pub tau: f64,
}

impl Hyper {
    pub fn from_config(cfg: &SslConfig) -> Self {
        Hyper { variant: cfg.variant, loss: cfg.loss, lr: cfg.lr, optimizer: cfg.optimizer, momentum: cfg.momentum, weight_decay: cfg.weight_decay, tau: cfg.tau }
    }
}

/// Buffers of one step on `2 b` rows (both views of `b` images stacked:
/// rows `0..b` view 1, rows `b..2b` view 2).
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The augmented, centred batch (2b x D).
    pub x0: Mat<f64>,
    pub enc: EncoderBuffers,
    pub target_enc: EncoderBuffers,
    /// Encoder outputs `x`, representations `z`, predictor pre-activations
    /// `A` and activations, predictions `p`, target representations.
    pub h: Mat<f64>,
    pub z: Mat<f64>,
    pub a: Mat<f64>,
    pub ar: Mat<f64>,
    pub p: Mat<f64>,
    pub th: Mat<f64>,
    pub zt: Mat<f64>,
    /// Gradients with respect to `p`, the target `t`, `z`, `x` and `A`.
    pub gp: Mat<f64>,
    pub gt: Mat<f64>,
    pub gz: Mat<f64>,
    pub gh: Mat<f64>,
    pub ga: Mat<f64>,
    /// Gradients of projector and predictor (the encoder's are in `enc.g1`, `enc.g2`).
    pub g_proj: Mat<f64>,
    pub g_wa: Mat<f64>,
    pub g_wb: Mat<f64>,
    /// Per-row view scratch and the epoch's image order.
    pub view: Vec<f64>,
    pub order: Vec<usize>,
}

impl Workspace {
    pub fn new(st: &State, input_dim: usize, samples: usize, batch: usize) -> Self {
        let rows = 2 * batch;
        let d = st.online.encoder.dim;
        let hidden = st.predictor.hidden();
        let z = |r: usize, c: usize| Mat::<f64>::zeros(r, c);
        Workspace {
            x0: z(rows, input_dim),
            enc: st.online.encoder.buffers(rows),
            target_enc: st.online.encoder.buffers(rows),
            h: z(rows, d),
            z: z(rows, d),
            a: z(rows, hidden),
            ar: z(rows, hidden),
            p: z(rows, d),
            th: z(rows, d),
            zt: z(rows, d),
            gp: z(rows, d),
            gt: z(rows, d),
            gz: z(rows, d),
            gh: z(rows, d),
            ga: z(rows, hidden),
            g_proj: z(st.online.projector.nrows(), st.online.projector.ncols()),
            g_wa: z(st.predictor.wa.nrows(), st.predictor.wa.ncols()),
            g_wb: z(st.predictor.wb.nrows(), st.predictor.wb.ncols()),
            view: vec![0.0; input_dim],
            order: (0..samples).collect(),
        }
    }
}

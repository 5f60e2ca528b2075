//! The trainable state (encoder, labels, head), the rates of one run and the
//! preallocated training workspace.
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::models::realdata::config::RealConfig;
use crate::models::realdata::encoder::{Encoder, EncoderBuffers};
use super::prepare::Prepared;
use crate::models::head::config::Variant;

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
    pub(super) enc: EncoderBuffers,
    pub(super) xb: Mat<f64>,
    pub(super) ab: Mat<f64>,
    pub(super) x: Mat<f64>,
    pub(super) ybar: Mat<f64>,
    pub(super) r: Mat<f64>,
    pub(super) gx: Mat<f64>,
    pub(super) s: Mat<f64>,
    pub(super) q: Mat<f64>,
    pub(super) gy: Mat<f64>,
    pub(super) gw: Mat<f64>,
    pub(super) mass: Vec<f64>,
    pub(super) order: Vec<usize>,
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

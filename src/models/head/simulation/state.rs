//! The state of Model H's simulation (samples, labels, head), the rates of
//! one variant and the preallocated step workspace.
use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::models::common::frustration::LabelWeights;
use crate::models::embedding::simulation::Embeddings;
use crate::models::head::config::{HeadConfig, Variant};

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
    pub(super) fn h(&self) -> f64 {
        f64::from(u8::from(self.variant.full_gradient()))
    }
    pub(super) fn label_uses_head(&self) -> bool {
        matches!(self.variant, Variant::Symmetric | Variant::Head)
    }
}

/// Preallocated buffers: nothing is allocated per step.
pub struct HeadWorkspace {
    /// `W x_i` (N x d).
    pub(super) wx: Vec<f64>,
    /// `S_c = sum_i A_ic x_i` (K x d).
    pub(super) s: Vec<f64>,
    /// `W y_c` (K x d).
    pub(super) wy: Vec<f64>,
    /// Head gradient (d x d).
    pub(super) gw: Vec<f64>,
    /// Per-label update (K x d).
    pub(super) dy: Vec<f64>,
    /// Per-sample update (N x d for GD, batch x d for SGD).
    pub(super) dx: Vec<f64>,
    pub(super) r: Vec<f64>,
    pub(super) t: Vec<f64>,
    /// The label branch's residual `W y_c - x_i` of one pair (d).
    pub(super) q: Vec<f64>,
    /// Row pattern of each sample (N): rows with the same labels and weights
    /// share `ybar_i` and `W ybar_i`, so the GD step computes them once per
    /// pattern (`K` unfrustrated and a few frustrated patterns for a design).
    pub(super) row_pattern: Vec<usize>,
    /// The first row of each pattern (P).
    pub(super) pattern_rows: Vec<usize>,
    /// `ybar_p = sum_c A_pc y_c` per pattern (P x d).
    pub(super) ybar: Vec<f64>,
    /// `W ybar_p = sum_c A_pc W y_c` per pattern (P x d).
    pub(super) wybar: Vec<f64>,
}

impl HeadWorkspace {
    pub fn new(a: &LabelWeights, d: usize, batch: usize) -> Self {
        let (n, k) = (a.samples(), a.classes());
        // Patterns keyed by the row's columns and the bits of its weights.
        let mut index: HashMap<(&[usize], Vec<u64>), usize> = HashMap::new();
        let mut pattern_rows = Vec::new();
        let row_pattern: Vec<usize> = (0..n)
            .map(|i| {
                let (cols, vals) = a.row_slices(i);
                *index.entry((cols, vals.iter().map(|v| v.to_bits()).collect())).or_insert_with(|| {
                    pattern_rows.push(i);
                    pattern_rows.len() - 1
                })
            })
            .collect();
        let patterns = pattern_rows.len();
        HeadWorkspace {
            wx: vec![0.0; n * d],
            s: vec![0.0; k * d],
            wy: vec![0.0; k * d],
            gw: vec![0.0; d * d],
            dy: vec![0.0; k * d],
            dx: vec![0.0; n.max(batch) * d],
            r: vec![0.0; d],
            t: vec![0.0; d],
            q: vec![0.0; d],
            row_pattern,
            pattern_rows,
            ybar: vec![0.0; patterns * d],
            wybar: vec![0.0; patterns * d],
        }
    }
}

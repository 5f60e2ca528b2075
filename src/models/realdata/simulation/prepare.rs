//! Data preparation shared by the seeds of a run: the loaded, split and
//! standardised data as matrices, and one seed's draw of the noisy labels.
use faer::Mat;

use crate::models::realdata::config::{LabelMode, RealConfig};
use crate::models::realdata::data::{split, Dataset, LabelColumn, Split};
use crate::models::realdata::noise::{one_hot_weights, Transition};
use crate::error::Result;
use crate::models::common::frustration::LabelWeights;

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

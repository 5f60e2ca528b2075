//! The evaluator: every collapse measure of one state, on the training set
//! and on the held-out split.
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use serde::Serialize;

use crate::models::realdata::encoder::EncoderBuffers;
use super::prepare::{Labels, Prepared};
use super::state::State;
use crate::models::common::metrics::{label_distances, measure, MetricsWorkspace};

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

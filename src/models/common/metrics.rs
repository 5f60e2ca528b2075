//! Collapse measures of `docs/embedding.md` section 7, computed from embeddings in
//! prediction space: the same code scores simulation and theory.
use serde::{Deserialize, Serialize};

use crate::models::common::frustration::LabelWeights;

/// Collapse measures at one time.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub t: f64,
    /// `L = (1/2N) sum_i sum_c A_ic |x_i - y_c|^2`.
    pub loss: f64,
    /// Fraction of samples whose nearest label is their primary class.
    pub accuracy: f64,
    /// `min_{a != b} |y_a - y_b|`.
    pub min_label_distance: f64,
    /// Mean of `|y_a - y_b|` over pairs `a < b`.
    pub mean_label_distance: f64,
    /// RMS distance of samples from their class mean.
    pub spread: f64,
    /// `min_label_distance / spread`; `inf` for zero spread.
    pub separation_to_spread: f64,
}

/// Minimum and mean inter-label distance of `K` labels in `d` dimensions
/// (`y` row-major).
pub fn label_distances(y: &[f64], k: usize, d: usize) -> (f64, f64) {
    let (mut mn, mut sum, mut pairs) = (f64::INFINITY, 0.0, 0usize);
    for a in 0..k {
        for b in a + 1..k {
            let dist = (0..d).map(|j| (y[a * d + j] - y[b * d + j]).powi(2)).sum::<f64>().sqrt();
            mn = mn.min(dist);
            sum += dist;
            pairs += 1;
        }
    }
    (mn, sum / pairs.max(1) as f64)
}

/// Workspace for [`measure`], so repeated measurement allocates nothing.
#[derive(Clone, Debug)]
pub struct MetricsWorkspace {
    class_mean: Vec<f64>,
    class_count: Vec<f64>,
}

impl MetricsWorkspace {
    pub fn new(k: usize, d: usize) -> Self {
        MetricsWorkspace { class_mean: vec![0.0; k * d], class_count: vec![0.0; k] }
    }
}

/// All measures for samples `x` (N x d) and labels `y` (K x d), row-major.
pub fn measure(t: f64, x: &[f64], y: &[f64], a: &LabelWeights, d: usize, ws: &mut MetricsWorkspace) -> Metrics {
    let k = a.classes();
    let n = a.samples();
    ws.class_mean.fill(0.0);
    ws.class_count.fill(0.0);
    let (mut loss, mut correct) = (0.0, 0usize);
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        for (c, w) in a.row(i) {
            loss += w * dist2(xi, &y[c * d..(c + 1) * d]);
        }
        let nearest = (0..k)
            .map(|c| (dist2(xi, &y[c * d..(c + 1) * d]), c))
            .min_by(|p, q| p.0.total_cmp(&q.0))
            .map(|p| p.1)
            .unwrap_or(0);
        let c = a.primary(i);
        correct += usize::from(nearest == c);
        ws.class_count[c] += 1.0;
        for j in 0..d {
            ws.class_mean[c * d + j] += xi[j];
        }
    }
    for c in 0..k {
        let cnt = ws.class_count[c].max(1.0);
        for j in 0..d {
            ws.class_mean[c * d + j] /= cnt;
        }
    }
    let spread2 = (0..n).map(|i| {
        let c = a.primary(i);
        dist2(&x[i * d..(i + 1) * d], &ws.class_mean[c * d..(c + 1) * d])
    });
    let spread = (spread2.sum::<f64>() / n as f64).sqrt();
    let (mn, mean) = label_distances(y, k, d);
    Metrics {
        t,
        loss: loss / (2.0 * n as f64),
        accuracy: correct as f64 / n as f64,
        min_label_distance: mn,
        mean_label_distance: mean,
        spread,
        separation_to_spread: if spread > 0.0 { mn / spread } else { f64::INFINITY },
    }
}

#[inline]
fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

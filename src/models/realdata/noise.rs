//! Label noise as frustration: a transition matrix `T` (`T_cl` = probability
//! that a sample of true class `c` carries the observed label `l`), the noisy
//! labels drawn from it, and the label-weight matrix `A` its rows define.
//!
//! With `A_i = T_{c(i)}` (row of the sample's true class) Model E's
//! frustration operator `M = diag(m)^{-1} A^T A` and index
//! `phi = 1 - mu_2(M)` measure how much the noise mixes the classes (reused
//! from [`FrustrationOperator`]). For symmetric noise of rate `f` and equal
//! class sizes, `M = T^T T` and `phi = 1 - (1 - f K/(K-1))^2`.
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::models::common::frustration::{FrustrationOperator, LabelWeights};

/// How the transition matrix is built.
#[derive(Clone, Debug, PartialEq)]
pub enum NoiseKind {
    /// `T = (1-f) I + f/(K-1) (J - I)`: a flipped label is uniform over the others.
    Symmetric,
    /// `T_cc = 1-f`, `T_{c,c+1 mod K} = f`: each class flips to one partner.
    PairFlip,
    /// A user-given K x K CSV matrix.
    File(std::path::PathBuf),
}

impl NoiseKind {
    pub const NAMES: [&'static str; 3] = ["symmetric", "pair-flip", "file"];
}

/// A row-stochastic K x K transition matrix (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub classes: usize,
    pub t: Vec<f64>,
}

impl Transition {
    /// Builds `T` for `classes` classes and flip rate `rate` (ignored for a file).
    pub fn new(kind: &NoiseKind, rate: f64, classes: usize) -> Result<Self> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Error::invalid("noise_rate", rate, "[0, 1]"));
        }
        let k = classes;
        let t = match kind {
            NoiseKind::Symmetric => (0..k * k).map(|ij| if ij / k == ij % k { 1.0 - rate } else { rate / (k - 1) as f64 }).collect(),
            NoiseKind::PairFlip => {
                (0..k * k).map(|ij| if ij / k == ij % k { 1.0 - rate } else if ij % k == (ij / k + 1) % k { rate } else { 0.0 }).collect()
            }
            NoiseKind::File(path) => return Self::from_csv(path, k),
        };
        Ok(Transition { classes: k, t })
    }

    /// Reads a K x K matrix: rows = true class, columns = observed label,
    /// non-negative, each row summing to 1 (within 1e-9). `#` lines and a
    /// non-numeric header line are skipped.
    pub fn from_csv(path: &Path, classes: usize) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read { path: path.into(), reason: e.to_string() })?;
        Self::from_csv_str(&text, path, classes)
    }

    /// Parses the text of [`from_csv`](Self::from_csv).
    pub fn from_csv_str(text: &str, path: &Path, classes: usize) -> Result<Self> {
        let bad = |line: usize, col: usize, reason: String| Error::Read { path: path.into(), reason: format!("line {line}, column {col}: {reason}") };
        let mut t = Vec::with_capacity(classes * classes);
        let mut rows = 0;
        let mut seen_data = false;
        for (idx, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if !seen_data && fields.iter().any(|f| f.parse::<f64>().is_err()) {
                seen_data = true; // header line
                continue;
            }
            seen_data = true;
            if fields.len() != classes {
                return Err(bad(idx + 1, fields.len().min(classes) + 1, format!("{} entries, expected {classes} (one per class)", fields.len())));
            }
            let mut sum = 0.0;
            for (c, f) in fields.iter().enumerate() {
                let v: f64 = f.parse().map_err(|_| bad(idx + 1, c + 1, format!("`{f}` is not a number")))?;
                if !v.is_finite() || v < 0.0 {
                    return Err(bad(idx + 1, c + 1, format!("probability {v} is negative or not finite")));
                }
                sum += v;
                t.push(v);
            }
            if (sum - 1.0).abs() > 1e-9 {
                return Err(bad(idx + 1, 1, format!("row sums to {sum}, must sum to 1")));
            }
            rows += 1;
        }
        if rows != classes {
            return Err(Error::Read { path: path.into(), reason: format!("{rows} rows, expected {classes} (one per true class)") });
        }
        Ok(Transition { classes, t })
    }

    pub fn row(&self, c: usize) -> &[f64] {
        &self.t[c * self.classes..(c + 1) * self.classes]
    }

    /// Draws an observed label for every true label; a sample keeps its
    /// label with probability `T_cc`. The stream is seeded by `seed` alone,
    /// so a noise draw is independent of the encoder's initialisation.
    pub fn draw(&self, truth: &[usize], seed: u64) -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(7);
        truth
            .iter()
            .map(|&c| {
                let u: f64 = rng.random();
                let row = self.row(c);
                let mut acc = 0.0;
                for (l, p) in row.iter().enumerate() {
                    acc += p;
                    if u < acc {
                        return l;
                    }
                }
                // Rounding: the last class with positive probability.
                row.iter().rposition(|p| *p > 0.0).unwrap_or(c)
            })
            .collect()
    }

    /// `A_i = T_{c(i)}` with primary class `c(i)` (the expected label weights).
    pub fn soft_weights(&self, truth: &[usize]) -> Result<LabelWeights> {
        let rows: Vec<Vec<f64>> = truth.iter().map(|&c| self.row(c).to_vec()).collect();
        weights_from_rows(self.classes, truth, &rows)
    }

    /// Model E's frustration operator of `A = T` rows for the given true
    /// labels: the frustration the noise puts into the data.
    pub fn frustration(&self, truth: &[usize]) -> Result<FrustrationOperator> {
        FrustrationOperator::new(&self.soft_weights(truth)?)
    }
}

/// One-hot label weights `A_i = e_{l_i}` (observed label) with primary class
/// `c(i)` (true class), so accuracy is scored against the truth.
pub fn one_hot_weights(classes: usize, truth: &[usize], observed: &[usize]) -> Result<LabelWeights> {
    let rows: Vec<Vec<f64>> = observed.iter().map(|&l| (0..classes).map(|c| f64::from(u8::from(c == l))).collect()).collect();
    weights_from_rows(classes, truth, &rows)
}

fn weights_from_rows(classes: usize, truth: &[usize], rows: &[Vec<f64>]) -> Result<LabelWeights> {
    // LabelWeights is built through its CSV reader, which validates rows.
    let mut text = String::from("class");
    for c in 0..classes {
        text += &format!(",w{c}");
    }
    text.push('\n');
    for (c, r) in truth.iter().zip(rows) {
        text += &c.to_string();
        for v in r {
            text += &format!(",{v:?}");
        }
        text.push('\n');
    }
    LabelWeights::from_csv_str(&text, Path::new("<label weights>"))
        .map_err(|e| Error::invalid("noise_rate", "(this draw)", format!("a noise level that leaves every class some label weight ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_noise_phi_matches_closed_form() {
        let k = 10;
        let truth: Vec<usize> = (0..500).map(|i| i % k).collect();
        for f in [0.0, 0.1, 0.3, 0.5] {
            let t = Transition::new(&NoiseKind::Symmetric, f, k).unwrap();
            let phi = t.frustration(&truth).unwrap().frustration_index;
            let expect = 1.0 - (1.0 - f * k as f64 / (k - 1) as f64).powi(2);
            assert!((phi - expect).abs() < 1e-12, "f = {f}: {phi} vs {expect}");
        }
    }

    #[test]
    fn draws_follow_the_flip_rate() {
        let truth: Vec<usize> = (0..20000).map(|i| i % 4).collect();
        let t = Transition::new(&NoiseKind::PairFlip, 0.2, 4).unwrap();
        let obs = t.draw(&truth, 3);
        let flipped = truth.iter().zip(&obs).filter(|(c, l)| c != l).count() as f64 / truth.len() as f64;
        // Binomial standard error sqrt(0.16/20000) = 0.0028; 4 sigma.
        assert!((flipped - 0.2).abs() < 0.012, "{flipped}");
        assert!(truth.iter().zip(&obs).all(|(c, l)| l == c || *l == (c + 1) % 4));
        assert_eq!(obs, t.draw(&truth, 3));
    }

    #[test]
    fn csv_errors_name_line_and_column() {
        let p = Path::new("t.csv");
        let e = Transition::from_csv_str("1,0\n0.5,x\n", p, 2).unwrap_err().to_string();
        assert!(e.contains("t.csv") && e.contains("line 2, column 2"), "{e}");
        let e = Transition::from_csv_str("1,0\n0.5,0.6\n", p, 2).unwrap_err().to_string();
        assert!(e.contains("sums to"), "{e}");
        let e = Transition::from_csv_str("1,0\n", p, 2).unwrap_err().to_string();
        assert!(e.contains("1 rows, expected 2"), "{e}");
        assert!(Transition::from_csv_str("a,b\n0.9,0.1\n0.2,0.8\n", p, 2).is_ok());
    }
}

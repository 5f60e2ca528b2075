//! Collapse measures of Model T computed from the order parameters
//! `(R, Q, Y)` alone, so that theory and simulation are scored by the same
//! code (the simulation measures its order parameters; its empirical
//! held-out accuracy is recorded separately as a check).
//!
//! Accuracy is the probability that the nearest label embedding to
//! `x = R lambda + nu` is the teacher's (true, noise-free) class. The score
//! differences `|x - y_c|^2 - |x - y_c0|^2` are affine in the Gaussian
//! variables, so the accuracy is a Gaussian orthant probability:
//!
//! * mixture, K = 2: closed form `Phi(mean / sd)`;
//! * mixture, K >= 3: `(K-1)`-dimensional orthant (K = 3: bivariate, closed form) of `x | c0 ~ N(a R e_c0, sigma^2 R R^T + Sigma)`;
//! * argmax: the `2(K-1)` constraints `lambda_c0 > lambda_c` and score
//!   differences > 0 on `(lambda, nu) ~ N(0, diag(I, Sigma))`.
//!
//! The orthant probabilities themselves are in `super::orthant`: two
//! dimensions (the mixture with K = 3) by the bivariate normal upper
//! probability [`bivariate_normal_upper`] to ~1e-15 (Genz 2004); higher
//! dimensions by Genz's separation of variables on a randomly shifted rank-1
//! (Richtmyer) lattice: [`ORTHANT_POINTS`] points times [`ORTHANT_SHIFTS`]
//! shifts; the standard error over shifts is below 1e-3 in the cases tested.
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::models::common::metrics::{label_distances, Metrics};
use crate::models::teacher::config::TeacherKind;
pub use crate::models::teacher::orthant::{bivariate_normal_upper, orthant_probability, orthant_probability_4, orthant_probability_lattice, ORTHANT_POINTS, ORTHANT_SHIFTS};
use crate::models::teacher::online::reduced::OrderParams;
use crate::models::teacher::statistics::{ArgmaxConditional, Teacher, TeacherStats};

/// Collapse measures at one time: the measures shared by every model
/// (here `loss` is `E[1/2 |x - y_l|^2]` over fresh samples with observed
/// labels, `accuracy` the probability that the nearest label is the teacher
/// class, `spread` the RMS distance of `x` from its true-class mean) plus the
/// teacher overlap.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct TeacherMetrics {
    #[serde(flatten)]
    pub base: Metrics,
    /// `|R|_F`: teacher overlap.
    pub overlap: f64,
}

/// Evaluates [`TeacherMetrics`] from order parameters.
#[derive(Clone, Debug)]
pub struct TeacherScorer {
    pub teacher: Teacher,
    pub sigma: f64,
    pub a: f64,
    pub stats: TeacherStats,
    argmax: Option<ArgmaxConditional>,
}

impl TeacherScorer {
    pub fn new(teacher: Teacher, f: f64, sigma: f64, a: f64) -> Self {
        let argmax = (teacher.kind == TeacherKind::Argmax).then(|| ArgmaxConditional::new(teacher.classes));
        TeacherScorer { teacher, sigma, a, stats: teacher.stats(f, sigma, a), argmax }
    }

    /// Conditional mean and covariance of `lambda` given true class `c0`.
    fn lambda_given(&self, c0: usize) -> (Vec<f64>, Vec<f64>) {
        let k = self.teacher.classes;
        match &self.argmax {
            None => (
                (0..k).map(|j| if j == c0 { self.a } else { 0.0 }).collect(),
                (0..k * k).map(|i| if i / k == i % k { self.sigma * self.sigma } else { 0.0 }).collect(),
            ),
            Some(ac) => (ac.mean(k, c0), ac.cov(k, c0)),
        }
    }

    /// All measures at time `t`; accuracy to the precision of
    /// [`orthant_probability`] (exact to ~1e-15 for the mixture with K = 2 and 3).
    pub fn measure(&self, t: f64, op: &OrderParams) -> TeacherMetrics {
        let (d, k) = (op.dim, op.classes);
        let sigma_nu = op.sigma();
        let (mn, mean_dist) = label_distances(&op.y, k, d);
        // Spread^2 = (1/K) sum_c0 tr(R Cov(lambda|c0) R^T) + tr Sigma.
        let mut spread2: f64 = (0..d).map(|i| sigma_nu[i * d + i]).sum();
        for c0 in 0..k {
            let (_, cov) = self.lambda_given(c0);
            for i in 0..d {
                for a in 0..k {
                    for b in 0..k {
                        spread2 += op.r[i * k + a] * cov[a * k + b] * op.r[i * k + b] / k as f64;
                    }
                }
            }
        }
        let spread = spread2.max(0.0).sqrt();
        let accuracy = (0..k).map(|c0| self.class_accuracy(op, &sigma_nu, c0)).sum::<f64>() / k as f64;
        TeacherMetrics {
            base: Metrics {
                t,
                loss: 0.5 * self.residual_trace(op),
                accuracy,
                min_label_distance: mn,
                mean_label_distance: mean_dist,
                spread,
                separation_to_spread: if spread > 0.0 { mn / spread } else { f64::INFINITY },
            },
            overlap: op.r.iter().map(|v| v * v).sum::<f64>().sqrt(),
        }
    }

    /// `tr E[(x - y_l)(x - y_l)^T] = tr(Q + R(C-I)R^T) - 2 sum_c y_c.R M_c + sum_c P_c |y_c|^2`.
    pub fn residual_trace(&self, op: &OrderParams) -> f64 {
        let (d, k) = (op.dim, op.classes);
        let st = &self.stats;
        let mut tr: f64 = (0..d).map(|i| op.q[i * d + i]).sum();
        tr += (st.c0 - 1.0) * op.r.iter().map(|v| v * v).sum::<f64>();
        for c in 0..k {
            for i in 0..d {
                let u: f64 = (0..k).map(|l| op.r[i * k + l] * if l == c { st.md } else { st.mo }).sum();
                tr += -2.0 * op.y[c * d + i] * u + st.p * op.y[c * d + i].powi(2);
            }
        }
        tr
    }

    fn class_accuracy(&self, op: &OrderParams, sigma_nu: &[f64], c0: usize) -> f64 {
        let (d, k) = (op.dim, op.classes);
        let others: Vec<usize> = (0..k).filter(|&c| c != c0).collect();
        // Score difference D_c = 2 x.(y_c0 - y_c) + |y_c|^2 - |y_c0|^2 = g_c . x + b_c.
        let y = |c: usize, i: usize| op.y[c * d + i];
        let g: Vec<Vec<f64>> = others.iter().map(|&c| (0..d).map(|i| 2.0 * (y(c0, i) - y(c, i))).collect()).collect();
        let b: Vec<f64> = others
            .iter()
            .map(|&c| (0..d).map(|i| y(c, i).powi(2) - y(c0, i).powi(2)).sum())
            .collect();
        // gR_c = g_c^T R (length K): the coefficient of lambda.
        let gr: Vec<Vec<f64>> = g.iter().map(|gc| (0..k).map(|l| (0..d).map(|i| gc[i] * op.r[i * k + l]).sum()).collect()).collect();
        let quad = |u: &[f64], v: &[f64]| -> f64 {
            let mut s = 0.0;
            for i in 0..d {
                for j in 0..d {
                    s += u[i] * sigma_nu[i * d + j] * v[j];
                }
            }
            s
        };
        match self.teacher.kind {
            TeacherKind::Mixture => {
                let m = others.len();
                let s2 = self.sigma * self.sigma;
                let mean: Vec<f64> = (0..m).map(|a| self.a * gr[a][c0] + b[a]).collect();
                let mut cov = vec![0.0; m * m];
                for a in 0..m {
                    for bb in 0..m {
                        cov[a * m + bb] = s2 * (0..k).map(|l| gr[a][l] * gr[bb][l]).sum::<f64>() + quad(&g[a], &g[bb]);
                    }
                }
                if m == 1 {
                    let sd = cov[0].max(0.0).sqrt();
                    return if sd > 0.0 {
                        Normal::new(0.0, 1.0).expect("unit normal").cdf(mean[0] / sd)
                    } else if mean[0] > 0.0 {
                        1.0
                    } else {
                        0.0
                    };
                }
                orthant_probability(&mean, &cov).0
            }
            TeacherKind::Argmax => {
                // Constraints on (lambda, nu): lambda_c0 - lambda_c > 0 and D_c > 0.
                let m = 2 * others.len();
                let mo = others.len();
                let coef_l = |r: usize| -> Vec<f64> {
                    if r < mo {
                        (0..k).map(|l| if l == c0 { 1.0 } else if l == others[r] { -1.0 } else { 0.0 }).collect()
                    } else {
                        gr[r - mo].clone()
                    }
                };
                let mean: Vec<f64> = (0..m).map(|r| if r < mo { 0.0 } else { b[r - mo] }).collect();
                let mut cov = vec![0.0; m * m];
                for r in 0..m {
                    let lr = coef_l(r);
                    for s in 0..m {
                        let ls = coef_l(s);
                        let mut v: f64 = (0..k).map(|l| lr[l] * ls[l]).sum();
                        if r >= mo && s >= mo {
                            v += quad(&g[r - mo], &g[s - mo]);
                        }
                        cov[r * m + s] = v;
                    }
                }
                // P(argmax = c0 and nearest = c0) / P(argmax = c0).
                orthant_probability(&mean, &cov).0 * k as f64
            }
        }
    }
}

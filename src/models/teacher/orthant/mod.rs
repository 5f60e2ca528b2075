//! Gaussian orthant probabilities `P(mean + L w > 0)`, `w ~ N(0, I)`: the
//! accuracy of Model T's nearest-label readout (`super::metrics`).
//!
//! * [`bivariate`]: two dimensions, closed form up to a fixed quadrature
//!   (~1e-15);
//! * [`plackett`]: four dimensions (the argmax teacher with K = 3), one
//!   integral over a path of correlation matrices with bivariate integrands
//!   (~1e-13);
//! * [`lattice`]: any dimension, Genz's separation of variables on a shifted
//!   lattice, with a standard error (~1e-4 for four dimensions).
pub mod bivariate;
pub mod lattice;
pub mod plackett;

pub use bivariate::{bivariate_normal_upper, phi};
pub use lattice::{orthant_probability_lattice, ORTHANT_POINTS, ORTHANT_SHIFTS};
pub use plackett::orthant_probability_4;

/// `P(mean + L w > 0)` for `w ~ N(0, I)` and `cov = L L^T` (m x m row-major),
/// with its standard error. For m = 2 with both variances positive and
/// `|rho| < 1` this is `P(X > -mean_1/sd_1, Y > -mean_2/sd_2)` for unit
/// normals of correlation `rho = cov_12 / (sd_1 sd_2)`, by
/// [`bivariate_normal_upper`] (standard error 0: deterministic, ~1e-15);
/// for m = 4 with a positive definite correlation matrix by
/// [`orthant_probability_4`] (standard error 0, absolute error ~1e-13);
/// otherwise [`orthant_probability_lattice`].
pub fn orthant_probability(mean: &[f64], cov: &[f64]) -> (f64, f64) {
    if mean.len() == 2 && cov[0] > 0.0 && cov[3] > 0.0 {
        let (s1, s2) = (cov[0].sqrt(), cov[3].sqrt());
        let rho = cov[1] / (s1 * s2);
        if rho.abs() < 1.0 {
            return (bivariate_normal_upper(-mean[0] / s1, -mean[1] / s2, rho), 0.0);
        }
    }
    if mean.len() == 4 {
        if let Some(p) = orthant_probability_4(mean, cov) {
            return (p, 0.0);
        }
    }
    orthant_probability_lattice(mean, cov)
}

//! Exact gradient flow of Model T on a finite training set, and the
//! hat-matrix frustration operator.
//!
//! Per student coordinate the parameters `z = (w, y)` (`w` a row of `W`,
//! length D; `y` the K label coordinates) obey the linear flow
//! `dz/dt = -P H z` with the loss Hessian
//! `H = (1/N) [[F, -B], [-B^T, diag(m)]]`, `F = Xi^T Xi / D`,
//! `B = Xi^T A / sqrt(D)` (`A` the N x K one-hot matrix of observed labels,
//! `m_c` the label counts) and the positive rates `P = diag(eta_x N, eta_y N/n)`.
//! `S = P^{1/2} H P^{1/2}` is symmetric, so
//! `z(t) = P^{1/2} U exp(-Lambda t) U^T P^{-1/2} z(0)` exactly.
//!
//! Hat-matrix operator. Eliminating the encoder adiabatically
//! (`Xi w / sqrt(D)` = its least-squares fit `Pi A y`,
//! `Pi = Xi (Xi^T Xi)^+ Xi^T` the hat matrix) leaves
//! `dy/dt = -(eta_y / n)(diag(m) - A^T Pi A) y`: the analogue of Model E's
//! frustration operator is `M_Pi = diag(m)^{-1} A^T Pi A`. For `N <= D`,
//! `Pi = I` and `M_Pi = I` (every label can be fitted: no frustration, the
//! student memorises the noisy labels). For `N > D` a linear student cannot
//! fit noisy labels, `M_Pi` has eigenvalues below 1 and the label geometry
//! contracts: finite data induce frustration once `alpha = N/D > 1`.
use faer::{Mat, Side};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::teacher::finite::simulation::TrainingSet;

/// Spectral solution of the finite-data gradient flow.
#[derive(Clone, Debug)]
pub struct FiniteFlow {
    pub input_dim: usize,
    pub classes: usize,
    /// `sqrt(P)` per parameter (D + K).
    psqrt: Vec<f64>,
    /// Eigenvalues of `S`, ascending.
    pub rates: Vec<f64>,
    /// Eigenvectors of `S` (columns), (D + K) x (D + K).
    u: Mat<f64>,
}

/// Spectral summary of the flow and of the hat-matrix operator.
#[derive(Clone, Debug, Serialize)]
pub struct FiniteSpectrum {
    /// Number of zero modes of `S` (`|rate| < 1e-9 max rate`).
    pub zero_modes: usize,
    /// Whether some zero mode moves labels apart (a conserved separation).
    pub conserved_separation: bool,
    /// Smallest non-zero rate of a mode that changes label differences;
    /// `None` when the separation is conserved.
    pub slow_rate: Option<f64>,
    /// Eigenvalues of `M_Pi`, descending.
    pub hat_operator_spectrum: Vec<f64>,
    /// `1 - mu_max(M_Pi)` restricted to label differences: the induced
    /// frustration index.
    pub induced_frustration: f64,
    /// Adiabatic slow rate `(eta_y / n) min eig(diag(m) - A^T Pi A)` on
    /// label differences.
    pub adiabatic_slow_rate: f64,
}

impl FiniteFlow {
    /// Builds `S` and its eigendecomposition (cost `O((D + K)^3)`).
    pub fn new(data: &TrainingSet, eta_x: f64, eta_y: f64) -> Result<Self> {
        let (dd, k, n) = (data.input_dim, data.classes, data.len());
        let nn = dd + k;
        let per = n as f64 / k as f64;
        let mass = data.label_mass();
        let (f, b) = moments(data);
        let c = (eta_x * eta_y / per).sqrt();
        let s = Mat::from_fn(nn, nn, |i, j| match (i < dd, j < dd) {
            (true, true) => eta_x * f[i * dd + j],
            (true, false) => -c * b[i * k + (j - dd)],
            (false, true) => -c * b[j * k + (i - dd)],
            (false, false) => if i == j { eta_y / per * mass[i - dd] } else { 0.0 },
        });
        let eig = s.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical("finite-data flow spectrum", format!("{e:?}")))?;
        let rates = (0..nn).map(|i| eig.S().column_vector()[i]).collect();
        let psqrt = (0..nn).map(|i| if i < dd { (eta_x * n as f64).sqrt() } else { (eta_y * n as f64 / per).sqrt() }).collect();
        Ok(FiniteFlow { input_dim: dd, classes: k, psqrt, rates, u: eig.U().to_owned() })
    }

    /// Evolves one coordinate `z0 = (w, y)` to time `t` exactly.
    pub fn evolve(&self, z0: &[f64], t: f64) -> Vec<f64> {
        let nn = z0.len();
        let w0: Vec<f64> = (0..nn).map(|i| z0[i] / self.psqrt[i]).collect();
        let mut out = vec![0.0; nn];
        for j in 0..nn {
            let coef: f64 = (0..nn).map(|i| self.u[(i, j)] * w0[i]).sum::<f64>() * (-self.rates[j].max(0.0) * t).exp();
            if coef != 0.0 {
                for i in 0..nn {
                    out[i] += self.psqrt[i] * self.u[(i, j)] * coef;
                }
            }
        }
        out
    }

    /// Spectral summary; needs the data again for the hat operator.
    pub fn spectrum(&self, data: &TrainingSet, eta_y: f64) -> Result<FiniteSpectrum> {
        let (dd, k) = (self.input_dim, self.classes);
        let nn = dd + k;
        let top = self.rates.iter().cloned().fold(0.0, f64::max).max(1e-300);
        // Label-difference content of a mode: norm of the centred y-part of
        // P^{1/2} u (the actual parameter displacement).
        let sep_content = |j: usize| -> f64 {
            let yv: Vec<f64> = (dd..nn).map(|i| self.psqrt[i] * self.u[(i, j)]).collect();
            let mean = yv.iter().sum::<f64>() / k as f64;
            let full: f64 = (0..nn).map(|i| (self.psqrt[i] * self.u[(i, j)]).powi(2)).sum::<f64>().sqrt();
            yv.iter().map(|v| (v - mean).powi(2)).sum::<f64>().sqrt() / full.max(1e-300)
        };
        let zero: Vec<usize> = (0..nn).filter(|&j| self.rates[j].abs() < 1e-9 * top).collect();
        let conserved_separation = zero.iter().any(|&j| sep_content(j) > 1e-6);
        let slow_rate = if conserved_separation {
            None
        } else {
            (0..nn).filter(|j| !zero.contains(j) && sep_content(*j) > 1e-3).map(|j| self.rates[j]).reduce(f64::min)
        };
        let (hat_spec, induced, adiabatic) = hat_operator(data, eta_y)?;
        Ok(FiniteSpectrum {
            zero_modes: zero.len(),
            conserved_separation,
            slow_rate,
            hat_operator_spectrum: hat_spec,
            induced_frustration: induced,
            adiabatic_slow_rate: adiabatic,
        })
    }
}

/// `F = Xi^T Xi / D` (D x D) and `B = Xi^T A / sqrt(D)` (D x K), row-major.
fn moments(data: &TrainingSet) -> (Vec<f64>, Vec<f64>) {
    let (dd, k, n) = (data.input_dim, data.classes, data.len());
    let mut f = vec![0.0; dd * dd];
    let mut b = vec![0.0; dd * k];
    let sq = (dd as f64).sqrt();
    for mu in 0..n {
        let xi = &data.xi[mu * dd..(mu + 1) * dd];
        for i in 0..dd {
            let xv = xi[i] / dd as f64;
            if xv != 0.0 {
                for j in i..dd {
                    f[i * dd + j] += xv * xi[j];
                }
            }
            b[i * k + data.label[mu]] += xi[i] / sq;
        }
    }
    for i in 0..dd {
        for j in 0..i {
            f[i * dd + j] = f[j * dd + i];
        }
    }
    (f, b)
}

/// Spectrum of `M_Pi = diag(m)^{-1} A^T Pi A` (descending), the induced
/// frustration `1 - max eig` on label differences, and the adiabatic slow
/// rate. `A^T Pi A = B^T F^+ B` with the pseudo-inverse over eigenvalues of
/// `F` above `1e-10` of the largest.
pub fn hat_operator(data: &TrainingSet, eta_y: f64) -> Result<(Vec<f64>, f64, f64)> {
    let (dd, k, n) = (data.input_dim, data.classes, data.len());
    let (f, b) = moments(data);
    let fm = Mat::from_fn(dd, dd, |i, j| f[i * dd + j]);
    let eig = fm.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical("Xi^T Xi spectrum", format!("{e:?}")))?;
    let vals = eig.S().column_vector();
    let top = (0..dd).map(|i| vals[i]).fold(0.0, f64::max).max(1e-300);
    let u = eig.U();
    // A^T Pi A = sum over modes (u_j^T B)^T (u_j^T B) / f_j.
    let mut atpa = vec![0.0; k * k];
    for j in 0..dd {
        if vals[j] > 1e-10 * top {
            let proj: Vec<f64> = (0..k).map(|c| (0..dd).map(|i| u[(i, j)] * b[i * k + c]).sum()).collect();
            for a in 0..k {
                for c in 0..k {
                    atpa[a * k + c] += proj[a] * proj[c] / vals[j];
                }
            }
        }
    }
    let m = data.label_mass();
    // Symmetric form diag(m)^{-1/2} A^T Pi A diag(m)^{-1/2} has M_Pi's spectrum.
    let sym = Mat::from_fn(k, k, |a, c| atpa[a * k + c] / (m[a] * m[c]).sqrt().max(1e-300));
    let se = sym.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical("hat operator", format!("{e:?}")))?;
    let mut spec: Vec<f64> = (0..k).map(|i| se.S().column_vector()[i]).collect();
    spec.sort_by(|a, b| b.total_cmp(a));
    // Label-difference restriction of (diag(m) - A^T Pi A): project out the
    // constant vector (m_c are equal up to sampling noise).
    let per = n as f64 / k as f64;
    let lab = Mat::from_fn(k, k, |a, c| (if a == c { m[a] } else { 0.0 }) - atpa[a * k + c]);
    let proj = Mat::from_fn(k, k, |a, c| (if a == c { 1.0 } else { 0.0 }) - 1.0 / k as f64);
    let restricted = &proj * &lab * &proj;
    let re = restricted.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical("hat operator", format!("{e:?}")))?;
    let mut rv: Vec<f64> = (0..k).map(|i| re.S().column_vector()[i]).collect();
    rv.sort_by(|a, b| a.total_cmp(b));
    // Drop the constant direction (exact zero of the projected matrix).
    let smallest = rv.get(1).copied().unwrap_or(0.0).max(0.0);
    let mean_mass = per;
    let induced = smallest / mean_mass;
    Ok((spec, induced, eta_y / per * smallest))
}

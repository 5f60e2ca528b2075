//! The attractor of Model H's `symmetric` variant without weight decay: a
//! manifold of fixed points, and its transverse stability.
//!
//! **The fixed-point set.** In the exact class-level system
//! ([`HeadClassLevel`]) with an invertible head, `dx_g/dt = 0` gives
//! `W xbar_g = ybar_g`, `dC/dt = 0` gives `C = 0`, and then the label
//! equation `m_c W^2 y_c = sum_g n_g a_gc ybar_g`, i.e. with
//! `M = diag(m)^{-1} A^T A`,
//!
//! ```text
//!   W^2 Y^T = Y^T M^T,        (Y^T: d x K, columns y_c)
//! ```
//!
//! after which the head equation holds identically (both of its sums
//! vanish). So the fixed points are `{(Y, W): W^2 Y^T = Y^T M^T}` with the
//! group means `xbar_g = W^{-1} ybar_g`: on the label span, `W^2` acts as `M`
//! in label coordinates (`W^2 (Y^T v) = Y^T (M^T v)`), so every eigenvector
//! `u` of `M^T` maps to an eigenvector `Y^T u` of `W^2` with the same
//! eigenvalue. `W` itself is any square root of that action, and may mix
//! the label span with its complement. For a row-stochastic `M`,
//! `M^T pi = pi` (`pi` the class masses normalised; uniform for the
//! balanced design), so the label centroid `c = Y^T pi` satisfies
//! `W^2 c = c` **whenever it is not zero**: the head squares to the identity
//! along the centroid, whatever `W` does there.
//!
//! **Its dimension** at a point is `K d + d^2 - rank L`, with the
//! linearised constraint `L(dY, dW) = dW W Y^T + W dW Y^T + W^2 dY^T - dY^T M^T`
//! (`d K` equations): computed by SVD here, independently of the Jacobian.
//! Its tangent vectors lift to the class-level state as
//! `(dxbar_g = W^{-1}(dybar_g - dW xbar_g), dY, dW, dC = 0)`.
//!
//! **Transverse stability** ([`analyse`]): the Jacobian of the class-level
//! field must have exactly `dim` zero eigenvalues, every family tangent
//! must be in its kernel (`|J t| ~ 0`: the zero modes are attributed to the
//! family), and every other eigenvalue must have negative real part.
use faer::Mat;
use serde::Serialize;

use crate::engine::{jacobian_matrix, sorted_eigenvalues};
use crate::engine::VectorField;
use crate::error::{Error, Result};
use crate::models::common::frustration::{FrustrationOperator, LabelWeights};
use crate::models::head::simulation::{label_subspace, square, HeadRates, HeadState};
use crate::models::head::reduced::class_level::HeadClassLevel;

/// What the analysis of one (near-)fixed point found.
#[derive(Clone, Debug, Serialize)]
pub struct AttractorReport {
    /// `|F(z)|` of the class-level field at the projected state.
    pub residual: f64,
    /// `|W^2 Y^T - Y^T M^T|_F / |Y^T M^T|_F`.
    pub fixed_point_relation_residual: f64,
    /// Label centroid `c = mean_c y_c` over the RMS size of the centred labels.
    pub centroid_ratio: f64,
    /// `|W^2 c - c| / |c|`.
    pub centroid_residual: f64,
    /// `c^T W c / |c|^2`: how `W` itself acts along the centroid.
    pub head_on_centroid: f64,
    /// Eigenvalues of the compression of `W^2` to the centred label span
    /// (decreasing real part).
    pub head_squared_spectrum: Vec<f64>,
    /// Eigenvalues of the compression of `W` to the same span.
    pub head_spectrum: Vec<f64>,
    /// Dimension of the fixed-point set (`K d + d^2 - rank L`).
    pub family_dimension: usize,
    /// Jacobian eigenvalues with `|lambda| < zero_tol * max |lambda|`.
    pub zero_modes: usize,
    /// `max |J t| / |t|` over an orthonormal basis of the family tangent, relative to `max |lambda|`.
    pub tangent_in_kernel: f64,
    /// Largest real part among the other eigenvalues.
    pub max_transverse_real_part: f64,
    /// Smallest modulus among the other eigenvalues.
    pub min_transverse_modulus: f64,
}

impl AttractorReport {
    /// Stable transverse to the family: every zero mode is a family
    /// direction and everything else decays.
    pub fn transversally_stable(&self) -> bool {
        self.zero_modes == self.family_dimension && self.tangent_in_kernel < 1e-6 && self.max_transverse_real_part < 0.0
    }
}

fn matmul(a: &[f64], b: &[f64], n: usize, k: usize, m: usize) -> Vec<f64> {
    (0..n * m).map(|ij| (0..k).map(|l| a[(ij / m) * k + l] * b[l * m + ij % m]).sum()).collect()
}

fn compression(m: &[f64], q: &[f64], d: usize) -> Vec<f64> {
    let r = q.len() / d;
    let c = Mat::from_fn(r, r, |a, b| (0..d).map(|i| q[a * d + i] * (0..d).map(|j| m[i * d + j] * q[b * d + j]).sum::<f64>()).sum::<f64>());
    sorted_eigenvalues(&c).map(|v| v.iter().map(|z| z.re).collect()).unwrap_or_default()
}

/// Analyses the microscopic state `st` of the `symmetric` variant
/// (`weight_decay = 0`) as a point of the fixed-point manifold (module
/// doc). `zero_tol` is relative to the largest eigenvalue modulus.
pub fn analyse(a: &LabelWeights, rates: HeadRates, st: &HeadState, zero_tol: f64) -> Result<AttractorReport> {
    let (k, d) = (a.classes(), st.dim);
    if rates.weight_decay != 0.0 || rates.variant != crate::models::head::config::Variant::Symmetric {
        return Err(Error::invalid("variant/weight_decay", format!("{}/{}", rates.variant.name(), rates.weight_decay), "symmetric with weight_decay = 0 (the fixed-point manifold of this module)"));
    }
    let mm: Vec<f64> = FrustrationOperator::new(a)?.matrix.concat();
    let (y, w) = (&st.y, &st.w);
    let w2 = square(w, d);
    let yt: Vec<f64> = (0..d * k).map(|ij| y[(ij % k) * d + ij / k]).collect();
    let mt: Vec<f64> = (0..k * k).map(|ij| mm[(ij % k) * k + ij / k]).collect();
    let ymt = matmul(&yt, &mt, d, k, k);
    let lhs = matmul(&w2, &yt, d, d, k);
    let nrm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let rel = nrm(&lhs.iter().zip(&ymt).map(|(u, v)| u - v).collect::<Vec<_>>()) / nrm(&ymt).max(1e-300);
    let c: Vec<f64> = (0..d).map(|j| (0..k).map(|cl| y[cl * d + j]).sum::<f64>() / k as f64).collect();
    let cn = nrm(&c);
    let ycent = ((0..k * d).map(|i| (y[i] - c[i % d]).powi(2)).sum::<f64>() / k as f64).sqrt();
    let w2c = matmul(&w2, &c, d, d, 1);
    let wc = matmul(w, &c, d, d, 1);
    // Constraint map and its null space (the family tangent in (Y, W)).
    let nu = k * d + d * d;
    let mut l = Mat::<f64>::zeros(d * k, nu);
    let mut basis_in: Vec<(Vec<f64>, Vec<f64>)> = Vec::with_capacity(nu);
    for col in 0..nu {
        let (mut dyt, mut dw) = (vec![0.0; d * k], vec![0.0; d * d]);
        if col < k * d {
            dyt[col] = 1.0;
        } else {
            dw[col - k * d] = 1.0;
        }
        let t1 = matmul(&matmul(&dw, w, d, d, d), &yt, d, d, k);
        let t2 = matmul(&matmul(w, &dw, d, d, d), &yt, d, d, k);
        let t3 = matmul(&w2, &dyt, d, d, k);
        let t4 = matmul(&dyt, &mt, d, k, k);
        for r in 0..d * k {
            l[(r, col)] = t1[r] + t2[r] + t3[r] - t4[r];
        }
        basis_in.push((dyt, dw));
    }
    let svd = l.svd().map_err(|e| Error::numerical("fixed-point constraint map", format!("SVD failed: {e:?}")))?;
    let s = svd.S().column_vector();
    let smax = (0..s.nrows()).map(|i| s[i]).fold(0.0, f64::max);
    let rank = (0..s.nrows()).filter(|&i| s[i] > 1e-8 * smax).count();
    let family_dimension = nu - rank;
    // Class-level Jacobian at the projected state.
    let sys = HeadClassLevel::new(a, rates, d)?;
    let p = sys.default_params();
    let z = sys.project(st);
    let mut fz = vec![0.0; z.len()];
    sys.rhs(&z, &p, &mut fz);
    let jac = jacobian_matrix(&sys, &z, &p);
    let ev = sorted_eigenvalues(&jac)?;
    let scale = ev.iter().map(|e| e.re.hypot(e.im)).fold(0.0, f64::max);
    let is_zero = |e: &faer::c64| e.re.hypot(e.im) < zero_tol * scale;
    let zero_modes = ev.iter().filter(|e| is_zero(e)).count();
    let max_transverse_real_part = ev.iter().filter(|e| !is_zero(e)).map(|e| e.re).fold(f64::NEG_INFINITY, f64::max);
    let min_transverse_modulus = ev.iter().filter(|e| !is_zero(e)).map(|e| e.re.hypot(e.im)).fold(f64::INFINITY, f64::min);
    // Lift the tangent basis (right singular vectors of the null space) and test J t = 0.
    let winv = {
        let m = Mat::from_fn(d, d, |i, j| w[i * d + j]);
        let inv = faer::linalg::solvers::DenseSolveCore::inverse(&m.partial_piv_lu());
        (0..d * d).map(|ij| inv[(ij / d, ij % d)]).collect::<Vec<f64>>()
    };
    let v = svd.V();
    let (ow, oc) = (z.len() - 2 * d * d, z.len() - d * d);
    let oy = ow - k * d;
    let mut worst: f64 = 0.0;
    for col in rank..nu {
        let coef: Vec<f64> = (0..nu).map(|i| v[(i, col)]).collect();
        let (mut dyt, mut dw) = (vec![0.0; d * k], vec![0.0; d * d]);
        for (ci, (by, bw)) in coef.iter().zip(&basis_in) {
            dyt.iter_mut().zip(by).for_each(|(a_, b)| *a_ += ci * b);
            dw.iter_mut().zip(bw).for_each(|(a_, b)| *a_ += ci * b);
        }
        let mut t = vec![0.0; z.len()];
        for cl in 0..k {
            for j in 0..d {
                t[oy + cl * d + j] = dyt[j * k + cl];
            }
        }
        t[ow..oc].copy_from_slice(&dw);
        for (g, grp) in sys.groups.groups.iter().enumerate() {
            // dybar_g - dW xbar_g, then W^{-1}.
            let rhs: Vec<f64> = (0..d)
                .map(|i| grp.row.iter().map(|&(cl, aw)| aw * dyt[i * k + cl]).sum::<f64>() - (0..d).map(|j| dw[i * d + j] * z[g * d + j]).sum::<f64>())
                .collect();
            for i in 0..d {
                t[g * d + i] = (0..d).map(|j| winv[i * d + j] * rhs[j]).sum();
            }
        }
        let jt: Vec<f64> = (0..z.len()).map(|i| (0..z.len()).map(|j| jac[(i, j)] * t[j]).sum()).collect();
        worst = worst.max(nrm(&jt) / nrm(&t).max(1e-300) / scale.max(1e-300));
    }
    let q = label_subspace(y, k, d);
    Ok(AttractorReport {
        residual: nrm(&fz),
        fixed_point_relation_residual: rel,
        centroid_ratio: cn / ycent.max(1e-300),
        centroid_residual: nrm(&w2c.iter().zip(&c).map(|(u, v)| u - v).collect::<Vec<_>>()) / cn.max(1e-300),
        head_on_centroid: c.iter().zip(&wc).map(|(u, v)| u * v).sum::<f64>() / (cn * cn).max(1e-300),
        head_squared_spectrum: compression(&w2, &q, d),
        head_spectrum: compression(w, &q, d),
        family_dimension,
        zero_modes,
        tangent_in_kernel: worst,
        max_transverse_real_part,
        min_transverse_modulus,
    })
}

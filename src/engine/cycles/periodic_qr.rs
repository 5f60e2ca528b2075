//! Eigenvalues of a product of matrices without forming the product: the
//! periodic QR (orthogonal) iteration with deflation (Bojanczyk, Golub &
//! Van Dooren, *Proc. SPIE* 1770 (1992), "The periodic Schur
//! decomposition"; as used for Floquet multipliers by Lust, *Int. J.
//! Bifurcation and Chaos* 11 (2001), "Improved numerical Floquet
//! multipliers").
//!
//! For `M = A_{N-1} ... A_0` one sweep computes, from an orthogonal `Q_0`,
//! the QR factorisations `A_j Q_j = Q_{j+1} R_j` (`R_j` upper triangular
//! with a non-negative diagonal), so that
//!
//! ```text
//!   Q_0^T M Q_0 = C R,     C = Q_0^T Q_N,     R = R_{N-1} ... R_0.
//! ```
//!
//! The next sweep starts from `Q_0 = Q_N` (orthogonal iteration on `M`).
//! `C` tends to a block upper triangular matrix whose diagonal blocks
//! separate groups of eigenvalues of different modulus; where the coupling
//! below a block has dropped under `SPLIT_TOL` the eigenvalues of `M` are
//! those of the diagonal blocks `C_bb R_bb`, and `R_bb` is the product of
//! the blocks `(R_j)_bb` (a product of upper triangular matrices has the
//! product of their diagonal blocks on its diagonal). For a `1 x 1` block the
//! eigenvalue is `C_ii prod_j (R_j)_ii`, accumulated as a sum of logarithms:
//! each factor carries only its own round-off, so eigenvalues many orders
//! of magnitude below `eps |M|` keep their relative accuracy, where the
//! eigenvalues of the formed product `M` lose everything below
//! `eps |M|`. Blocks that do not split (complex pairs, or eigenvalues of
//! equal modulus such as `1` and `-1` at a period doubling) are evaluated
//! as small products with a running scale.
use faer::{c64, Mat};

use crate::engine::sorted_eigenvalues;
use crate::error::{Error, Result};

/// Coupling below which two groups of eigenvalues are treated as split.
const SPLIT_TOL: f64 = 1e-12;
/// Sweeps at most (each sweep reduces the coupling between groups of
/// moduli `|mu_a| > |mu_b|` by about `|mu_b / mu_a|`).
const MAX_SWEEPS: usize = 50;
/// A boundary whose coupling fell by less than this factor in a sweep
/// separates moduli within a factor 100: evaluating them as one block loses
/// at most two digits of the smaller, so the iteration stops there.
const SLOW: f64 = 1e-2;

/// The `n` eigenvalues of `factors[N-1] ... factors[0]` (all `n x n`), in no
/// particular order. The sweeps stop when every boundary between groups is
/// split, or converges slowly (moduli within a factor `1 / SLOW`), or after
/// `MAX_SWEEPS`; the unsplit groups are then evaluated as blocks. See the
/// module docs.
pub fn product_eigenvalues(factors: &[Mat<f64>]) -> Result<Vec<c64>> {
    let n = factors.first().map_or(0, |a| a.nrows());
    if n == 0 {
        return Ok(Vec::new());
    }
    if factors.iter().any(|a| a.nrows() != n || a.ncols() != n || !a.as_ref().is_all_finite()) {
        return Err(Error::numerical("periodic QR", "factors must be finite and square of one size"));
    }
    let mut q0 = Mat::<f64>::identity(n, n);
    let mut previous: Option<Vec<f64>> = None;
    for sweep in 0..MAX_SWEEPS {
        let mut q = q0.clone();
        let mut rs = Vec::with_capacity(factors.len());
        for a in factors {
            let b = a.as_ref() * q.as_ref();
            let qr = b.qr();
            let mut qn = qr.compute_Q();
            let mut r = Mat::<f64>::from_fn(n, n, |i, j| if i <= j { qr.R()[(i, j)] } else { 0.0 });
            for i in 0..n {
                if r[(i, i)] < 0.0 {
                    for j in 0..n {
                        r[(i, j)] = -r[(i, j)];
                    }
                    for k in 0..n {
                        qn[(k, i)] = -qn[(k, i)];
                    }
                }
            }
            rs.push(r);
            q = qn;
        }
        let c = q0.transpose() * q.as_ref();
        let coupling: Vec<f64> = (1..n).map(|k| lower_coupling(&c, k)).collect();
        let splits: Vec<usize> = (1..n).filter(|&k| coupling[k - 1] < SPLIT_TOL).collect();
        let slow = previous
            .as_ref()
            .is_some_and(|prev| coupling.iter().zip(prev).all(|(now, before)| *now < SPLIT_TOL || *now > SLOW * before));
        if splits.len() == n - 1 || slow || sweep + 1 == MAX_SWEEPS {
            return block_eigenvalues(&c, &rs, &splits);
        }
        previous = Some(coupling);
        q0 = q;
    }
    unreachable!("the last sweep returns")
}

/// `max |C_ij|` over `i >= k > j`.
fn lower_coupling(c: &Mat<f64>, k: usize) -> f64 {
    let n = c.nrows();
    (k..n).flat_map(|i| (0..k).map(move |j| (i, j))).map(|(i, j)| c[(i, j)].abs()).fold(0.0, f64::max)
}

/// Eigenvalues of every diagonal block `C_bb (R_{N-1})_bb ... (R_0)_bb`.
fn block_eigenvalues(c: &Mat<f64>, rs: &[Mat<f64>], splits: &[usize]) -> Result<Vec<c64>> {
    let n = c.nrows();
    let mut bounds = vec![0];
    bounds.extend_from_slice(splits);
    bounds.push(n);
    let mut out = Vec::with_capacity(n);
    for w in bounds.windows(2) {
        let (lo, size) = (w[0], w[1] - w[0]);
        if size == 1 {
            let mut log = c[(lo, lo)].abs().ln();
            let mut sign = c[(lo, lo)].signum();
            for r in rs {
                log += r[(lo, lo)].abs().ln();
                sign *= r[(lo, lo)].signum();
            }
            out.push(c64::new(sign * log.exp(), 0.0));
            continue;
        }
        // Running product with a scale: P = e^{-s} (R_j)_bb ... (R_0)_bb.
        let mut p = Mat::<f64>::identity(size, size);
        let mut s = 0.0;
        for r in rs {
            p = r.as_ref().submatrix(lo, lo, size, size) * p.as_ref();
            let m = (0..size).flat_map(|i| (0..size).map(move |j| (i, j))).map(|(i, j)| p[(i, j)].abs()).fold(0.0, f64::max);
            if !(m > 0.0 && m.is_finite()) {
                return Err(Error::numerical("periodic QR", "a diagonal block of the product vanished"));
            }
            for i in 0..size {
                for j in 0..size {
                    p[(i, j)] /= m;
                }
            }
            s += m.ln();
        }
        let block = c.as_ref().submatrix(lo, lo, size, size) * p.as_ref();
        let scale = s.exp();
        out.extend(sorted_eigenvalues(&block)?.into_iter().map(|e| e * scale));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three factors with a known product: eigenvalues of the formed
    /// product and of the periodic QR agree for moderate spreads.
    #[test]
    fn matches_the_formed_product() {
        let a = Mat::<f64>::from_fn(3, 3, |i, j| [[0.9, 0.2, -0.1], [0.3, -1.1, 0.4], [0.0, 0.5, 0.2]][i][j]);
        let b = Mat::<f64>::from_fn(3, 3, |i, j| [[1.2, 0.0, 0.3], [-0.2, 0.7, 0.1], [0.4, 0.1, -0.6]][i][j]);
        let d = Mat::<f64>::from_fn(3, 3, |i, j| [[0.5, -0.4, 0.0], [0.2, 0.9, 0.3], [0.1, 0.0, 1.3]][i][j]);
        let ba = b.as_ref() * a.as_ref();
        let prod = d.as_ref() * ba.as_ref();
        let mut want = sorted_eigenvalues(&prod).unwrap();
        let mut got = product_eigenvalues(&[a, b, d]).unwrap();
        let key = |z: &c64| (z.norm(), z.im);
        want.sort_by(|x, y| key(x).partial_cmp(&key(y)).unwrap());
        got.sort_by(|x, y| key(x).partial_cmp(&key(y)).unwrap());
        for (w, g) in want.iter().zip(&got) {
            assert!((w - g).norm() < 1e-12 * (1.0 + w.norm()), "{want:?} vs {got:?}");
        }
    }

    /// `diag(2, 1e-3)` rotated by alternating orthogonal factors, 60 times:
    /// the product has eigenvalues `2^60 = 1.15e18` and `1e-180`; the formed
    /// product keeps only the first, the periodic QR both.
    #[test]
    fn keeps_tiny_eigenvalues() {
        let (cs, sn) = (0.6f64, 0.8f64);
        let rot = Mat::<f64>::from_fn(2, 2, |i, j| [[cs, -sn], [sn, cs]][i][j]);
        let d = Mat::<f64>::from_fn(2, 2, |i, j| if i == j { [2.0, 1e-3][i] } else { 0.0 });
        // A_j = G D G^T with G alternating between I and the rotation.
        let dt = d.as_ref() * rot.transpose();
        let f1 = rot.as_ref() * dt.as_ref();
        let factors: Vec<Mat<f64>> = (0..60).map(|j| if j % 2 == 0 { d.clone() } else { f1.clone() }).collect();
        // Reference: the product's eigenvalues are those of a 2 x 2 matrix
        // product with exact determinant (2e-3)^60 and trace dominated by
        // the large eigenvalue; the small one is det / large.
        let mut got = product_eigenvalues(&factors).unwrap();
        got.sort_by(|x, y| x.norm().total_cmp(&y.norm()));
        let mut prod = Mat::<f64>::identity(2, 2);
        for f in &factors {
            prod = f.as_ref() * prod.as_ref();
        }
        let big = sorted_eigenvalues(&prod).unwrap().into_iter().map(|z| z.norm()).fold(0.0, f64::max);
        let small_exact = 2e-3f64.powi(60) / big;
        assert!((got[1].norm() - big).abs() < 1e-10 * big);
        assert!((got[0].re - small_exact).abs() < 1e-10 * small_exact, "{} vs {small_exact}", got[0].re);
    }
}

//! Criticality of a Hopf point: the first Lyapunov coefficient `l1` of an
//! `n`-dimensional vector field at an equilibrium with a simple critical
//! pair `+- i omega`.
//!
//! Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed. (2004),
//! eq. (3.20) for `n = 2` and sec. 8.7.2 / eq. (8.23) with the projection
//! method for any `n`: with `A = F_x`, `B` and `C` the second and third
//! derivatives of `F` in `x` ([`VectorField::second_derivative`],
//! [`VectorField::third_derivative`]),
//!
//! ```text
//!   A q = i omega q,   A^T p = -i omega p,   <q, q> = 1,   <p, q> = 1   (<a, b> = conj(a)^T b)
//!   l1 = 1/(2 omega) Re[ <p, C(q, q, conj q)> - 2 <p, B(q, A^{-1} B(q, conj q))>
//!                        + <p, B(conj q, (2 i omega I - A)^{-1} B(q, q))> ]
//! ```
//!
//! `l1 < 0`: supercritical (a stable cycle is born on the side where the
//! equilibrium is unstable); `l1 > 0`: subcritical. The value depends on the
//! normalisation `<q, q> = 1` (MatCont's); its sign does not. For the planar
//! normal form `z' = (beta + i omega) z + c1 z |z|^2` written in `x = 2 Re(z q)`,
//! `l1 = Re(c1) / omega`.
use faer::{c64, Mat};
use serde::{Deserialize, Serialize};

use crate::engine::VectorField;
use crate::error::{Error, Result};

/// Direction of a Hopf bifurcation from the sign of its first Lyapunov coefficient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    /// `l1 < 0`: the emerging cycle is stable (soft onset).
    Supercritical,
    /// `l1 > 0`: the emerging cycle is unstable (hard onset, hysteresis).
    Subcritical,
    /// `|l1|` below the tolerance: a generalised Hopf (Bautin) point is near.
    Degenerate,
}

impl Criticality {
    /// Lower-case name used in JSON and CSV output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Criticality::Supercritical => "supercritical",
            Criticality::Subcritical => "subcritical",
            Criticality::Degenerate => "degenerate",
        }
    }

    /// Criticality from `l1`; `|l1| <= tol` counts as degenerate.
    pub fn from_l1(l1: f64, tol: f64) -> Self {
        if l1.abs() <= tol {
            Criticality::Degenerate
        } else if l1 < 0.0 {
            Criticality::Supercritical
        } else {
            Criticality::Subcritical
        }
    }
}

/// The normal-form data of a Hopf point.
#[derive(Clone, Debug)]
pub struct HopfNormalForm {
    /// First Lyapunov coefficient (normalisation `<q, q> = 1`).
    pub l1: f64,
    /// Frequency of the critical pair.
    pub omega: f64,
    /// Critical eigenvector, `A q = i omega q`, `<q, q> = 1`.
    pub q: Vec<c64>,
    /// Adjoint eigenvector, `A^T p = -i omega p`, `<p, q> = 1`.
    pub p: Vec<c64>,
    /// Whether `B` and `C` came from exact (symbolic) derivatives.
    pub exact: bool,
}

/// `|l1|` at or below this counts as degenerate in reports: the exact
/// (symbolic) path computes `l1` to round-off, `~1e-13` for unit-scale data.
pub const DEGENERATE_L1: f64 = 1e-10;

impl HopfNormalForm {
    /// Criticality from the sign of `l1` ([`DEGENERATE_L1`] as tolerance).
    pub fn criticality(&self) -> Criticality {
        Criticality::from_l1(self.l1, DEGENERATE_L1)
    }
}

/// Unit right singular vector for the smallest singular value of a complex matrix.
fn null_vector(m: &Mat<c64>) -> Result<Vec<c64>> {
    let svd = m.svd().map_err(|e| Error::numerical("Hopf eigenvector", format!("SVD failed: {e:?}")))?;
    let v = svd.V();
    let c = v.ncols() - 1;
    Ok((0..v.nrows()).map(|i| v[(i, c)]).collect())
}

/// `<a, b> = conj(a)^T b`.
fn inner(a: &[c64], b: &[c64]) -> c64 {
    a.iter().zip(b).map(|(x, y)| x.conj() * y).sum()
}

fn re(a: &[c64]) -> Vec<f64> {
    a.iter().map(|z| z.re).collect()
}
fn im(a: &[c64]) -> Vec<f64> {
    a.iter().map(|z| z.im).collect()
}

/// Complex bilinear `B(a, b)` from the real form by linearity.
fn complex_b(field: &dyn VectorField, x: &[f64], p: &[f64], a: &[c64], b: &[c64]) -> Vec<c64> {
    let n = x.len();
    let (ar, ai, br, bi) = (re(a), im(a), re(b), im(b));
    let mut t = vec![0.0; n];
    let mut out = vec![c64::new(0.0, 0.0); n];
    for (u, v, coef) in [(&ar, &br, c64::new(1.0, 0.0)), (&ai, &bi, c64::new(-1.0, 0.0)), (&ar, &bi, c64::new(0.0, 1.0)), (&ai, &br, c64::new(0.0, 1.0))] {
        field.second_derivative(x, p, u, v, &mut t);
        for i in 0..n {
            out[i] += coef * t[i];
        }
    }
    out
}

/// Complex trilinear `C(a, b, c)` from the real form by linearity (eight terms).
fn complex_c(field: &dyn VectorField, x: &[f64], p: &[f64], a: &[c64], b: &[c64], c: &[c64]) -> Vec<c64> {
    let n = x.len();
    let parts = |z: &[c64]| [re(z), im(z)];
    let (pa, pb, pc) = (parts(a), parts(b), parts(c));
    let powers = [c64::new(1.0, 0.0), c64::new(0.0, 1.0), c64::new(-1.0, 0.0), c64::new(0.0, -1.0)];
    let mut t = vec![0.0; n];
    let mut out = vec![c64::new(0.0, 0.0); n];
    for (ia, ua) in pa.iter().enumerate() {
        for (ib, ub) in pb.iter().enumerate() {
            for (ic, uc) in pc.iter().enumerate() {
                field.third_derivative(x, p, ua, ub, uc, &mut t);
                let coef = powers[ia + ib + ic];
                for i in 0..n {
                    out[i] += coef * t[i];
                }
            }
        }
    }
    out
}

/// Solve the complex system `(s I - A) h = b` for `s = i sigma` through its
/// real `2n x 2n` form.
fn solve_shifted(a: &Mat<f64>, sigma: f64, b: &[c64]) -> Result<Vec<c64>> {
    use faer::linalg::solvers::Solve;
    let n = a.nrows();
    // (i sigma - A)(hr + i hi) = br + i bi:  -A hr - sigma hi = br,  sigma hr - A hi = bi.
    let m = Mat::<f64>::from_fn(2 * n, 2 * n, |i, j| {
        let (bi_, bj, ii, jj) = (i / n, j / n, i % n, j % n);
        let diag = if ii == jj { sigma } else { 0.0 };
        match (bi_, bj) {
            (0, 0) | (1, 1) => -a[(ii, jj)],
            (0, 1) => -diag,
            _ => diag,
        }
    });
    let mut rhs = Mat::<f64>::from_fn(2 * n, 1, |i, _| if i < n { b[i].re } else { b[i - n].im });
    m.partial_piv_lu().solve_in_place(rhs.as_mut());
    let h: Vec<c64> = (0..n).map(|i| c64::new(rhs[(i, 0)], rhs[(n + i, 0)])).collect();
    if h.iter().any(|z| !(z.re.is_finite() && z.im.is_finite())) {
        return Err(Error::numerical("first Lyapunov coefficient", "singular matrix (another eigenvalue on the imaginary axis?)"));
    }
    Ok(h)
}

/// The first Lyapunov coefficient at the Hopf point `(x, p)` with critical
/// frequency `omega > 0` (see the module documentation).
///
/// Fails if `omega` is not positive and finite, or if `A` or
/// `2 i omega I - A` is singular (a second critical eigenvalue: a
/// codimension-two point where `l1` is not defined).
pub fn first_lyapunov_coefficient(field: &dyn VectorField, x: &[f64], p: &[f64], omega: f64) -> Result<HopfNormalForm> {
    let n = field.dim();
    if x.len() != n {
        return Err(Error::invalid("x", format!("{x:?}"), format!("{n} values")));
    }
    if !(omega > 0.0 && omega.is_finite()) {
        return Err(Error::invalid("omega", omega, "> 0 (the Hopf frequency)"));
    }
    let mut a = Mat::<f64>::zeros(n, n);
    field.jacobian(x, p, a.as_mut());
    // q: kernel of A - i omega I; p: kernel of A^T + i omega I.
    let shifted = |transpose: bool, s: f64| {
        Mat::<c64>::from_fn(n, n, |i, j| {
            let v = if transpose { a[(j, i)] } else { a[(i, j)] };
            c64::new(v, if i == j { s } else { 0.0 })
        })
    };
    let mut q = null_vector(&shifted(false, -omega))?;
    let mut padj = null_vector(&shifted(true, omega))?;
    let qn = inner(&q, &q).re.sqrt();
    q.iter_mut().for_each(|z| *z /= qn);
    let pq = inner(&padj, &q);
    if pq.norm() < 1e-12 {
        return Err(Error::numerical("first Lyapunov coefficient", "<p, q> = 0: the critical pair is not simple (Bogdanov-Takens-like)"));
    }
    padj.iter_mut().for_each(|z| *z /= pq.conj());

    let qbar: Vec<c64> = q.iter().map(|z| z.conj()).collect();
    // h11 = A^{-1} B(q, conj q) (real), via the shifted solver at sigma = 0: (-A) h = b.
    let b11 = complex_b(field, x, p, &q, &qbar);
    let minus_h11 = solve_shifted(&a, 0.0, &b11)?;
    let h11: Vec<c64> = minus_h11.iter().map(|z| -z).collect();
    // h20 = (2 i omega I - A)^{-1} B(q, q).
    let b20 = complex_b(field, x, p, &q, &q);
    let h20 = solve_shifted(&a, 2.0 * omega, &b20)?;
    let c = complex_c(field, x, p, &q, &q, &qbar);
    let t1 = inner(&padj, &c);
    let t2 = inner(&padj, &complex_b(field, x, p, &q, &h11));
    let t3 = inner(&padj, &complex_b(field, x, p, &qbar, &h20));
    let l1 = (t1 - 2.0 * t2 + t3).re / (2.0 * omega);
    if !l1.is_finite() {
        return Err(Error::numerical("first Lyapunov coefficient", "non-finite value"));
    }
    Ok(HopfNormalForm { l1, omega, q, p: padj, exact: field.exact_higher_derivatives() })
}

//! Codimension-one bifurcations of equilibria along a continued branch:
//! their test functions, and their precise location on the branch.
//!
//! Along a branch `u(s) = (x(s), p(s))` of `F(x, p) = 0` three scalar test
//! functions are monitored (Govaerts, *Numerical Methods for Bifurcations of
//! Dynamical Equilibria*, SIAM 2000, ch. 3-4; Kuznetsov, *Elements of Applied
//! Bifurcation Theory*, 3rd ed., sec. 10.2):
//!
//! * **fold** `psi_F = tau_p`, the parameter component of the unit tangent:
//!   it vanishes where the branch turns back in `p` (while the bordered
//!   determinant below stays non-zero);
//! * **branch point** `psi_B = det [ J  F_p ; tau^T ]`, the determinant of the
//!   bordered (augmented) Jacobian: it changes sign where a second branch
//!   crosses, i.e. where `[J | F_p]` loses rank;
//! * **Hopf** `psi_H = det(2 J (.) I) = prod_{i<j} (lambda_i + lambda_j)`, the
//!   bialternate-product determinant, evaluated from the eigenvalues. It
//!   vanishes when a complex pair crosses `Re = 0`, but also at *neutral
//!   saddles* (a real pair `+-a`); after locating a zero the critical pair is
//!   inspected and neutral saddles are discarded.
//!
//! Products of many eigenvalue sums overflow quickly, so determinants are
//! carried as [`SignedLog`] (sign and log-modulus) and rescaled against a
//! reference value before root finding.
use crate::engine::continuation::illinois::Illinois;
use faer::c64;
use serde::Serialize;

use crate::engine::continuation::arclength::{ArclengthSolver, ImplicitCurve};
use crate::engine::equilibria::lyapunov::{Criticality, DEGENERATE_L1};
use crate::engine::linalg::signed_log::SignedLog;

/// The type of a codimension-one bifurcation of equilibria.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BifurcationKind {
    /// Saddle-node (limit point): the branch turns back in the parameter.
    Fold,
    /// Andronov-Hopf: a complex-conjugate pair crosses the imaginary axis.
    Hopf,
    /// Branch point: two branches of equilibria intersect (transcritical or
    /// pitchfork).
    Branch,
    /// Neutral saddle: a real pair `+-a` zeroes the Hopf test function but
    /// no cycle is born (not a bifurcation of the equilibrium; reported so
    /// that it is not mistaken for a Hopf point).
    #[serde(rename = "neutral-saddle")]
    NeutralSaddle,
}

impl BifurcationKind {
    /// The lowercase name used in JSON and CSV output.
    pub fn as_str(&self) -> &'static str {
        match self {
            BifurcationKind::Fold => "fold",
            BifurcationKind::Hopf => "hopf",
            BifurcationKind::Branch => "branch",
            BifurcationKind::NeutralSaddle => "neutral-saddle",
        }
    }
}

/// A located special point on a branch.
#[derive(Clone, Debug)]
pub struct Bifurcation {
    pub kind: BifurcationKind,
    /// Value of the continued parameter at the point.
    pub param: f64,
    /// Equilibrium state at the point.
    pub state: Vec<f64>,
    /// Index of the branch (in [`ContinuationResult::branches`](crate::engine::continuation::results::ContinuationResult)).
    pub branch: usize,
    /// Index of the last branch point *before* the special point: it lies
    /// on the arc between `points[index]` and `points[index + 1]`.
    pub index: usize,
    /// Hopf only: the angular frequency `omega` of the critical pair
    /// `+- i omega` (period of the emerging cycle `2 pi / omega`).
    pub frequency: Option<f64>,
    /// Unit tangent `(dx/ds, dp/ds)` of the branch at the point (used to
    /// seed two-parameter continuation and branch switching).
    pub tangent: Vec<f64>,
    /// Eigenvalues of the Jacobian at the point, sorted by decreasing real part.
    pub eigenvalues: Vec<c64>,
    /// Hopf only: the first Lyapunov coefficient `l1`
    /// ([`first_lyapunov_coefficient`](crate::engine::equilibria::lyapunov::first_lyapunov_coefficient));
    /// `None` where it could not be computed.
    pub lyapunov: Option<f64>,
}

impl Bifurcation {
    /// Hopf points: super- or subcritical from the sign of `l1`.
    pub fn criticality(&self) -> Option<Criticality> {
        self.lyapunov.map(|l1| Criticality::from_l1(l1, DEGENERATE_L1))
    }
}

/// The three test functions at one point of a branch.
#[derive(Clone, Copy, Debug)]
pub struct TestFunctions {
    /// Parameter component of the unit tangent.
    pub fold: f64,
    /// Determinant of the bordered Jacobian `[J F_p; tau^T]`.
    pub branch: SignedLog,
    /// Bialternate-product determinant `prod_{i<j} (lambda_i + lambda_j)`.
    pub hopf: SignedLog,
}

/// `prod_{i<j} (lambda_i + lambda_j)` over all eigenvalue pairs, i.e. the
/// determinant of the bialternate product `2 J (.) I`. The product is real
/// because eigenvalues come in conjugate pairs; it is accumulated as a
/// complex number renormalised after every factor.
pub fn bialternate_product(eigenvalues: &[c64]) -> SignedLog {
    let mut prod = c64::new(1.0, 0.0);
    let mut log = 0.0;
    for (i, a) in eigenvalues.iter().enumerate() {
        for b in &eigenvalues[i + 1..] {
            prod *= a + b;
            let m = prod.norm();
            if m == 0.0 || !m.is_finite() {
                return SignedLog { sign: 0.0, log: f64::NEG_INFINITY };
            }
            log += m.ln();
            prod /= m;
        }
    }
    SignedLog { sign: if prod.re < 0.0 { -1.0 } else { 1.0 }, log }
}

/// At a zero of [`bialternate_product`]: if the eigenvalue pair whose sum is
/// closest to zero is a complex-conjugate pair `+- i omega` (a Hopf point),
/// return `omega`; if it is a real pair `+- a` (a neutral saddle, not a
/// bifurcation) return `None`. "Complex" means `|Im| > 1e-6 (1 + |lambda|)`;
/// a pair closer to the real axis is a Bogdanov-Takens-like degeneracy and
/// is not reported as Hopf.
pub fn hopf_frequency(eigenvalues: &[c64]) -> Option<f64> {
    let mut best: Option<(f64, usize, usize)> = None;
    for i in 0..eigenvalues.len() {
        for j in i + 1..eigenvalues.len() {
            let s = (eigenvalues[i] + eigenvalues[j]).norm();
            if best.is_none_or(|(b, _, _)| s < b) {
                best = Some((s, i, j));
            }
        }
    }
    let (_, i, j) = best?;
    let (a, b) = (eigenvalues[i], eigenvalues[j]);
    let conj = (a.im + b.im).abs() <= 1e-8 * (1.0 + a.norm());
    let omega = a.im.abs();
    (conj && omega > 1e-6 * (1.0 + a.norm())).then_some(omega)
}

/// At a zero of [`bialternate_product`] that is not a Hopf point: if the
/// pair whose sum is closest to zero is a real pair `+-a` with
/// `|a| > 1e-6 (1 + |lambda|)` (a neutral saddle), return `a > 0`; `None`
/// otherwise (a Hopf point, or a double zero eigenvalue: a
/// Bogdanov-Takens-like degeneracy, which is not reported).
pub fn neutral_saddle(eigenvalues: &[c64]) -> Option<f64> {
    let mut best: Option<(f64, usize, usize)> = None;
    for i in 0..eigenvalues.len() {
        for j in i + 1..eigenvalues.len() {
            let s = (eigenvalues[i] + eigenvalues[j]).norm();
            if best.is_none_or(|(b, _, _)| s < b) {
                best = Some((s, i, j));
            }
        }
    }
    let (_, i, j) = best?;
    let (a, b) = (eigenvalues[i], eigenvalues[j]);
    let scale = 1e-6 * (1.0 + a.norm());
    let real = a.im.abs() <= scale && b.im.abs() <= scale;
    let split = 0.5 * (a.re - b.re).abs();
    (real && split > scale).then_some(split)
}

/// Number of eigenvalues with `Re lambda > eps` and whether all have
/// `Re lambda < -eps`, with `eps = 1e-9 max(1, max |lambda|)` so that
/// round-off on a zero eigenvalue is not counted as an instability.
pub fn stability(eigenvalues: &[c64]) -> (usize, bool) {
    let scale = eigenvalues.iter().map(|l| l.norm()).fold(1.0, f64::max);
    let eps = 1e-9 * scale;
    let n_unstable = eigenvalues.iter().filter(|l| l.re > eps).count();
    let stable = eigenvalues.iter().all(|l| l.re < -eps);
    (n_unstable, stable)
}

/// Locate a zero of a scalar test function on the arc between `u0` (arc
/// parameter 0, value `f0`) and the next accepted point (arc parameter
/// `sigma1 = <t0, u1 - u0>`, value `f1`, opposite sign).
///
/// Points on the arc are parametrised by their projection on the tangent
/// `t0` at `u0`: for each trial `sigma` the curve point solving
/// `H(u) = 0, <t0, u - u0> = sigma` is found with the corrector, and
/// `eval` returns the test function there. The bracket is shrunk with the
/// Illinois variant of regula falsi (superlinear, never leaves the bracket)
/// until it is narrower than `xtol`. Returns the corrected point with the
/// smallest `|f|`, or `None` if the corrector fails inside the bracket. An
/// `eval` returning `None` (singular bordered matrix) counts as `f = 0`.
#[allow(clippy::too_many_arguments)]
pub fn locate_on_arc<C: ImplicitCurve + ?Sized>(
    solver: &mut ArclengthSolver,
    curve: &mut C,
    u0: &[f64],
    t0: &[f64],
    sigma1: f64,
    f0: f64,
    f1: f64,
    xtol: f64,
    mut eval: impl FnMut(&mut ArclengthSolver, &mut C, &[f64]) -> Option<f64>,
) -> Option<Vec<f64>> {
    let n = u0.len();
    let base: f64 = t0.iter().zip(u0).map(|(a, b)| a * b).sum();
    let mut bracket = Illinois::new(0.0, f0, sigma1, f1);
    let mut u = vec![0.0; n];
    let mut best: Option<(f64, Vec<f64>)> = None;
    for _ in 0..200 {
        // Trial points stay strictly inside the bracket.
        let s = bracket.trial();
        for i in 0..n {
            u[i] = u0[i] + s * t0[i];
        }
        solver.correct(curve, &mut u, t0, base + s)?;
        // The bordered matrix is exactly singular at a branch point, so a
        // failed evaluation after a successful correction means the trial
        // point sits on the zero itself.
        let f = eval(solver, curve, &u).unwrap_or(0.0);
        if best.as_ref().is_none_or(|(bf, _)| f.abs() < *bf) {
            best = Some((f.abs(), u.clone()));
        }
        if bracket.update(s, f, xtol) {
            break;
        }
    }
    best.map(|(_, u)| u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bialternate_distinguishes_hopf_from_neutral_saddle() {
        // mu +- i with a third eigenvalue -2: product (2 mu)(mu - 2 + i)(mu - 2 - i).
        let ev = |mu: f64| vec![c64::new(mu, 1.0), c64::new(mu, -1.0), c64::new(-2.0, 0.0)];
        let expect = |mu: f64| 2.0 * mu * ((mu - 2.0).powi(2) + 1.0);
        for mu in [-0.3, 0.2] {
            let b = bialternate_product(&ev(mu));
            assert!((b.sign * b.log.exp() - expect(mu)).abs() < 1e-12);
        }
        assert_eq!(hopf_frequency(&ev(0.0)), Some(1.0));
        // Neutral saddle +-1: the product vanishes but it is no Hopf point.
        let saddle = [c64::new(1.0, 0.0), c64::new(-1.0, 0.0), c64::new(-3.0, 0.0)];
        assert_eq!(bialternate_product(&saddle).sign, 0.0);
        assert_eq!(hopf_frequency(&saddle), None);
        assert_eq!(neutral_saddle(&saddle), Some(1.0));
        assert_eq!(neutral_saddle(&ev(0.0)), None);
        // A double zero eigenvalue (Bogdanov-Takens-like) is neither.
        let bt = [c64::new(0.0, 0.0), c64::new(0.0, 0.0), c64::new(-3.0, 0.0)];
        assert_eq!(hopf_frequency(&bt), None);
        assert_eq!(neutral_saddle(&bt), None);
    }
}

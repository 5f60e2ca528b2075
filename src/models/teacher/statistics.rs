//! Gaussian expectations of the teacher that close the Model T order-parameter
//! ODE (derivation in `docs/teacher.md` section 2, "Statistics").
//!
//! With observed label `l` (after label noise) and teacher fields `lambda`:
//!
//! ```text
//!     P_c = P(l = c),   M_c = E[1{l = c} lambda],   C = E[lambda lambda^T].
//! ```
//!
//! Both teacher kinds are symmetric under permutations of the classes and the
//! label noise is uniform over the other classes, so `P_c = 1/K`, `C = c0 I`
//! and the K x K matrix with columns `M_c` is `md I + mo (J - I)` (`J` the
//! all-ones matrix): three scalars carry all the statistics.
//!
//! * mixture: `c0 = a^2/K + sigma^2`, true-label `M = (a/K) I`.
//! * argmax: `c0 = 1`, true-label `M = mu1 I + mu2 (J - I)`,
//!   `mu1 = E[max_k lambda_k]/K`, `mu2 = -mu1/(K-1)` (since `sum_c M_c = E lambda = 0`).
//!   `E max` is `1/sqrt(pi)` (K = 2), `3/(2 sqrt(pi))` (K = 3), otherwise the
//!   1-D integral `int x K phi(x) Phi(x)^(K-1) dx` by composite Simpson on
//!   `[-10, 10]` with 4000 panels (error ~1e-11, set by statrs' normal CDF;
//!   checked against K = 2, 3).
//! * label noise: the observed-label matrix is `M_true T(f)` with
//!   `T = (1-f) I + f/(K-1) (J - I)`.
//!
//! Products of matrices `alpha I + beta (J - I)` stay in that family because
//! `(J - I)^2 = (K-1) I + (K-2)(J - I)`.
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::models::teacher::config::TeacherKind;

/// Quadrature half-range and panel count for the 1-D teacher integrals.
const QUAD_RANGE: f64 = 10.0;
const QUAD_PANELS: usize = 4000;

/// `int_{-10}^{10} g(x) dx` by composite Simpson with 4000 panels.
pub fn simpson(g: impl Fn(f64) -> f64) -> f64 {
    let n = QUAD_PANELS;
    let h = 2.0 * QUAD_RANGE / n as f64;
    let mut s = g(-QUAD_RANGE) + g(QUAD_RANGE);
    for i in 1..n {
        let x = -QUAD_RANGE + i as f64 * h;
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * g(x);
    }
    s * h / 3.0
}

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("unit normal")
}

/// `E[max of K iid N(0,1)]`: closed form for K = 2, 3, quadrature otherwise.
pub fn expected_max_normal(k: usize) -> f64 {
    match k {
        1 => 0.0,
        2 => 1.0 / std::f64::consts::PI.sqrt(),
        3 => 1.5 / std::f64::consts::PI.sqrt(),
        _ => expected_max_normal_quadrature(k),
    }
}

/// `int x K phi(x) Phi(x)^(K-1) dx` by Simpson (any K).
pub fn expected_max_normal_quadrature(k: usize) -> f64 {
    let n = std_normal();
    simpson(|x| x * k as f64 * n.pdf(x) * n.cdf(x).powi(k as i32 - 1))
}

/// `(alpha, beta)` of the product `(a1 I + b1 E)(a2 I + b2 E)`, `E = J - I`.
fn circ_mul(k: usize, (a1, b1): (f64, f64), (a2, b2): (f64, f64)) -> (f64, f64) {
    let k = k as f64;
    (a1 * a2 + (k - 1.0) * b1 * b2, a1 * b2 + b1 * a2 + (k - 2.0) * b1 * b2)
}

/// The three scalars of the teacher statistics (see module doc) and their
/// derivatives with respect to the parameters `f`, `sigma`, `a`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct TeacherStats {
    pub classes: usize,
    /// `C = c0 I`.
    pub c0: f64,
    /// Diagonal of the matrix with columns `M_c`.
    pub md: f64,
    /// Off-diagonal of the matrix with columns `M_c`.
    pub mo: f64,
    /// `P_c = 1/K`.
    pub p: f64,
}

/// Teacher kind with its parameter-free constants (argmax: `E max`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Teacher {
    pub kind: TeacherKind,
    pub classes: usize,
    /// `mu1 = E[max]/K` (argmax only; 0 for the mixture).
    pub mu1: f64,
}

impl Teacher {
    pub fn new(kind: TeacherKind, classes: usize) -> Self {
        let mu1 = match kind {
            TeacherKind::Mixture => 0.0,
            TeacherKind::Argmax => expected_max_normal(classes) / classes as f64,
        };
        Teacher { kind, classes, mu1 }
    }

    /// True-label `(diag, off)` of `M` and `c0`, before label noise.
    fn clean(&self, sigma: f64, a: f64) -> ((f64, f64), f64) {
        let k = self.classes as f64;
        match self.kind {
            TeacherKind::Mixture => ((a / k, 0.0), a * a / k + sigma * sigma),
            TeacherKind::Argmax => ((self.mu1, -self.mu1 / (k - 1.0)), 1.0),
        }
    }

    /// Statistics at label noise `f`, mixture std `sigma`, amplitude `a`.
    pub fn stats(&self, f: f64, sigma: f64, a: f64) -> TeacherStats {
        let k = self.classes;
        let (m, c0) = self.clean(sigma, a);
        let t = (1.0 - f, f / (k as f64 - 1.0));
        let (md, mo) = circ_mul(k, m, t);
        TeacherStats { classes: k, c0, md, mo, p: 1.0 / k as f64 }
    }

    /// `d stats / d p_j` for the parameter vector `[eta_x, eta_y, f, sigma, a]`
    /// (exact; rates do not enter the statistics, `P` never depends on them).
    pub fn stats_derivative(&self, f: f64, sigma: f64, a: f64, j: usize) -> TeacherStats {
        let k = self.classes;
        let kf = k as f64;
        let zero = TeacherStats { classes: k, c0: 0.0, md: 0.0, mo: 0.0, p: 0.0 };
        let (m, _) = self.clean(sigma, a);
        match (j, self.kind) {
            (2, _) => {
                let (md, mo) = circ_mul(k, m, (-1.0, 1.0 / (kf - 1.0)));
                TeacherStats { md, mo, ..zero }
            }
            (3, TeacherKind::Mixture) => TeacherStats { c0: 2.0 * sigma, ..zero },
            (4, TeacherKind::Mixture) => {
                let (md, mo) = circ_mul(k, (1.0 / kf, 0.0), (1.0 - f, f / (kf - 1.0)));
                TeacherStats { c0: 2.0 * a / kf, md, mo, ..zero }
            }
            _ => zero,
        }
    }
}

impl TeacherStats {
    /// `C` as a dense K x K matrix (row-major).
    pub fn c_matrix(&self) -> Vec<f64> {
        let k = self.classes;
        (0..k * k).map(|i| if i / k == i % k { self.c0 } else { 0.0 }).collect()
    }
    /// The K x K matrix whose column `c` is `M_c` (row-major).
    pub fn m_matrix(&self) -> Vec<f64> {
        let k = self.classes;
        (0..k * k).map(|i| if i / k == i % k { self.md } else { self.mo }).collect()
    }
    /// `G = sum_c M_c M_c^T / P_c` (row-major).
    pub fn g_matrix(&self) -> Vec<f64> {
        let k = self.classes;
        let m = self.m_matrix();
        let mut g = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..k {
                g[i * k + j] = (0..k).map(|c| m[i * k + c] * m[j * k + c]).sum::<f64>() / self.p;
            }
        }
        g
    }
    /// Eigenvalue of `M` on vectors orthogonal to the constant vector (the
    /// separating subspace) and on the constant vector.
    pub fn m_eigen(&self) -> (f64, f64) {
        (self.md - self.mo, self.md + (self.classes as f64 - 1.0) * self.mo)
    }
    /// Eigenvalues of `C - G` on the separating and the common subspace; a
    /// fixed point with `R != 0` in a subspace needs the eigenvalue to vanish.
    pub fn c_minus_g(&self) -> (f64, f64) {
        let (ms, mc) = self.m_eigen();
        (self.c0 - ms * ms / self.p, self.c0 - mc * mc / self.p)
    }
}

/// Second moments of the argmax teacher conditioned on the winning class
/// `c0`: `E[lambda | c0]` has entries `(e1, e2)` (winner, others) and
/// `Cov(lambda | c0)` has entries `v_ww`, `v_wo`, `v_oo`, `v_oo'`
/// (winner variance, winner-other, other variance, other-other covariance).
/// Each is a 1-D integral (Simpson, see module doc).
#[derive(Clone, Copy, Debug)]
pub struct ArgmaxConditional {
    pub e_w: f64,
    pub e_o: f64,
    pub v_ww: f64,
    pub v_wo: f64,
    pub v_oo: f64,
    pub v_oo2: f64,
}

impl ArgmaxConditional {
    pub fn new(k: usize) -> Self {
        let n = std_normal();
        let kf = k as f64;
        let pw = |x: f64, e: i32| n.cdf(x).powi(e);
        // E[g 1{winner}] with P(winner) = 1/K, then divide by 1/K.
        let e_w = kf * simpson(|x| x * n.pdf(x) * pw(x, k as i32 - 1));
        let e_o = -e_w / (kf - 1.0);
        let s_ww = kf * simpson(|x| x * x * n.pdf(x) * pw(x, k as i32 - 1));
        // int_{-inf}^x y phi(y) dy = -phi(x); int^x y^2 phi = Phi(x) - x phi(x).
        let s_wo = kf * simpson(|x| x * n.pdf(x) * pw(x, k as i32 - 2) * (-n.pdf(x)));
        let s_oo = kf * simpson(|x| n.pdf(x) * pw(x, k as i32 - 2) * (n.cdf(x) - x * n.pdf(x)));
        let s_oo2 = if k >= 3 { kf * simpson(|x| n.pdf(x) * pw(x, k as i32 - 3) * n.pdf(x) * n.pdf(x)) } else { 0.0 };
        ArgmaxConditional {
            e_w,
            e_o,
            v_ww: s_ww - e_w * e_w,
            v_wo: s_wo - e_w * e_o,
            v_oo: s_oo - e_o * e_o,
            v_oo2: s_oo2 - e_o * e_o,
        }
    }
    /// Conditional mean (length K) given winner `c0`.
    pub fn mean(&self, k: usize, c0: usize) -> Vec<f64> {
        (0..k).map(|j| if j == c0 { self.e_w } else { self.e_o }).collect()
    }
    /// Conditional covariance (K x K row-major) given winner `c0`.
    pub fn cov(&self, k: usize, c0: usize) -> Vec<f64> {
        let mut v = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..k {
                v[i * k + j] = match (i == c0, j == c0, i == j) {
                    (true, true, _) => self.v_ww,
                    (true, false, _) | (false, true, _) => self.v_wo,
                    (false, false, true) => self.v_oo,
                    (false, false, false) => self.v_oo2,
                };
            }
        }
        v
    }
}

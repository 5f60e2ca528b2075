//! Four-dimensional Gaussian orthant probabilities as one integral over a
//! path of correlation matrices (Plackett's identity), with closed-form
//! (bivariate) integrands: the argmax teacher with K = 3 has four
//! constraints, `lambda_c0 > lambda_c` and two score differences.
//!
//! For `Z ~ N(0, R)` with unit variances and thresholds `a`, Plackett's
//! identity `dP(Z > a)/dR_ij = phi_2(a_i, a_j; R_ij) P(Z_k > a_k, Z_l > a_l |
//! Z_i = a_i, Z_j = a_j)` along the straight path `R(t) = R_0 + t (R - R_0)`,
//! with `R_0` keeping two 2 x 2 diagonal blocks `{i, k}`, `{j, l}` of `R` and
//! zero across them, gives
//!
//! ```text
//!     P(R) = P_2(a_i, a_k; R_ik) P_2(a_j, a_l; R_jl)
//!          + int_0^1 sum_{i in A, j in B} R_ij phi_2(a_i, a_j; t R_ij) P_2(conditional | t) dt,
//! ```
//!
//! every `P_2` a bivariate upper probability ([`bivariate_normal_upper`],
//! ~1e-15). The same reduction gives Genz's trivariate algorithm (Genz
//! 2004, TVN) one dimension lower. The integral is computed by adaptive
//! bisection with 10-point Gauss-Legendre rules to an absolute 1e-13, in
//! `s = sqrt(1 - t)`.
use std::f64::consts::PI;
use std::sync::OnceLock;

use super::bivariate::bivariate_normal_upper;
use crate::engine::cycles::gauss::gauss_legendre;

/// Absolute tolerance of the path integral.
const TOLERANCE: f64 = 1e-13;
/// Integrand evaluations after which the reduction gives up (near-singular
/// correlations make the integrand steep at `t = 1`); the caller then uses
/// the lattice.
const MAX_EVALUATIONS: usize = 3000;
/// Smallest squared Cholesky pivot of the correlation matrix accepted.
const MIN_PIVOT: f64 = 1e-10;

/// `P(mean + X > 0)` for `X ~ N(0, cov)`, `cov` 4 x 4 row-major, by the
/// path integral above; `None` when a variance is not positive, the
/// correlation matrix is singular to `MIN_PIVOT` or the integral does not
/// converge within `MAX_EVALUATIONS` (the caller falls back to the lattice).
pub fn orthant_probability_4(mean: &[f64], cov: &[f64]) -> Option<f64> {
    assert!(mean.len() == 4 && cov.len() == 16, "four constraints");
    let sd: Vec<f64> = (0..4).map(|i| cov[i * 5].sqrt()).collect();
    if sd.iter().any(|&s| !(s > 0.0 && s.is_finite())) || mean.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let a: Vec<f64> = (0..4).map(|i| -mean[i] / sd[i]).collect();
    let r = |i: usize, j: usize| if i == j { 1.0 } else { cov[i * 4 + j] / (sd[i] * sd[j]) };
    if !positive_definite(&r) {
        return None;
    }
    // Keep the strongest correlations inside the blocks: the pairing with the
    // smallest cross correlations makes the path shortest.
    let pairings = [[0, 1, 2, 3], [0, 2, 1, 3], [0, 3, 1, 2]];
    let cross = |p: &[usize; 4]| -> f64 { [(p[0], p[2]), (p[0], p[3]), (p[1], p[2]), (p[1], p[3])].iter().map(|&(i, j)| r(i, j).powi(2)).sum() };
    let p = *pairings.iter().min_by(|x, y| cross(x).total_cmp(&cross(y))).expect("three pairings");
    // Blocks A = {p0, p1} and B = {p2, p3}.
    let start = bivariate_normal_upper(a[p[0]], a[p[1]], r(p[0], p[1])) * bivariate_normal_upper(a[p[2]], a[p[3]], r(p[2], p[3]));
    let terms: Vec<CrossTerm> = [(0, 1, 2, 3), (0, 1, 3, 2), (1, 0, 2, 3), (1, 0, 3, 2)]
        .iter()
        .map(|&(ia, ka, jb, lb)| CrossTerm::new(&a, &r, p[ia], p[ka], p[jb], p[lb]))
        .collect();
    // t = 1 - s^2: a nearly singular R puts a conditional variance
    // ~ pivot + c (1 - t) under the bivariate term, steep in t near 1; in s
    // the feature widens from ~pivot to ~sqrt(pivot).
    let integrand = |s: f64| 2.0 * s * terms.iter().map(|term| term.eval(1.0 - s * s)).sum::<f64>();
    let integral = adaptive_gauss_legendre(&integrand, 0.0, 1.0, TOLERANCE, MAX_EVALUATIONS)?;
    Some((start + integral).clamp(0.0, 1.0))
}

/// Cholesky of the 4 x 4 correlation matrix with every squared pivot above
/// `MIN_PIVOT`.
fn positive_definite(r: &impl Fn(usize, usize) -> f64) -> bool {
    let mut l = [[0.0; 4]; 4];
    for j in 0..4 {
        let d = r(j, j) - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        if !(d > MIN_PIVOT) {
            return false;
        }
        l[j][j] = d.sqrt();
        for i in j + 1..4 {
            l[i][j] = (r(i, j) - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>()) / l[j][j];
        }
    }
    true
}

/// One term `R_ij phi_2(a_i, a_j; t R_ij) P(Z_k > a_k, Z_l > a_l | Z_i = a_i,
/// Z_j = a_j)` of the path integrand, `i, k` in block A and `j, l` in block B
/// (`R(t)` keeps `R_ik`, `R_jl` and scales `R_ij`, `R_il`, `R_kj`, `R_kl` by `t`).
struct CrossTerm {
    ai: f64,
    aj: f64,
    ak: f64,
    al: f64,
    rij: f64,
    rik: f64,
    rjl: f64,
    ril: f64,
    rkj: f64,
    rkl: f64,
}

impl CrossTerm {
    fn new(a: &[f64], r: &impl Fn(usize, usize) -> f64, i: usize, k: usize, j: usize, l: usize) -> Self {
        CrossTerm { ai: a[i], aj: a[j], ak: a[k], al: a[l], rij: r(i, j), rik: r(i, k), rjl: r(j, l), ril: r(i, l), rkj: r(k, j), rkl: r(k, l) }
    }

    fn eval(&self, t: f64) -> f64 {
        if self.rij == 0.0 {
            return 0.0;
        }
        let rho = t * self.rij;
        let det = 1.0 - rho * rho;
        let density = (-(self.ai * self.ai - 2.0 * rho * self.ai * self.aj + self.aj * self.aj) / (2.0 * det)).exp() / (2.0 * PI * det.sqrt());
        // Conditional law of (Z_k, Z_l) given (Z_i, Z_j) = (a_i, a_j), with
        // covariance rows c_k = (R_ki, t R_kj) and c_l = (t R_li, R_lj):
        // mean c B^-1 a and covariance R_kl,kl - c B^-1 c^T, B = [[1, rho], [rho, 1]].
        let (ck, cl) = ([self.rik, t * self.rkj], [t * self.ril, self.rjl]);
        let binv = |u: [f64; 2], v: [f64; 2]| (u[0] * v[0] - rho * (u[0] * v[1] + u[1] * v[0]) + u[1] * v[1]) / det;
        let ay = [self.ai, self.aj];
        let (mk, ml) = (binv(ck, ay), binv(cl, ay));
        let vk = (1.0 - binv(ck, ck)).max(0.0);
        let vl = (1.0 - binv(cl, cl)).max(0.0);
        let vkl = t * self.rkl - binv(ck, cl);
        let (sk, sl) = (vk.sqrt(), vl.sqrt());
        let conditional = if sk > 0.0 && sl > 0.0 {
            bivariate_normal_upper((self.ak - mk) / sk, (self.al - ml) / sl, (vkl / (sk * sl)).clamp(-1.0, 1.0))
        } else {
            // A degenerate conditional direction (only at a singular R(t),
            // excluded by the pivot check): the constraint is deterministic.
            let holds = |a: f64, m: f64, s: f64| if s > 0.0 { super::bivariate::phi((m - a) / s) } else if m > a { 1.0 } else { 0.0 };
            holds(self.ak, mk, sk) * holds(self.al, ml, sl)
        };
        self.rij * density * conditional
    }
}

/// 10-point Gauss-Legendre nodes and weights on `[0, 1]`.
fn gauss_legendre_10() -> &'static (Vec<f64>, Vec<f64>) {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    RULE.get_or_init(|| gauss_legendre(10))
}

fn gauss_legendre_on(f: &impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let (x, w) = gauss_legendre_10();
    (hi - lo) * x.iter().zip(w).map(|(xi, wi)| wi * f(lo + (hi - lo) * xi)).sum::<f64>()
}

/// `int_lo^hi f` by bisection until the rule on an interval and on its two
/// halves agree to `tol (hi - lo)`; `None` beyond `max_evaluations`.
fn adaptive_gauss_legendre(f: &impl Fn(f64) -> f64, lo: f64, hi: f64, tol: f64, max_evaluations: usize) -> Option<f64> {
    let mut total = 0.0;
    let mut evaluations = 10;
    let mut stack = vec![(lo, hi, gauss_legendre_on(f, lo, hi))];
    while let Some((a, b, whole)) = stack.pop() {
        let mid = 0.5 * (a + b);
        let (left, right) = (gauss_legendre_on(f, a, mid), gauss_legendre_on(f, mid, b));
        evaluations += 20;
        if evaluations > max_evaluations {
            return None;
        }
        if (left + right - whole).abs() <= tol * (b - a) {
            total += left + right;
        } else {
            stack.push((a, mid, left));
            stack.push((mid, b, right));
        }
    }
    Some(total)
}

//! The fixed ingredients of orthogonal collocation with `m` points per mesh
//! interval: Gauss-Legendre points and weights on `[0, 1]`, and the values
//! and derivatives of the Lagrange basis on the `m + 1` equally spaced
//! nodes `s_k = k/m` at those points (the representation AUTO-07p uses).
//!
//! Collocating at the Gauss points makes the scheme superconvergent: the
//! mesh values are accurate to `O(h^{2m})` (de Boor & Swartz 1973), the
//! period with them.

/// Largest number of collocation points per interval supported.
pub const MAX_NCOL: usize = 7;

/// Legendre polynomial `P_m(x)` and its derivative by the three-term recurrence.
fn legendre(m: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if m == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=m {
        let kf = k as f64;
        let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
        p0 = p1;
        p1 = p2;
    }
    // P_m'(x) = m (x P_m - P_{m-1}) / (x^2 - 1).
    let d = m as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, d)
}

/// Gauss-Legendre points (increasing) and weights on `[0, 1]` (weights sum to 1).
pub fn gauss_legendre(m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut pts = Vec::with_capacity(m);
    let mut wts = Vec::with_capacity(m);
    for i in 0..m {
        // Roots of P_m on [-1, 1] by Newton from the Chebyshev-like guess.
        let mut x = -(std::f64::consts::PI * (i as f64 + 0.75) / (m as f64 + 0.5)).cos();
        for _ in 0..100 {
            let (p, d) = legendre(m, x);
            let dx = p / d;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        let (_, d) = legendre(m, x);
        pts.push(0.5 * (x + 1.0));
        wts.push(1.0 / ((1.0 - x * x) * d * d));
    }
    (pts, wts)
}

/// The collocation scheme with `ncol` Gauss points per interval.
#[derive(Clone, Debug)]
pub struct Scheme {
    pub ncol: usize,
    /// Gauss points `sigma_i` on `[0, 1]`.
    pub points: Vec<f64>,
    /// Gauss weights (sum 1).
    pub weights: Vec<f64>,
    /// `value[i][k] = L_k(sigma_i)`, `k = 0..=ncol`.
    pub value: Vec<Vec<f64>>,
    /// `deriv[i][k] = L_k'(sigma_i)` (derivative in the local coordinate).
    pub deriv: Vec<Vec<f64>>,
}

/// `L_k(s)` on the nodes `k/m`.
pub fn lagrange(m: usize, k: usize, s: f64) -> f64 {
    let sk = k as f64 / m as f64;
    (0..=m).filter(|&l| l != k).map(|l| (s - l as f64 / m as f64) / (sk - l as f64 / m as f64)).product()
}

/// `L_k'(s)` on the nodes `k/m`.
pub fn lagrange_derivative(m: usize, k: usize, s: f64) -> f64 {
    let node = |l: usize| l as f64 / m as f64;
    let sk = node(k);
    let mut total = 0.0;
    for l in (0..=m).filter(|&l| l != k) {
        let mut term = 1.0 / (sk - node(l));
        for r in (0..=m).filter(|&r| r != k && r != l) {
            term *= (s - node(r)) / (sk - node(r));
        }
        total += term;
    }
    total
}

impl Scheme {
    /// `ncol` in `1..=MAX_NCOL`.
    pub fn new(ncol: usize) -> Self {
        assert!((1..=MAX_NCOL).contains(&ncol), "ncol must be in 1..={MAX_NCOL}");
        let (points, weights) = gauss_legendre(ncol);
        let value = points.iter().map(|&s| (0..=ncol).map(|k| lagrange(ncol, k, s)).collect()).collect();
        let deriv = points.iter().map(|&s| (0..=ncol).map(|k| lagrange_derivative(ncol, k, s)).collect()).collect();
        Scheme { ncol, points, weights, value, deriv }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_rule_is_exact_to_degree_2m_minus_1() {
        for m in 1..=MAX_NCOL {
            let (x, w) = gauss_legendre(m);
            for deg in 0..2 * m {
                let q: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(deg as i32)).sum();
                assert!((q - 1.0 / (deg as f64 + 1.0)).abs() < 1e-14, "m = {m}, degree {deg}: {q}");
            }
        }
    }

    #[test]
    fn lagrange_basis_reproduces_polynomials() {
        let m = 4;
        let f = |s: f64| 1.0 - 2.0 * s + 3.0 * s.powi(3) - s.powi(4);
        let df = |s: f64| -2.0 + 9.0 * s * s - 4.0 * s.powi(3);
        for s in [0.0, 0.13, 0.5, 0.77, 1.0] {
            let v: f64 = (0..=m).map(|k| lagrange(m, k, s) * f(k as f64 / m as f64)).sum();
            let d: f64 = (0..=m).map(|k| lagrange_derivative(m, k, s) * f(k as f64 / m as f64)).sum();
            assert!((v - f(s)).abs() < 1e-13 && (d - df(s)).abs() < 1e-12, "s = {s}: {v} {d}");
        }
    }
}

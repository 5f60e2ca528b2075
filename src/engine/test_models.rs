//! Hand-written reference vector fields with closed-form bifurcation
//! structure. They serve three purposes: ground truth for the continuation
//! and boundary tests (every special point is known analytically), a speed
//! baseline for benchmarks of symbolically compiled models, and small worked
//! examples of the [`VectorField`] contract.
//!
//! All of them are stateless unit structs: parameters are passed explicitly,
//! and `rhs`, `jacobian` and `param_derivative` never allocate. Jacobians and
//! parameter derivatives are exact (differentiated by hand). A parameter
//! index outside the model's range yields a zero derivative, which is the
//! correct derivative with respect to a parameter the model does not read.

use faer::MatMut;

use crate::engine::VectorField;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

/// Saddle-node normal form `x' = mu - x^2`; parameter `[mu]`.
///
/// Equilibria `x = +-sqrt(mu)` for `mu > 0` (the `+` branch stable), none for
/// `mu < 0`; a fold at `(x, mu) = (0, 0)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SaddleNode;

impl VectorField for SaddleNode {
    fn name(&self) -> &str {
        "saddle-node"
    }
    fn dim(&self) -> usize {
        1
    }
    fn state_names(&self) -> Vec<String> {
        names(&["x"])
    }
    fn param_names(&self) -> Vec<String> {
        names(&["mu"])
    }
    fn default_params(&self) -> Vec<f64> {
        vec![1.0]
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![1.0]
    }
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        out[0] = p[0] - x[0] * x[0];
    }
    fn jacobian(&self, x: &[f64], _p: &[f64], mut jac: MatMut<'_, f64>) {
        jac[(0, 0)] = -2.0 * x[0];
    }
    fn param_derivative(&self, _x: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        out[0] = if k == 0 { 1.0 } else { 0.0 };
    }
}

/// Supercritical pitchfork normal form `x' = mu x - x^3`; parameter `[mu]`.
///
/// The trivial branch `x = 0` (stable for `mu < 0`) meets the branch
/// `x^2 = mu` at a symmetry-breaking branch point `(0, 0)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pitchfork;

impl VectorField for Pitchfork {
    fn name(&self) -> &str {
        "pitchfork"
    }
    fn dim(&self) -> usize {
        1
    }
    fn state_names(&self) -> Vec<String> {
        names(&["x"])
    }
    fn param_names(&self) -> Vec<String> {
        names(&["mu"])
    }
    fn default_params(&self) -> Vec<f64> {
        vec![-1.0]
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![0.0]
    }
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        out[0] = p[0] * x[0] - x[0] * x[0] * x[0];
    }
    fn jacobian(&self, x: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        jac[(0, 0)] = p[0] - 3.0 * x[0] * x[0];
    }
    fn param_derivative(&self, x: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        out[0] = if k == 0 { x[0] } else { 0.0 };
    }
}

/// Supercritical Hopf normal form in Cartesian coordinates; parameter `[mu]`:
///
/// ```text
///     x' = mu x - y - x (x^2 + y^2)
///     y' = x + mu y - y (x^2 + y^2)
/// ```
///
/// The origin has eigenvalues `mu +- i`, so a Hopf bifurcation with
/// frequency 1 occurs at `mu = 0`; the limit cycle has radius `sqrt(mu)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct HopfNormalForm;

impl VectorField for HopfNormalForm {
    fn name(&self) -> &str {
        "hopf-normal-form"
    }
    fn dim(&self) -> usize {
        2
    }
    fn state_names(&self) -> Vec<String> {
        names(&["x", "y"])
    }
    fn param_names(&self) -> Vec<String> {
        names(&["mu"])
    }
    fn default_params(&self) -> Vec<f64> {
        vec![-1.0]
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![0.1, 0.0]
    }
    fn rhs(&self, s: &[f64], p: &[f64], out: &mut [f64]) {
        let (x, y, mu) = (s[0], s[1], p[0]);
        let r2 = x * x + y * y;
        out[0] = mu * x - y - x * r2;
        out[1] = x + mu * y - y * r2;
    }
    fn jacobian(&self, s: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (x, y, mu) = (s[0], s[1], p[0]);
        jac[(0, 0)] = mu - 3.0 * x * x - y * y;
        jac[(0, 1)] = -1.0 - 2.0 * x * y;
        jac[(1, 0)] = 1.0 - 2.0 * x * y;
        jac[(1, 1)] = mu - x * x - 3.0 * y * y;
    }
    fn param_derivative(&self, s: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        if k == 0 {
            out[0] = s[0];
            out[1] = s[1];
        } else {
            out[..2].fill(0.0);
        }
    }
}

/// The Lorenz system; parameters `[sigma, r, b]`:
///
/// ```text
///     x' = sigma (y - x)
///     y' = x (r - z) - y
///     z' = x y - b z
/// ```
///
/// The origin undergoes a pitchfork at `r = 1`, creating
/// `C+- = (+-sqrt(b(r-1)), +-sqrt(b(r-1)), r-1)`, which lose stability in a
/// (subcritical) Hopf bifurcation at `r_H = sigma (sigma + b + 3) / (sigma - b - 1)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lorenz;

impl VectorField for Lorenz {
    fn name(&self) -> &str {
        "lorenz"
    }
    fn dim(&self) -> usize {
        3
    }
    fn state_names(&self) -> Vec<String> {
        names(&["x", "y", "z"])
    }
    fn param_names(&self) -> Vec<String> {
        names(&["sigma", "r", "b"])
    }
    fn default_params(&self) -> Vec<f64> {
        vec![10.0, 28.0, 8.0 / 3.0]
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![1.0, 1.0, 1.0]
    }
    fn rhs(&self, s: &[f64], p: &[f64], out: &mut [f64]) {
        let (x, y, z) = (s[0], s[1], s[2]);
        let (sigma, r, b) = (p[0], p[1], p[2]);
        out[0] = sigma * (y - x);
        out[1] = x * (r - z) - y;
        out[2] = x * y - b * z;
    }
    fn jacobian(&self, s: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (x, y, z) = (s[0], s[1], s[2]);
        let (sigma, r, b) = (p[0], p[1], p[2]);
        jac[(0, 0)] = -sigma;
        jac[(0, 1)] = sigma;
        jac[(0, 2)] = 0.0;
        jac[(1, 0)] = r - z;
        jac[(1, 1)] = -1.0;
        jac[(1, 2)] = -x;
        jac[(2, 0)] = y;
        jac[(2, 1)] = x;
        jac[(2, 2)] = -b;
    }
    fn param_derivative(&self, s: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        out[..3].fill(0.0);
        match k {
            0 => out[0] = s[1] - s[0],
            1 => out[1] = s[0],
            2 => out[2] = -s[2],
            _ => {}
        }
    }
}

/// The Brusselator; parameters `[a, b]`:
///
/// ```text
///     x' = a - (b + 1) x + x^2 y
///     y' = b x - x^2 y
/// ```
///
/// Unique equilibrium `(a, b/a)`, with trace `b - 1 - a^2` and determinant
/// `a^2`: a Hopf bifurcation with frequency `a` at `b = 1 + a^2`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Brusselator;

impl VectorField for Brusselator {
    fn name(&self) -> &str {
        "brusselator"
    }
    fn dim(&self) -> usize {
        2
    }
    fn state_names(&self) -> Vec<String> {
        names(&["x", "y"])
    }
    fn param_names(&self) -> Vec<String> {
        names(&["a", "b"])
    }
    fn default_params(&self) -> Vec<f64> {
        vec![1.0, 1.5]
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![1.0, 1.5]
    }
    fn rhs(&self, s: &[f64], p: &[f64], out: &mut [f64]) {
        let (x, y, a, b) = (s[0], s[1], p[0], p[1]);
        let x2y = x * x * y;
        out[0] = a - (b + 1.0) * x + x2y;
        out[1] = b * x - x2y;
    }
    fn jacobian(&self, s: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (x, y, b) = (s[0], s[1], p[1]);
        jac[(0, 0)] = -(b + 1.0) + 2.0 * x * y;
        jac[(0, 1)] = x * x;
        jac[(1, 0)] = b - 2.0 * x * y;
        jac[(1, 1)] = -x * x;
    }
    fn param_derivative(&self, s: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        match k {
            0 => {
                out[0] = 1.0;
                out[1] = 0.0;
            }
            1 => {
                out[0] = -s[0];
                out[1] = s[0];
            }
            _ => out[..2].fill(0.0),
        }
    }
}

/// Cusp normal form `x' = a + b x - x^3`; parameters `[a, b]`.
///
/// Folds where `a + b x - x^3 = 0` and `b = 3 x^2`, i.e. on the curve
/// `27 a^2 = 4 b^3` (two branches meeting at the cusp point `a = b = 0`);
/// inside (`27 a^2 < 4 b^3`) there are three equilibria, outside one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cusp;

impl VectorField for Cusp {
    fn name(&self) -> &str {
        "cusp"
    }
    fn dim(&self) -> usize {
        1
    }
    fn state_names(&self) -> Vec<String> {
        names(&["x"])
    }
    fn param_names(&self) -> Vec<String> {
        names(&["a", "b"])
    }
    fn default_params(&self) -> Vec<f64> {
        vec![0.0, 1.0]
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![1.0]
    }
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        out[0] = p[0] + p[1] * x[0] - x[0] * x[0] * x[0];
    }
    fn jacobian(&self, x: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        jac[(0, 0)] = p[1] - 3.0 * x[0] * x[0];
    }
    fn param_derivative(&self, x: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        out[0] = match k {
            0 => 1.0,
            1 => x[0],
            _ => 0.0,
        };
    }
}

/// Lorenz (1996) model on a ring of `n >= 4` sites; parameter `[F]`:
///
/// ```text
///     x_i' = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F      (indices mod n)
/// ```
///
/// The uniform state `x_i = F` is an equilibrium; at `F = 8` the dynamics is
/// chaotic. The hand-written baseline for the 50-state model file
/// `examples/models/lorenz96.toml` (same operations in the same order, so
/// the values agree to the last bit).
#[derive(Clone, Copy, Debug)]
pub struct Lorenz96 {
    pub n: usize,
}

impl VectorField for Lorenz96 {
    fn name(&self) -> &str {
        "lorenz96"
    }
    fn dim(&self) -> usize {
        self.n
    }
    fn state_names(&self) -> Vec<String> {
        (0..self.n).map(|i| format!("x{i}")).collect()
    }
    fn param_names(&self) -> Vec<String> {
        names(&["F"])
    }
    fn default_params(&self) -> Vec<f64> {
        vec![8.0]
    }
    fn initial_state(&self) -> Vec<f64> {
        let mut x = vec![8.0; self.n];
        x[0] = 8.01;
        x
    }
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        let (n, f) = (self.n, p[0]);
        // Interior sites in one loop, the periodic ends written out (no
        // integer division per site).
        out[0] = (x[1] - x[n - 2]) * x[n - 1] - x[0] + f;
        out[1] = (x[2] - x[n - 1]) * x[0] - x[1] + f;
        for i in 2..n - 1 {
            out[i] = (x[i + 1] - x[i - 2]) * x[i - 1] - x[i] + f;
        }
        out[n - 1] = (x[0] - x[n - 3]) * x[n - 2] - x[n - 1] + f;
    }
    fn jacobian(&self, x: &[f64], _p: &[f64], mut jac: MatMut<'_, f64>) {
        let n = self.n;
        jac.fill(0.0);
        for i in 0..n {
            let ip = if i + 1 == n { 0 } else { i + 1 };
            let im1 = if i == 0 { n - 1 } else { i - 1 };
            let im2 = if i < 2 { i + n - 2 } else { i - 2 };
            jac[(i, ip)] = x[im1];
            jac[(i, im2)] = -x[im1];
            jac[(i, im1)] = x[ip] - x[im2];
            jac[(i, i)] = -1.0;
        }
    }
    fn param_derivative(&self, _x: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        out[..self.n].fill(if k == 0 { 1.0 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    /// Central differences of `rhs` against the hand-written Jacobian and
    /// parameter derivatives, at a generic (non-symmetric) point.
    fn check(field: &dyn VectorField) {
        let n = field.dim();
        let x: Vec<f64> = (0..n).map(|i| 0.3 + 0.17 * i as f64).collect();
        let p: Vec<f64> = field.default_params().iter().map(|v| v + 0.11).collect();
        let h = 1e-6;
        let mut jac = Mat::<f64>::zeros(n, n);
        field.jacobian(&x, &p, jac.as_mut());
        let (mut fp, mut fm) = (vec![0.0; n], vec![0.0; n]);
        for j in 0..n {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[j] += h;
            xm[j] -= h;
            field.rhs(&xp, &p, &mut fp);
            field.rhs(&xm, &p, &mut fm);
            for i in 0..n {
                let fd = (fp[i] - fm[i]) / (2.0 * h);
                assert!((fd - jac[(i, j)]).abs() < 1e-6, "{} J[{i},{j}]", field.name());
            }
        }
        let mut dp = vec![0.0; n];
        for k in 0..p.len() {
            field.param_derivative(&x, &p, k, &mut dp);
            let (mut pp, mut pm) = (p.clone(), p.clone());
            pp[k] += h;
            pm[k] -= h;
            field.rhs(&x, &pp, &mut fp);
            field.rhs(&x, &pm, &mut fm);
            for i in 0..n {
                let fd = (fp[i] - fm[i]) / (2.0 * h);
                assert!((fd - dp[i]).abs() < 1e-6, "{} dF_{i}/dp_{k}", field.name());
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        check(&SaddleNode);
        check(&Pitchfork);
        check(&HopfNormalForm);
        check(&Lorenz);
        check(&Brusselator);
        check(&Cusp);
        check(&Lorenz96 { n: 7 });
    }
}

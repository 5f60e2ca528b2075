//! Bogdanov-Takens points located by Newton's method on a defining system.
//!
//! A Bogdanov-Takens (BT) point is an equilibrium whose Jacobian has a
//! double zero eigenvalue with a single Jordan block. In two parameters
//! `(p1, p2)` it is an isolated, regular solution of `n + 2` equations in
//! the `n + 2` unknowns `z = (x, p1, p2)`:
//!
//! * **planar systems** (`n = 2`):
//!
//!   ```text
//!     F(x, p) = 0,   det J(x, p) = 0,   tr J(x, p) = 0;
//!   ```
//!
//! * **any dimension**, the minimally augmented system (Govaerts,
//!   *Numerical Methods for Bifurcations of Dynamical Equilibria*, SIAM
//!   2000, sec. 4.4; the BT locator of MatCont): with fixed bordering vectors
//!   `b, c` making `A = [[J, b], [c^T, 0]]` non-singular,
//!
//!   ```text
//!     A [v1; g1] = [0; 1],   A [v2; g2] = [v1; 0],
//!     F(x, p) = 0,   g1(x, p) = 0,   g2(x, p) = 0.
//!   ```
//!
//!   `g1 = 0` iff `J` is singular (then `J v1 = 0`), and then, with `w` the
//!   left null vector of `J`, `g2 <w, b> = <w, v1>`, so `g2 = 0` iff the
//!   null vector is in the range of `J`: a Jordan chain `J v2 = v1`, i.e. a
//!   double zero eigenvalue. The zero set does not depend on `b, c`; they are
//!   the singular vectors of the smallest singular value of `J` at the
//!   starting point.
//!
//! The residual uses the exact `F`, `J` and `F_p` of the [`VectorField`],
//! so the located point is exact up to the Newton tolerance. The Newton
//! matrix needs `dJ/dz_k`, which the trait does not provide; it is taken by
//! central differences of the exact Jacobian,
//! `dJ/dz_k = [J(z + h e_k) - J(z - h e_k)] / 2h`, `h = 6e-6 (1 + |z_k|)`:
//! `h ~ eps^(1/3)` balances the truncation error `h^2 |J'''| / 6` against
//! the rounding error `eps |J| / h`, both ~1e-11 relative, so Newton still
//! converges quadratically down to ~1e-11 and then linearly with factor
//! ~1e-11, i.e. in one more step. Derivatives of `g1, g2` follow from
//! differentiating the bordered systems:
//!
//! ```text
//!   g1' = -w1^T J' v1,   v1' = -(A^-1 [J' v1; 0])_{1..n},   g2' = w1^T (v1' - J' v2),
//! ```
//!
//! with `A^T [w1; h1] = [0; 1]` (Govaerts, sec. 3.3). For planar systems,
//! `det' = J'_11 J_22 + J_11 J'_22 - J'_12 J_21 - J_12 J'_21` and
//! `tr' = J'_11 + J'_22`.
use faer::{c64, Mat};
use serde::{Deserialize, Serialize};

use crate::engine::linalg::lu::RealLu;
use crate::engine::linalg::spectrum::sorted_eigenvalues;
use crate::engine::VectorField;
use crate::error::{Error, Result};

/// Controls of [`locate_bogdanov_takens`].
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct BtOptions {
    /// Converged when the max-norm of the defining system's residual is at
    /// most `tol` and the last Newton update is below `tol (1 + |z|_inf)`.
    pub tol: f64,
    pub max_iter: usize,
}

impl Default for BtOptions {
    /// `tol = 1e-10` (the issue asks for 1e-9; round-off at O(1) scales is
    /// ~1e-15, so this leaves room for models with large entries), 30 steps.
    fn default() -> Self {
        BtOptions { tol: 1e-10, max_iter: 30 }
    }
}

/// Which defining system located the point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BtSystem {
    /// `F = 0, det J = 0, tr J = 0` (planar systems).
    DetTrace,
    /// `F = 0, g1 = 0, g2 = 0` with bordered-matrix test functions.
    MinimallyAugmented,
}

/// A located Bogdanov-Takens point.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BtPoint {
    pub p1: f64,
    pub p2: f64,
    pub state: Vec<f64>,
    /// Max-norm of the defining system's residual at the point.
    pub residual: f64,
    /// Newton iterations taken.
    pub iterations: usize,
    pub system: BtSystem,
}

/// Newton on the BT defining system (module docs) in `z = (x, p_{k1},
/// p_{k2})` from `(x0, p1, p2)`, other parameters at `p_base`. Planar fields
/// use `det J = tr J = 0`, others the minimally augmented system. Fails
/// (with the residual reached) if Newton does not converge within
/// `opts.max_iter` steps or a linear system is singular.
#[allow(clippy::too_many_arguments)]
pub fn locate_bogdanov_takens(
    field: &dyn VectorField,
    p_base: &[f64],
    k1: usize,
    k2: usize,
    x0: &[f64],
    p1: f64,
    p2: f64,
    opts: &BtOptions,
) -> Result<BtPoint> {
    let n = field.dim();
    if x0.len() != n {
        return Err(Error::invalid("x0 (length)", x0.len(), format!("{n} (state dimension)")));
    }
    if k1 >= p_base.len() || k2 >= p_base.len() || k1 == k2 {
        return Err(Error::invalid("k1/k2", format!("{k1}/{k2}"), format!("two distinct indices in 0..{}", p_base.len())));
    }
    if !(opts.tol > 0.0 && opts.tol < 1.0) {
        return Err(Error::invalid("tol", opts.tol, "(0, 1)"));
    }
    let mut sys = BtDefining::new(field, p_base, k1, k2);
    let mut z: Vec<f64> = x0.iter().copied().chain([p1, p2]).collect();
    if sys.system == BtSystem::MinimallyAugmented {
        sys.set_borders(&z)?;
    }
    let m = n + 2;
    let mut g = vec![0.0; m];
    let mut newton = RealLu::new(m);
    let mut last_dz = f64::INFINITY;
    let mut residual = f64::INFINITY;
    for it in 0..=opts.max_iter {
        sys.residual(&z, &mut g).ok_or_else(|| singular("the bordered matrix [[J, b], [c^T, 0]] is singular"))?;
        residual = g.iter().fold(0.0, |a: f64, v| if v.is_nan() { f64::NAN } else { a.max(v.abs()) });
        if !residual.is_finite() {
            break;
        }
        let scale = 1.0 + z.iter().fold(0.0, |a: f64, v| a.max(v.abs()));
        if residual <= opts.tol && last_dz <= opts.tol * scale {
            return Ok(BtPoint { p1: z[n], p2: z[n + 1], state: z[..n].to_vec(), residual, iterations: it, system: sys.system });
        }
        if it == opts.max_iter {
            break;
        }
        sys.newton_matrix(&z, newton.matrix_mut()).ok_or_else(|| singular("the bordered matrix is singular"))?;
        if !newton.factor() {
            return Err(singular("the Newton matrix of the Bogdanov-Takens system is singular"));
        }
        newton.solve_in_place(&mut g);
        last_dz = g.iter().fold(0.0, |a: f64, v| a.max(v.abs()));
        for (zi, d) in z.iter_mut().zip(&g) {
            *zi -= d;
        }
    }
    Err(Error::numerical(
        "Bogdanov-Takens point",
        format!("Newton on the defining system did not converge in {} steps (residual {residual:.3e})", opts.max_iter),
    ))
}

fn singular(what: &str) -> Error {
    Error::numerical("Bogdanov-Takens point", what.to_string())
}

/// The two eigenvalues of smallest modulus of `J(x; p)` (the critical pair
/// at a BT point), for reporting and checks.
pub fn critical_pair(field: &dyn VectorField, x: &[f64], p: &[f64]) -> Result<[c64; 2]> {
    let n = field.dim();
    let mut jac = Mat::<f64>::zeros(n, n);
    field.jacobian(x, p, jac.as_mut());
    let mut ev = sorted_eigenvalues(&jac)?;
    ev.sort_by(|a, b| a.norm().total_cmp(&b.norm()));
    match ev.len() {
        0 => Err(Error::invalid("state dimension", 0, ">= 2")),
        1 => Ok([ev[0], c64::new(f64::NAN, 0.0)]),
        _ => Ok([ev[0], ev[1]]),
    }
}

/// Evaluation state of the defining system (all buffers allocated once).
struct BtDefining<'a> {
    field: &'a dyn VectorField,
    n: usize,
    k1: usize,
    k2: usize,
    system: BtSystem,
    p: Vec<f64>,
    jac: Mat<f64>,
    jp: Mat<f64>,
    jm: Mat<f64>,
    /// `dJ/dz_k` for every unknown `k`.
    djac: Vec<Mat<f64>>,
    b: Vec<f64>,
    c: Vec<f64>,
    /// LU of `A` and of `A^T`.
    a: RealLu,
    at: RealLu,
    v1: Vec<f64>,
    v2: Vec<f64>,
    w1: Vec<f64>,
    tmp: Vec<f64>,
    zs: Vec<f64>,
    fp: Vec<f64>,
}

impl<'a> BtDefining<'a> {
    fn new(field: &'a dyn VectorField, p_base: &[f64], k1: usize, k2: usize) -> Self {
        let n = field.dim();
        BtDefining {
            field,
            n,
            k1,
            k2,
            system: if n == 2 { BtSystem::DetTrace } else { BtSystem::MinimallyAugmented },
            p: p_base.to_vec(),
            jac: Mat::zeros(n, n),
            jp: Mat::zeros(n, n),
            jm: Mat::zeros(n, n),
            djac: (0..n + 2).map(|_| Mat::zeros(n, n)).collect(),
            b: vec![0.0; n],
            c: vec![0.0; n],
            a: RealLu::new(n + 1),
            at: RealLu::new(n + 1),
            v1: vec![0.0; n + 1],
            v2: vec![0.0; n + 1],
            w1: vec![0.0; n + 1],
            tmp: vec![0.0; n + 1],
            zs: vec![0.0; n + 2],
            fp: vec![0.0; n],
        }
    }

    fn set_z(&mut self, z: &[f64]) {
        self.p[self.k1] = z[self.n];
        self.p[self.k2] = z[self.n + 1];
    }

    /// Borders: left and right singular vectors of the smallest singular
    /// value of `J` at `z` (then `A` is well conditioned near the BT point).
    fn set_borders(&mut self, z: &[f64]) -> Result<()> {
        self.set_z(z);
        self.field.jacobian(&z[..self.n], &self.p, self.jac.as_mut());
        let svd = self.jac.svd().map_err(|e| Error::numerical("Bogdanov-Takens borders", format!("SVD failed: {e:?}")))?;
        let last = self.n - 1;
        for i in 0..self.n {
            self.b[i] = svd.U()[(i, last)];
            self.c[i] = svd.V()[(i, last)];
        }
        Ok(())
    }

    /// Factor `A = [[J, b], [c^T, 0]]` (and `A^T`) for the Jacobian in `jac`,
    /// and solve for `v1, g1` (in `v1[n]`) and `v2, g2` (in `v2[n]`).
    fn bordered(&mut self) -> Option<()> {
        let (n, m) = (self.n, self.n + 1);
        {
            let a = self.a.matrix_mut();
            for i in 0..n {
                for j in 0..n {
                    a[i * m + j] = self.jac[(i, j)];
                }
                a[i * m + n] = self.b[i];
                a[n * m + i] = self.c[i];
            }
            a[n * m + n] = 0.0;
        }
        // A^T before A is factored in place.
        let (a, at) = (self.a.matrix_mut(), self.at.matrix_mut());
        for i in 0..m {
            for j in 0..m {
                at[j * m + i] = a[i * m + j];
            }
        }
        if !(self.a.factor() && self.at.factor()) {
            return None;
        }
        self.v1.fill(0.0);
        self.v1[n] = 1.0;
        self.a.solve_in_place(&mut self.v1);
        self.v2[..n].copy_from_slice(&self.v1[..n]);
        self.v2[n] = 0.0;
        self.a.solve_in_place(&mut self.v2);
        self.w1.fill(0.0);
        self.w1[n] = 1.0;
        self.at.solve_in_place(&mut self.w1);
        Some(())
    }

    /// `out = (F, g1, g2)` at `z`; `None` if `A` is singular.
    fn residual(&mut self, z: &[f64], out: &mut [f64]) -> Option<()> {
        let n = self.n;
        self.set_z(z);
        self.field.rhs(&z[..n], &self.p, &mut out[..n]);
        self.field.jacobian(&z[..n], &self.p, self.jac.as_mut());
        match self.system {
            BtSystem::DetTrace => {
                let j = &self.jac;
                out[n] = j[(0, 0)] * j[(1, 1)] - j[(0, 1)] * j[(1, 0)];
                out[n + 1] = j[(0, 0)] + j[(1, 1)];
            }
            BtSystem::MinimallyAugmented => {
                self.bordered()?;
                out[n] = self.v1[n];
                out[n + 1] = self.v2[n];
            }
        }
        Some(())
    }

    /// `dJ/dz_k` for all `k` by central differences of the exact Jacobian.
    fn jacobian_derivatives(&mut self, z: &[f64]) {
        let n = self.n;
        for k in 0..n + 2 {
            let h = 6e-6 * (1.0 + z[k].abs());
            for sign in [1.0, -1.0] {
                self.zs.copy_from_slice(z);
                self.zs[k] += sign * h;
                self.p[self.k1] = self.zs[n];
                self.p[self.k2] = self.zs[n + 1];
                let target = if sign > 0.0 { self.jp.as_mut() } else { self.jm.as_mut() };
                self.field.jacobian(&self.zs[..n], &self.p, target);
            }
            for i in 0..n {
                for j in 0..n {
                    self.djac[k][(i, j)] = (self.jp[(i, j)] - self.jm[(i, j)]) / (2.0 * h);
                }
            }
        }
        self.set_z(z);
    }

    /// Row-major `(n+2) x (n+2)` Newton matrix `dG/dz` at `z`.
    fn newton_matrix(&mut self, z: &[f64], out: &mut [f64]) -> Option<()> {
        let (n, m) = (self.n, self.n + 2);
        self.jacobian_derivatives(z);
        self.set_z(z);
        let x = &z[..n];
        self.field.jacobian(x, &self.p, self.jac.as_mut());
        for i in 0..n {
            for j in 0..n {
                out[i * m + j] = self.jac[(i, j)];
            }
        }
        for (col, k) in [(n, self.k1), (n + 1, self.k2)] {
            self.field.param_derivative(x, &self.p, k, &mut self.fp);
            for i in 0..n {
                out[i * m + col] = self.fp[i];
            }
        }
        match self.system {
            BtSystem::DetTrace => {
                let j = &self.jac;
                for k in 0..m {
                    let d = &self.djac[k];
                    out[n * m + k] = d[(0, 0)] * j[(1, 1)] + j[(0, 0)] * d[(1, 1)] - d[(0, 1)] * j[(1, 0)] - j[(0, 1)] * d[(1, 0)];
                    out[(n + 1) * m + k] = d[(0, 0)] + d[(1, 1)];
                }
            }
            BtSystem::MinimallyAugmented => {
                self.bordered()?;
                for k in 0..m {
                    let d = &self.djac[k];
                    // tmp = [J' v1; 0]; g1' = -w1^T J' v1.
                    for i in 0..n {
                        self.tmp[i] = (0..n).map(|j| d[(i, j)] * self.v1[j]).sum();
                    }
                    self.tmp[n] = 0.0;
                    let dg1 = -(0..n).map(|i| self.w1[i] * self.tmp[i]).sum::<f64>();
                    // v1' = -(A^-1 tmp)_{1..n}; g2' = w1^T (v1' - J' v2).
                    self.a.solve_in_place(&mut self.tmp);
                    let mut dg2 = 0.0;
                    for i in 0..n {
                        let jv2: f64 = (0..n).map(|j| d[(i, j)] * self.v2[j]).sum();
                        dg2 += self.w1[i] * (-self.tmp[i] - jv2);
                    }
                    out[n * m + k] = dg1;
                    out[(n + 1) * m + k] = dg2;
                }
            }
        }
        Some(())
    }
}

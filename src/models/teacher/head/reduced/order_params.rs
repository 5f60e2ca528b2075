//! Order-parameter ODE of Model T with a projection head (variants of
//! `models::teacher::head::simulation`), D -> infinity. With `H = W_h^T W_h`,
//! `X2 = E[x x^T] = R C R^T + Sigma`, `RMY = R M Y`, `YPY = Y^T diag(P) Y`,
//! `U = R M`:
//!
//! ```text
//! dR/dt     = -eta_x W_h^T (W_h R C - Y^T M^T)                    - eta_x lambda R
//! dW_h/dt   = -eta_w (W_h X2 - RMY^T) - s eta_w (W_h YPY - RMY)   - eta_w lambda W_h   (s = 1 symmetric)
//! dY^T/dt   = -eta_y K (H Y^T diag(P) - W_h^T U)                  - eta_y lambda Y^T   (symmetric)
//!           = -eta_y K (Y^T diag(P) - U)                          - eta_y lambda Y^T   (asymmetric)
//! dSigma/dt = -eta_x (H Sigma + Sigma H + 2 lambda Sigma) + eta_x^2 W_h^T (W_h Sigma W_h^T + E_h) W_h
//! E_h       = W_h R C R^T W_h^T - W_h RMY - RMY^T W_h^T + YPY
//! ```
//!
//! derived exactly as in `teacher_ode` (the head's own SGD noise is
//! `O(1/D)` and vanishes). Weight decay `lambda` (`model::teacher_head`)
//! shrinks `W` by `1 - eta_x lambda/D` per step, hence `R` at rate
//! `eta_x lambda` and `Q`, `R R^T`, `Sigma` at `2 eta_x lambda`; its cross
//! term with the gradient step is `O(1/D)`. State: `R`, `Y`, upper
//! triangle of `Sigma`, `W_h` (row-major). Parameters
//! `[eta_x, eta_y, f, sigma, a, eta_w, weight_decay]`.
//!
//! **Derivatives:** unlike the head-free field this one is of degree five
//! in the state. Its Jacobian is exact by forward-mode differentiation: the
//! right-hand side is one generic function evaluated on `f64` (the field)
//! and on dual numbers `v + d eps` (column `j` of the Jacobian is the `eps`
//! part at `x + eps e_j`), so the derivative is that of the code itself,
//! without truncation error. Parameter derivatives are exact (block
//! monomials in the rates; affine in the statistics). Supports `d, K <= 8`.
use std::ops::{Add, Mul, Sub};

use faer::MatMut;

use crate::engine::{Invariant, InvariantKind, VectorField};
use crate::error::{Error, Result};
use crate::models::teacher::config::{HeadKind, TeacherConfig};
use crate::models::teacher::online::reduced::OrderParams;
use crate::models::teacher::statistics::{Teacher, TeacherStats};

const MAXD: usize = 8;
const MAXN: usize = 2 * MAXD * MAXD + MAXD * (MAXD + 1) / 2 + MAXD * MAXD;

/// Parameters of the head ODE and of its channel reduction: the head-free
/// ODE's parameters (`ode::PARAM_NAMES`) followed by the head's.
pub const HEAD_PARAM_NAMES: [&str; 7] = ["eta_x", "eta_y", "f", "sigma", "a", "eta_w", "weight_decay"];

/// The head ODE.
#[derive(Clone, Debug)]
pub struct HeadOde {
    pub teacher: Teacher,
    pub kind: HeadKind,
    pub classes: usize,
    pub dim: usize,
    pub params: Vec<f64>,
    pub initial: Vec<f64>,
}

impl HeadOde {
    pub fn new(cfg: &TeacherConfig, start: &OrderParams, head: &[f64]) -> Result<Self> {
        if cfg.dim > MAXD || cfg.classes > MAXD {
            return Err(Error::invalid("dim/classes", format!("{}/{}", cfg.dim, cfg.classes), "at most 8 each for the head ODE"));
        }
        if cfg.head == HeadKind::None {
            return Err(Error::invalid("head", "\"none\"", "symmetric | asymmetric"));
        }
        let mut p = cfg.ode_params();
        p.push(cfg.eta_w);
        p.push(cfg.weight_decay);
        let mut ode = HeadOde { teacher: Teacher::new(cfg.teacher, cfg.classes), kind: cfg.head, classes: cfg.classes, dim: cfg.dim, params: p, initial: vec![] };
        ode.initial = ode.pack(start, head);
        Ok(ode)
    }
    fn s_index(&self, i: usize, j: usize) -> usize {
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        2 * self.dim * self.classes + i * self.dim - i * i.saturating_sub(1) / 2 + (j - i)
    }
    fn h_offset(&self) -> usize {
        2 * self.dim * self.classes + self.dim * (self.dim + 1) / 2
    }
    pub fn pack(&self, op: &OrderParams, head: &[f64]) -> Vec<f64> {
        let (d, k) = (self.dim, self.classes);
        let mut x = vec![0.0; self.dim()];
        x[..d * k].copy_from_slice(&op.r);
        x[d * k..2 * d * k].copy_from_slice(&op.y);
        for i in 0..d {
            for j in i..d {
                x[self.s_index(i, j)] = op.s[i * d + j];
            }
        }
        x[self.h_offset()..].copy_from_slice(head);
        x
    }
    /// `(order parameters in encoder space, head)`.
    pub fn unpack(&self, x: &[f64]) -> (OrderParams, Vec<f64>) {
        let (d, k) = (self.dim, self.classes);
        let s = (0..d * d).map(|ij| x[self.s_index(ij / d, ij % d)]).collect();
        (OrderParams::from_sigma(k, d, x[..d * k].to_vec(), x[d * k..2 * d * k].to_vec(), s), x[self.h_offset()..].to_vec())
    }
}

/// Rate coefficients of the four blocks of the field: `x1` multiplies the
/// `R` equation and the `Sigma` contraction, `x2` the `Sigma` noise source,
/// `y` the label equation, `w` the head equation; `lam` is the weight decay,
/// which enters every block as `-rate lam theta`. The field has
/// `(eta_x, eta_x^2, eta_y, eta_w, lambda)`; its rate derivatives replace
/// the rates by their derivatives, which is exact because each block is a
/// monomial in its rate.
#[derive(Clone, Copy, Debug)]
struct Coefs {
    x1: f64,
    x2: f64,
    y: f64,
    w: f64,
    lam: f64,
}

impl Coefs {
    fn field(p: &[f64]) -> Self {
        Coefs { x1: p[0], x2: p[0] * p[0], y: p[1], w: p[5], lam: p[6] }
    }
}

/// The arithmetic the right-hand side needs: a commutative ring with a
/// scaling by `f64`. Implemented by `f64` (the field) and [`Dual`] (its
/// tangent).
trait Ring: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Mul<f64, Output = Self> {
    const ZERO: Self;
}

impl Ring for f64 {
    const ZERO: f64 = 0.0;
}

/// Dual number `v + d eps`, `eps^2 = 0`: evaluating a polynomial at
/// `x + eps e_j` yields the exact partial derivative in `d`.
#[derive(Clone, Copy, Debug)]
struct Dual {
    v: f64,
    d: f64,
}

impl Ring for Dual {
    const ZERO: Dual = Dual { v: 0.0, d: 0.0 };
}
impl Add for Dual {
    type Output = Dual;
    fn add(self, o: Dual) -> Dual {
        Dual { v: self.v + o.v, d: self.d + o.d }
    }
}
impl Sub for Dual {
    type Output = Dual;
    fn sub(self, o: Dual) -> Dual {
        Dual { v: self.v - o.v, d: self.d - o.d }
    }
}
impl Mul for Dual {
    type Output = Dual;
    fn mul(self, o: Dual) -> Dual {
        Dual { v: self.v * o.v, d: self.d * o.v + self.v * o.d }
    }
}
impl Mul<f64> for Dual {
    type Output = Dual;
    fn mul(self, s: f64) -> Dual {
        Dual { v: self.v * s, d: self.d * s }
    }
}

/// `sum_{l < n} f(l)` without iterator `Sum` bounds.
#[inline]
fn sum<T: Ring>(n: usize, f: impl Fn(usize) -> T) -> T {
    let mut s = T::ZERO;
    for l in 0..n {
        s = s + f(l);
    }
    s
}

impl HeadOde {
    /// The right-hand side with block coefficients `co` and statistics `st`;
    /// `free` multiplies the statistics-free terms (the `Sigma` inside `X2`,
    /// the contraction `-(H Sigma + Sigma H)` and `W_h Sigma W_h^T` in the
    /// noise), so that `free = 0` with derivative statistics gives the exact
    /// derivative with respect to a statistic (the field is affine in them).
    fn eval<T: Ring>(&self, x: &[T], co: &Coefs, st: &TeacherStats, free: f64, out: &mut [T]) {
        let (d, k) = (self.dim, self.classes);
        let m = |a: usize, c: usize| if a == c { st.md } else { st.mo };
        let z = [[T::ZERO; MAXD]; MAXD];
        let (mut r, mut yt, mut s, mut h) = (z, z, z, z);
        for i in 0..d {
            for c in 0..k {
                r[i][c] = x[i * k + c];
                yt[i][c] = x[d * k + c * d + i];
            }
            for j in 0..d {
                s[i][j] = x[self.s_index(i, j)];
                h[i][j] = x[self.h_offset() + i * d + j];
            }
        }
        let (mut ym, mut u, mut t1, mut x2, mut rmy, mut ypy, mut hh) = (z, z, z, z, z, z, z);
        for i in 0..d {
            for a in 0..k {
                ym[i][a] = sum(k, |c| yt[i][c] * m(a, c));
                u[i][a] = sum(k, |l| r[i][l] * m(l, a));
            }
        }
        for i in 0..d {
            for a in 0..k {
                t1[i][a] = sum(d, |j| h[i][j] * r[j][a]) * st.c0 - ym[i][a];
            }
            for j in 0..d {
                x2[i][j] = sum(k, |l| r[i][l] * r[j][l]) * st.c0 + s[i][j] * free;
                rmy[i][j] = sum(k, |c| u[i][c] * yt[j][c]);
                ypy[i][j] = sum(k, |c| yt[i][c] * yt[j][c]) * st.p;
                hh[i][j] = sum(d, |l| h[l][i] * h[l][j]);
            }
        }
        let sym = self.kind == HeadKind::Symmetric;
        let kf = k as f64;
        for i in 0..d {
            for a in 0..k {
                out[i * k + a] = (sum(d, |l| h[l][i] * t1[l][a]) + r[i][a] * (co.lam * free)) * (-co.x1);
                let dy = if sym {
                    sum(d, |l| hh[i][l] * yt[l][a]) * st.p - sum(d, |l| h[l][i] * u[l][a])
                } else {
                    yt[i][a] * st.p - u[i][a]
                };
                out[d * k + a * d + i] = dy * (-co.y * kf) + yt[i][a] * (-co.y * co.lam * free);
            }
            for j in 0..d {
                let mut g = sum(d, |l| h[i][l] * x2[l][j]) - rmy[j][i];
                if sym {
                    g = g + sum(d, |l| h[i][l] * ypy[l][j]) - rmy[i][j];
                }
                out[self.h_offset() + i * d + j] = (g + h[i][j] * (co.lam * free)) * (-co.w);
            }
        }
        // E_h and the Sigma equation.
        let (mut hr, mut inner, mut tmp) = (z, z, z);
        for i in 0..d {
            for a in 0..k {
                hr[i][a] = sum(d, |l| h[i][l] * r[l][a]);
            }
        }
        for i in 0..d {
            for j in 0..d {
                tmp[i][j] = sum(d, |l| h[i][l] * s[l][j]);
            }
        }
        for i in 0..d {
            for j in 0..d {
                let hrrh = sum(k, |a| hr[i][a] * hr[j][a]) * st.c0;
                let hrmy = sum(d, |l| h[i][l] * rmy[l][j]);
                let hrmy_t = sum(d, |l| h[j][l] * rmy[l][i]);
                let eh = hrrh - hrmy - hrmy_t + ypy[i][j];
                inner[i][j] = sum(d, |l| tmp[i][l] * h[j][l]) * free + eh;
            }
        }
        for i in 0..d {
            for j in 0..d {
                tmp[i][j] = sum(d, |l| inner[i][l] * h[l][j]);
            }
        }
        for i in 0..d {
            for j in i..d {
                let hs = sum(d, |l| hh[i][l] * s[l][j] + s[i][l] * hh[l][j]) + s[i][j] * (2.0 * co.lam);
                let noise = sum(d, |l| h[l][i] * tmp[l][j]);
                out[self.s_index(i, j)] = hs * (-co.x1 * free) + noise * co.x2;
            }
        }
    }
}

impl VectorField for HeadOde {
    fn name(&self) -> &str {
        "teacher-student-head"
    }
    fn dim(&self) -> usize {
        2 * self.dim * self.classes + self.dim * (self.dim + 1) / 2 + self.dim * self.dim
    }
    fn state_names(&self) -> Vec<String> {
        let (d, k) = (self.dim, self.classes);
        // The head-free order parameters, then the head `Wh_i_j` (row-major).
        let mut v = crate::models::teacher::online::reduced::state_names(d, k);
        v.extend((0..d).flat_map(|i| (0..d).map(move |j| format!("Wh_{i}_{j}"))));
        v
    }
    fn param_names(&self) -> Vec<String> {
        HEAD_PARAM_NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.clone()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.initial.clone()
    }

    fn observable_names(&self) -> Vec<String> {
        vec!["min_label_distance".into(), "spread_sigma".into()]
    }
    /// Minimum distance between label embeddings and `sqrt(tr Sigma)`
    /// (encoder space).
    fn observables(&self, x: &[f64], _p: &[f64], out: &mut [f64]) {
        let (d, k) = (self.dim, self.classes);
        out[0] = crate::models::common::metrics::label_distances(&x[d * k..2 * d * k], k, d).0;
        let trs: f64 = (0..d).map(|i| x[self.s_index(i, i)]).sum();
        out[1] = trs.max(0.0).sqrt();
    }

    /// Zero-mode sources: rotations `O` of the student embedding space,
    /// `R -> O R`, `y_c -> O y_c`, `Sigma -> O Sigma O^T`,
    /// `W_h -> O W_h O^T` (every term of the field is covariant: the
    /// encoder and head updates are built from `W_h x - y_l`, `W_h y_l - x`
    /// and their outer products). Generator for the plane `(a, b)`,
    /// `G = e_a e_b^T - e_b e_a^T`: `dR = G R`, `dY^T = G Y^T`,
    /// `dSigma = G Sigma - Sigma G`, `dW_h = G W_h - W_h G`. The head-free
    /// field's conserved row projections do not survive (the `(R, Y)`
    /// system is no longer linear), so none are declared.
    fn invariants(&self, x: &[f64], _p: &[f64]) -> Vec<Invariant> {
        let (d, k) = (self.dim, self.classes);
        let n = self.dim();
        let ho = self.h_offset();
        let mut out = Vec::new();
        // (G A - A G)_{ij} for a d x d matrix A given by `a(i, j)`.
        let comm = |a: &dyn Fn(usize, usize) -> f64, ga: usize, gb: usize, i: usize, j: usize| -> f64 {
            let ga_row = |r: usize, s: usize| (if r == ga { a(gb, s) } else { 0.0 }) - (if r == gb { a(ga, s) } else { 0.0 });
            let a_g = |r: usize, s: usize| (if s == gb { a(r, ga) } else { 0.0 }) - (if s == ga { a(r, gb) } else { 0.0 });
            ga_row(i, j) - a_g(i, j)
        };
        for ga in 0..d {
            for gb in ga + 1..d {
                let mut v = vec![0.0; n];
                for c in 0..k {
                    v[ga * k + c] += x[gb * k + c];
                    v[gb * k + c] -= x[ga * k + c];
                    v[d * k + c * d + ga] += x[d * k + c * d + gb];
                    v[d * k + c * d + gb] -= x[d * k + c * d + ga];
                }
                let sig = |i: usize, j: usize| x[self.s_index(i, j)];
                let wh = |i: usize, j: usize| x[ho + i * d + j];
                for i in 0..d {
                    for j in 0..d {
                        if j >= i {
                            v[self.s_index(i, j)] = comm(&sig, ga, gb, i, j);
                        }
                        v[ho + i * d + j] = comm(&wh, ga, gb, i, j);
                    }
                }
                out.push(Invariant { name: format!("rotation of student plane ({ga}, {gb})"), kind: InvariantKind::Symmetry, vector: v });
            }
        }
        out
    }

    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        let st = self.teacher.stats(p[2], p[3], p[4]);
        self.eval(x, &Coefs::field(p), &st, 1.0, out);
    }

    /// Exact Jacobian by forward-mode (tangent) differentiation of the
    /// polynomial right-hand side: column `j` is the `eps` part of
    /// `F(x + eps e_j)` with `eps^2 = 0`, evaluated by the same code as
    /// `rhs` on dual numbers (no truncation error, round-off only).
    fn jacobian(&self, x: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let n = self.dim();
        let st = self.teacher.stats(p[2], p[3], p[4]);
        let co = Coefs::field(p);
        let mut xd = [Dual::ZERO; MAXN];
        let mut fd = [Dual::ZERO; MAXN];
        for (v, xi) in xd.iter_mut().zip(x) {
            *v = Dual { v: *xi, d: 0.0 };
        }
        for j in 0..n {
            xd[j].d = 1.0;
            self.eval(&xd[..n], &co, &st, 1.0, &mut fd[..n]);
            xd[j].d = 0.0;
            for i in 0..n {
                jac[(i, j)] = fd[i].d;
            }
        }
    }

    /// Exact: `F` is a polynomial in `(eta_x, eta_y, eta_w)` with known
    /// coefficients (`eta_x`, `eta_x^2`, `eta_y`, `eta_w` multiply separate
    /// blocks) and affine in the statistics `(c0, M, P)`, whose derivatives
    /// with respect to `(f, sigma, a)` are `Teacher::stats_derivative`.
    fn param_derivative(&self, x: &[f64], p: &[f64], k: usize, out: &mut [f64]) {
        let st = self.teacher.stats(p[2], p[3], p[4]);
        let (ex, ey, ew, lam) = (p[0], p[1], p[5], p[6]);
        let z = Coefs { x1: 0.0, x2: 0.0, y: 0.0, w: 0.0, lam };
        match k {
            0 => self.eval(x, &Coefs { x1: 1.0, x2: 2.0 * ex, ..z }, &st, 1.0, out),
            1 => self.eval(x, &Coefs { y: 1.0, ..z }, &st, 1.0, out),
            5 => self.eval(x, &Coefs { w: 1.0, ..z }, &st, 1.0, out),
            2..=4 => {
                let ds = self.teacher.stats_derivative(p[2], p[3], p[4], k);
                self.eval(x, &Coefs { x1: ex, x2: ex * ex, y: ey, w: ew, lam }, &ds, 0.0, out);
            }
            6 => {
                // The decay terms are linear in lambda: -eta_x R, -eta_y Y,
                // -eta_w W_h, -2 eta_x Sigma.
                let (d, kk) = (self.dim, self.classes);
                out.fill(0.0);
                for v in 0..d * kk {
                    out[v] = -ex * x[v];
                    out[d * kk + v] = -ey * x[d * kk + v];
                }
                for i in 0..d {
                    for j in i..d {
                        out[self.s_index(i, j)] = -2.0 * ex * x[self.s_index(i, j)];
                    }
                }
                let ho = self.h_offset();
                for v in ho..ho + d * d {
                    out[v] = -ew * x[v];
                }
            }
            _ => out.fill(0.0),
        }
    }
}

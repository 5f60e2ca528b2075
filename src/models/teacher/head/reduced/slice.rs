//! The symmetric head ODE with its continuous symmetry divided out
//! (`docs/teacher.md` section 9.1): a moving-frame (slice) reduction that
//! turns the drifting states of the full ODE (relative equilibria and
//! relative periodic orbits) into ordinary equilibria and cycles, so the
//! engine's collocation, Floquet and Hopf machinery applies.
//!
//! **Group.** With class-permutation symmetric statistics the head ODE
//! (`order_params`) is equivariant under `SO(d) x SO(K-1)`: student
//! rotations `O` (`R -> O R`, `Y^T -> O Y^T`, `Sigma -> O Sigma O^T`,
//! `W_h -> O W_h O^T`) and rotations `Q` of the centred class plane
//! (`R^ -> R^ Q^T`, `Y^^T -> Y^^T Q^T` in the Helmert class basis
//! `R^ = R H^T`, `H` orthonormal with last row `1/sqrt(K)`). For
//! `d = K = 3` the group has dimension 4 and the state 33.
//!
//! **Slice.** Every state whose centred block `B = R^[:, 0..2]` has
//! distinct singular values is carried by one group element (its SVD) to
//! the slice
//!
//! ```text
//! R^_10 = R^_20 = R^_21 = R^_01 = 0      (B = [[a, 0], [0, c], [0, 0]], a^2 != c^2)
//! ```
//!
//! and the 29 remaining entries (`a, c`, the common column `R^_02, R^_12,
//! R^_22`, `Y^^T`, `Sigma`, `W_h`) are its coordinates. On the slice the
//! reduced field is the full field minus the group velocity that keeps the
//! four conditions,
//!
//! ```text
//! dz/dt = F(z) - (G z - z J)          G in so(3), J = omega (e_0 e_1^T - e_1 e_0^T) in so(2)
//! g02 = -F(R^)_20 / a,   g12 = -F(R^)_21 / c,
//! g01 = -(a F(R^)_10 + c F(R^)_01) / (a^2 - c^2),   omega = -(c F(R^)_10 + a F(R^)_01) / (a^2 - c^2),
//! ```
//!
//! where `G z - z J` acts as `G R^ - R^ J`, `G Y^^T - Y^^T J`,
//! `G Sigma - Sigma G`, `G W_h - W_h G` (the generators of the module doc of
//! `order_params` and of `oscillation`). The reduced field is rational, with
//! the single denominator family `a`, `c`, `a^2 - c^2`: the reduction is
//! singular only where the centred encoder block is isotropic (`a^2 = c^2`,
//! e.g. the symmetric point, whose isotropy group is a combined rotation),
//! which the drifting states and the cycle born from them stay away from.
//!
//! The field is written once, generic over a [`Scalar`]: on `f64` for
//! numbers and on [`Sym`] (expression text) for the exported model file,
//! whose parameters are those of the head ODE (`HEAD_PARAM_NAMES`), so
//! `f` and `weight_decay` can be continued.
use std::ops::{Add, Div, Mul, Sub};

use crate::error::{Error, Result};
use crate::models::teacher::config::{HeadKind, TeacherConfig, TeacherKind};
use crate::models::teacher::head::reduced::channel::helmert;
use crate::models::teacher::head::reduced::order_params::{HeadOde, HEAD_PARAM_NAMES};
use crate::models::teacher::head::theory::head_ode_from_config;

/// Student and class dimension the slice is written for (`d = K = 3`).
pub const SLICE_DIM: usize = 3;
/// Reduced state dimension: `33 - dim SO(3) x SO(2)`.
pub const REDUCED_DIM: usize = 29;
/// The free entries `(row, Helmert column)` of `R^` on the slice.
pub const R_FREE: [(usize, usize); 5] = [(0, 0), (1, 1), (0, 2), (1, 2), (2, 2)];

/// What the field needs of a number type: a field with constants.
pub trait Scalar: Clone + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> {
    fn num(v: f64) -> Self;
}

impl Scalar for f64 {
    fn num(v: f64) -> f64 {
        v
    }
}

/// An expression as model-file text. Sums and differences carry their own
/// parentheses and denominators are parenthesised, so concatenation keeps
/// the meaning; the literal `0` is absorbed (the slice zeros would
/// otherwise fill the text with `0*...` terms).
#[derive(Clone, Debug)]
pub struct Sym(pub String);

impl Sym {
    fn is_zero(&self) -> bool {
        self.0 == "0"
    }
}
impl Scalar for Sym {
    fn num(v: f64) -> Sym {
        if v == 0.0 {
            Sym("0".into())
        } else if v < 0.0 {
            Sym(format!("({v:e})"))
        } else {
            Sym(format!("{v:e}"))
        }
    }
}
impl Add for Sym {
    type Output = Sym;
    fn add(self, o: Sym) -> Sym {
        match (self.is_zero(), o.is_zero()) {
            (true, _) => o,
            (_, true) => self,
            _ => Sym(format!("({} + {})", self.0, o.0)),
        }
    }
}
impl Sub for Sym {
    type Output = Sym;
    fn sub(self, o: Sym) -> Sym {
        match (self.is_zero(), o.is_zero()) {
            (_, true) => self,
            (true, _) => Sym(format!("(-{})", o.0)),
            _ => Sym(format!("({} - {})", self.0, o.0)),
        }
    }
}
impl Mul for Sym {
    type Output = Sym;
    fn mul(self, o: Sym) -> Sym {
        if self.is_zero() || o.is_zero() {
            Sym("0".into())
        } else {
            Sym(format!("{}*{}", self.0, o.0))
        }
    }
}
impl Div for Sym {
    type Output = Sym;
    fn div(self, o: Sym) -> Sym {
        if self.is_zero() {
            self
        } else {
            Sym(format!("{}/({})", self.0, o.0))
        }
    }
}

type M<T> = Vec<Vec<T>>;

fn sum<T: Scalar>(v: impl IntoIterator<Item = T>) -> T {
    v.into_iter().reduce(|a, b| a + b).unwrap_or_else(|| T::num(0.0))
}
fn mm<T: Scalar>(a: &M<T>, b: &M<T>) -> M<T> {
    let n = b.len();
    a.iter().map(|row| (0..b[0].len()).map(|j| sum((0..n).map(|l| row[l].clone() * b[l][j].clone()))).collect()).collect()
}
fn tp<T: Scalar>(a: &M<T>) -> M<T> {
    (0..a[0].len()).map(|j| a.iter().map(|row| row[j].clone()).collect()).collect()
}
fn zip<T: Scalar>(a: &M<T>, b: &M<T>, f: impl Fn(T, T) -> T) -> M<T> {
    a.iter().zip(b).map(|(ra, rb)| ra.iter().zip(rb).map(|(x, y)| f(x.clone(), y.clone())).collect()).collect()
}
fn scale<T: Scalar>(a: &M<T>, s: &T) -> M<T> {
    a.iter().map(|row| row.iter().map(|x| s.clone() * x.clone()).collect()).collect()
}

/// The head ODE's parameters as scalars: rates, weight decay and the
/// mixture teacher's statistics in the Helmert class basis.
pub struct Coefficients<T> {
    pub eta_x: T,
    pub eta_y: T,
    pub eta_w: T,
    pub weight_decay: T,
    pub c0: T,
    pub p: T,
    /// Diagonal of `H M H^T`: `m_d - m_o` on the `K - 1` centred axes,
    /// `m_d + (K-1) m_o` on the common axis.
    pub m: Vec<T>,
}

impl<T: Scalar> Coefficients<T> {
    /// From the parameters `[eta_x, eta_y, f, sigma, a, eta_w, weight_decay]`
    /// of the mixture teacher: `c0 = a^2/K + sigma^2`, `m_d = a (1-f)/K`,
    /// `m_o = a f/(K (K-1))`, `P = I/K` (`statistics::Teacher::stats`).
    pub fn mixture(p: &[T], k: usize) -> Self {
        let kf = k as f64;
        let (f, sigma, a) = (p[2].clone(), p[3].clone(), p[4].clone());
        let md = a.clone() * (T::num(1.0) - f.clone()) / T::num(kf);
        let mo = a.clone() * f / T::num(kf * (kf - 1.0));
        let mut m: Vec<T> = (0..k - 1).map(|_| md.clone() - mo.clone()).collect();
        m.push(md + mo * T::num(kf - 1.0));
        Coefficients {
            eta_x: p[0].clone(),
            eta_y: p[1].clone(),
            eta_w: p[5].clone(),
            weight_decay: p[6].clone(),
            c0: a.clone() * a / T::num(kf) + sigma.clone() * sigma,
            p: T::num(1.0) / T::num(kf),
            m,
        }
    }
}

/// A head state as matrices: `R^` and `Y^^T` (`d x K`, Helmert class
/// columns), `Sigma`, `W_h` (`d x d`).
#[derive(Clone, Debug)]
pub struct HelmertState<T> {
    pub r: M<T>,
    pub yt: M<T>,
    pub s: M<T>,
    pub w: M<T>,
}

/// The symmetric head ODE (`order_params` module doc) in the Helmert class
/// basis, where `C = c0 I`, `P = p I` and `M = diag(m)`:
///
/// ```text
/// dR/dt     = -eta_x (W^T (c0 W R - Y^T M) + lambda R)
/// dY^T/dt   = -eta_y K (p W^T W Y^T - W^T R M) - eta_y lambda Y^T
/// dW/dt     = -eta_w (W X2 - (R M Y)^T + p W Y^T Y - R M Y + lambda W),  X2 = c0 R R^T + Sigma, R M Y = R M (Y^T)^T
/// dSigma/dt = -eta_x (H Sigma + Sigma H + 2 lambda Sigma) + eta_x^2 W^T (W Sigma W^T + E) W,   H = W^T W
/// E         = c0 W R R^T W^T - W (R M Y) - (R M Y)^T W^T + p Y^T Y
/// ```
///
/// (the Helmert basis leaves the equations' form unchanged: `H^T H = I`,
/// `H M H^T` diagonal).
pub fn helmert_field<T: Scalar>(x: &HelmertState<T>, co: &Coefficients<T>) -> HelmertState<T> {
    let (d, k) = (x.r.len(), x.r[0].len());
    let col = |a: &M<T>| -> M<T> { a.iter().map(|row| (0..k).map(|c| row[c].clone() * co.m[c].clone()).collect()).collect() };
    let wt = tp(&x.w);
    let hh = mm(&wt, &x.w);
    let u = col(&x.r);
    let lam = co.weight_decay.clone();
    let t1 = zip(&scale(&mm(&x.w, &x.r), &co.c0), &col(&x.yt), |a, b| a - b);
    let dr = zip(&mm(&wt, &t1), &scale(&x.r, &lam), |a, b| T::num(0.0) - co.eta_x.clone() * (a + b));
    let kp = T::num(k as f64);
    let dy = zip(&scale(&mm(&hh, &x.yt), &co.p), &mm(&wt, &u), |a, b| T::num(0.0) - co.eta_y.clone() * kp.clone() * (a - b));
    let dy = zip(&dy, &scale(&x.yt, &lam), |a, b| a - co.eta_y.clone() * b);
    let x2 = zip(&scale(&mm(&x.r, &tp(&x.r)), &co.c0), &x.s, |a, b| a + b);
    let rmy = mm(&u, &tp(&x.yt));
    let ypy = scale(&mm(&x.yt, &tp(&x.yt)), &co.p);
    let g = zip(&zip(&mm(&x.w, &x2), &tp(&rmy), |a, b| a - b), &zip(&mm(&x.w, &ypy), &rmy, |a, b| a - b), |a, b| a + b);
    let dw = zip(&g, &scale(&x.w, &lam), |a, b| T::num(0.0) - co.eta_w.clone() * (a + b));
    let wr = mm(&x.w, &x.r);
    let wrmy = mm(&x.w, &rmy);
    let e = zip(&zip(&scale(&mm(&wr, &tp(&wr)), &co.c0), &wrmy, |a, b| a - b), &zip(&tp(&wrmy), &ypy, |a, b| b - a), |a, b| a + b);
    let inner = zip(&mm(&mm(&x.w, &x.s), &wt), &e, |a, b| a + b);
    let noise = mm(&mm(&wt, &inner), &x.w);
    let hs = mm(&hh, &x.s);
    let ex2 = co.eta_x.clone() * co.eta_x.clone();
    let ds: M<T> = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| {
                    let contraction = hs[i][j].clone() + hs[j][i].clone() + T::num(2.0) * lam.clone() * x.s[i][j].clone();
                    ex2.clone() * noise[i][j].clone() - co.eta_x.clone() * contraction
                })
                .collect()
        })
        .collect();
    HelmertState { r: dr, yt: dy, s: ds, w: dw }
}

/// Slice coordinates -> the state on the slice (zeros at the four fixed
/// entries of `R^`). Order: `R_FREE`, `Y^^T` as `y_c_i` (class-major),
/// `Sigma` upper triangle row-major, `W_h` row-major.
pub fn on_slice<T: Scalar>(z: &[T]) -> HelmertState<T> {
    let n = SLICE_DIM;
    let mut r: M<T> = vec![vec![T::num(0.0); n]; n];
    for (v, &(i, c)) in z.iter().zip(&R_FREE) {
        r[i][c] = v.clone();
    }
    let yt = (0..n).map(|i| (0..n).map(|c| z[5 + c * n + i].clone()).collect()).collect();
    let mut s: M<T> = vec![vec![T::num(0.0); n]; n];
    let mut o = 5 + n * n;
    for i in 0..n {
        for j in i..n {
            s[i][j] = z[o].clone();
            s[j][i] = z[o].clone();
            o += 1;
        }
    }
    let w = (0..n).map(|i| (0..n).map(|j| z[o + i * n + j].clone()).collect()).collect();
    HelmertState { r, yt, s, w }
}

/// State names of the reduced model, in [`on_slice`] order.
pub fn reduced_state_names() -> Vec<String> {
    let n = SLICE_DIM;
    let mut v: Vec<String> = R_FREE.iter().map(|(i, c)| format!("Rh_{i}_{c}")).collect();
    v.extend((0..n).flat_map(|c| (0..n).map(move |i| format!("yh_{c}_{i}"))));
    v.extend((0..n).flat_map(|i| (i..n).map(move |j| format!("Sigma_{i}_{j}"))));
    v.extend((0..n).flat_map(|i| (0..n).map(move |j| format!("Wh_{i}_{j}"))));
    v
}

/// The reduced field (module doc): the full field at the slice point minus
/// the group velocity `(G, omega)` that keeps the slice conditions.
pub fn reduced_field<T: Scalar>(z: &[T], p: &[T]) -> Vec<T> {
    let n = SLICE_DIM;
    let co = Coefficients::mixture(p, n);
    let x = on_slice(z);
    let f = helmert_field(&x, &co);
    let (a, c) = (x.r[0][0].clone(), x.r[1][1].clone());
    let zero = T::num(0.0);
    let den = a.clone() * a.clone() - c.clone() * c.clone();
    let g02 = zero.clone() - f.r[2][0].clone() / a.clone();
    let g12 = zero.clone() - f.r[2][1].clone() / c.clone();
    let g01 = zero.clone() - (a.clone() * f.r[1][0].clone() + c.clone() * f.r[0][1].clone()) / den.clone();
    let omega = zero.clone() - (c * f.r[1][0].clone() + a * f.r[0][1].clone()) / den;
    let neg = |v: &T| zero.clone() - v.clone();
    let g: M<T> = vec![
        vec![zero.clone(), g01.clone(), g02.clone()],
        vec![neg(&g01), zero.clone(), g12.clone()],
        vec![neg(&g02), neg(&g12), zero.clone()],
    ];
    let j: M<T> = vec![vec![zero.clone(), omega.clone(), zero.clone()], vec![neg(&omega), zero.clone(), zero.clone()], vec![zero.clone(); 3]];
    let moved = |fa: &M<T>, left: M<T>, right: M<T>| zip(fa, &zip(&left, &right, |u, v| u - v), |u, v| u - v);
    let r = moved(&f.r, mm(&g, &x.r), mm(&x.r, &j));
    let yt = moved(&f.yt, mm(&g, &x.yt), mm(&x.yt, &j));
    let s = moved(&f.s, mm(&g, &x.s), mm(&x.s, &g));
    let w = moved(&f.w, mm(&g, &x.w), mm(&x.w, &g));
    let mut out: Vec<T> = R_FREE.iter().map(|&(i, c)| r[i][c].clone()).collect();
    out.extend((0..n).flat_map(|c| (0..n).map(move |i| (c, i))).map(|(c, i)| yt[i][c].clone()));
    out.extend((0..n).flat_map(|i| (i..n).map(move |j| (i, j))).map(|(i, j)| s[i][j].clone()));
    out.extend((0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| w[i][j].clone()));
    out
}

/// The full head-ODE state (`HeadOde` layout) carried to the slice: the
/// student rotation `O` and class rotation `V` of the SVD of the centred
/// block `B = U S V^T` (`O = U^T` completed by `u1 x u2`, `det O = det V = 1`),
/// as slice coordinates. Error where `B` has (numerically) equal singular
/// values or rank below 2 (no unique slice point).
pub fn to_slice(ode: &HeadOde, x: &[f64]) -> Result<Vec<f64>> {
    check_dims(ode.dim, ode.classes, ode.kind)?;
    let n = SLICE_DIM;
    let (op, head) = ode.unpack(x);
    let h = helmert(n);
    let rh: M<f64> = (0..n).map(|i| (0..n).map(|b| (0..n).map(|c| op.r[i * n + c] * h[b][c]).sum()).collect()).collect();
    let yh: M<f64> = (0..n).map(|i| (0..n).map(|b| (0..n).map(|c| op.y[c * n + i] * h[b][c]).sum()).collect()).collect();
    // Eigenvectors of B^T B = [[p, q], [q, r]]: rotation by theta.
    let col = |m: &M<f64>, a: usize, b: usize| (0..n).map(|i| m[i][a] * m[i][b]).sum::<f64>();
    let (pp, qq, rr) = (col(&rh, 0, 0), col(&rh, 0, 1), col(&rh, 1, 1));
    let gap = ((pp - rr).powi(2) + 4.0 * qq * qq).sqrt();
    if gap <= 1e-9 * (pp + rr) {
        return Err(Error::numerical("slice", "the centred encoder block is isotropic (equal singular values): no unique slice point"));
    }
    let th = 0.5 * (2.0 * qq).atan2(pp - rr);
    let v = [[th.cos(), -th.sin()], [th.sin(), th.cos()]];
    let bv = |m: &M<f64>, k: usize| -> Vec<f64> { (0..n).map(|i| m[i][0] * v[0][k] + m[i][1] * v[1][k]).collect() };
    let unit = |u: Vec<f64>| -> Vec<f64> {
        let nn = u.iter().map(|t| t * t).sum::<f64>().sqrt();
        u.iter().map(|t| t / nn).collect()
    };
    let (u1, u2) = (unit(bv(&rh, 0)), unit(bv(&rh, 1)));
    let u3 = vec![u1[1] * u2[2] - u1[2] * u2[1], u1[2] * u2[0] - u1[0] * u2[2], u1[0] * u2[1] - u1[1] * u2[0]];
    let o = [u1, u2, u3];
    // Apply V to the centred columns, then O on the left.
    let classed = |m: &M<f64>| -> M<f64> { (0..n).map(|i| vec![m[i][0] * v[0][0] + m[i][1] * v[1][0], m[i][0] * v[0][1] + m[i][1] * v[1][1], m[i][2]]).collect() };
    let left = |m: &M<f64>| -> M<f64> { (0..n).map(|i| (0..m[0].len()).map(|c| (0..n).map(|l| o[i][l] * m[l][c]).sum()).collect()).collect() };
    let conj = |m: &M<f64>| -> M<f64> {
        let om = left(m);
        (0..n).map(|i| (0..n).map(|j| (0..n).map(|l| om[i][l] * o[j][l]).sum()).collect()).collect()
    };
    let r2 = left(&classed(&rh));
    let y2 = left(&classed(&yh));
    let s: M<f64> = (0..n).map(|i| (0..n).map(|j| op.s[i * n + j]).collect()).collect();
    let w: M<f64> = (0..n).map(|i| (0..n).map(|j| head[i * n + j]).collect()).collect();
    let (s2, w2) = (conj(&s), conj(&w));
    let mut z: Vec<f64> = R_FREE.iter().map(|&(i, c)| r2[i][c]).collect();
    z.extend((0..n).flat_map(|c| (0..n).map(move |i| (c, i))).map(|(c, i)| y2[i][c]));
    z.extend((0..n).flat_map(|i| (i..n).map(move |j| (i, j))).map(|(i, j)| s2[i][j]));
    z.extend((0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| w2[i][j]));
    Ok(z)
}

/// Slice coordinates -> the full head-ODE state (`HeadOde` layout) of the
/// slice point (`R = R^ H`, `Y^T = Y^^T H`).
pub fn from_slice(ode: &HeadOde, z: &[f64]) -> Vec<f64> {
    let n = SLICE_DIM;
    let x = on_slice(z);
    let h = helmert(n);
    let back = |m: &M<f64>| -> M<f64> { (0..n).map(|i| (0..n).map(|c| (0..n).map(|b| m[i][b] * h[b][c]).sum()).collect()).collect() };
    let (r, yt) = (back(&x.r), back(&x.yt));
    let op = crate::models::teacher::online::reduced::OrderParams::from_sigma(
        n,
        n,
        (0..n * n).map(|ic| r[ic / n][ic % n]).collect(),
        (0..n * n).map(|ci| yt[ci % n][ci / n]).collect(),
        (0..n * n).map(|ij| x.s[ij / n][ij % n]).collect(),
    );
    let head: Vec<f64> = (0..n * n).map(|ij| x.w[ij / n][ij % n]).collect();
    ode.pack(&op, &head)
}

fn check_dims(d: usize, k: usize, kind: HeadKind) -> Result<()> {
    if d != SLICE_DIM || k != SLICE_DIM {
        return Err(Error::invalid("dim/classes", format!("{d}/{k}"), "3/3 for the slice-reduced head ODE"));
    }
    if kind != HeadKind::Symmetric {
        return Err(Error::invalid("head", format!("{kind:?}"), "\"symmetric\" for the slice-reduced head ODE"));
    }
    Ok(())
}

/// Model-file text of the reduced ODE for a config (mixture teacher,
/// symmetric head, `d = K = 3`), starting from `start` (a full head-ODE
/// state; the config's initial state when `None`) carried to the slice.
/// Observables: `spread = sqrt(tr Sigma)` and the slice gap `a^2 - c^2`
/// (the reduction's denominator).
pub fn reduced_model_text(cfg: &TeacherConfig, start: Option<&[f64]>) -> Result<String> {
    if cfg.teacher != TeacherKind::Mixture {
        return Err(Error::invalid("teacher", format!("{:?}", cfg.teacher), "\"mixture\" for the slice-reduced head ODE"));
    }
    let ode = head_ode_from_config(cfg)?;
    let z0 = to_slice(&ode, start.unwrap_or(&ode.initial))?;
    let names = reduced_state_names();
    let zs: Vec<Sym> = names.iter().map(|s| Sym(s.clone())).collect();
    let ps: Vec<Sym> = HEAD_PARAM_NAMES.iter().map(|s| Sym(s.to_string())).collect();
    let eqs = reduced_field(&zs, &ps);
    let equations: Vec<(String, String)> = names.iter().cloned().zip(eqs.into_iter().map(|e| e.0)).collect();
    let observables = vec![
        ("spread".to_string(), "sqrt(Sigma_0_0 + Sigma_1_1 + Sigma_2_2)".to_string()),
        ("slice_gap".to_string(), "Rh_0_0^2 - Rh_1_1^2".to_string()),
    ];
    Ok(crate::symbolic::to_toml_string(
        "teacher-student head, symmetry-reduced (mixture, K = 3, d = 3)",
        &HEAD_PARAM_NAMES.iter().zip(&ode.params).map(|(n, v)| (n.to_string(), *v)).collect::<Vec<_>>(),
        &names.into_iter().zip(z0).collect::<Vec<_>>(),
        &equations,
        &observables,
    ))
}

/// `repcollapse export teacher-student --reduced-slice`: [`reduced_model_text`]
/// of the config the overrides give, from its initial state.
pub fn export_reduced(overrides: &crate::config::Overrides) -> Result<String> {
    reduced_model_text(&TeacherConfig::from_overrides(overrides)?, None)
}

/// The equilibrium of the reduced field reached from its initial state at
/// parameters `p` (a relative equilibrium, i.e. a drifting state, of the full
/// head ODE): integration to `t = 30000` (the slowest decay near the Hopf
/// point of section 9.1 has an e-folding time below 10^4), then Newton.
/// Error where the end of the integration is not within Newton's reach.
pub fn relative_equilibrium(field: &dyn crate::engine::VectorField, p: &[f64]) -> Result<Vec<f64>> {
    use crate::engine::{integrate, newton_polish, Grid, IntegrateOptions, Method, NewtonOptions};
    let t_max = 30000.0;
    let opts = IntegrateOptions {
        method: Method::Auto,
        rtol: 1e-8,
        atol: 1e-10,
        t_max,
        grid: Grid::Times(vec![t_max]),
        max_steps: crate::limits::max_ode_steps(),
        max_seconds: crate::limits::remaining_seconds(),
    };
    let tr = integrate(field, &field.initial_state(), p, &opts)?;
    let end = tr.states.last().ok_or_else(|| Error::numerical("relative equilibrium", "empty trajectory"))?;
    let out = newton_polish(field, end, p, &NewtonOptions::default())?;
    if !out.converged {
        return Err(Error::numerical("relative equilibrium", format!("Newton did not converge from the state at t = {t_max}")));
    }
    Ok(out.x)
}

//! The finite-D plateau of the un-regularised head (`docs/teacher.md`,
//! section 6b): the terms the D -> infinity head ODE drops, and the plateau
//! they set.
//!
//! The head step is `W_h <- W_h - mu [(W_h x - y_l) x^T + s (W_h y_l - x) y_l^T]`
//! with `mu = eta_w / D`, quadratic in the embedding scale: its relative size
//! is `eps = mu E|x|^2 = eta_w tr Q / D`, which the D -> infinity limit sets
//! to zero. When the runaway of the un-regularised ODE (section 5) makes
//! `tr Q ~ D`, `eps = O(1)`: the head relaxes within `O(1/eps)` samples (fast)
//! while `R`, `Y`, `Sigma` move by `O(1/D)` per sample (slow). The head is then
//! a least-mean-squares filter with a large step on the stationary stream
//! `(x, y_l)`, symmetric variant (`s = 1`), `A = x x^T + y y^T`, `B = y x^T + x y^T`:
//!
//! ```text
//! W_h <- W_h (I - mu A) + mu B
//! mean:        Wbar E[A] = E[B]                                   (unbiased: W_h is independent of the sample)
//! fluctuation: V = W_h - Wbar, rows v_a:  S^{ab} = E[v_a v_b^T]
//!              mu (E[A] S^{ab} + S^{ab} E[A]) - mu^2 E[A S^{ab} A] = mu^2 E[n_a n_b^T],
//!              n_a = e1_a x + e2_a y_l,  e1 = Wbar x - y_l,  e2 = Wbar y_l - x
//! ```
//!
//! (exact for Gaussian class-conditional `x`: the mixture teacher). The slow
//! variables see the head through its first two moments, `Wbar` and
//! `H = E[W_h^T W_h] = Wbar^T Wbar + sum_a S^{aa}`, and through
//! `N = E[W_h^T e1 e1^T W_h]` (quartic in `W_h`; Gaussian closure of `V`):
//!
//! ```text
//! dR/dt      = -eta_x (H R C - Wbar^T Y^T M^T)
//! dy_c/dt    = -eta_y K (P_c H y_c - Wbar^T R M_c)
//! dSigma/dt  = -eta_x (H Sigma + Sigma H) + eta_x^2 N
//! ```
//!
//! At `mu -> 0` the fluctuation vanishes and this is the slaved head ODE. It
//! depends on `D` and `eta_w` only through `mu`, and is invariant under
//! `(R, Y, Sigma, mu) -> (c R, c Y, c^2 Sigma, mu / c^2)`: a fixed point at
//! `mu = 1` with label distance `c*` and `tr Q = eps*` gives the plateau
//! `c* sqrt(D / eta_w)` at `eta_w tr Q / D = eps*` for every `D` and `eta_w`.
use faer::MatMut;
use nalgebra::{DMatrix, DVector};

use crate::engine::{central_jacobian, central_param_derivative, integrate, Grid, IntegrateOptions, Method, VectorField};
use crate::error::{Error, Result};
use crate::models::teacher::config::{HeadKind, TeacherConfig, TeacherKind};
use crate::models::teacher::online::reduced::OrderParams;
use crate::models::teacher::statistics::Teacher;

/// Parameters of [`FastHeadField`]: the teacher's and the encoder's, then the
/// head step per sample `mu = eta_w / D`.
pub const FAST_HEAD_PARAM_NAMES: [&str; 6] = ["eta_x", "eta_y", "f", "sigma", "a", "head_step"];

/// An affine form `u . x + c` of the class-conditional Gaussian embedding.
#[derive(Clone, Debug)]
struct Form {
    u: Vec<f64>,
    c: f64,
}

/// One (class, observed label) cell of the mixture: probability, the
/// embedding's mean `a R e_c` and covariance `Sigma + sigma^2 R R^T`, and
/// the label `y_l`.
struct Cell {
    weight: f64,
    mean: Vec<f64>,
    cov: DMatrix<f64>,
    label: Vec<f64>,
}

impl Cell {
    fn mean_of(&self, f: &Form) -> f64 {
        f.u.iter().zip(&self.mean).map(|(u, m)| u * m).sum::<f64>() + f.c
    }
    fn cov_of(&self, f: &Form, g: &Form) -> f64 {
        let d = self.mean.len();
        (0..d).map(|i| f.u[i] * (0..d).map(|j| self.cov[(i, j)] * g.u[j]).sum::<f64>()).sum()
    }
    /// `E[f1 f2 f3 f4]` by Isserlis' theorem for affine Gaussian forms:
    /// `m1 m2 m3 m4 + sum_{pairs} C_ij m_k m_l + C12 C34 + C13 C24 + C14 C23`.
    fn e4(&self, f: [&Form; 4]) -> f64 {
        let m: Vec<f64> = f.iter().map(|g| self.mean_of(g)).collect();
        let c = |i: usize, j: usize| self.cov_of(f[i], f[j]);
        m[0] * m[1] * m[2] * m[3]
            + c(0, 1) * m[2] * m[3]
            + c(0, 2) * m[1] * m[3]
            + c(0, 3) * m[1] * m[2]
            + c(1, 2) * m[0] * m[3]
            + c(1, 3) * m[0] * m[2]
            + c(2, 3) * m[0] * m[1]
            + c(0, 1) * c(2, 3)
            + c(0, 2) * c(1, 3)
            + c(0, 3) * c(1, 2)
    }
}

/// Slow state `(R, Y, Sigma)` with everything the fast head needs.
struct Moments {
    d: usize,
    cells: Vec<Cell>,
    /// `E[x x^T]`, `E[x y_l^T]`, `E[y_l y_l^T]`.
    xx: DMatrix<f64>,
    xy: DMatrix<f64>,
    yy: DMatrix<f64>,
}

/// The fast head's stationary moments.
#[derive(Clone, Debug)]
pub struct FastHead {
    /// `Wbar` (d x d).
    pub mean: DMatrix<f64>,
    /// `H = E[W_h^T W_h]`.
    pub second: DMatrix<f64>,
    /// `N = E[W_h^T e1 e1^T W_h]` (Gaussian closure of the fluctuation).
    pub noise: DMatrix<f64>,
    /// `S^{ab}_{ij} = E[V_ai V_bj]` at `[(a d + i) d^2 + b d + j]`.
    pub cov: Vec<f64>,
}

/// The slow field with the head replaced by its stationary LMS moments.
#[derive(Clone, Debug)]
pub struct FastHeadField {
    pub classes: usize,
    pub dim: usize,
    pub params: Vec<f64>,
    pub initial: Vec<f64>,
}

impl FastHeadField {
    /// The field of a config (mixture teacher, symmetric head, no weight
    /// decay) at head step `mu`, started from the head-free theory's initial
    /// state.
    pub fn new(cfg: &TeacherConfig, mu: f64) -> Result<Self> {
        if cfg.teacher != TeacherKind::Mixture {
            return Err(Error::invalid("teacher", "\"argmax\"", "mixture (the fast-head closure needs Gaussian class-conditional embeddings)"));
        }
        if cfg.head != HeadKind::Symmetric {
            return Err(Error::invalid("head", format!("{:?}", cfg.head), "symmetric for the finite-D plateau"));
        }
        if cfg.weight_decay != 0.0 {
            return Err(Error::invalid("weight_decay", cfg.weight_decay, "0 (the plateau is the un-regularised head's)"));
        }
        if !(mu > 0.0 && mu.is_finite()) {
            return Err(Error::invalid("head_step", mu, "a positive number (eta_w / D)"));
        }
        let th = crate::models::teacher::online::theory::TeacherTheory::from_config(cfg)?;
        let op = th.ode.unpack(&th.ode.initial);
        let mut field = FastHeadField { classes: cfg.classes, dim: cfg.dim, params: vec![cfg.eta_x, cfg.eta_y, cfg.label_noise, cfg.sigma, cfg.a, mu], initial: vec![] };
        field.initial = field.pack(&op);
        Ok(field)
    }

    fn s_index(&self, i: usize, j: usize) -> usize {
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        2 * self.dim * self.classes + i * self.dim - i * i.saturating_sub(1) / 2 + (j - i)
    }

    /// State: `R` (d x K row-major), `Y` (K x d), upper triangle of `Sigma`.
    pub fn pack(&self, op: &OrderParams) -> Vec<f64> {
        let (d, k) = (self.dim, self.classes);
        let mut x = vec![0.0; self.dim()];
        x[..d * k].copy_from_slice(&op.r);
        x[d * k..2 * d * k].copy_from_slice(&op.y);
        for i in 0..d {
            for j in i..d {
                x[self.s_index(i, j)] = op.s[i * d + j];
            }
        }
        x
    }

    pub fn unpack(&self, x: &[f64]) -> OrderParams {
        let (d, k) = (self.dim, self.classes);
        let s = (0..d * d).map(|ij| x[self.s_index(ij / d, ij % d)]).collect();
        OrderParams::from_sigma(k, d, x[..d * k].to_vec(), x[d * k..2 * d * k].to_vec(), s)
    }

    /// Class-conditional moments of the mixture (`lambda = a e_c + sigma z`,
    /// label kept with probability `1 - f`, else uniform over the others).
    fn moments(&self, op: &OrderParams, p: &[f64]) -> Moments {
        let (d, k) = (self.dim, self.classes);
        let (f, sigma, a) = (p[2], p[3], p[4]);
        let r = DMatrix::from_row_slice(d, k, &op.r);
        let cov = DMatrix::from_row_slice(d, d, &op.s) + &r * r.transpose() * (sigma * sigma);
        let mut cells = Vec::with_capacity(k * k);
        for c in 0..k {
            for l in 0..k {
                let pl = if l == c { 1.0 - f } else { f / (k - 1) as f64 };
                if pl == 0.0 {
                    continue;
                }
                cells.push(Cell { weight: pl / k as f64, mean: (0..d).map(|i| a * r[(i, c)]).collect(), cov: cov.clone(), label: op.y[l * d..(l + 1) * d].to_vec() });
            }
        }
        let (mut xx, mut xy, mut yy) = (DMatrix::zeros(d, d), DMatrix::zeros(d, d), DMatrix::zeros(d, d));
        for cell in &cells {
            let m = DVector::from_column_slice(&cell.mean);
            let y = DVector::from_column_slice(&cell.label);
            xx += (&cell.cov + &m * m.transpose()) * cell.weight;
            xy += &m * y.transpose() * cell.weight;
            yy += &y * y.transpose() * cell.weight;
        }
        Moments { d, cells, xx, xy, yy }
    }

    /// Stationary mean, second moment and spread source of the fast head at
    /// step `mu` (module doc); an error if the LMS recursion has no
    /// stationary second moment (its operator is singular).
    pub fn fast_head(&self, op: &OrderParams, p: &[f64]) -> Result<FastHead> {
        let mo = self.moments(op, p);
        fast_head(&mo, p[5])
    }
}

fn unit(d: usize, i: usize) -> Vec<f64> {
    (0..d).map(|j| f64::from(u8::from(i == j))).collect()
}

fn fast_head(mo: &Moments, mu: f64) -> Result<FastHead> {
    let d = mo.d;
    let ea = &mo.xx + &mo.yy;
    let eb = mo.xy.transpose() + &mo.xy;
    let wbar = ea.clone().try_inverse().map(|inv| &eb * inv).ok_or_else(|| Error::invalid("state", "E[x x^T + y y^T] singular", "a state with a non-degenerate embedding"))?;
    let xs: Vec<Form> = (0..d).map(|i| Form { u: unit(d, i), c: 0.0 }).collect();
    let one = Form { u: vec![0.0; d], c: 1.0 };
    // F_{iklj} = E[A_ik A_lj], A = x x^T + y y^T.
    let idx4 = |i: usize, k: usize, l: usize, j: usize| ((i * d + k) * d + l) * d + j;
    let mut f4 = vec![0.0; d * d * d * d];
    for cell in &mo.cells {
        let y = &cell.label;
        for i in 0..d {
            for k in 0..d {
                let xik = cell.e4([&xs[i], &xs[k], &one, &one]);
                for l in 0..d {
                    for j in 0..d {
                        let xlj = cell.e4([&xs[l], &xs[j], &one, &one]);
                        let v = cell.e4([&xs[i], &xs[k], &xs[l], &xs[j]]) + xik * y[l] * y[j] + y[i] * y[k] * xlj + y[i] * y[k] * y[l] * y[j];
                        f4[idx4(i, k, l, j)] += cell.weight * v;
                    }
                }
            }
        }
    }
    // Operator on vec(S) (row-major d x d): mu (E[A] S + S E[A]) - mu^2 E[A S A].
    let n2 = d * d;
    let mut op = DMatrix::zeros(n2, n2);
    for i in 0..d {
        for j in 0..d {
            for k in 0..d {
                for l in 0..d {
                    let lin = if j == l { ea[(i, k)] } else { 0.0 } + if i == k { ea[(l, j)] } else { 0.0 };
                    op[(i * d + j, k * d + l)] = mu * lin - mu * mu * f4[idx4(i, k, l, j)];
                }
            }
        }
    }
    let lu = op.lu();
    // Noise E[(n_a)_i (n_b)_j] for each row pair, then S^{ab}.
    let e1: Vec<Form> = (0..d).map(|a| Form { u: (0..d).map(|j| wbar[(a, j)]).collect(), c: 0.0 }).collect();
    let mut cov = vec![0.0; n2 * n2];
    for a in 0..d {
        for b in 0..d {
            let mut g = DVector::zeros(n2);
            for cell in &mo.cells {
                let y = &cell.label;
                let wy: Vec<f64> = (0..d).map(|r| (0..d).map(|j| wbar[(r, j)] * y[j]).sum()).collect();
                let e1a = Form { c: -y[a], ..e1[a].clone() };
                let e1b = Form { c: -y[b], ..e1[b].clone() };
                let e2a = Form { u: unit(d, a).iter().map(|v| -v).collect(), c: wy[a] };
                let e2b = Form { u: unit(d, b).iter().map(|v| -v).collect(), c: wy[b] };
                let a22 = cell.e4([&e2a, &one, &e2b, &one]);
                for i in 0..d {
                    for j in 0..d {
                        let v = cell.e4([&e1a, &xs[i], &e1b, &xs[j]]) + y[j] * cell.e4([&e1a, &xs[i], &e2b, &one]) + y[i] * cell.e4([&e2a, &one, &e1b, &xs[j]]) + y[i] * y[j] * a22;
                        g[i * d + j] += cell.weight * v;
                    }
                }
            }
            let s = lu.solve(&(g * (mu * mu))).ok_or_else(|| Error::invalid("head_step", mu, "a step for which the head's LMS recursion has a stationary second moment"))?;
            for ij in 0..n2 {
                cov[(a * d + b) * n2 + ij] = s[ij];
            }
        }
    }
    let cv = |a: usize, i: usize, b: usize, j: usize| cov[(a * d + b) * n2 + i * d + j];
    let mut second = wbar.transpose() * &wbar;
    for a in 0..d {
        for i in 0..d {
            for j in 0..d {
                second[(i, j)] += cv(a, i, a, j);
            }
        }
    }
    if (0..d).any(|i| second[(i, i)] < 0.0 || !second[(i, i)].is_finite()) {
        return Err(Error::invalid("head_step", mu, "a step below the head's mean-square stability edge"));
    }
    let noise = spread_source(&wbar, &cv, mo);
    Ok(FastHead { mean: wbar, second, noise, cov })
}

/// `E[W^T (W X2 W^T - W P - P^T W^T + YY) W]` (`X2 = E[x x^T]`,
/// `P = E[x y^T]`, `YY = E[y y^T]`) for Gaussian `W` with mean `wbar` and
/// entry covariances `cv(a, i, b, j) = E[V_ai V_bj]` (Isserlis).
fn spread_source(wbar: &DMatrix<f64>, cv: &dyn Fn(usize, usize, usize, usize) -> f64, mo: &Moments) -> DMatrix<f64> {
    let d = mo.d;
    let w = |a: usize, i: usize| wbar[(a, i)];
    let e2 = |a: usize, i: usize, b: usize, j: usize| w(a, i) * w(b, j) + cv(a, i, b, j);
    let e3 = |p: [(usize, usize); 3]| {
        let m = |n: usize| w(p[n].0, p[n].1);
        let c = |n: usize, o: usize| cv(p[n].0, p[n].1, p[o].0, p[o].1);
        m(0) * m(1) * m(2) + c(0, 1) * m(2) + c(0, 2) * m(1) + c(1, 2) * m(0)
    };
    let e4 = |p: [(usize, usize); 4]| {
        let m = |n: usize| w(p[n].0, p[n].1);
        let c = |n: usize, o: usize| cv(p[n].0, p[n].1, p[o].0, p[o].1);
        m(0) * m(1) * m(2) * m(3)
            + c(0, 1) * m(2) * m(3)
            + c(0, 2) * m(1) * m(3)
            + c(0, 3) * m(1) * m(2)
            + c(1, 2) * m(0) * m(3)
            + c(1, 3) * m(0) * m(2)
            + c(2, 3) * m(0) * m(1)
            + c(0, 1) * c(2, 3)
            + c(0, 2) * c(1, 3)
            + c(0, 3) * c(1, 2)
    };
    let (x2, pp, yy) = (&mo.xx, &mo.xy, &mo.yy);
    let mut out = DMatrix::zeros(d, d);
    for p in 0..d {
        for q in 0..d {
            let mut v = 0.0;
            for a in 0..d {
                for b in 0..d {
                    // W^T YY W
                    v += yy[(a, b)] * e2(a, p, b, q);
                    for i in 0..d {
                        // -W^T W P W: W_ap W_ai P_ib W_bq;  -W^T P^T W^T W: W_ap P_ia W_bi W_bq (relabelled).
                        v -= pp[(i, b)] * e3([(a, p), (a, i), (b, q)]);
                        v -= pp[(i, a)] * e3([(a, p), (b, i), (b, q)]);
                        for j in 0..d {
                            // W^T W X2 W^T W: W_ap W_ai X2_ij W_bj W_bq.
                            v += x2[(i, j)] * e4([(a, p), (a, i), (b, j), (b, q)]);
                        }
                    }
                }
            }
            out[(p, q)] = v;
        }
    }
    out
}

impl FastHeadField {
    /// The slow right-hand side; `None` where the fast head has no
    /// stationary state.
    fn slow_rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) -> Result<FastHead> {
        let (d, k) = (self.dim, self.classes);
        let op = self.unpack(x);
        let mo = self.moments(&op, p);
        let head = fast_head(&mo, p[5])?;
        let (ex, ey) = (p[0], p[1]);
        let r = DMatrix::from_row_slice(d, k, &op.r);
        let yt = DMatrix::from_row_slice(k, d, &op.y).transpose();
        let s = DMatrix::from_row_slice(d, d, &op.s);
        // E[x lambda^T] = R C and E[y_l lambda^T] = Y^T M^T (M symmetric here).
        let st = Teacher::new(TeacherKind::Mixture, k).stats(p[2], p[3], p[4]);
        let (c0, pc) = (st.c0, st.p);
        let mt = DMatrix::from_row_slice(k, k, &st.m_matrix());
        let (h, wb) = (&head.second, &head.mean);
        let dr = -(h * &r * c0 - wb.transpose() * &yt * mt.transpose()) * ex;
        let dyt = -(h * &yt * pc - wb.transpose() * &r * &mt) * (ey * k as f64);
        let ds = -(h * &s + &s * h) * ex + &head.noise * (ex * ex);
        for i in 0..d {
            for c in 0..k {
                out[i * k + c] = dr[(i, c)];
                out[d * k + c * d + i] = dyt[(i, c)];
            }
            for j in i..d {
                out[self.s_index(i, j)] = ds[(i, j)];
            }
        }
        Ok(head)
    }
}

impl VectorField for FastHeadField {
    fn name(&self) -> &str {
        "teacher-student-fast-head"
    }
    fn dim(&self) -> usize {
        2 * self.dim * self.classes + self.dim * (self.dim + 1) / 2
    }
    fn state_names(&self) -> Vec<String> {
        crate::models::teacher::online::reduced::state_names(self.dim, self.classes)
    }
    fn param_names(&self) -> Vec<String> {
        FAST_HEAD_PARAM_NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.clone()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.initial.clone()
    }
    /// NaN where the fast head has no stationary state (the integrator then
    /// stops with a divergence naming the time).
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        if self.slow_rhs(x, p, out).is_err() {
            out.fill(f64::NAN);
        }
    }
    /// Central differences with step `1e-6 max(|x_j|, 1e-3)` (the field
    /// contains linear solves; only the engine's implicit tools use it).
    fn jacobian(&self, x: &[f64], p: &[f64], jac: MatMut<'_, f64>) {
        central_jacobian(self, x, p, 1e-3, jac);
    }
    /// Central differences, as the Jacobian.
    fn param_derivative(&self, x: &[f64], p: &[f64], k: usize, out: &mut [f64]) {
        central_param_derivative(self, x, p, k, 1e-3, out);
    }
    fn observable_names(&self) -> Vec<String> {
        vec!["min_label_distance".into(), "effective_head_step".into()]
    }
    /// Minimum label distance and `eps = mu tr Q`.
    fn observables(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        let op = self.unpack(x);
        let (d, k) = (self.dim, self.classes);
        out[0] = crate::models::common::metrics::label_distances(&op.y, k, d).0;
        out[1] = p[5] * (0..d).map(|i| op.q[i * d + i]).sum::<f64>();
    }
}

/// The predicted plateau: the fixed point of [`FastHeadField`] at `mu = 1`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PlateauLaw {
    /// `c*`: plateau min label distance `= c* sqrt(D / eta_w)`.
    pub prefactor: f64,
    /// Root-mean-square label distance at the plateau over `sqrt(D / eta_w)`
    /// (rotation invariant, unlike the minimum).
    pub rms_prefactor: f64,
    /// `eps* = eta_w tr Q / D` at the plateau.
    pub effective_step: f64,
    /// Eigenvalues (real parts, ascending) of the mean head `Wbar` and of `H` at the plateau.
    pub head_mean_eigenvalues: Vec<f64>,
    pub head_second_eigenvalues: Vec<f64>,
    /// `|F| / |x|` at the end of the integration (settled: small).
    pub residual: f64,
    /// `(t, min label distance, eps)` along the approach (`mu = 1` units).
    pub history: Vec<(f64, f64, f64)>,
}

impl PlateauLaw {
    /// `c* sqrt(D / eta_w)`.
    pub fn label_distance(&self, input_dim: usize, eta_w: f64) -> f64 {
        self.prefactor * (input_dim as f64 / eta_w).sqrt()
    }
}

/// Effective head step at which the approach starts (small: the fast-head
/// field is then the slaved head ODE up to `O(eps)`).
const START_STEP: f64 = 0.02;

/// The plateau law of a config: the D -> infinity head ODE from the config's
/// initial state to `t_ray` (onto the runaway ray of section 5), that state
/// rescaled to `eps = mu tr Q = START_STEP` at `mu = 1`, then
/// [`FastHeadField`] for `t_settle` until it settles on its fixed point.
pub fn plateau_law(cfg: &TeacherConfig, t_ray: f64, t_settle: f64) -> Result<PlateauLaw> {
    let field = FastHeadField::new(cfg, 1.0)?;
    let ode = crate::models::teacher::head::theory::head_ode_from_config(cfg)?;
    let opts = |t_max: f64, points: usize, method: Method| IntegrateOptions { method, rtol: 1e-8, atol: 1e-10, t_max, grid: Grid::Linear { points }, max_steps: crate::limits::max_ode_steps(), max_seconds: crate::limits::remaining_seconds() };
    let ray = integrate(&ode, &ode.initial, &ode.params, &opts(t_ray, 2, Method::Auto))?;
    let (op, _) = ode.unpack(ray.states.last().expect("integration returns at least the start"));
    let d = cfg.dim;
    let trq: f64 = (0..d).map(|i| op.q[i * d + i]).sum();
    let c = (START_STEP / trq).sqrt();
    let scaled = OrderParams::from_sigma(op.classes, d, op.r.iter().map(|v| v * c).collect(), op.y.iter().map(|v| v * c).collect(), op.s.iter().map(|v| v * c * c).collect());
    let x0 = field.pack(&scaled);
    let traj = integrate(&field, &x0, &field.params, &opts(t_settle, 21, Method::Dopri5))?;
    let mut obs = [0.0; 2];
    let history = traj
        .t
        .iter()
        .zip(&traj.states)
        .map(|(t, x)| {
            field.observables(x, &field.params, &mut obs);
            (*t, obs[0], obs[1])
        })
        .collect();
    let x = traj.states.last().expect("integration returns at least the start").clone();
    let mut f = vec![0.0; x.len()];
    let head = field.slow_rhs(&x, &field.params, &mut f)?;
    let norm = |v: &[f64]| v.iter().map(|z| z * z).sum::<f64>().sqrt();
    field.observables(&x, &field.params, &mut obs);
    let eig = |m: &DMatrix<f64>| {
        let mut v: Vec<f64> = m.complex_eigenvalues().iter().map(|z| z.re).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let rms_prefactor = rms_label_distance(&field.unpack(&x).y, cfg.classes, cfg.dim);
    Ok(PlateauLaw { prefactor: obs[0], rms_prefactor, effective_step: obs[1], head_mean_eigenvalues: eig(&head.mean), head_second_eigenvalues: eig(&head.second), residual: norm(&f) / norm(&x), history })
}

/// A predicted point of the SGD run.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct PredictedPoint {
    pub min_label_distance: f64,
    /// `sqrt(mean over pairs |y_a - y_b|^2)`: invariant under the rotations
    /// of the centred class plane, along which the minimum drifts.
    pub rms_label_distance: f64,
    /// `eps = (eta_w / D) tr Q`.
    pub effective_step: f64,
}

/// Root-mean-square distance between label embeddings (`y`: K x d row-major).
pub fn rms_label_distance(y: &[f64], k: usize, d: usize) -> f64 {
    let mut sum = 0.0;
    for a in 0..k {
        for b in a + 1..k {
            sum += (0..d).map(|j| (y[a * d + j] - y[b * d + j]).powi(2)).sum::<f64>();
        }
    }
    (sum / (k * (k - 1) / 2).max(1) as f64).sqrt()
}

/// Predicted label distances of online SGD at finite `D = cfg.input_dim`
/// on `times` (ascending, within `[0, t_max]`): the D -> infinity head ODE
/// from the config's initial state while the dropped head step
/// `eps = (eta_w / D) tr Q` is below `START_STEP`, then [`FastHeadField`]
/// at `mu = eta_w / D` from that state (the head is slaved by then).
pub fn predicted_run(cfg: &TeacherConfig, times: &[f64]) -> Result<Vec<PredictedPoint>> {
    let mu = cfg.eta_w / cfg.input_dim as f64;
    let field = FastHeadField::new(cfg, mu)?;
    let ode = crate::models::teacher::head::theory::head_ode_from_config(cfg)?;
    let t_end = times.last().copied().unwrap_or(0.0);
    let opts = |t_max: f64, grid: Grid, method: Method| IntegrateOptions { method, rtol: 1e-8, atol: 1e-10, t_max, grid, max_steps: crate::limits::max_ode_steps(), max_seconds: crate::limits::remaining_seconds() };
    // Phase 1 on a unit grid to locate the switch.
    let fine = (t_end.ceil() as usize).max(1);
    let ray = integrate(&ode, &ode.initial, &ode.params, &opts(fine as f64, Grid::Linear { points: fine + 1 }, Method::Auto))?;
    let d = cfg.dim;
    let point = |op: &OrderParams| PredictedPoint {
        min_label_distance: crate::models::common::metrics::label_distances(&op.y, op.classes, d).0,
        rms_label_distance: rms_label_distance(&op.y, op.classes, d),
        effective_step: mu * (0..d).map(|i| op.q[i * d + i]).sum::<f64>(),
    };
    let switch = ray.states.iter().position(|x| point(&ode.unpack(x).0).effective_step >= START_STEP).unwrap_or(ray.states.len() - 1);
    let t_switch = ray.t[switch];
    let mut out = Vec::with_capacity(times.len());
    for &t in times.iter().filter(|t| **t <= t_switch) {
        let k = (t.round() as usize).min(switch);
        out.push(point(&ode.unpack(&ray.states[k]).0));
    }
    let later: Vec<f64> = times.iter().filter(|t| **t > t_switch).map(|t| t - t_switch).collect();
    if later.is_empty() {
        return Ok(out);
    }
    let x0 = field.pack(&ode.unpack(&ray.states[switch]).0);
    let mut grid = vec![0.0];
    grid.extend(&later);
    let traj = integrate(&field, &x0, &field.params, &opts(*later.last().expect("non-empty"), Grid::Times(grid), Method::Dopri5))?;
    out.extend(traj.states.iter().skip(1).map(|x| point(&field.unpack(x))));
    Ok(out)
}

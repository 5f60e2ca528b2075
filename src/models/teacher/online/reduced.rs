//! The Model T order-parameter ODE (D -> infinity limit of online SGD; the
//! derivation is in `docs/teacher.md`).
//!
//! Order parameters: `R = W_s B^T / D` (d x K), `Q = W_s W_s^T / D`
//! (d x d, symmetric) and the label embeddings `y_c` (rows of the K x d
//! matrix `Y`). For every input, `x = R lambda + nu` with `nu ~ N(0, Q - R R^T)`
//! independent of the teacher fields and of the label, so all averages are
//! Gaussian and enter through `P_c`, `M` (columns `M_c`) and `C` only
//! ([`TeacherStats`]). With `A = Q + R (C - I) R^T - Y^T M^T R^T`,
//!
//! ```text
//!   dR/dt   = -eta_x (R C - Y^T M^T)
//!   dy_c/dt = -eta_y K (P_c y_c - R M_c)
//!   dQ/dt   = -eta_x (A + A^T) + eta_x^2 E[(x - y_l)(x - y_l)^T]
//!           = -eta_x (2 - eta_x)(Q + S) + eta_x (1 - eta_x) V + eta_x^2 W,
//! ```
//!
//! `S = R (C - I) R^T`, `V = Y^T U^T + U Y` with `U = R M` (d x K), and
//! `W = Y^T diag(P) Y`. The `eta_x^2` term is the SGD noise: it drives the
//! within-class spread `Sigma = Q - R R^T`, which obeys
//! `dSigma/dt = -eta_x (2 - eta_x) Sigma + eta_x^2 E_res`,
//! `E_res = E[(R lambda - y_l)(R lambda - y_l)^T]`.
//!
//! The state carries `Sigma` rather than `Q` (equivalent: `Q = Sigma + R R^T`)
//! because late in a collapse the spread is a tiny difference of O(1)
//! entries of `Q` and `R R^T`, which an integrator working on `Q` cannot
//! resolve. Its equation follows from those of `Q` and `R`:
//!
//! ```text
//!   dSigma/dt = -eta_x (2 - eta_x) Sigma + eta_x^2 (R C R^T - V + W).
//! ```
//!
//! `(R, Y)` is a closed linear system, identical for each of the `d` rows:
//! `d(r, y)/dt = -L (r, y)` with `L = diag(eta_x I, eta_y K I) H` and the
//! positive semi-definite Hessian `H = [[C, -M], [-M^T, diag(P)]]`. A fixed
//! point with `R != 0` needs `R (C - G) = 0`, `G = M diag(P)^{-1} M^T`, and
//! `y_c = R M_c / P_c`. The Jacobian is block triangular, so its spectrum is
//! `spec(-L)` (each eigenvalue `d` times) together with `-eta_x (2 - eta_x)`
//! (`d(d+1)/2` times, the `Sigma` block).
//!
//! State layout: `R` row-major (`i K + k`), then `Y` row-major
//! (`dK + c d + i`), then the upper triangle of `Sigma` row by row. Parameters:
//! `[eta_x, eta_y, f, sigma, a]`. Jacobian and parameter derivatives are
//! exact (hand-derived; the right-hand side is quadratic in the state and
//! affine in the statistics).
use faer::{MatMut, Side};

use crate::engine::{Invariant, InvariantKind, VectorField};
use crate::error::{Error, Result};
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::statistics::{Teacher, TeacherStats};

/// Parameter names, in order.
pub const PARAM_NAMES: [&str; 5] = ["eta_x", "eta_y", "f", "sigma", "a"];

/// The order-parameter ODE for given sizes and teacher.
#[derive(Clone, Debug)]
pub struct TeacherOde {
    pub teacher: Teacher,
    pub classes: usize,
    pub dim: usize,
    pub params: Vec<f64>,
    pub initial: Vec<f64>,
}

/// Order parameters unpacked from a state vector.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OrderParams {
    pub classes: usize,
    pub dim: usize,
    /// d x K row-major.
    pub r: Vec<f64>,
    /// K x d row-major.
    pub y: Vec<f64>,
    /// `Q`, d x d row-major (full, symmetric).
    pub q: Vec<f64>,
    /// `Sigma = Q - R R^T`, d x d row-major, carried separately so that a
    /// small spread is not lost to cancellation.
    pub s: Vec<f64>,
}

impl OrderParams {
    /// Order parameters from `R`, `Y` and `Sigma` (`Q = Sigma + R R^T`).
    pub fn from_sigma(classes: usize, dim: usize, r: Vec<f64>, y: Vec<f64>, s: Vec<f64>) -> Self {
        let (d, k) = (dim, classes);
        let mut q = s.clone();
        for i in 0..d {
            for j in 0..d {
                q[i * d + j] += (0..k).map(|l| r[i * k + l] * r[j * k + l]).sum::<f64>();
            }
        }
        OrderParams { classes, dim, r, y, q, s }
    }
    /// `Sigma = Q - R R^T` (d x d row-major).
    pub fn sigma(&self) -> Vec<f64> {
        self.s.clone()
    }
}

impl TeacherOde {
    /// The ODE for a config, started from `initial` (any state of length `dim()`).
    pub fn new(cfg: &TeacherConfig, initial: Vec<f64>) -> Result<Self> {
        let ode = TeacherOde {
            teacher: Teacher::new(cfg.teacher, cfg.classes),
            classes: cfg.classes,
            dim: cfg.dim,
            params: cfg.ode_params(),
            initial,
        };
        if ode.initial.len() != ode.dim() {
            return Err(Error::invalid("initial state", format!("length {}", ode.initial.len()), format!("length {}", ode.dim())));
        }
        Ok(ode)
    }

    /// Number of `R` entries (`d K`).
    pub fn n_r(&self) -> usize {
        self.dim * self.classes
    }
    /// Offset of `Q` in the state (`2 d K`).
    pub fn q_offset(&self) -> usize {
        2 * self.dim * self.classes
    }
    /// Index of `Q_ij` (either order) in the state: row `i` of the packed
    /// upper triangle starts at `i d - i (i - 1) / 2`.
    pub fn q_index(&self, i: usize, j: usize) -> usize {
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        self.q_offset() + i * self.dim - i * i.saturating_sub(1) / 2 + (j - i)
    }

    /// The statistics at parameters `p`.
    pub fn stats(&self, p: &[f64]) -> TeacherStats {
        self.teacher.stats(p[2], p[3], p[4])
    }

    /// Packs order parameters into a state vector.
    pub fn pack(&self, op: &OrderParams) -> Vec<f64> {
        let mut x = vec![0.0; self.dim()];
        x[..self.n_r()].copy_from_slice(&op.r);
        x[self.n_r()..self.q_offset()].copy_from_slice(&op.y);
        for i in 0..self.dim {
            for j in i..self.dim {
                x[self.q_index(i, j)] = op.s[i * self.dim + j];
            }
        }
        x
    }

    /// Unpacks a state vector.
    pub fn unpack(&self, x: &[f64]) -> OrderParams {
        let d = self.dim;
        let mut sg = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                sg[i * d + j] = x[self.q_index(i, j)];
            }
        }
        OrderParams::from_sigma(self.classes, d, x[..self.n_r()].to_vec(), x[self.n_r()..self.q_offset()].to_vec(), sg)
    }

    /// The right-hand side with statistics `st`; `decay` switches the
    /// statistics-free `-eta_x(2-eta_x) Sigma` term (on for the field, off
    /// for its derivative with respect to the statistics, in which the
    /// field is affine).
    fn eval(&self, x: &[f64], eta_x: f64, eta_y: f64, st: &TeacherStats, decay: bool, out: &mut [f64]) {
        let (d, k) = (self.dim, self.classes);
        let (nr, qo) = (self.n_r(), self.q_offset());
        let r = &x[..nr];
        let y = &x[nr..qo];
        let kf = k as f64;
        // (Y^T M^T)_{ik} = sum_c Y_ci M_kc = md Y_ki + mo (ysum_i - Y_ki).
        for i in 0..d {
            let ysum: f64 = (0..k).map(|c| y[c * d + i]).sum();
            let rsum: f64 = (0..k).map(|c| r[i * k + c]).sum();
            for kk in 0..k {
                let ym = st.md * y[kk * d + i] + st.mo * (ysum - y[kk * d + i]);
                out[i * k + kk] = -eta_x * (st.c0 * r[i * k + kk] - ym);
                let u = st.md * r[i * k + kk] + st.mo * (rsum - r[i * k + kk]);
                out[nr + kk * d + i] = -eta_y * kf * (st.p * y[kk * d + i] - u);
            }
        }
        let (a, c) = (eta_x * (2.0 - eta_x), eta_x * eta_x);
        for i in 0..d {
            for j in i..d {
                let sv = if decay { x[self.q_index(i, j)] } else { 0.0 };
                out[self.q_index(i, j)] = -a * sv + c * self.noise_source(r, y, st, i, j);
            }
        }
    }

    /// SGD-noise source of `Sigma_ij` (the factor of `eta_x^2`):
    /// `c0 (R R^T)_ij - (Y^T U^T + U Y^T)_ij + p (Y^T Y)_ij` with
    /// `U_il = md R_il + mo (sum_l' R_il' - R_il)`.
    fn noise_source(&self, r: &[f64], y: &[f64], st: &TeacherStats, i: usize, j: usize) -> f64 {
        let (d, k) = (self.dim, self.classes);
        let rsum_i: f64 = (0..k).map(|l| r[i * k + l]).sum();
        let rsum_j: f64 = (0..k).map(|l| r[j * k + l]).sum();
        let (mut s, mut v, mut w) = (0.0, 0.0, 0.0);
        for l in 0..k {
            s += r[i * k + l] * r[j * k + l];
            let ui = st.md * r[i * k + l] + st.mo * (rsum_i - r[i * k + l]);
            let uj = st.md * r[j * k + l] + st.mo * (rsum_j - r[j * k + l]);
            v += y[l * d + i] * uj + ui * y[l * d + j];
            w += y[l * d + i] * y[l * d + j];
        }
        st.c0 * s - v + st.p * w
    }

    /// The per-row linear operator `L` (2K x 2K row-major, acting on
    /// `(r, y)`) at parameters `p`.
    pub fn row_operator(&self, p: &[f64]) -> Vec<f64> {
        let k = self.classes;
        let st = self.stats(p);
        let (ex, ey) = (p[0], p[1]);
        let n = 2 * k;
        let mut l = vec![0.0; n * n];
        for a in 0..k {
            l[a * n + a] = ex * st.c0;
            l[(k + a) * n + k + a] = ey * k as f64 * st.p;
            for c in 0..k {
                let m = if a == c { st.md } else { st.mo };
                l[a * n + k + c] = -ex * m; // dr_a depends on y_c through M_ac
                l[(k + c) * n + a] = -ey * k as f64 * m; // dy_c depends on r_a through M_ac
            }
        }
        l
    }
}

/// Closed-form decay rates of the `(R, Y)` system: the 2 x 2 blocks of `L`
/// on the separating subspace (multiplicity `d (K-1)`) and on the common
/// (class-averaged) subspace (multiplicity `d`).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct RowRates {
    /// `(slow, fast)` on the separating subspace.
    pub separating: (f64, f64),
    /// `(slow, fast)` on the common subspace.
    pub common: (f64, f64),
    /// Decay rate of the `Q` block (of `Sigma` without source), `eta_x (2 - eta_x)`.
    pub spread: f64,
}

fn block_rates(ex: f64, ey: f64, c0: f64, kp: f64, m: f64, k: f64) -> (f64, f64) {
    // [[ex c0, -ex m], [-ey K m, ey K p]]
    let tr = ex * c0 + ey * kp;
    let det = ex * ey * (c0 * kp - k * m * m);
    let disc = (tr * tr - 4.0 * det).max(0.0).sqrt();
    // Smaller root via det / larger root for accuracy when det is tiny.
    let big = 0.5 * (tr + disc);
    (if big > 0.0 { det / big } else { 0.0 }, big)
}

/// The rates of [`RowRates`] at parameters `p` for teacher `t`.
pub fn row_rates(t: &Teacher, p: &[f64]) -> RowRates {
    let st = t.stats(p[2], p[3], p[4]);
    let k = t.classes as f64;
    let (ms, mc) = st.m_eigen();
    RowRates {
        separating: block_rates(p[0], p[1], st.c0, k * st.p, ms, k),
        common: block_rates(p[0], p[1], st.c0, k * st.p, mc, k),
        spread: p[0] * (2.0 - p[0]),
    }
}

/// Names of the order parameters in state order: `R_i_c` (d x K teacher
/// overlaps, row-major), `y_c_i` (K label embeddings), `Sigma_i_j` (the
/// upper triangle of the noise covariance), `2dK + d(d+1)/2` in all.
pub fn state_names(d: usize, k: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..d).flat_map(|i| (0..k).map(move |c| format!("R_{i}_{c}"))).collect();
    v.extend((0..k).flat_map(|c| (0..d).map(move |i| format!("y_{c}_{i}"))));
    v.extend((0..d).flat_map(|i| (i..d).map(move |j| format!("Sigma_{i}_{j}"))));
    v
}

impl VectorField for TeacherOde {
    fn name(&self) -> &str {
        "teacher-student"
    }
    fn dim(&self) -> usize {
        2 * self.dim * self.classes + self.dim * (self.dim + 1) / 2
    }
    fn state_names(&self) -> Vec<String> {
        state_names(self.dim, self.classes)
    }
    fn param_names(&self) -> Vec<String> {
        PARAM_NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.clone()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.initial.clone()
    }

    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        let st = self.stats(p);
        self.eval(x, p[0], p[1], &st, true, out);
    }

    fn jacobian(&self, x: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (d, k) = (self.dim, self.classes);
        let (nr, qo) = (self.n_r(), self.q_offset());
        let st = self.stats(p);
        let (ex, ey) = (p[0], p[1]);
        let kf = k as f64;
        let mm = |a: usize, c: usize| if a == c { st.md } else { st.mo };
        jac.fill(0.0);
        let r = &x[..nr];
        let y = &x[nr..qo];
        for i in 0..d {
            for a in 0..k {
                jac[(i * k + a, i * k + a)] = -ex * st.c0;
                jac[(nr + a * d + i, nr + a * d + i)] = -ey * kf * st.p;
                for c in 0..k {
                    jac[(i * k + a, nr + c * d + i)] = ex * mm(a, c);
                    jac[(nr + c * d + i, i * k + a)] = ey * kf * mm(a, c);
                }
            }
        }
        let (ca, cc) = (ex * (2.0 - ex), ex * ex);
        // U_ic = sum_k R_ik M_kc and YM_ik = sum_c Y_ci M_kc, evaluated inline.
        let u = |i: usize, c: usize| (0..k).map(|l| r[i * k + l] * mm(l, c)).sum::<f64>();
        let ym = |i: usize, l: usize| (0..k).map(|c| y[c * d + i] * mm(l, c)).sum::<f64>();
        for i in 0..d {
            for j in i..d {
                let row = self.q_index(i, j);
                jac[(row, row)] = -ca;
                for l in 0..k {
                    // d/dR_{i l} and d/dR_{j l} (both when i == j).
                    for (aa, other) in [(i, j), (j, i)] {
                        let ds = st.c0 * r[other * k + l];
                        let dv = ym(other, l);
                        jac[(row, aa * k + l)] += cc * (ds - dv);
                    }
                    // d/dY_{l i} and d/dY_{l j}.
                    for (bb, other) in [(i, j), (j, i)] {
                        let dv = u(other, l);
                        let dw = st.p * y[l * d + other];
                        jac[(row, nr + l * d + bb)] += cc * (dw - dv);
                    }
                }
            }
        }
    }

    fn param_derivative(&self, x: &[f64], p: &[f64], kk: usize, out: &mut [f64]) {
        let (ex, ey) = (p[0], p[1]);
        let st = self.stats(p);
        let (nr, qo) = (self.n_r(), self.q_offset());
        match kk {
            0 => {
                // F_R is linear in eta_x; in F_Sigma, d/deta_x of -eta(2-eta)
                // and eta^2 are -(2-2eta) and 2eta.
                self.eval(x, ex, ey, &st, true, out);
                for v in &mut out[..nr] {
                    *v /= ex;
                }
                out[nr..qo].fill(0.0);
                let d = self.dim;
                let r = &x[..nr];
                let y = &x[nr..qo];
                for i in 0..d {
                    for j in i..d {
                        let q = self.q_index(i, j);
                        out[q] = -(2.0 - 2.0 * ex) * x[q] + 2.0 * ex * self.noise_source(r, y, &st, i, j);
                    }
                }
            }
            1 => {
                self.eval(x, ex, ey, &st, true, out);
                out[..nr].fill(0.0);
                for v in &mut out[nr..qo] {
                    *v /= ey;
                }
                out[qo..].fill(0.0);
            }
            2..=4 => {
                let ds = self.teacher.stats_derivative(p[2], p[3], p[4], kk);
                self.eval(x, ex, ey, &ds, false, out);
            }
            _ => out.fill(0.0),
        }
    }

    fn observable_names(&self) -> Vec<String> {
        vec!["min_label_distance".into(), "spread_sigma".into()]
    }
    fn observables(&self, x: &[f64], _p: &[f64], out: &mut [f64]) {
        let (d, k, nr) = (self.dim, self.classes, self.n_r());
        let y = &x[nr..self.q_offset()];
        out[0] = crate::models::common::metrics::label_distances(y, k, d).0;
        let trs: f64 = (0..d).map(|i| x[self.q_index(i, i)]).sum();
        out[1] = trs.max(0.0).sqrt();
    }

    /// Zero-mode sources: rotations of student space (`R -> O R`,
    /// `Y -> Y O^T`, `Q -> O Q O^T`; generators for each plane `(i, j)`) and,
    /// for every null vector `v` of `H`, the conserved row projections
    /// `v^T diag(1/eta_x, 1/(eta_y K)) (r_i, y_i)` (left null vectors of `L`).
    fn invariants(&self, x: &[f64], p: &[f64]) -> Vec<Invariant> {
        let (d, k, nr) = (self.dim, self.classes, self.n_r());
        let n = self.dim();
        let mut out = Vec::new();
        for a in 0..d {
            for b in a + 1..d {
                // Generator G = e_a e_b^T - e_b e_a^T: dR = G R, dY = Y G^T, dQ = G Q - Q G.
                let mut v = vec![0.0; n];
                for c in 0..k {
                    v[a * k + c] += x[b * k + c];
                    v[b * k + c] -= x[a * k + c];
                    v[nr + c * d + a] += x[nr + c * d + b];
                    v[nr + c * d + b] -= x[nr + c * d + a];
                }
                // Sigma transforms like Q: dSigma = G Sigma - Sigma G.
                let q = |i: usize, j: usize| x[self.q_index(i, j)];
                for i in 0..d {
                    for j in i..d {
                        let gq = |r: usize, s: usize| -> f64 {
                            (if r == a { q(b, s) } else { 0.0 }) - (if r == b { q(a, s) } else { 0.0 })
                        };
                        // (G Q - Q G)_{ij} = (GQ)_{ij} + (GQ)_{ji}, using Q G = -(G Q)^T.
                        v[self.q_index(i, j)] = gq(i, j) + gq(j, i);
                    }
                }
                out.push(Invariant { name: format!("rotation of student plane ({a}, {b})"), kind: InvariantKind::Symmetry, vector: v });
            }
        }
        let st = self.stats(p);
        let hk = 2 * k;
        let h = faer::Mat::from_fn(hk, hk, |i, j| {
            let (bi, bj) = (i / k, j / k);
            let (a, c) = (i % k, j % k);
            match (bi, bj) {
                (0, 0) => if a == c { st.c0 } else { 0.0 },
                (1, 1) => if a == c { st.p } else { 0.0 },
                (0, 1) => -(if a == c { st.md } else { st.mo }),
                _ => -(if a == c { st.md } else { st.mo }),
            }
        });
        if let Ok(eig) = h.self_adjoint_eigen(Side::Lower) {
            let vals = eig.S().column_vector();
            let u = eig.U();
            let scale = (0..hk).map(|i| vals[i].abs()).fold(0.0, f64::max).max(1e-300);
            for m in 0..hk {
                if vals[m].abs() <= 1e-10 * scale {
                    for i in 0..d {
                        let mut v = vec![0.0; n];
                        for a in 0..k {
                            v[i * k + a] = u[(a, m)] / p[0];
                            v[nr + a * d + i] = u[(k + a, m)] / (p[1] * k as f64);
                        }
                        out.push(Invariant { name: format!("conserved null-mode {m} of H, student row {i}"), kind: InvariantKind::Conservation, vector: v });
                    }
                }
            }
        }
        out
    }
}

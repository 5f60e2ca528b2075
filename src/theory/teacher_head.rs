//! Order-parameter ODE of Model T with a projection head (variants of
//! `model::teacher_head`), D -> infinity. With `H = W_h^T W_h`,
//! `X2 = E[x x^T] = R C R^T + Sigma`, `RMY = R M Y`, `YPY = Y^T diag(P) Y`,
//! `U = R M`:
//!
//! ```text
//! dR/dt     = -eta_x W_h^T (W_h R C - Y^T M^T)
//! dW_h/dt   = -eta_w (W_h X2 - RMY^T) - s eta_w (W_h YPY - RMY)          (s = 1 symmetric)
//! dY^T/dt   = -eta_y K (H Y^T diag(P) - W_h^T U)                           (symmetric)
//!           = -eta_y K (Y^T diag(P) - U)                                    (asymmetric)
//! dSigma/dt = -eta_x (H Sigma + Sigma H) + eta_x^2 W_h^T (W_h Sigma W_h^T + E_h) W_h
//! E_h       = W_h R C R^T W_h^T - W_h RMY - RMY^T W_h^T + YPY
//! ```
//!
//! derived exactly as in `teacher_ode` (the head's own SGD noise is
//! `O(1/D)` and vanishes). State: `R`, `Y`, upper triangle of `Sigma`,
//! `W_h` (row-major). Parameters `[eta_x, eta_y, f, sigma, a, eta_w]`.
//!
//! **Finite differences:** unlike the head-free field this one is of degree
//! five in the state; its Jacobian and parameter derivatives here are
//! central differences (step `1e-6 (1 + |x_j|)`, error ~1e-9), not exact.
//! Supports `d, K <= 8`.
use faer::MatMut;

use crate::engine::VectorField;
use crate::error::{Error, Result};
use crate::model::teacher_config::{HeadKind, TeacherConfig};
use crate::theory::teacher_ode::OrderParams;
use crate::theory::teacher_stats::Teacher;

const MAXD: usize = 8;
const MAXN: usize = 2 * MAXD * MAXD + MAXD * (MAXD + 1) / 2 + MAXD * MAXD;
type Mat8 = [[f64; MAXD]; MAXD];

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

impl VectorField for HeadOde {
    fn name(&self) -> &str {
        "teacher-student-head"
    }
    fn dim(&self) -> usize {
        2 * self.dim * self.classes + self.dim * (self.dim + 1) / 2 + self.dim * self.dim
    }
    fn state_names(&self) -> Vec<String> {
        let (d, k) = (self.dim, self.classes);
        let mut v: Vec<String> = (0..d).flat_map(|i| (0..k).map(move |c| format!("R_{i}_{c}"))).collect();
        v.extend((0..k).flat_map(|c| (0..d).map(move |i| format!("y_{c}_{i}"))));
        v.extend((0..d).flat_map(|i| (i..d).map(move |j| format!("Sigma_{i}_{j}"))));
        v.extend((0..d).flat_map(|i| (0..d).map(move |j| format!("Wh_{i}_{j}"))));
        v
    }
    fn param_names(&self) -> Vec<String> {
        ["eta_x", "eta_y", "f", "sigma", "a", "eta_w"].iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.clone()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.initial.clone()
    }

    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        let (d, k) = (self.dim, self.classes);
        let st = self.teacher.stats(p[2], p[3], p[4]);
        let (ex, ey, ew) = (p[0], p[1], p[5]);
        let m = |a: usize, c: usize| if a == c { st.md } else { st.mo };
        let z: Mat8 = [[0.0; MAXD]; MAXD];
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
                ym[i][a] = (0..k).map(|c| yt[i][c] * m(a, c)).sum();
                u[i][a] = (0..k).map(|l| r[i][l] * m(l, a)).sum();
            }
        }
        for i in 0..d {
            for a in 0..k {
                t1[i][a] = st.c0 * (0..d).map(|j| h[i][j] * r[j][a]).sum::<f64>() - ym[i][a];
            }
            for j in 0..d {
                x2[i][j] = st.c0 * (0..k).map(|l| r[i][l] * r[j][l]).sum::<f64>() + s[i][j];
                rmy[i][j] = (0..k).map(|c| u[i][c] * yt[j][c]).sum();
                ypy[i][j] = st.p * (0..k).map(|c| yt[i][c] * yt[j][c]).sum::<f64>();
                hh[i][j] = (0..d).map(|l| h[l][i] * h[l][j]).sum();
            }
        }
        let sym = f64::from(u8::from(self.kind == HeadKind::Symmetric));
        let kf = k as f64;
        for i in 0..d {
            for a in 0..k {
                out[i * k + a] = -ex * (0..d).map(|l| h[l][i] * t1[l][a]).sum::<f64>();
                let hu: f64 = (0..d).map(|l| h[l][i] * u[l][a]).sum();
                out[d * k + a * d + i] = if sym > 0.0 {
                    -ey * kf * (st.p * (0..d).map(|l| hh[i][l] * yt[l][a]).sum::<f64>() - hu)
                } else {
                    -ey * kf * (st.p * yt[i][a] - u[i][a])
                };
            }
            for j in 0..d {
                let hx2: f64 = (0..d).map(|l| h[i][l] * x2[l][j]).sum();
                let hypy: f64 = (0..d).map(|l| h[i][l] * ypy[l][j]).sum();
                out[self.h_offset() + i * d + j] = -ew * (hx2 - rmy[j][i]) - sym * ew * (hypy - rmy[i][j]);
            }
        }
        // E_h and the Sigma equation.
        let (mut hr, mut eh, mut inner, mut tmp) = (z, z, z, z);
        for i in 0..d {
            for a in 0..k {
                hr[i][a] = (0..d).map(|l| h[i][l] * r[l][a]).sum();
            }
        }
        for i in 0..d {
            for j in 0..d {
                let hrrh = st.c0 * (0..k).map(|a| hr[i][a] * hr[j][a]).sum::<f64>();
                let hrmy: f64 = (0..d).map(|l| h[i][l] * rmy[l][j]).sum();
                let hrmy_t: f64 = (0..d).map(|l| h[j][l] * rmy[l][i]).sum();
                eh[i][j] = hrrh - hrmy - hrmy_t + ypy[i][j];
            }
        }
        for i in 0..d {
            for j in 0..d {
                tmp[i][j] = (0..d).map(|l| h[i][l] * s[l][j]).sum();
            }
        }
        for i in 0..d {
            for j in 0..d {
                inner[i][j] = (0..d).map(|l| tmp[i][l] * h[j][l]).sum::<f64>() + eh[i][j];
            }
        }
        for i in 0..d {
            for j in 0..d {
                tmp[i][j] = (0..d).map(|l| inner[i][l] * h[l][j]).sum();
            }
        }
        for i in 0..d {
            for j in i..d {
                let hs_ij: f64 = (0..d).map(|l| hh[i][l] * s[l][j] + s[i][l] * hh[l][j]).sum();
                let noise: f64 = (0..d).map(|l| h[l][i] * tmp[l][j]).sum();
                out[self.s_index(i, j)] = -ex * hs_ij + ex * ex * noise;
            }
        }
    }

    fn jacobian(&self, x: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let n = self.dim();
        let (mut xp, mut fp, mut fm) = ([0.0; MAXN], [0.0; MAXN], [0.0; MAXN]);
        xp[..n].copy_from_slice(x);
        for j in 0..n {
            let h = 1e-6 * (1.0 + x[j].abs());
            xp[j] = x[j] + h;
            self.rhs(&xp[..n], p, &mut fp[..n]);
            xp[j] = x[j] - h;
            self.rhs(&xp[..n], p, &mut fm[..n]);
            xp[j] = x[j];
            for i in 0..n {
                jac[(i, j)] = (fp[i] - fm[i]) / (2.0 * h);
            }
        }
    }

    fn param_derivative(&self, x: &[f64], p: &[f64], k: usize, out: &mut [f64]) {
        let n = self.dim();
        let (mut pp, mut fm) = ([0.0; 6], [0.0; MAXN]);
        pp.copy_from_slice(&p[..6]);
        let h = 1e-6 * (1.0 + p[k].abs());
        pp[k] = p[k] + h;
        self.rhs(x, &pp, out);
        pp[k] = p[k] - h;
        self.rhs(x, &pp, &mut fm[..n]);
        for i in 0..n {
            out[i] = (out[i] - fm[i]) / (2.0 * h);
        }
    }
}

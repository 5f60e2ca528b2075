//! The 6-variable simplex-symmetric reduction of Model H (balanced design).
//!
//! Labels `y_a = s e_a` on a regular simplex (`|e_a| = 1`,
//! `e_a . e_b = -1/(K-1)`), consistent means `u_a = s_u e_a`, frustrated
//! means `v_ab = p e_a + q e_b`, the head `W = w` on the label subspace and
//! the within-group covariance `C = c` there (per dimension). With `k1 = K-1`,
//! `h = 1` for the full gradient (`head`), weight decay `lambda`,
//!
//! ```text
//!   X  = (1-f) s_u + f(1-rho)(p - q/k1) + f rho (q - p/k1)        (label pull, per unit mass)
//!   dv/dt = -eta_x [ (w^2 + h + lambda) v - (1+h) w tau_v s ]      v = s_u, p, q;  tau = 1, 1-rho, rho
//!   ds/dt = -eta_y [ (A + lambda) s - B X ]                        (A, B) = (w^2, w) symmetric,
//!                                                                   (1+w^2, 2w) head, (1, 1) otherwise
//!   dw/dt = -eta_w [ g1 + gamma g2 + lambda w ]                    (0 for none, sg-only: W = I frozen)
//!   g1 = [ (1-f)(w s_u - s) s_u + f (alpha p + beta q - (alpha q + beta p)/k1) ] / k1 + w c,
//!        alpha = w p - (1-rho) s,  beta = w q - rho s
//!   g2 = (w s - X) s / k1,   gamma = 1 (symmetric, head), 0 (asymmetric)
//!   dc/dt = -2 eta_x (w^2 + h + lambda) c
//! ```
//!
//! Derivation: project the class-level equations ([`class_level`](super::class_level))
//! on the simplex-symmetric subspace; `g1`, `g2` are the traces over the
//! label subspace of `(1/N) sum_i (W x_i - ybar_i) x_i^T` and
//! `(1/N) sum_c (m_c W y_c - S_c) y_c^T` divided by `k1`. The minimum
//! inter-label distance is `|s| sqrt(2K/(K-1))`; the head spectrum on the
//! label subspace is `w` (K-1 fold). With `w = 1` frozen and `c` ignored the
//! first four equations are Model E's simplex system.
use faer::MatMut;

use crate::engine::{Invariant, InvariantKind, VectorField};
use crate::models::head::config::Variant;

/// Parameter order of [`HeadSimplex`].
pub const PARAMS: [&str; 7] = ["frustrated", "rho", "classes", "eta_x", "eta_y", "eta_w", "weight_decay"];
/// State order of [`HeadSimplex`].
pub const STATE: [&str; 6] = ["s_u", "p", "q", "s", "w", "c"];

/// The reduced system of one variant.
#[derive(Clone, Debug)]
pub struct HeadSimplex {
    pub variant: Variant,
    /// `[f, rho, K, eta_x, eta_y, eta_w, weight_decay]`.
    pub params: [f64; 7],
    /// Initial `[s_u, p, q, s, w, c]`.
    pub initial: [f64; 6],
}

impl HeadSimplex {
    /// The reduced system started from samples at the origin, labels at unit
    /// simplex scale and `W = I`.
    pub fn new(variant: Variant, params: [f64; 7]) -> Self {
        HeadSimplex { variant, params, initial: [0.0, 0.0, 0.0, 1.0, 1.0, 0.0] }
    }
    /// Frustration index of the balanced design, `phi = 2 f rho (1-rho) K/(K-1)`.
    pub fn phi(p: &[f64]) -> f64 {
        2.0 * p[0] * p[1] * (1.0 - p[1]) * p[2] / (p[2] - 1.0)
    }
    fn coeffs(&self) -> (f64, f64) {
        // (h, gamma)
        match self.variant {
            Variant::Head => (1.0, 1.0),
            Variant::Symmetric => (0.0, 1.0),
            _ => (0.0, 0.0),
        }
    }
    /// `(A, B, dA/dw, dB/dw)` of the label equation.
    fn label_coeffs(&self, w: f64) -> (f64, f64, f64, f64) {
        match self.variant {
            Variant::Symmetric => (w * w, w, 2.0 * w, 1.0),
            Variant::Head => (1.0 + w * w, 2.0 * w, 2.0 * w, 2.0),
            _ => (1.0, 1.0, 0.0, 0.0),
        }
    }
    /// Label pull `X` and its gradient in `(s_u, p, q)`.
    fn pull(p: &[f64], z: &[f64]) -> (f64, [f64; 3]) {
        let (f, rho, k1) = (p[0], p[1], p[2] - 1.0);
        let grad = [1.0 - f, f * (1.0 - rho) - f * rho / k1, -f * (1.0 - rho) / k1 + f * rho];
        (grad[0] * z[0] + grad[1] * z[1] + grad[2] * z[2], grad)
    }
    /// `g1` of the head equation.
    fn g1(p: &[f64], z: &[f64]) -> f64 {
        let (f, rho, k1) = (p[0], p[1], p[2] - 1.0);
        let (su, pp, q, s, w, c) = (z[0], z[1], z[2], z[3], z[4], z[5]);
        let alpha = w * pp - (1.0 - rho) * s;
        let beta = w * q - rho * s;
        ((1.0 - f) * (w * su - s) * su + f * (alpha * pp + beta * q - (alpha * q + beta * pp) / k1)) / k1 + w * c
    }
}

impl VectorField for HeadSimplex {
    fn name(&self) -> &str {
        "head-simplex"
    }
    fn dim(&self) -> usize {
        6
    }
    fn state_names(&self) -> Vec<String> {
        STATE.iter().map(|s| s.to_string()).collect()
    }
    fn param_names(&self) -> Vec<String> {
        PARAMS.iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.to_vec()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.initial.to_vec()
    }

    fn rhs(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        let (rho, k1, ex, ey, ew, lam) = (p[1], p[2] - 1.0, p[3], p[4], p[5], p[6]);
        let (h, gamma) = self.coeffs();
        let (s, w, c) = (z[3], z[4], z[5]);
        let dx = w * w + h + lam;
        let e = (1.0 + h) * w;
        for (idx, tau) in [1.0, 1.0 - rho, rho].into_iter().enumerate() {
            out[idx] = -ex * (dx * z[idx] - e * tau * s);
        }
        let (x, _) = Self::pull(p, z);
        let (a, b, _, _) = self.label_coeffs(w);
        out[3] = -ey * ((a + lam) * s - b * x);
        out[4] = if self.variant.trains_head() {
            let g2 = (w * s - x) * s / k1;
            -ew * (Self::g1(p, z) + gamma * g2 + lam * w)
        } else {
            0.0
        };
        out[5] = -2.0 * ex * dx * c;
    }

    fn jacobian(&self, z: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (f, rho, k1, ex, ey, ew, lam) = (p[0], p[1], p[2] - 1.0, p[3], p[4], p[5], p[6]);
        let (h, gamma) = self.coeffs();
        let (su, pp, q, s, w, c) = (z[0], z[1], z[2], z[3], z[4], z[5]);
        jac.fill(0.0);
        let dx = w * w + h + lam;
        let e = (1.0 + h) * w;
        for (idx, tau) in [1.0, 1.0 - rho, rho].into_iter().enumerate() {
            jac[(idx, idx)] = -ex * dx;
            jac[(idx, 3)] = ex * e * tau;
            jac[(idx, 4)] = -ex * (2.0 * w * z[idx] - (1.0 + h) * tau * s);
        }
        let (x, gx) = Self::pull(p, z);
        let (a, b, da, db) = self.label_coeffs(w);
        for j in 0..3 {
            jac[(3, j)] = ey * b * gx[j];
        }
        jac[(3, 3)] = -ey * (a + lam);
        jac[(3, 4)] = -ey * (da * s - db * x);
        if self.variant.trains_head() {
            let alpha = w * pp - (1.0 - rho) * s;
            let beta = w * q - rho * s;
            let mut g = [0.0; 6];
            g[0] = (1.0 - f) * (2.0 * w * su - s) / k1;
            g[1] = f / k1 * (w * pp + alpha - (w * q + beta) / k1);
            g[2] = f / k1 * (w * q + beta - (alpha + w * pp) / k1);
            g[3] = -(1.0 - f) * su / k1 + f / k1 * (-(1.0 - rho) * pp - rho * q + ((1.0 - rho) * q + rho * pp) / k1);
            g[4] = (1.0 - f) * su * su / k1 + f / k1 * (pp * pp + q * q - 2.0 * pp * q / k1) + c;
            g[5] = w;
            // gamma * g2 = gamma (w s - X) s / k1.
            for j in 0..3 {
                g[j] -= gamma * gx[j] * s / k1;
            }
            g[3] += gamma * (2.0 * w * s - x) / k1;
            g[4] += gamma * s * s / k1 + lam;
            for j in 0..6 {
                jac[(4, j)] = -ew * g[j];
            }
        }
        jac[(5, 4)] = -4.0 * ex * w * c;
        jac[(5, 5)] = -2.0 * ex * dx;
    }

    /// Exact `dF/dp_k`, differentiated by hand from the equations in the
    /// module doc (tested against central differences). With
    /// `X_f = -s_u + (1-rho)(p - q/k1) + rho (q - p/k1)`,
    /// `X_rho = f (q - p)(1 + 1/k1)`, `X_K = f ((1-rho) q + rho p)/k1^2`,
    /// `T = alpha p + beta q - (alpha q + beta p)/k1`,
    /// `U = (1-f)(w s_u - s) s_u + f T` (so `g1 = U/k1 + w c`):
    /// `g1_f = (T - (w s_u - s) s_u)/k1`, `g1_rho = f s (p - q)(1 + 1/k1)/k1`,
    /// `g1_K = -U/k1^2 + f (alpha q + beta p)/k1^3`, `g2_theta = -X_theta s/k1`
    /// for `theta = f, rho`, `g2_K = -X_K s/k1 - (w s - X) s/k1^2`; the rates
    /// and `lambda` enter linearly. Indices outside the parameter list give 0.
    fn param_derivative(&self, z: &[f64], p: &[f64], k: usize, out: &mut [f64]) {
        let (f, rho, k1, ex, ey, ew, lam) = (p[0], p[1], p[2] - 1.0, p[3], p[4], p[5], p[6]);
        let (h, gamma) = self.coeffs();
        let (su, pp, q, s, w, c) = (z[0], z[1], z[2], z[3], z[4], z[5]);
        let dx = w * w + h + lam;
        let e = (1.0 + h) * w;
        let trains = self.variant.trains_head();
        let (x, _) = Self::pull(p, z);
        let (a, b, _, _) = self.label_coeffs(w);
        let alpha = w * pp - (1.0 - rho) * s;
        let beta = w * q - rho * s;
        let t = alpha * pp + beta * q - (alpha * q + beta * pp) / k1;
        out[..6].fill(0.0);
        match k {
            0 => {
                let x_f = -su + (1.0 - rho) * (pp - q / k1) + rho * (q - pp / k1);
                out[3] = ey * b * x_f;
                if trains {
                    let g1_f = (t - (w * su - s) * su) / k1;
                    out[4] = -ew * (g1_f - gamma * x_f * s / k1);
                }
            }
            1 => {
                out[1] = -ex * e * s;
                out[2] = ex * e * s;
                let x_rho = f * (q - pp) * (1.0 + 1.0 / k1);
                out[3] = ey * b * x_rho;
                if trains {
                    let g1_rho = f * s * (pp - q) * (1.0 + 1.0 / k1) / k1;
                    out[4] = -ew * (g1_rho - gamma * x_rho * s / k1);
                }
            }
            2 => {
                let x_k = f * ((1.0 - rho) * q + rho * pp) / (k1 * k1);
                out[3] = ey * b * x_k;
                if trains {
                    let u = (1.0 - f) * (w * su - s) * su + f * t;
                    let g1_k = -u / (k1 * k1) + f * (alpha * q + beta * pp) / (k1 * k1 * k1);
                    let g2_k = -x_k * s / k1 - (w * s - x) * s / (k1 * k1);
                    out[4] = -ew * (g1_k + gamma * g2_k);
                }
            }
            3 => {
                for (idx, tau) in [1.0, 1.0 - rho, rho].into_iter().enumerate() {
                    out[idx] = -(dx * z[idx] - e * tau * s);
                }
                out[5] = -2.0 * dx * c;
            }
            4 => out[3] = -((a + lam) * s - b * x),
            5 => {
                if trains {
                    out[4] = -(Self::g1(p, z) + gamma * (w * s - x) * s / k1 + lam * w);
                }
            }
            6 => {
                for idx in 0..3 {
                    out[idx] = -ex * z[idx];
                }
                out[3] = -ey * s;
                if trains {
                    out[4] = -ew * w;
                }
                out[5] = -2.0 * ex * c;
            }
            _ => {}
        }
    }

    fn observable_names(&self) -> Vec<String> {
        vec!["min_label_distance".into(), "head_eigenvalue".into()]
    }
    fn observables(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        out[0] = z[3].abs() * (2.0 * p[2] / (p[2] - 1.0)).sqrt();
        out[1] = z[4];
    }

    /// Zero modes the theory explains: without weight decay the equations are
    /// homogeneous under `(s_u, p, q, s, c) -> (a s_u, a p, a q, a s, a^2 c)`,
    /// so every fixed point lies on a scale family (generator
    /// `(s_u, p, q, s, 0, 2c)`); at a collapsed point the head is neutral
    /// (`dw/dt = -eta_w w c = 0` for every `w`: generator `e_w`); in `none`
    /// and `sg-only` `w` is not trained (conserved, `e_w` is a left null vector).
    fn invariants(&self, z: &[f64], p: &[f64]) -> Vec<Invariant> {
        let lam = p[6];
        let mut out = Vec::new();
        if !self.variant.trains_head() {
            out.push(Invariant { name: "head not trained (W = I frozen)".into(), kind: InvariantKind::Conservation, vector: vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0] });
        }
        let scale = z[..4].iter().map(|v| v.abs()).fold(0.0, f64::max);
        if lam == 0.0 && scale > 1e-9 {
            out.push(Invariant {
                name: "overall scale of the embedding (family of fixed points)".into(),
                kind: InvariantKind::Symmetry,
                vector: vec![z[0], z[1], z[2], z[3], 0.0, 2.0 * z[5]],
            });
        }
        if lam == 0.0 && scale <= 1e-9 && self.variant.trains_head() {
            out.push(Invariant {
                name: "head eigenvalue at collapse (line of collapsed fixed points)".into(),
                kind: InvariantKind::Symmetry,
                vector: vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            });
        }
        out
    }
}

impl HeadSimplex {
    /// The reduced system at a config's design and rates (balanced design
    /// assumed: `f` and `rho` are taken from the design).
    pub fn from_config(cfg: &crate::models::head::config::HeadConfig) -> Self {
        let d = &cfg.base.design;
        Self::new(cfg.variant, [d.frustrated, d.rho, d.classes as f64, cfg.base.eta_x, cfg.base.eta_y, cfg.eta_w, cfg.weight_decay])
    }
}

//! The exact class-level reduction of Model H for any label-weight matrix.
//!
//! Samples sharing a label row form groups (the grouping of
//! [`ClassLevelSystem::new`]). Every variant moves a sample's deviation from
//! its group mean, `delta_i = x_i - xbar_g`, by the same linear map,
//! `d delta_i/dt = -eta_x (W^T W + (h + lambda) I) delta_i`, so the group
//! means `xbar_g`, the labels `y_c`, the head `W` and the pooled
//! within-group covariance `C = (1/N) sum_i delta_i delta_i^T` obey the
//! closed system (notation of [`crate::models::head::simulation`]; `ybar_g = sum_c a_gc y_c`,
//! `S_c = sum_g n_g a_gc xbar_g`)
//!
//! ```text
//!   dxbar_g/dt = -eta_x [ W^T (W xbar_g - ybar_g) + h (xbar_g - W ybar_g) + lambda xbar_g ]
//!   dy_c/dt    = (label equation of the variant with S_c)
//!   dW/dt      = -(eta_w/N) [ sum_g n_g (W xbar_g - ybar_g) xbar_g^T + N W C
//!                             + g2 sum_c (m_c W y_c - S_c) y_c^T ] - eta_w lambda W
//!   dC/dt      = -eta_x [ (W^T W + (h+lambda) I) C + C (W^T W + (h+lambda) I) ]
//! ```
//!
//! (the sample sum of `(W x_i - ybar_i) x_i^T` splits into the group-mean
//! part and `W sum_i delta_i delta_i^T`, cross terms vanishing because
//! deviations sum to zero in each group). It is exact for gradient flow of
//! the microscopic model: gradient descent approaches it as `dt -> 0`.
//! State layout: `G d` group means, `K d` labels, `d^2` head, `d^2` covariance.
//! The field is polynomial in the state; its Jacobian and parameter
//! derivatives are exact, differentiated by hand (see
//! [`VectorField::jacobian`] below), as continuation and stability need.
use std::cell::RefCell;

use faer::MatMut;

use crate::engine::{Invariant, InvariantKind, VectorField};
use crate::error::Result;
use crate::models::common::frustration::LabelWeights;
use crate::models::head::simulation::{head_label_spectrum, HeadRates, HeadState};
use crate::models::head::config::Variant;
use crate::models::embedding::reduced::class_level::ClassLevelSystem;

/// The class-level Model H system.
#[derive(Clone, Debug)]
pub struct HeadClassLevel {
    /// The grouping (and masses) shared with Model E's class-level theory.
    pub groups: ClassLevelSystem,
    pub variant: Variant,
    pub dim: usize,
    /// `[eta_x, eta_y, eta_w, weight_decay]`.
    pub params: [f64; 4],
    pub initial: Vec<f64>,
}

thread_local! {
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    // Separate from `SCRATCH`: `param_derivative` calls `rhs`, and a field
    // may be evaluated while a Jacobian is being filled.
    static JAC_SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl HeadClassLevel {
    pub fn new(a: &LabelWeights, rates: HeadRates, dim: usize) -> Result<Self> {
        let groups = ClassLevelSystem::new(a, rates.eta_x, rates.eta_y, dim)?;
        let mut s = HeadClassLevel { groups, variant: rates.variant, dim, params: [rates.eta_x, rates.eta_y, rates.eta_w, rates.weight_decay], initial: Vec::new() };
        s.initial = vec![0.0; s.dim()];
        Ok(s)
    }
    fn g(&self) -> usize {
        self.groups.n_groups()
    }
    fn k(&self) -> usize {
        self.groups.classes
    }
    fn n_total(&self) -> f64 {
        self.groups.sample_group.len() as f64
    }
    /// Offsets of the blocks: labels, head, covariance.
    fn offsets(&self) -> (usize, usize, usize) {
        let d = self.dim;
        let oy = self.g() * d;
        let ow = oy + self.k() * d;
        (oy, ow, ow + d * d)
    }

    /// Class-level state of a microscopic state.
    pub fn project(&self, st: &HeadState) -> Vec<f64> {
        let d = self.dim;
        let mut z = self.groups.project(&st.x, &st.y);
        let (_, ow, oc) = self.offsets();
        z.resize(self.dim(), 0.0);
        z[ow..oc].copy_from_slice(&st.w);
        let nt = self.n_total();
        for (i, &g) in self.groups.sample_group.iter().enumerate() {
            for j in 0..d {
                let dj = st.x[i * d + j] - z[g * d + j];
                for l in 0..d {
                    z[oc + j * d + l] += dj * (st.x[i * d + l] - z[g * d + l]) / nt;
                }
            }
        }
        z
    }

    /// Minimum inter-label distance, separation-to-spread ratio in the head's
    /// output space (spread from group means and `W C W^T`), head spectrum on
    /// the label subspace.
    pub fn measures(&self, z: &[f64]) -> (f64, f64, Vec<[f64; 2]>) {
        let d = self.dim;
        let (oy, ow, oc) = self.offsets();
        let (k, w, c) = (self.k(), &z[ow..oc], &z[oc..]);
        let (mn, _) = crate::models::common::metrics::label_distances(&z[oy..ow], k, d);
        let mut out = vec![0.0; self.g() * d];
        for g in 0..self.g() {
            for j in 0..d {
                out[g * d + j] = (0..d).map(|l| w[j * d + l] * z[g * d + l]).sum();
            }
        }
        let mut mean = vec![0.0; k * d];
        let mut cnt = vec![0.0; k];
        for (g, grp) in self.groups.groups.iter().enumerate() {
            cnt[grp.class] += grp.count as f64;
            for j in 0..d {
                mean[grp.class * d + j] += grp.count as f64 * out[g * d + j];
            }
        }
        for cl in 0..k {
            for j in 0..d {
                mean[cl * d + j] /= cnt[cl].max(1.0);
            }
        }
        let mut var = 0.0;
        for (g, grp) in self.groups.groups.iter().enumerate() {
            var += grp.count as f64 * (0..d).map(|j| (out[g * d + j] - mean[grp.class * d + j]).powi(2)).sum::<f64>();
        }
        var /= self.n_total();
        // tr(W C W^T)
        for j in 0..d {
            for l in 0..d {
                for m in 0..d {
                    var += w[j * d + l] * c[l * d + m] * w[j * d + m];
                }
            }
        }
        let spread = var.max(0.0).sqrt();
        (mn, if spread > 0.0 { mn / spread } else { f64::INFINITY }, head_label_spectrum(w, &z[oy..ow], k, d))
    }
}

impl VectorField for HeadClassLevel {
    fn name(&self) -> &str {
        "head-class-level"
    }
    fn dim(&self) -> usize {
        (self.g() + self.k()) * self.dim + 2 * self.dim * self.dim
    }
    fn state_names(&self) -> Vec<String> {
        let d = self.dim;
        let mut v = Vec::new();
        for g in 0..self.g() {
            (0..d).for_each(|j| v.push(format!("xbar_g{g}_{j}")));
        }
        for c in 0..self.k() {
            (0..d).for_each(|j| v.push(format!("y{c}_{j}")));
        }
        for name in ["W", "C"] {
            for j in 0..d {
                (0..d).for_each(|l| v.push(format!("{name}_{j}{l}")));
            }
        }
        v
    }
    fn param_names(&self) -> Vec<String> {
        ["eta_x", "eta_y", "eta_w", "weight_decay"].iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.to_vec()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.initial.clone()
    }

    fn rhs(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        let (ex, ey, ew, lam) = (p[0], p[1], p[2], p[3]);
        let d = self.dim;
        let k = self.k();
        let (oy, ow, oc) = self.offsets();
        let h = if self.variant == Variant::Head { 1.0 } else { 0.0 };
        let frozen = !self.variant.trains_head();
        let label_head = matches!(self.variant, Variant::Symmetric | Variant::Head);
        let n = self.groups.per_class;
        let nt = self.n_total();
        let w = &z[ow..oc];
        let c = &z[oc..];
        SCRATCH.with(|cell| {
            let mut buf = cell.borrow_mut();
            let need = 4 * d + 2 * k * d + 2 * d * d;
            if buf.len() < need {
                buf.resize(need, 0.0);
            }
            let (r, rest) = buf.split_at_mut(d);
            let (t, rest) = rest.split_at_mut(d);
            let (yb, rest) = rest.split_at_mut(d);
            let (q, rest) = rest.split_at_mut(d);
            let (s, rest) = rest.split_at_mut(k * d);
            let (wy, rest) = rest.split_at_mut(k * d);
            let (gw, rest) = rest.split_at_mut(d * d);
            let wtw = &mut rest[..d * d];
            s.fill(0.0);
            gw.fill(0.0);
            for cl in 0..k {
                for j in 0..d {
                    wy[cl * d + j] = (0..d).map(|l| w[j * d + l] * z[oy + cl * d + l]).sum();
                }
            }
            for (gi, grp) in self.groups.groups.iter().enumerate() {
                let xg = &z[gi * d..(gi + 1) * d];
                for j in 0..d {
                    yb[j] = grp.row.iter().map(|&(cl, a)| a * z[oy + cl * d + j]).sum();
                    t[j] = grp.row.iter().map(|&(cl, a)| a * wy[cl * d + j]).sum();
                    r[j] = (0..d).map(|l| w[j * d + l] * xg[l]).sum::<f64>() - yb[j];
                }
                for &(cl, a) in &grp.row {
                    for j in 0..d {
                        s[cl * d + j] += grp.count as f64 * a * xg[j];
                    }
                }
                for j in 0..d {
                    for l in 0..d {
                        gw[j * d + l] += grp.count as f64 * r[j] * xg[l];
                    }
                }
                for l in 0..d {
                    let wtr: f64 = (0..d).map(|j| w[j * d + l] * r[j]).sum();
                    out[gi * d + l] = -ex * (wtr + h * (xg[l] - t[l]) + lam * xg[l]);
                }
            }
            for cl in 0..k {
                let m = self.groups.mass[cl];
                let yc = &z[oy + cl * d..oy + (cl + 1) * d];
                for j in 0..d {
                    q[j] = m * wy[cl * d + j] - s[cl * d + j];
                }
                for l in 0..d {
                    let g = if label_head {
                        let mut v: f64 = (0..d).map(|j| w[j * d + l] * q[j]).sum();
                        if h > 0.0 {
                            let ws: f64 = (0..d).map(|j| w[l * d + j] * s[cl * d + j]).sum();
                            v += m * yc[l] - ws;
                        }
                        v
                    } else {
                        m * yc[l] - s[cl * d + l]
                    };
                    out[oy + cl * d + l] = -ey * (g / n + lam * yc[l]);
                }
                if label_head {
                    for j in 0..d {
                        for l in 0..d {
                            gw[j * d + l] += q[j] * yc[l];
                        }
                    }
                }
            }
            for j in 0..d {
                for l in 0..d {
                    // + N W C
                    gw[j * d + l] += nt * (0..d).map(|m| w[j * d + m] * c[m * d + l]).sum::<f64>();
                    out[ow + j * d + l] = if frozen { 0.0 } else { -ew * (gw[j * d + l] / nt + lam * w[j * d + l]) };
                    wtw[j * d + l] = (0..d).map(|m| w[m * d + j] * w[m * d + l]).sum::<f64>() + if j == l { h + lam } else { 0.0 };
                }
            }
            for j in 0..d {
                for l in 0..d {
                    let a: f64 = (0..d).map(|m| wtw[j * d + m] * c[m * d + l] + c[j * d + m] * wtw[m * d + l]).sum();
                    out[oc + j * d + l] = -ex * a;
                }
            }
        });
    }

    /// Exact Jacobian, differentiated by hand from the equations in the
    /// module doc. With `r_g = W xbar_g - ybar_g`, `q_c = m_c W y_c - S_c`,
    /// `A = W^T W + (h+lambda) I`, `Mxx = sum_g n_g xbar_g xbar_g^T`,
    /// `Myy = sum_c m_c y_c y_c^T` and `g2 = 1` for `symmetric`/`head`:
    ///
    /// ```text
    ///   d(dxbar_g,l)/d xbar_g,m = -eta_x A_lm
    ///   d(dxbar_g,l)/d y_c,m    =  eta_x a_gc (W_ml + h W_lm)
    ///   d(dxbar_g,l)/d W_ab     = -eta_x [ delta_bl r_g,a + W_al xbar_g,b - h delta_al ybar_g,b ]
    ///   labels, sg(x) (none, sg-only, asymmetric):
    ///     d(dy_c,l)/d y_c,l = -eta_y (m_c/n + lambda),  d(dy_c,l)/d xbar_g,l = eta_y n_g a_gc / n
    ///   labels through the head (symmetric, head), times -eta_y/n:
    ///     d/d y_c,m    = m_c ((W^T W)_lm + h delta_lm)       (+ n lambda delta_lm)
    ///     d/d xbar_g,m = -n_g a_gc (W_ml + h W_lm)
    ///     d/d W_ab     = delta_bl q_c,a + m_c W_al y_c,b - h delta_al S_c,b
    ///   head (0 when frozen), times -eta_w/N:
    ///     d/d xbar_g,m = n_g (W_jm xbar_g,l + delta_lm r_g,j - g2 delta_jm ybar_g,l)
    ///     d/d y_c,m    = -delta_jm S_c,l + g2 (m_c W_jm y_c,l + delta_lm q_c,j)
    ///     d/d W_ab     = delta_ja (Mxx + N C + g2 Myy + N lambda I)_bl
    ///     d/d C_ab     = N W_ja delta_bl
    ///   covariance, times -eta_x:
    ///     d/d W_ab = delta_jb (W C)_al + W_aj C_bl + C_jb W_al + delta_lb (C W^T)_ja
    ///     d/d C_ab = A_ja delta_bl + delta_ja A_bl
    /// ```
    ///
    /// (derivatives of the `(j, l)` entry of `dW/dt` resp. `dC/dt`; `C` is
    /// not assumed symmetric, so the Jacobian is exact off the symmetric
    /// subspace too). Tested against central differences of `rhs`.
    fn jacobian(&self, z: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (ex, ey, ew, lam) = (p[0], p[1], p[2], p[3]);
        let d = self.dim;
        let k = self.k();
        let (oy, ow, oc) = self.offsets();
        let h = if self.variant == Variant::Head { 1.0 } else { 0.0 };
        let frozen = !self.variant.trains_head();
        let label_head = matches!(self.variant, Variant::Symmetric | Variant::Head);
        let g2 = if label_head { 1.0 } else { 0.0 };
        let n = self.groups.per_class;
        let nt = self.n_total();
        let w = &z[ow..oc];
        let c = &z[oc..];
        jac.fill(0.0);
        JAC_SCRATCH.with(|cell| {
            let mut buf = cell.borrow_mut();
            let need = 2 * d + 2 * k * d + 5 * d * d;
            if buf.len() < need {
                buf.resize(need, 0.0);
            }
            let (r, rest) = buf.split_at_mut(d);
            let (yb, rest) = rest.split_at_mut(d);
            let (s, rest) = rest.split_at_mut(k * d);
            let (q, rest) = rest.split_at_mut(k * d);
            let (mx, rest) = rest.split_at_mut(d * d);
            let (my, rest) = rest.split_at_mut(d * d);
            let (wc, rest) = rest.split_at_mut(d * d);
            let (cwt, rest) = rest.split_at_mut(d * d);
            let a = &mut rest[..d * d];
            // Label-side sums S_c, q_c and the second moments.
            s.fill(0.0);
            mx.fill(0.0);
            my.fill(0.0);
            for (gi, grp) in self.groups.groups.iter().enumerate() {
                let xg = &z[gi * d..(gi + 1) * d];
                let ng = grp.count as f64;
                for &(cl, acl) in &grp.row {
                    for j in 0..d {
                        s[cl * d + j] += ng * acl * xg[j];
                    }
                }
                for j in 0..d {
                    for l in 0..d {
                        mx[j * d + l] += ng * xg[j] * xg[l];
                    }
                }
            }
            for cl in 0..k {
                let m = self.groups.mass[cl];
                let yc = &z[oy + cl * d..oy + (cl + 1) * d];
                for j in 0..d {
                    let wy: f64 = (0..d).map(|l| w[j * d + l] * yc[l]).sum();
                    q[cl * d + j] = m * wy - s[cl * d + j];
                    for l in 0..d {
                        my[j * d + l] += m * yc[j] * yc[l];
                    }
                }
            }
            for j in 0..d {
                for l in 0..d {
                    wc[j * d + l] = (0..d).map(|m| w[j * d + m] * c[m * d + l]).sum();
                    cwt[j * d + l] = (0..d).map(|m| c[j * d + m] * w[l * d + m]).sum();
                    a[j * d + l] = (0..d).map(|m| w[m * d + j] * w[m * d + l]).sum::<f64>() + if j == l { h + lam } else { 0.0 };
                }
            }

            // Group means (and their coupling into labels and head).
            for (gi, grp) in self.groups.groups.iter().enumerate() {
                let xg = &z[gi * d..(gi + 1) * d];
                let ng = grp.count as f64;
                for j in 0..d {
                    yb[j] = grp.row.iter().map(|&(cl, acl)| acl * z[oy + cl * d + j]).sum();
                }
                for j in 0..d {
                    r[j] = (0..d).map(|l| w[j * d + l] * xg[l]).sum::<f64>() - yb[j];
                }
                let row = gi * d;
                for l in 0..d {
                    for m in 0..d {
                        jac[(row + l, gi * d + m)] = -ex * a[l * d + m];
                    }
                    for &(cl, acl) in &grp.row {
                        for m in 0..d {
                            jac[(row + l, oy + cl * d + m)] = ex * acl * (w[m * d + l] + h * w[l * d + m]);
                        }
                    }
                    for aa in 0..d {
                        for b in 0..d {
                            let mut v = w[aa * d + l] * xg[b];
                            if b == l {
                                v += r[aa];
                            }
                            if aa == l {
                                v -= h * yb[b];
                            }
                            jac[(row + l, ow + aa * d + b)] = -ex * v;
                        }
                    }
                }
                // d(dy_c)/d xbar_g.
                for &(cl, acl) in &grp.row {
                    for l in 0..d {
                        if label_head {
                            for m in 0..d {
                                jac[(oy + cl * d + l, gi * d + m)] = ey / n * ng * acl * (w[m * d + l] + h * w[l * d + m]);
                            }
                        } else {
                            jac[(oy + cl * d + l, gi * d + l)] = ey / n * ng * acl;
                        }
                    }
                }
                // d(dW)/d xbar_g.
                if !frozen {
                    for j in 0..d {
                        for l in 0..d {
                            for m in 0..d {
                                let mut v = w[j * d + m] * xg[l];
                                if l == m {
                                    v += r[j];
                                }
                                if j == m {
                                    v -= g2 * yb[l];
                                }
                                jac[(ow + j * d + l, gi * d + m)] = -ew / nt * ng * v;
                            }
                        }
                    }
                }
            }

            // Labels.
            for cl in 0..k {
                let m_c = self.groups.mass[cl];
                let yc = &z[oy + cl * d..oy + (cl + 1) * d];
                let row = oy + cl * d;
                for l in 0..d {
                    if label_head {
                        for m in 0..d {
                            let mut v = m_c * (a[l * d + m] - if l == m { h + lam } else { 0.0 });
                            if l == m {
                                v += h * m_c + n * lam;
                            }
                            jac[(row + l, row + m)] = -ey / n * v;
                        }
                        for aa in 0..d {
                            for b in 0..d {
                                let mut v = m_c * w[aa * d + l] * yc[b];
                                if b == l {
                                    v += q[cl * d + aa];
                                }
                                if aa == l {
                                    v -= h * s[cl * d + b];
                                }
                                jac[(row + l, ow + aa * d + b)] = -ey / n * v;
                            }
                        }
                    } else {
                        jac[(row + l, row + l)] = -ey * (m_c / n + lam);
                    }
                }
                // d(dW)/d y_c.
                if !frozen {
                    for j in 0..d {
                        for l in 0..d {
                            for m in 0..d {
                                let mut v = g2 * m_c * w[j * d + m] * yc[l];
                                if j == m {
                                    v -= s[cl * d + l];
                                }
                                if l == m {
                                    v += g2 * q[cl * d + j];
                                }
                                jac[(ow + j * d + l, row + m)] = -ew / nt * v;
                            }
                        }
                    }
                }
            }

            // Head and covariance.
            for j in 0..d {
                for l in 0..d {
                    let (rw, rc) = (ow + j * d + l, oc + j * d + l);
                    if !frozen {
                        // delta_ja: only a = j contributes.
                        for b in 0..d {
                            let mut v = (mx[b * d + l] + nt * c[b * d + l] + g2 * my[b * d + l]) / nt;
                            if b == l {
                                v += lam;
                            }
                            jac[(rw, ow + j * d + b)] = -ew * v;
                        }
                        // delta_bl: only b = l contributes.
                        for aa in 0..d {
                            jac[(rw, oc + aa * d + l)] = -ew * w[j * d + aa];
                        }
                    }
                    for aa in 0..d {
                        for b in 0..d {
                            let mut v = w[aa * d + j] * c[b * d + l] + c[j * d + b] * w[aa * d + l];
                            if j == b {
                                v += wc[aa * d + l];
                            }
                            if l == b {
                                v += cwt[j * d + aa];
                            }
                            jac[(rc, ow + aa * d + b)] = -ex * v;
                        }
                    }
                    for aa in 0..d {
                        // A_ja delta_bl + delta_ja A_bl
                        jac[(rc, oc + aa * d + l)] += -ex * a[j * d + aa];
                        jac[(rc, oc + j * d + aa)] += -ex * a[aa * d + l];
                    }
                }
            }
        });
    }

    /// Exact `dF/dp_k`: every block is linear in its own rate (`eta_x` for
    /// group means and covariance, `eta_y` for labels, `eta_w` for the head)
    /// and the blocks are disjoint, so `dF/d eta` is `rhs` with that rate set
    /// to 1 and the other two to 0; `lambda` enters as `-eta_x xbar_g`,
    /// `-eta_y y_c`, `-eta_w W` (0 when frozen) and `-2 eta_x C`. Indices
    /// outside the parameter list give 0.
    fn param_derivative(&self, z: &[f64], p: &[f64], k: usize, out: &mut [f64]) {
        let (ex, ey, ew, lam) = (p[0], p[1], p[2], p[3]);
        let n = self.dim();
        let (oy, ow, oc) = self.offsets();
        match k {
            0..=2 => {
                let mut unit = [0.0, 0.0, 0.0, lam];
                unit[k] = 1.0;
                self.rhs(z, &unit, out);
            }
            3 => {
                for i in 0..n {
                    out[i] = -z[i]
                        * if i < oy {
                            ex
                        } else if i < ow {
                            ey
                        } else if i < oc {
                            if self.variant.trains_head() {
                                ew
                            } else {
                                0.0
                            }
                        } else {
                            2.0 * ex
                        };
                }
            }
            _ => out[..n].fill(0.0),
        }
    }

    fn observable_names(&self) -> Vec<String> {
        vec!["min_label_distance".into(), "separation_to_spread".into()]
    }
    fn observables(&self, z: &[f64], _p: &[f64], out: &mut [f64]) {
        let (mn, sts, _) = self.measures(z);
        out[0] = mn;
        out[1] = sts;
    }

    /// Rotations `x -> R x, y -> R y, W -> R W R^T, C -> R C R^T` leave the
    /// system invariant (isotropic losses and decay): generators
    /// `Omega_{jl} = e_j e_l^T - e_l e_j^T`. Without weight decay also the
    /// scale `(xbar, y, W, C) -> (a xbar, a y, W, a^2 C)` maps fixed points to
    /// fixed points.
    fn invariants(&self, z: &[f64], p: &[f64]) -> Vec<Invariant> {
        let d = self.dim;
        let (_, ow, oc) = self.offsets();
        let n = self.dim();
        let mut out = Vec::new();
        for a in 0..d {
            for b in a + 1..d {
                // Omega v: (Omega v)_a = v_b, (Omega v)_b = -v_a.
                let mut v = vec![0.0; n];
                for u in 0..(self.g() + self.k()) {
                    v[u * d + a] = z[u * d + b];
                    v[u * d + b] = -z[u * d + a];
                }
                for (off, _) in [(ow, 0), (oc, 1)] {
                    let m = &z[off..off + d * d];
                    // Omega M - M Omega.
                    for j in 0..d {
                        for l in 0..d {
                            let om = if j == a { m[b * d + l] } else if j == b { -m[a * d + l] } else { 0.0 };
                            let mo = if l == b { m[j * d + a] } else if l == a { -m[j * d + b] } else { 0.0 };
                            v[off + j * d + l] = om - mo;
                        }
                    }
                }
                out.push(Invariant { name: format!("rotation in the ({a},{b}) plane"), kind: InvariantKind::Symmetry, vector: v });
            }
        }
        if p[3] == 0.0 {
            let mut v = z.to_vec();
            v[ow..oc].fill(0.0);
            for x in &mut v[oc..] {
                *x *= 2.0;
            }
            out.push(Invariant { name: "overall scale of the embedding".into(), kind: InvariantKind::Symmetry, vector: v });
        }
        out
    }
}

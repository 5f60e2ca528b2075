//! Which square root of `M` the `symmetric` Model H (no weight decay)
//! reaches, and why (`docs/head.md`, "Which square root the head reaches").
//!
//! **Per-mode reduction.** For a balanced design `A^T A = n M` with `M`
//! symmetric; let `u_k` be its orthonormal eigenvectors (`M u_k = mu_k u_k`)
//! and `e_k` orthonormal directions of the embedding space. On the set
//!
//! ```text
//!   y_c = sum_k s_k u_kc e_k,   x_i = sum_k a_k (A u_k)_i e_k,   W = sum_k w_k e_k e_k^T + (rest)
//! ```
//!
//! the microscopic gradient flow closes mode by mode (`S_c = sum_i A_ic x_i`
//! has components `n mu_k a_k u_kc`, the cross terms of `W`'s gradient vanish
//! because `u_k^T A^T A u_l = 0` for `k != l`):
//!
//! ```text
//!   da/dt = -eta_x w (w a - s)
//!   ds/dt = -eta_y w (w s - mu a)
//!   dw/dt = (eta_w/K) [ 2 mu s a - w (mu a^2 + s^2) ]
//! ```
//!
//! ([`mode_rhs`]). Its non-collapsed fixed points are `w a = s, w^2 = mu`:
//! each mode picks its own sign, so a member of the family is the list of
//! signs of `W` on the modes, and the member "reached" is the number of
//! negative square roots on the centred label span.
//!
//! **The sign is decided by a sign race.** With `p = a s`,
//! `dp/dt = w [eta_x s^2 + eta_y mu a^2 - (eta_x + eta_y) w p]` and
//! `dw/dt|_{w=0} = (2 eta_w/K) mu p`: at `p = 0` the product moves with the
//! sign of `w`, at `w = 0` the head moves with the sign of `p`. So the two
//! quadrants `{w >= 0, p >= 0}` and `{w <= 0, p <= 0}` are forward invariant,
//! and an *aligned* start (`w0 p0 > 0`) keeps the sign of `w0`. An
//! *anti-aligned* start (`w0 p0 < 0`) races to one of them.
//!
//! **Linearised flow at the dead head.** Every `(a, s, w) = (0, s, 0)` is a
//! fixed point (all pulls vanish with `w`). There, to first order,
//! `da/dt = eta_x s w`, `ds/dt = 0`,
//! `dw/dt = (eta_w/K)(2 mu s a - s^2 w)`: in `(a, w)` the matrix
//! `[[0, eta_x s], [2 mu s eta_w/K, -eps]]`, `eps = eta_w s^2/K`, a saddle
//! with `lambda_+ = [-eps + sqrt(eps^2 + 8 mu eta_x eps)]/2` and left
//! eigenvector `(lambda_+ + eps, eta_x s)`. The start's projection on it
//! selects the sign:
//!
//! ```text
//!   sign w_final = sign( w0 + Lambda alpha ),   alpha = a0/s0,
//!   Lambda = [r + sqrt(r^2 + 8 mu r)]/2,         r = eta_w s0^2 / (K eta_x)
//! ```
//!
//! ([`selection_gain`]): a slow head (`r -> 0`, `Lambda ~ sqrt(2 mu r)`)
//! keeps its own sign, a fast head (`Lambda ~ r`) takes the samples' sign.
//! `eta_y` does not enter at this order. The boundary is exact for small
//! starts; for O(1) starts [`mode_boundary`] finds it on the per-mode flow.
use faer::{Mat, Side};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::common::frustration::{FrustrationOperator, LabelWeights};
use crate::models::head::simulation::{head_label_spectrum, HeadState};

/// The per-mode field `(da, ds, dw)/dt` of the module doc at `z = (a, s, w)`.
pub fn mode_rhs(z: [f64; 3], eta_x: f64, eta_y: f64, eta_w: f64, mu: f64, classes: usize) -> [f64; 3] {
    let [a, s, w] = z;
    [-eta_x * w * (w * a - s), -eta_y * w * (w * s - mu * a), eta_w / classes as f64 * (2.0 * mu * s * a - w * (mu * a * a + s * s))]
}

/// The per-mode flow from `z0` to `t_end` by classical RK4 with step `dt`.
pub fn mode_flow(z0: [f64; 3], eta_x: f64, eta_y: f64, eta_w: f64, mu: f64, classes: usize, t_end: f64, dt: f64) -> [f64; 3] {
    let f = |z: [f64; 3]| mode_rhs(z, eta_x, eta_y, eta_w, mu, classes);
    let add = |z: [f64; 3], k: [f64; 3], h: f64| [z[0] + h * k[0], z[1] + h * k[1], z[2] + h * k[2]];
    let steps = (t_end / dt).ceil().max(1.0) as usize;
    let h = t_end / steps as f64;
    let mut z = z0;
    for _ in 0..steps {
        let k1 = f(z);
        let k2 = f(add(z, k1, h / 2.0));
        let k3 = f(add(z, k2, h / 2.0));
        let k4 = f(add(z, k3, h));
        z = [0, 1, 2].map(|i| z[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]));
    }
    z
}

/// `Lambda = [r + sqrt(r^2 + 8 mu r)]/2`, `r = eta_w s^2/(K eta_x)`: the
/// weight of the sample alignment `alpha = a0/s0` against the initial head
/// `w0` in the linearised selection `sign(w0 + Lambda alpha)` (module doc).
pub fn selection_gain(eta_ratio: f64, label_amplitude: f64, mu: f64, classes: usize) -> f64 {
    let r = eta_ratio * label_amplitude * label_amplitude / classes as f64;
    0.5 * (r + (r * r + 8.0 * mu * r).sqrt())
}

/// The initial head `w0` at which the per-mode flow from `(alpha s, s, w0)`
/// switches from the negative to the positive root, by bisection on
/// `[-w_max, w_max]` of the sign of `w` at `t_end` (the flow's own boundary,
/// for starts where the linearisation is not enough). `None` when the sign
/// does not change on the interval.
pub fn mode_boundary(alpha: f64, s: f64, eta_x: f64, eta_y: f64, eta_w: f64, mu: f64, classes: usize, w_max: f64, t_end: f64) -> Option<f64> {
    let end_sign = |w0: f64| mode_flow([alpha * s, s, w0], eta_x, eta_y, eta_w, mu, classes, t_end, 0.02)[2] > 0.0;
    let (mut lo, mut hi) = (-w_max, w_max);
    if end_sign(lo) == end_sign(hi) {
        return None;
    }
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if end_sign(mid) { hi = mid } else { lo = mid }
    }
    Some(0.5 * (lo + hi))
}

/// The eigenbasis of `M` for a design with equal class masses (then
/// `M = A^T A / n` is symmetric): `mu[0] = 1` with the constant vector
/// (the centroid mode), then the centred modes in decreasing `mu`;
/// `u[k]` is the unit eigenvector of `mu[k]` (length `K`).
#[derive(Clone, Debug, Serialize)]
pub struct ModeBasis {
    pub mu: Vec<f64>,
    pub u: Vec<Vec<f64>>,
}

pub fn mode_basis(a: &LabelWeights) -> Result<ModeBasis> {
    let k = a.classes();
    let m0 = a.class_mass(0);
    if (0..k).any(|c| (a.class_mass(c) - m0).abs() > 1e-9 * m0) {
        return Err(Error::invalid("design", "unequal class masses", "a balanced design (equal class masses), where M is symmetric"));
    }
    let mm = FrustrationOperator::new(a)?.matrix;
    let sym = Mat::<f64>::from_fn(k, k, |r, c| 0.5 * (mm[r][c] + mm[c][r]));
    let eig = sym.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical("eigenbasis of M", format!("{e:?}")))?;
    let (s, v) = (eig.S().column_vector(), eig.U());
    let mut order: Vec<usize> = (0..k).collect();
    // The constant vector first (eigenvalue 1 of a row-stochastic M), then decreasing mu.
    let constness = |j: usize| (0..k).map(|c| v[(c, j)]).sum::<f64>().abs();
    order.sort_by(|&i, &j| constness(j).total_cmp(&constness(i)));
    order[1..].sort_by(|&i, &j| s[j].total_cmp(&s[i]));
    Ok(ModeBasis { mu: order.iter().map(|&j| s[j]).collect(), u: order.iter().map(|&j| (0..k).map(|c| v[(c, j)]).collect()).collect() })
}

/// A microscopic start on the per-mode set of the module doc in `d >= K`
/// dimensions (`e_k` the first `K` coordinate axes, `e_0` the centroid
/// mode): labels `s_k u_k` on the centred modes (`amplitudes`, `K - 1`
/// values) and no centroid, samples `x_i = alpha ybar_i`, the head
/// `head[r][c]` on the first `K` axes (row-major `K x K`, so any `W0` on the
/// label span) and the identity on the rest, then every entry of `x`, `y`
/// and `W` perturbed by `noise` times a standard normal (stream of `seed`),
/// and the label and sample centroids put back at zero. The centred set
/// (`sum_c y_c = 0`, `sum_i x_i = 0`) is invariant for a balanced design
/// (`sum_c dy_c/dt` and `sum_i dx_i/dt` are linear in the two sums), so the
/// centroid instability of `docs/head.md` is not seeded: a perturbed
/// centroid grows along the label axes where `|w| < 1` and takes one
/// centred mode over (measured), which is another question than the sign
/// selection.
pub fn mode_start(a: &LabelWeights, basis: &ModeBasis, d: usize, amplitudes: &[f64], alpha: f64, head: &[f64], noise: f64, seed: u64) -> Result<HeadState> {
    let k = a.classes();
    if d < k || amplitudes.len() + 1 != k || head.len() != k * k {
        return Err(Error::invalid("mode start", format!("d = {d}, {} amplitudes, head of {} entries", amplitudes.len(), head.len()), format!("d >= K = {k}, K - 1 amplitudes and a K x K head")));
    }
    let mut y = vec![0.0; k * d];
    for c in 0..k {
        for m in 1..k {
            y[c * d + m] = amplitudes[m - 1] * basis.u[m][c];
        }
    }
    let mut x = vec![0.0; a.samples() * d];
    for i in 0..a.samples() {
        for (c, wgt) in a.row(i) {
            for j in 0..d {
                x[i * d + j] += alpha * wgt * y[c * d + j];
            }
        }
    }
    let mut w = vec![0.0; d * d];
    for r in 0..d {
        for c in 0..d {
            w[r * d + c] = if r < k && c < k { head[r * k + c] } else { f64::from(u8::from(r == c)) };
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for v in x.iter_mut().chain(y.iter_mut()).chain(w.iter_mut()) {
        let g: f64 = StandardNormal.sample(&mut rng);
        *v += noise * g;
    }
    for (v, rows) in [(&mut x, a.samples()), (&mut y, k)] {
        for j in 0..d {
            let mean = (0..rows).map(|r| v[r * d + j]).sum::<f64>() / rows as f64;
            (0..rows).for_each(|r| v[r * d + j] -= mean);
        }
    }
    Ok(HeadState { x, y, w, dim: d })
}

/// The end state of a run, as a member of the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RootStatus {
    /// `W` restricted to the centred label span is a square root of `M`
    /// there (within the tolerance).
    Root,
    /// Not (yet) a square root there: still moving, or `W` mixes the span
    /// with its complement so that its compression is not one.
    Unresolved,
    /// The labels collapsed (the run's own criterion).
    Collapsed,
}

/// The classification of one end state.
#[derive(Clone, Debug, Serialize)]
pub struct RootClass {
    pub status: RootStatus,
    /// Eigenvalues `[re, im]` of the compression `Q^T W Q` to the centred
    /// label span, decreasing real part.
    pub spectrum: Vec<[f64; 2]>,
    /// Number of them with negative real part (the member, when `Root`).
    pub negatives: usize,
    /// `max_k |(|lambda_k|^2 sorted) - (mu_k sorted)|` plus the largest
    /// imaginary part: zero exactly at a square root of `M` on the span.
    pub root_residual: f64,
}

/// What the per-mode flow from `(alpha s, s, w0)` reaches at `t_end`:
/// `None` when the mode collapses (`|s| < 1e-3 s0`), else whether its root
/// is negative.
pub fn mode_outcome(alpha: f64, s: f64, w0: f64, eta_x: f64, eta_y: f64, eta_w: f64, mu: f64, classes: usize, t_end: f64) -> Option<bool> {
    let z = mode_flow([alpha * s, s, w0], eta_x, eta_y, eta_w, mu, classes, t_end, 0.02);
    (z[1].abs() >= 1e-3 * s.abs()).then_some(z[2] < 0.0)
}

/// Classifies `st`: `Collapsed` when `collapsed` or when a centred label
/// direction has died (smallest of the `K - 1` largest singular values of
/// the centred labels below `1e-3` of the largest), else `Root` when the
/// compression of `W` to the centred label span has real eigenvalues whose
/// squares are `M`'s centred eigenvalues within `tol`, else `Unresolved`.
pub fn classify_root(a: &LabelWeights, st: &HeadState, collapsed: bool, tol: f64) -> Result<RootClass> {
    let k = a.classes();
    let mut mu: Vec<f64> = FrustrationOperator::new(a)?.spectrum[1..].to_vec();
    let spectrum = head_label_spectrum(&st.w, &st.y, k, st.dim);
    let negatives = spectrum.iter().filter(|z| z[0] < 0.0).count();
    let mut sq: Vec<f64> = spectrum.iter().map(|z| z[0] * z[0] + z[1] * z[1]).collect();
    sq.sort_by(|p, q| q.total_cmp(p));
    mu.sort_by(|p, q| q.total_cmp(p));
    let root_residual = if sq.len() == mu.len() {
        sq.iter().zip(&mu).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max) + spectrum.iter().map(|z| z[1].abs()).fold(0.0, f64::max)
    } else {
        f64::INFINITY
    };
    let yc = Mat::<f64>::from_fn(k, k, |p, q| {
        let mean = |j: usize| (0..k).map(|c| st.y[c * st.dim + j]).sum::<f64>() / k as f64;
        (0..st.dim).map(|j| (st.y[p * st.dim + j] - mean(j)) * (st.y[q * st.dim + j] - mean(j))).sum::<f64>()
    });
    let eig = yc.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical("label Gram matrix", format!("{e:?}")))?;
    let ev = eig.S().column_vector();
    let mut gram: Vec<f64> = (0..k).map(|i| ev[i]).collect();
    gram.sort_by(|p, q| q.total_cmp(p));
    let mode_died = gram[k - 2].max(0.0).sqrt() < 1e-3 * gram[0].max(0.0).sqrt();
    let status = if collapsed || mode_died {
        RootStatus::Collapsed
    } else if root_residual < tol {
        RootStatus::Root
    } else {
        RootStatus::Unresolved
    };
    Ok(RootClass { status, spectrum, negatives, root_residual })
}

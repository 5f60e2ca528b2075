//! Heavy-ball and Nesterov momentum on Model H's simplex-symmetric
//! reduction (`docs/optimisers.md` section 4): the exact discrete map and
//! the closed-form rates.
//!
//! The momentum rules act on every parameter (`x_i`, `y_c`, `W`) with
//! `v_{k+1} = beta v_k - lr g(theta_k [+ beta v_k])`, `theta_{k+1} = theta_k + v_{k+1}`
//! (`src/models/common/optimizer.rs`). The class-level variables are linear
//! in the parameters, so the group means, labels and `W` carry their own
//! per-step displacements. The within-group covariance is a *second*
//! moment: a sample's deviation `delta_i` and its displacement `u_i` obey
//! `u_{k+1} = b u_k - g delta_k` (`g = dt eta_x a`, `a = w^2 + h + lambda` at
//! the point where the gradient is taken, `b = beta` for heavy ball,
//! `beta (1 - g)` for Nesterov), so the pooled moments
//! `c = <delta^2>`, `d = <delta u>`, `e = <u^2>` (per label-subspace
//! dimension) close:
//!
//! ```text
//!   e' = b^2 e - 2 b g d + g^2 c,     m = b d - g c   (= <delta u'>)
//!   c' = c + 2 m + e',                d' = m + e'
//! ```
//!
//! With `z = (s_u, p, q, s, w)`, `F` the flow field of
//! [`HeadSimplex`] and `n = beta` for Nesterov (0 for heavy ball):
//!
//! ```text
//!   V_{k+1} = beta V_k + dt F(z_k + n V_k ; c_k + 2 n d_k + n^2 e_k),    z_{k+1} = z_k + V_{k+1}
//! ```
//!
//! (the look-ahead covariance is `<(delta + n u)^2>`). The map is exact at
//! any `dt`, `beta`, `N` on simplex-symmetric states: 13 numbers.
//!
//! At a fixed point (`V = 0`, `d = e = 0`, `F(z*) = 0`, `c = 0`) an
//! eigenvector of the flow's Jacobian with real eigenvalue `mu < 0` is a
//! mode of Model E's recursion with `lambda = -mu`
//! ([`embedding::reduced::momentum::recursion`](crate::models::embedding::reduced::momentum::recursion)),
//! so every rate of Model H's flow becomes `-ln|r_max|/dt =
//! |mu|/(1-beta) + dt mu^2 C(beta) + O(dt^2)`.
use faer::c64 as Complex64;

use crate::engine::{jacobian_eigenvalues, VectorField};
use crate::error::{Error, Result};
use crate::models::embedding::optimizer::Optimizer;
use crate::models::embedding::reduced::momentum::beta_of;
use crate::models::head::config::Variant;
use crate::models::head::reduced::simplex::HeadSimplex;

/// State of the exact map: `z = (s_u, p, q, s, w)`, their per-step
/// displacements `v`, and the covariance moments `(c, d, e)` of the module doc.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomentumState {
    pub z: [f64; 5],
    pub v: [f64; 5],
    pub moments: [f64; 3],
}

impl MomentumState {
    /// At rest: a reduced state `[s_u, p, q, s, w, c]` with zero displacements.
    pub fn at_rest(z6: [f64; 6]) -> Self {
        MomentumState { z: [z6[0], z6[1], z6[2], z6[3], z6[4]], v: [0.0; 5], moments: [z6[5], 0.0, 0.0] }
    }
    /// The reduced state `[s_u, p, q, s, w, c]`.
    pub fn reduced(&self) -> [f64; 6] {
        [self.z[0], self.z[1], self.z[2], self.z[3], self.z[4], self.moments[0]]
    }
}

/// One step of the exact heavy-ball / Nesterov map (module doc) with step `dt`.
/// Gradient descent is `beta = 0`; Adam has no such map (`Err`).
pub fn step(sys: &HeadSimplex, opt: Optimizer, dt: f64, st: &mut MomentumState) -> Result<()> {
    let beta = beta_of(opt).ok_or_else(|| Error::invalid("optimizer", "adam", "gd | momentum | nesterov (Adam does not close on the order parameters)"))?;
    let n = if matches!(opt, Optimizer::Nesterov { .. }) { beta } else { 0.0 };
    let p = sys.params;
    let (c, d, e) = (st.moments[0], st.moments[1], st.moments[2]);
    let mut look = [0.0; 6];
    for j in 0..5 {
        look[j] = st.z[j] + n * st.v[j];
    }
    look[5] = c + 2.0 * n * d + n * n * e;
    let mut f = [0.0; 6];
    sys.rhs(&look, &p, &mut f);
    let h = if sys.variant == Variant::Head { 1.0 } else { 0.0 };
    let g = dt * p[3] * (look[4] * look[4] + h + p[6]);
    for j in 0..5 {
        st.v[j] = beta * st.v[j] + dt * f[j];
        st.z[j] += st.v[j];
    }
    let b = beta * (1.0 - if n > 0.0 { g } else { 0.0 });
    let e1 = b * b * e - 2.0 * b * g * d + g * g * c;
    let m = b * d - g * c;
    st.moments = [c + 2.0 * m + e1, m + e1, e1];
    Ok(())
}

/// Iterates [`step`] from `start`, returning the state after each step count
/// in `record` (sorted).
pub fn simplex_map(sys: &HeadSimplex, opt: Optimizer, dt: f64, start: MomentumState, record: &[u64]) -> Result<Vec<MomentumState>> {
    let mut st = start;
    let mut k = 0u64;
    let mut out = Vec::with_capacity(record.len());
    for &target in record {
        while k < target {
            step(sys, opt, dt, &mut st)?;
            k += 1;
        }
        out.push(st);
    }
    Ok(out)
}

/// The slowest rate of the flow at a fixed point `z*` of [`HeadSimplex`]:
/// the smallest `-Re mu` over the Jacobian's eigenvalues with
/// `|mu| > zero_tol` (zero modes of declared families excluded), and that
/// eigenvalue.
pub fn slow_flow_eigenvalue(sys: &HeadSimplex, z: &[f64; 6], zero_tol: f64) -> Result<Complex64> {
    let eig = jacobian_eigenvalues(sys, z, &sys.params)?;
    eig.into_iter()
        .filter(|m| m.norm() > zero_tol)
        .min_by(|a, b| (-a.re).total_cmp(&-b.re))
        .ok_or_else(|| Error::numerical("slow flow eigenvalue", "every eigenvalue is a zero mode"))
}

/// Per-unit-time decay rate of a flow mode with eigenvalue `mu` (any
/// complex `mu` of the non-gradient flow) under `opt` at step `dt`:
/// `-ln|r_max|/dt`, `r` the roots of `r^2 - (1 + beta + dt mu) r + beta = 0`
/// (heavy ball) or `r^2 - (1 + dt mu)(1 + beta) r + (1 + dt mu) beta = 0`
/// (Nesterov). For real `mu = -lambda` this is Model E's
/// [`discrete_rate`](crate::models::embedding::reduced::momentum::discrete_rate).
pub fn discrete_rate(opt: Optimizer, mu: Complex64, dt: f64) -> Option<f64> {
    let beta = beta_of(opt)?;
    let one = Complex64::new(1.0, 0.0);
    let (a, c) = match opt {
        Optimizer::Nesterov { .. } => ((one + dt * mu) * (1.0 + beta), (one + dt * mu) * beta),
        _ => (one * (1.0 + beta) + dt * mu, one * beta),
    };
    let s = (a * a - 4.0 * c).sqrt();
    let r = ((a + s) / 2.0).norm().max(((a - s) / 2.0).norm());
    Some(-r.ln() / dt)
}

/// The small-step limit: `-Re mu / (1 - beta)` (momentum is the flow in the time `t/(1-beta)`).
pub fn continuum_rate(beta: f64, mu: Complex64) -> f64 {
    -mu.re / (1.0 - beta)
}

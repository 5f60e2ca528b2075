//! Reduced theory of heavy-ball and Nesterov momentum for Model E
//! (`docs/optimisers.md` sections 2-4).
//!
//! Gradient descent on Model E is `Z_{k+1} = (I - dt L) Z_k` on the
//! class-level variables (`docs/embedding.md` section 3). The momentum rules
//! of [`optimizer`](crate::models::embedding::optimizer) are linear in the
//! step, so they close on the class-level variables and their per-step
//! displacements `V_k = Z_k - Z_{k-1}`:
//!
//! ```text
//!   heavy ball:  V_{k+1} = beta V_k - dt L Z_k,              Z_{k+1} = Z_k + V_{k+1}
//!   Nesterov:    V_{k+1} = beta V_k - dt L (Z_k + beta V_k),  Z_{k+1} = Z_k + V_{k+1}
//! ```
//!
//! On an eigenmode of `L` with rate `lambda` (`h = dt lambda`) both are
//! `z_{k+1} = a z_k - c z_{k-1}` with
//!
//! ```text
//!   heavy ball:  a = 1 + beta - h,          c = beta
//!   Nesterov:    a = (1 - h)(1 + beta),     c = (1 - h) beta
//! ```
//!
//! so a mode decays per step by the larger modulus of the roots of
//! `r^2 - a r + c = 0`, and per unit time (`t = k dt`) at
//! `-ln|r_max| / dt = lambda/(1-beta) + dt lambda^2 C(beta) + O(dt^2)`,
//! `C = (1+beta)/(2(1-beta)^3)` (heavy ball) or
//! `(1 - beta + 2 beta^2)/(2(1-beta)^3)` (Nesterov).
use crate::models::embedding::optimizer::Optimizer;
use crate::models::embedding::reduced::simplex::SimplexSystem;
use crate::engine::VectorField;

/// Coefficients `(a, c)` of a mode's recursion `z_{k+1} = a z_k - c z_{k-1}`
/// at `h = dt lambda` (module doc). Gradient descent is `(1 - h, 0)`; Adam
/// is not linear and has none (`None`).
pub fn recursion(opt: Optimizer, h: f64) -> Option<(f64, f64)> {
    match opt {
        Optimizer::Gd => Some((1.0 - h, 0.0)),
        Optimizer::Momentum { beta } => Some((1.0 + beta - h, beta)),
        Optimizer::Nesterov { beta } => Some(((1.0 - h) * (1.0 + beta), (1.0 - h) * beta)),
        Optimizer::Adam { .. } => None,
    }
}

/// Largest modulus of the roots of `r^2 - a r + c = 0`: the per-step factor
/// by which the mode's slowest component decays (`sqrt(c)` for complex roots).
pub fn dominant_root(a: f64, c: f64) -> f64 {
    let disc = a * a - 4.0 * c;
    if disc >= 0.0 {
        let s = disc.sqrt();
        ((a + s) / 2.0).abs().max(((a - s) / 2.0).abs())
    } else {
        c.sqrt()
    }
}

/// Exact per-unit-time decay rate of a mode of rate `lambda` under `opt`
/// with step `dt`: `-ln|r_max| / dt` (gradient descent: `-ln(1 - dt lambda)/dt`).
pub fn discrete_rate(opt: Optimizer, lambda: f64, dt: f64) -> Option<f64> {
    recursion(opt, dt * lambda).map(|(a, c)| -dominant_root(a, c).ln() / dt)
}

/// The momentum `beta` of a linear rule (0 for gradient descent).
pub fn beta_of(opt: Optimizer) -> Option<f64> {
    match opt {
        Optimizer::Gd => Some(0.0),
        Optimizer::Momentum { beta } | Optimizer::Nesterov { beta } => Some(beta),
        Optimizer::Adam { .. } => None,
    }
}

/// The small-step limit of the rate per unit time: `lambda / (1 - beta)`
/// (momentum is gradient flow in the time `t / (1 - beta)`).
pub fn continuum_rate(beta: f64, lambda: f64) -> f64 {
    lambda / (1.0 - beta)
}

/// `C(beta)` of the first correction in `dt`:
/// rate per unit time `= lambda/(1-beta) + dt lambda^2 C + O(dt^2)`.
pub fn first_order_coefficient(opt: Optimizer) -> Option<f64> {
    match opt {
        Optimizer::Gd => Some(0.5),
        Optimizer::Momentum { beta } => Some((1.0 + beta) / (2.0 * (1.0 - beta).powi(3))),
        Optimizer::Nesterov { beta } => Some((1.0 - beta + 2.0 * beta * beta) / (2.0 * (1.0 - beta).powi(3))),
        Optimizer::Adam { .. } => None,
    }
}

/// Slow root of the second-order (modified) equation
/// `dt Z'' + (1 - beta) Z' = -L Z` on a mode of rate `lambda`:
/// `r = [(1-beta) - sqrt((1-beta)^2 - 4 dt lambda)] / (2 dt)` (real part when
/// the root is complex, `(1-beta)/(2 dt)`). Its `O(dt)` term,
/// `dt lambda^2/(1-beta)^3`, differs from the map's `C(beta)`: the ODE keeps
/// the inertia but not the step's own discretisation error.
pub fn second_order_ode_rate(beta: f64, lambda: f64, dt: f64) -> f64 {
    let g = 1.0 - beta;
    let disc = g * g - 4.0 * dt * lambda;
    if disc >= 0.0 { (g - disc.sqrt()) / (2.0 * dt) } else { g / (2.0 * dt) }
}

/// Iterates the exact heavy-ball / Nesterov map on the 4-variable simplex
/// reduction (`docs/embedding.md` section 4) from `z0` with zero initial
/// displacement, returning `Z_k` at each step count in `record` (sorted).
/// The simplex subspace is invariant under `L`, so under the map too.
pub fn simplex_map(sys: &SimplexSystem, opt: Optimizer, dt: f64, z0: [f64; 4], record: &[u64]) -> Vec<[f64; 4]> {
    let beta = beta_of(opt).expect("a linear rule (gd, momentum or nesterov)");
    let nesterov = matches!(opt, Optimizer::Nesterov { .. });
    let p = sys.default_params();
    let (mut z, mut v, mut f, mut look) = (z0, [0.0; 4], [0.0; 4], [0.0; 4]);
    let mut out = Vec::with_capacity(record.len());
    let mut k = 0u64;
    for &target in record {
        while k < target {
            for j in 0..4 {
                look[j] = if nesterov { z[j] + beta * v[j] } else { z[j] };
            }
            sys.rhs(&look, &p, &mut f);
            for j in 0..4 {
                v[j] = beta * v[j] + dt * f[j];
                z[j] += v[j];
            }
            k += 1;
        }
        out.push(z);
    }
    out
}

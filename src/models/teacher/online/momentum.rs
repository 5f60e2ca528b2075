//! Heavy-ball momentum and Nesterov in Model T's online SGD: the reduced
//! theory (`docs/optimisers.md` section 8).
//!
//! Two statements, both derived in the doc:
//!
//! 1. *The mean order parameters close with their velocities at every `D`.*
//!    `E[Delta R]` and `E[Delta Y]` of one SGD step are linear in `(R, Y)`
//!    (`-(1/D) L (r, y)` per student row, `docs/teacher.md` section 2), and
//!    momentum is linear in the step, so the means obey Model E's momentum
//!    map (`docs/optimisers.md` section 2) with the step `1/D`:
//!    `V_{k+1} = beta V_k - (1/D) L Z_k` (Nesterov: at `Z_k + beta V_k`),
//!    `Z_{k+1} = Z_k + V_{k+1}`. A mode of rate `lambda` decays per unit
//!    time at `-D ln|r_max(lambda/D)| = lambda/(1-beta) + lambda^2 C(beta)/D + O(D^-2)`.
//! 2. *Online limit, fixed `beta`.* The velocity remembers `O(1/(1-beta))`
//!    steps, time `O(1/D)`: it is slaved. Summing each sample's contribution
//!    over the steps it stays in the velocity, including its self-interaction
//!    (`|xi|^2/D = 1`), gives exactly online SGD at the rates
//!    `eta/(1-beta)`, drift and noise:
//!
//! ```text
//!   dR/dt = -eta_x' (R C - Y^T M^T),   dy_c/dt = -eta_y' K (P_c y_c - R M_c),
//!   dSigma/dt = -eta_x' (2 - eta_x') Sigma + eta_x'^2 E_res,     eta' = eta/(1-beta),
//! ```
//!
//! so every rate of the `(R, Y)` block is multiplied by `1/(1-beta)` (the block
//! is homogeneous of degree one in the rates), the SGD-noise spread grows to
//! `Sigma* = eta_x'/(2 - eta_x') E_res`, and SGD with momentum is stable only
//! for `eta_x < 2 (1 - beta)`. The ODE itself is
//! [`TeacherOde`](crate::models::teacher::online::reduced::TeacherOde) at
//! these rates ([`TeacherConfig::ode_params`](crate::models::teacher::config::TeacherConfig::ode_params)).
use crate::models::common::optimizer::Optimizer;
use crate::models::embedding::reduced::momentum::discrete_rate;
use crate::models::teacher::online::reduced::row_rates;
use crate::models::teacher::statistics::Teacher;

/// The online limit's rates `(eta_x/(1-beta), eta_y/(1-beta))`.
pub fn effective_rates(eta_x: f64, eta_y: f64, beta: f64) -> (f64, f64) {
    (eta_x / (1.0 - beta), eta_y / (1.0 - beta))
}

/// Slow separating rate of the online limit (`D -> infinity`, fixed `beta`)
/// at ODE parameters `p = [eta_x, eta_y, f, sigma, a]` (the optimiser's own
/// rates): the smaller root of the separating block at rates `eta/(1-beta)`,
/// which is `lambda_sgd / (1 - beta)`.
pub fn online_slow_rate(teacher: &Teacher, p: &[f64], beta: f64) -> f64 {
    let (ex, ey) = effective_rates(p[0], p[1], beta);
    let mut q = p.to_vec();
    q[0] = ex;
    q[1] = ey;
    row_rates(teacher, &q).separating.0
}

/// Decay rate per unit time (`t = steps / D`) of the mean order parameters'
/// slow separating mode at input dimension `D`:
/// `-D ln|r_max(h)|` with `h = lambda_sgd / D`, `r_max` the dominant root of
/// the rule's recursion (exact for the mean at every `D`; `None` for Adam).
pub fn mean_map_slow_rate(opt: Optimizer, teacher: &Teacher, p: &[f64], input_dim: usize) -> Option<f64> {
    let lambda = row_rates(teacher, p).separating.0;
    discrete_rate(opt, lambda, 1.0 / input_dim as f64)
}

/// Largest `beta` for which online SGD with momentum is stable at `eta_x`:
/// `eta_x/(1-beta) < 2`, i.e. `beta < 1 - eta_x/2`.
pub fn critical_momentum(eta_x: f64) -> f64 {
    1.0 - eta_x / 2.0
}

/// Factor of the quasi-static SGD-noise spread, `Sigma* = k E_res`,
/// `k = eta'/(2 - eta')` with `eta' = eta_x/(1-beta)` (infinite beyond the
/// stability bound).
pub fn spread_factor(eta_x: f64, beta: f64) -> f64 {
    let e = eta_x / (1.0 - beta);
    if e < 2.0 { e / (2.0 - e) } else { f64::INFINITY }
}

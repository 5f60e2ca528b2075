//! Adam's flow limit for Model E after the fast phase (`docs/optimisers.md`
//! section 5): the sign flow of the labels with the samples sliding on
//! their targets.
//!
//! Model E's loss is a sum over coordinates and Adam acts coordinate-wise,
//! so the `d` coordinates evolve independently. As `dt -> 0` at fixed
//! `beta1, beta2` (moment windows `dt/(1-beta)` shrink to zero) the moments
//! track `g` and `g^2`, and Adam becomes `dtheta/dt = -lr/dt g/(|g| + eps)`,
//! the sign flow for `|g| >> eps`. Samples move at speed `eta_x` to their
//! targets `ybar_i` and, once there, slide on them when `eta_y <= eta_x`
//! (the target moves at most at `eta_y`). With sliding samples the label
//! gradient is `((I - M) Y)_c`, for the balanced design
//! `phi (y_c - mean_c y_c)`, so
//!
//! ```text
//!   dy_cj/dt = -eta_y sign(y_cj - mean_c y_cj)       (any phi > 0)
//! ```
//!
//! closed in the labels alone and independent of the frustration's size.
//! For `K = 2` the two labels approach each other in every coordinate at
//! speed `2 eta_y` until they meet:
//! `|y_1j - y_2j|(t) = max(0, |y_1j - y_2j|(t0) - 2 eta_y (t - t0))`.

/// Label distance of the two-class sign flow at time `tau` after `t0`,
/// from the labels at `t0` (`y`: 2 x d, row-major).
pub fn two_class_separation(y: &[f64], d: usize, eta_y: f64, tau: f64) -> f64 {
    (0..d).map(|j| ((y[j] - y[d + j]).abs() - 2.0 * eta_y * tau).max(0.0).powi(2)).sum::<f64>().sqrt()
}

/// Time after `t0` at which the two-class sign flow has merged the labels:
/// `max_j |y_1j - y_2j| / (2 eta_y)`.
pub fn two_class_collapse_time(y: &[f64], d: usize, eta_y: f64) -> f64 {
    (0..d).map(|j| (y[j] - y[d + j]).abs()).fold(0.0, f64::max) / (2.0 * eta_y)
}

//! Training an encoder and label embeddings in one embedding space, with
//! optional shared head (Model H's variants), by full-batch gradient descent
//! or minibatch SGD.
//!
//! Loss (Model E's, in embedding space): `L = sum_i sum_c A_ic l(i, c)`,
//! `l = 1/2 |x_i - y_c|^2` without a head. With a head `W` (d x d) the
//! per-pair terms and stop-gradients are Model H's (`models/head/simulation/`): with
//! `ybar_i = sum_c A_ic y_c`, `S_c = sum_i A_ic x_i`, `m_c = sum_i A_ic`,
//! in matrix form (rows are samples / labels)
//!
//! ```text
//!   R   = X W^T - Ybar                               (rows W x_i - ybar_i)
//!   G_x = R W + h (X - Ybar W^T)                     (dL/dx_i; h = 1 for the full gradient `head`)
//!   Q   = diag(m) Y W^T - S                          (rows m_c W y_c - S_c)
//!   G_y = Q W [+ diag(m) Y - S W^T for `head`]       (symmetric, head)
//!       = diag(m) Y - S                              (asymmetric, none, sg-only)
//!   G_W = R^T X + g2 Q^T Y                           (g2 = 1 for symmetric and head)
//! ```
//!
//! Updates per step of length `dt` (rates as in Models E and H; `n = N/K`):
//! encoder weights `theta -= dt eta_x (dtheta + lambda theta)` with `dtheta`
//! the back-propagation of `G_x` ([`Encoder::backward`](crate::models::realdata::encoder::Encoder::backward)); labels
//! `Y -= dt eta_y (G_y / n + lambda Y)`; head `W -= dt eta_w (G_W / N + lambda W)`.
//! Weight decay acts on the encoder *weights* (Model H puts it on the free
//! embeddings; with an encoder the weights are the free parameters).
//! SGD visits every sample once per epoch in a fresh random order, `batch`
//! samples per step with their full label rows; a step advances time by
//! `dt * b / N` and the decays by the same fraction, so an epoch equals one
//! gradient-descent step.
//!
//! One file per job: `prepare` (the data and one seed's labels), `state`
//! (state, rates, workspace), `kernels` (the GD and SGD steps), `evaluate`
//! (the measures, held-out split included) and `driver` (one seed on the
//! output grid).
mod driver;
mod evaluate;
mod kernels;
mod prepare;
mod state;

pub use driver::{train, Run};
pub use evaluate::{Evaluator, Record};
pub use kernels::{gd_step, sgd_step};
pub use prepare::{Labels, Prepared};
pub use state::{Rates, State, Workspace};

//! Microscopic simulation of Model H: a head `W` (d x d) shared by the sample
//! and the label branch (`docs/head.md`).
//!
//! With `ybar_i = sum_c A_ic y_c`, `S_c = sum_i A_ic x_i`, `h = 1` for the
//! full gradient (`head`) and `0` otherwise, and weight decay `lambda`
//! scaled by each parameter's own rate (the usual `theta -= lr (g + wd theta)`),
//! gradient descent is the Euler discretisation of
//!
//! ```text
//!   dx_i/dt = -eta_x [ W^T (W x_i - ybar_i) + h (x_i - W ybar_i) + lambda x_i ]
//!   dy_c/dt = -(eta_y/n) [ W^T (m_c W y_c - S_c)                          ] - eta_y lambda y_c   (symmetric)
//!             -(eta_y/n) [ (m_c y_c - W S_c) + W^T (m_c W y_c - S_c)      ] - eta_y lambda y_c   (head)
//!             -(eta_y/n) [ m_c y_c - S_c                                  ] - eta_y lambda y_c   (asymmetric, none, sg-only)
//!   dW/dt   = -(eta_w/N) [ sum_i (W x_i - ybar_i) x_i^T + g2 sum_c (m_c W y_c - S_c) y_c^T ] - eta_w lambda W
//! ```
//!
//! with `g2 = 1` for `symmetric` and `head` (the label branch's loss `l2`
//! trains W), `g2 = 0` for `asymmetric`, and `W = I` frozen for `none` and
//! `sg-only` (which then coincide with Model E). Minibatch SGD visits the
//! (sample, label) pairs as in Model E: each pair contributes its weighted
//! gradient, the sample's decay rides on its pairs (the weights of a row sum
//! to one), and the label and head decays are applied every step with the
//! fraction `batch / P` of an epoch.
//!
//! One file per job: `state` (state, rates, workspace), `kernels` (the GD
//! and SGD steps), `spectrum` (head diagnostics), `metrics` (measures of one
//! state) and `driver` (one seed on the time grid).
mod driver;
mod kernels;
mod metrics;
mod spectrum;
mod sphere;
mod state;

pub use driver::{simulate, simulate_from, HeadRun};
pub use kernels::{gd_step, sgd_step};
pub use metrics::{measure_head, HeadMetrics};
pub use spectrum::{head_label_spectrum, label_subspace, label_subspace_invariance, square};
pub use sphere::{normalize_start, sphere_step, SphereWorkspace};
pub use state::{HeadRates, HeadState, HeadWorkspace};

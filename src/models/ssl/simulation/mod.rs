//! Self-supervised training of an encoder on two augmented views of each
//! image (`docs/ssl.md`, "Model"). With the encoder `f` of the real-data
//! model, the projector `P` and the predictor `h`, a view `xi` gives
//!
//! ```text
//!   x = f(xi),   z = P x,   p = h(z)   (linear h: p = W_p z;  MLP: p = W_b relu(W_a z))
//! ```
//!
//! and a batch of `b` images with views `1, 2` the symmetrised loss
//!
//! ```text
//!   L = 1/(2b) sum_i [ D(p1_i, t2_i) + D(p2_i, t1_i) ],
//!   D(p, t) = -p.t / (|p| |t|)   (cosine)   or   |p - t|^2 / 2   (squared, Model H),
//! ```
//!
//! with `p = z` for the variants without predictor and the target `t = z`
//! (its gradient kept for `no-predictor` and `predictor-no-sg`, stopped for
//! `sg-no-predictor` and `simsiam`) or, for `byol`, `t = z'` of the EMA
//! target network `theta' <- tau theta' + (1 - tau) theta`. Gradients are
//! written by hand (`kernels`):
//!
//! ```text
//!   cosine:  dD/dp = -(t^ - c p^)/|p|,   dD/dt = -(p^ - c t^)/|t|,   c = p^.t^
//!   squared: dD/dp = p - t,              dD/dt = t - p
//!   linear h:  dW_p = G_p^T Z,  G_z = G_p W_p;   MLP h: dW_b = G_p^T relu(A), G_A = (G_p W_b) .* 1[A > 0],
//!              dW_a = G_A^T Z,  G_z = G_A W_a
//!   projector: dP = G_z^T X,  G_x = G_z P;  encoder: `Encoder::backward` of the real-data model
//! ```
//!
//! and every parameter takes PyTorch's SGD step with momentum `mu` and
//! weight decay `lambda`: `v <- mu v + g + lambda theta`, `theta <- theta - lr v`.
//!
//! One file per job: `prepare` (images, split, centring), `state` (state,
//! hyper-parameters, workspace), `kernels` (loss, gradients, update, step),
//! `evaluate` (the collapse indicators) and `driver` (one seed through the
//! epochs, divergence check, replay dump).
mod driver;
mod evaluate;
mod kernels;
mod prepare;
mod state;

pub use driver::{check_divergence, dump, step_rng, train, Run, DIVERGENCE_GROWTH};
pub use evaluate::{eigen_desc, knn_accuracy, measure, probe_accuracy, PredictorDiagnostics, Record};
pub use kernels::{apply_update, draw_views, loss_and_gradients, net_forward, step, NORM_EPS};
pub use prepare::Prepared;
pub use state::{Hyper, Net, Predictor, State, Workspace, PARAM_NAMES};

//! The training kernels: the symmetrised loss of a batch of view pairs with
//! its hand-written gradients, the SGD-with-momentum update, the BYOL EMA,
//! and one full step (views drawn, loss, update). Equations in [`super`].
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rand_chacha::ChaCha8Rng;

use super::prepare::Prepared;
use super::state::{Hyper, Net, Predictor, State, Workspace};
use crate::models::realdata::encoder::EncoderBuffers;
use crate::models::ssl::augment::Augment;
use crate::models::ssl::config::{LossKind, SslOptimizer, SslVariant};

/// Norms below this are clamped (as PyTorch's `F.normalize` does) so a
/// zero vector has a finite cosine.
pub const NORM_EPS: f64 = 1e-12;

/// `z = P f(xi)` for the rows of `x0`, keeping the encoder's activations in `buf`.
pub fn net_forward(net: &Net, x0: MatRef<'_, f64>, mut h: MatMut<'_, f64>, mut z: MatMut<'_, f64>, buf: &mut EncoderBuffers) {
    net.encoder.forward(x0, h.as_mut(), buf);
    if net.projector.nrows() > 0 {
        matmul(z, Accum::Replace, h.as_ref(), net.projector.transpose(), 1.0, Par::Seq);
    } else {
        z.copy_from(h.as_ref());
    }
}

/// `D(p, t)` and its gradients with respect to `p` and `t`, each times `scale`.
fn pair_loss(loss: LossKind, p: MatRef<'_, f64>, r: usize, t: MatRef<'_, f64>, s: usize, scale: f64, mut gp: MatMut<'_, f64>, mut gt: MatMut<'_, f64>) -> f64 {
    let d = p.ncols();
    match loss {
        LossKind::Squared => {
            let mut l = 0.0;
            for j in 0..d {
                let e = p[(r, j)] - t[(s, j)];
                l += e * e;
                gp[(r, j)] = scale * e;
                gt[(s, j)] = -scale * e;
            }
            0.5 * l
        }
        LossKind::Cosine => {
            let (mut pp, mut tt, mut pt) = (0.0, 0.0, 0.0);
            for j in 0..d {
                pp += p[(r, j)] * p[(r, j)];
                tt += t[(s, j)] * t[(s, j)];
                pt += p[(r, j)] * t[(s, j)];
            }
            let (np, nt) = (pp.sqrt().max(NORM_EPS), tt.sqrt().max(NORM_EPS));
            let c = pt / (np * nt);
            for j in 0..d {
                let (ph, th) = (p[(r, j)] / np, t[(s, j)] / nt);
                gp[(r, j)] = -scale * (th - c * ph) / np;
                gt[(s, j)] = -scale * (ph - c * th) / nt;
            }
            -c
        }
    }
}

/// The symmetrised loss of the `rows = 2b` stacked views in `ws.x0`,
///
/// ```text
///   L = 1/(2b) sum_i [ D(p1_i, t2_i) + D(p2_i, t1_i) ],
/// ```
///
/// and its gradient with respect to the online parameters into `ws.enc.g1`,
/// `ws.enc.g2`, `ws.g_proj`, `ws.g_wa`, `ws.g_wb`. Targets `t` are the
/// rows of `target`'s `z` when given (BYOL; the stop-gradient variants'
/// frozen copy in the gradient check), else the online `z`. For the
/// variants without stop-gradient the target gradient is added to the
/// online branch (then `target` must be `None`: the target *is* the online
/// network).
pub fn loss_and_gradients(online: &Net, pred: &Predictor, target: Option<&Net>, variant: SslVariant, loss: LossKind, rows: usize, ws: &mut Workspace) -> f64 {
    debug_assert!(rows % 2 == 0 && !(variant.target_gradient() && target.is_some()));
    let Workspace { x0, enc, target_enc, h, z, a, ar, p, th, zt, gp, gt, gz, gh, ga, g_proj, g_wa, g_wb, .. } = ws;
    let x0 = x0.as_ref().subrows(0, rows);
    net_forward(online, x0, h.as_mut().subrows_mut(0, rows), z.as_mut().subrows_mut(0, rows), enc);
    let (h, z) = (h.as_ref().subrows(0, rows), z.as_ref().subrows(0, rows));
    let mlp = pred.is_mlp();
    if variant.has_predictor() {
        if mlp {
            let mut a = a.as_mut().subrows_mut(0, rows);
            matmul(a.as_mut(), Accum::Replace, z, pred.wa.transpose(), 1.0, Par::Seq);
            let mut ar = ar.as_mut().subrows_mut(0, rows);
            for j in 0..a.ncols() {
                for i in 0..rows {
                    ar[(i, j)] = a[(i, j)].max(0.0);
                }
            }
            matmul(p.as_mut().subrows_mut(0, rows), Accum::Replace, ar.as_ref(), pred.wb.transpose(), 1.0, Par::Seq);
        } else {
            matmul(p.as_mut().subrows_mut(0, rows), Accum::Replace, z, pred.wa.transpose(), 1.0, Par::Seq);
        }
    }
    let pv = if variant.has_predictor() { p.as_ref().subrows(0, rows) } else { z };
    let tv = match target {
        Some(t) => {
            net_forward(t, x0, th.as_mut().subrows_mut(0, rows), zt.as_mut().subrows_mut(0, rows), target_enc);
            zt.as_ref().subrows(0, rows)
        }
        None => z,
    };
    let b = rows / 2;
    let scale = 1.0 / rows as f64;
    let mut total = 0.0;
    let (mut gpv, mut gtv) = (gp.as_mut().subrows_mut(0, rows), gt.as_mut().subrows_mut(0, rows));
    for r in 0..rows {
        total += pair_loss(loss, pv, r, tv, (r + b) % rows, scale, gpv.as_mut(), gtv.as_mut());
    }
    let (gpv, gtv) = (gpv.as_ref(), gtv.as_ref());
    // Back through the predictor.
    let mut gzv = gz.as_mut().subrows_mut(0, rows);
    if variant.has_predictor() {
        if mlp {
            matmul(g_wb.as_mut(), Accum::Replace, gpv.transpose(), ar.as_ref().subrows(0, rows), 1.0, Par::Seq);
            let mut gav = ga.as_mut().subrows_mut(0, rows);
            matmul(gav.as_mut(), Accum::Replace, gpv, pred.wb.as_ref(), 1.0, Par::Seq);
            let av = a.as_ref().subrows(0, rows);
            for j in 0..gav.ncols() {
                for i in 0..rows {
                    if av[(i, j)] <= 0.0 {
                        gav[(i, j)] = 0.0;
                    }
                }
            }
            matmul(g_wa.as_mut(), Accum::Replace, gav.as_ref().transpose(), z, 1.0, Par::Seq);
            matmul(gzv.as_mut(), Accum::Replace, gav.as_ref(), pred.wa.as_ref(), 1.0, Par::Seq);
        } else {
            matmul(g_wa.as_mut(), Accum::Replace, gpv.transpose(), z, 1.0, Par::Seq);
            matmul(gzv.as_mut(), Accum::Replace, gpv, pred.wa.as_ref(), 1.0, Par::Seq);
        }
    } else {
        gzv.copy_from(gpv);
    }
    if variant.target_gradient() {
        for j in 0..gzv.ncols() {
            for i in 0..rows {
                gzv[(i, j)] += gtv[(i, j)];
            }
        }
    }
    // Projector and encoder.
    let gzv = gzv.as_ref();
    if online.projector.nrows() > 0 {
        matmul(g_proj.as_mut(), Accum::Replace, gzv.transpose(), h, 1.0, Par::Seq);
        matmul(gh.as_mut().subrows_mut(0, rows), Accum::Replace, gzv, online.projector.as_ref(), 1.0, Par::Seq);
        online.encoder.backward(x0, gh.as_ref().subrows(0, rows), enc);
    } else {
        online.encoder.backward(x0, gzv, enc);
    }
    total * scale
}

/// `v <- mu v + g + lambda w;  w <- w - lr v` (PyTorch's SGD with momentum,
/// dampening 0, weight decay added to the gradient).
fn sgd(w: &mut Mat<f64>, v: &mut Mat<f64>, g: &Mat<f64>, hp: Hyper) {
    for j in 0..w.ncols() {
        for i in 0..w.nrows() {
            let d = g[(i, j)] + hp.weight_decay * w[(i, j)];
            let vel = hp.momentum * v[(i, j)] + d;
            v[(i, j)] = vel;
            w[(i, j)] -= hp.lr * vel;
        }
    }
}

/// `d = g + lambda w;  v <- mu v + d;  w <- w - lr (d + mu v)` (PyTorch's
/// SGD with `nesterov = True`: the gradient is taken at the stored point,
/// which is the look-ahead point of Nesterov's classical form).
fn nesterov(w: &mut Mat<f64>, v: &mut Mat<f64>, g: &Mat<f64>, hp: Hyper) {
    for j in 0..w.ncols() {
        for i in 0..w.nrows() {
            let d = g[(i, j)] + hp.weight_decay * w[(i, j)];
            let vel = hp.momentum * v[(i, j)] + d;
            v[(i, j)] = vel;
            w[(i, j)] -= hp.lr * (d + hp.momentum * vel);
        }
    }
}

/// PyTorch's AdamW at step `k` (operation order as `torch.optim.AdamW`'s
/// single-tensor loop): `w <- (1 - lr lambda) w;  m <- m + (1 - b1)(g - m);
/// s <- b2 s + (1 - b2) g^2;  w <- w - (lr/(1 - b1^k)) m / (sqrt(s)/sqrt(1 - b2^k) + eps)`.
fn adamw(w: &mut Mat<f64>, m: &mut Mat<f64>, s: &mut Mat<f64>, g: &Mat<f64>, hp: Hyper, k: i32) {
    let SslOptimizer::AdamW { beta1, beta2, eps } = hp.optimizer else { unreachable!("adamw called for {:?}", hp.optimizer) };
    let shrink = 1.0 - hp.lr * hp.weight_decay;
    // `powf` (libm's pow), as Python's `beta ** step` in torch.
    let step_size = hp.lr / (1.0 - beta1.powf(f64::from(k)));
    let c2_sqrt = (1.0 - beta2.powf(f64::from(k))).sqrt();
    for j in 0..w.ncols() {
        for i in 0..w.nrows() {
            let gij = g[(i, j)];
            let mij = m[(i, j)] + (1.0 - beta1) * (gij - m[(i, j)]);
            let sij = beta2 * s[(i, j)] + (1.0 - beta2) * gij * gij;
            m[(i, j)] = mij;
            s[(i, j)] = sij;
            w[(i, j)] = shrink * w[(i, j)] - step_size * (mij / (sij.sqrt() / c2_sqrt + eps));
        }
    }
}

/// One optimiser update of parameter `w` (velocity or first moment `v`,
/// second moment `s`) with gradient `g` at step `k`.
fn update(w: &mut Mat<f64>, v: &mut Mat<f64>, s: &mut Mat<f64>, g: &Mat<f64>, hp: Hyper, k: i32) {
    match hp.optimizer {
        SslOptimizer::Sgd => sgd(w, v, g, hp),
        SslOptimizer::Nesterov => nesterov(w, v, g, hp),
        SslOptimizer::AdamW { .. } => adamw(w, v, s, g, hp, k),
    }
}

/// `w' <- tau w' + (1 - tau) w`.
fn ema(t: &mut Mat<f64>, w: &Mat<f64>, tau: f64) {
    for j in 0..t.ncols() {
        for i in 0..t.nrows() {
            t[(i, j)] = tau * t[(i, j)] + (1.0 - tau) * w[(i, j)];
        }
    }
}

/// The optimiser update with the gradients in `ws`, then BYOL's EMA of the target.
pub fn apply_update(st: &mut State, hp: Hyper, ws: &Workspace) {
    st.steps = st.steps.saturating_add(1);
    let k = st.steps;
    let [v0, v1, v2, v3, v4] = &mut st.velocity;
    let [s0, s1, s2, s3, s4] = &mut st.second;
    update(&mut st.online.encoder.w1, v0, s0, &ws.enc.g1, hp, k);
    update(&mut st.online.encoder.w2, v1, s1, &ws.enc.g2, hp, k);
    update(&mut st.online.projector, v2, s2, &ws.g_proj, hp, k);
    update(&mut st.predictor.wa, v3, s3, &ws.g_wa, hp, k);
    update(&mut st.predictor.wb, v4, s4, &ws.g_wb, hp, k);
    if let Some(t) = &mut st.target {
        ema(&mut t.encoder.w1, &st.online.encoder.w1, hp.tau);
        ema(&mut t.encoder.w2, &st.online.encoder.w2, hp.tau);
        ema(&mut t.projector, &st.online.projector, hp.tau);
    }
}

/// Draws two views of each image in `images` into `ws.x0` (view 1 in rows
/// `0..b`, view 2 in rows `b..2b`; per image view 1 then view 2 from `rng`).
pub fn draw_views(prep: &Prepared, aug: &Augment, images: &[usize], rng: &mut ChaCha8Rng, ws: &mut Workspace) {
    let b = images.len();
    for (k, &i) in images.iter().enumerate() {
        for v in 0..2 {
            aug.view(prep.pixel_row(i), &prep.mean_image, &mut ws.view, rng);
            for (j, &x) in ws.view.iter().enumerate() {
                ws.x0[(v * b + k, j)] = x;
            }
        }
    }
}

/// One SGD step on the images `images`: views, loss and gradients, update.
/// Returns the batch loss before the update.
pub fn step(st: &mut State, prep: &Prepared, aug: &Augment, images: &[usize], rng: &mut ChaCha8Rng, hp: Hyper, ws: &mut Workspace) -> f64 {
    draw_views(prep, aug, images, rng, ws);
    let loss = loss_and_gradients(&st.online, &st.predictor, st.target.as_ref(), hp.variant, hp.loss, 2 * images.len(), ws);
    apply_update(st, hp, ws);
    loss
}

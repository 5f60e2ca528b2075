//! Model H's step with the cosine loss on the unit sphere (`docs/head.md`,
//! "Normalised embeddings and the cosine loss").
//!
//! Samples and labels are unit vectors, the head `W` is free. With
//! `z = W x`, `zhat = z/|z|` and `P_v = I - v v^T`, the sample branch's loss
//! `1 - cos(W x_i, sg(ybar_i))` per unit label weight and the label branch's
//! (`symmetric`: `1 - cos(W y_c, sg(x_i))`; `asymmetric`, `none`, `sg-only`:
//! `1 - cos(y_c, sg(x_i))`) give the projected flow
//!
//! ```text
//!   dx_i/dt = eta_x P_{x_i} W^T g(x_i; ybar_i),      g(v; t) = P_{zhat} t / |W v|
//!   dy_c/dt = (eta_y/n) P_{y_c} W^T g(y_c; S_c)     symmetric
//!             (eta_y/n) P_{y_c} S_c                 asymmetric, none, sg-only
//!   dW/dt   = (eta_w/N) [ sum_i g(x_i; ybar_i) x_i^T + g2 sum_c g(y_c; S_c) y_c^T ]   (g2 = 1 symmetric)
//! ```
//!
//! (`W` frozen at its start for `none`/`sg-only`). The cosine is invariant
//! under `W -> a W`, so `<dW/dt, W> = 0`: the flow conserves `|W|_F`. One
//! step is the projected step with every right-hand side at the old state,
//! then the retraction `v -> v/|v|` of every sample and label; `W` takes the
//! plain Euler step. The step is serial (no thread-dependent sums) and uses
//! only the preallocated [`SphereWorkspace`].
use crate::models::common::frustration::LabelWeights;
use crate::models::embedding::sphere::{normalize_rows, tangent_step};

use super::state::HeadState;

/// Buffers of one step, sized once.
pub struct SphereWorkspace {
    xnew: Vec<f64>,
    s: Vec<f64>,
    gw: Vec<f64>,
    z: Vec<f64>,
    g: Vec<f64>,
    v: Vec<f64>,
    t: Vec<f64>,
}

impl SphereWorkspace {
    pub fn new(a: &LabelWeights, d: usize) -> Self {
        SphereWorkspace {
            xnew: vec![0.0; a.samples() * d],
            s: vec![0.0; a.classes() * d],
            gw: vec![0.0; d * d],
            z: vec![0.0; d],
            g: vec![0.0; d],
            v: vec![0.0; d],
            t: vec![0.0; d],
        }
    }
}

/// `g = P_zhat t / |z|` with `z = W v`, and `out = W^T g` (`w` row-major `d x d`).
fn head_pull(w: &[f64], v: &[f64], t: &[f64], d: usize, z: &mut [f64], g: &mut [f64], out: &mut [f64]) {
    for (r, zr) in z.iter_mut().enumerate() {
        *zr = (0..d).map(|j| w[r * d + j] * v[j]).sum();
    }
    let nz = z.iter().map(|a| a * a).sum::<f64>().sqrt();
    let a = z.iter().zip(t).map(|(p, q)| p * q).sum::<f64>() / nz;
    for ((gr, &zr), &tr) in g.iter_mut().zip(z.iter()).zip(t) {
        *gr = (tr - a * zr / nz) / nz;
    }
    out.fill(0.0);
    for (r, &gr) in g.iter().enumerate() {
        for (o, &wv) in out.iter_mut().zip(&w[r * d..(r + 1) * d]) {
            *o += wv * gr;
        }
    }
}

/// One full-batch step (module doc). `symmetric` selects the label branch
/// through the head; `train_head` whether `W` moves; `cx = dt eta_x`,
/// `cy = dt eta_y / n`, `cw = dt eta_w / N`.
#[allow(clippy::too_many_arguments)]
pub fn sphere_step(a: &LabelWeights, st: &mut HeadState, symmetric: bool, train_head: bool, cx: f64, cy: f64, cw: f64, ws: &mut SphereWorkspace) {
    let d = st.dim;
    let k = a.classes();
    ws.s.fill(0.0);
    ws.gw.fill(0.0);
    for i in 0..a.samples() {
        let xi = &st.x[i * d..(i + 1) * d];
        let (cols, vals) = a.row_slices(i);
        ws.t.fill(0.0);
        for (&c, &wt) in cols.iter().zip(vals) {
            for j in 0..d {
                ws.t[j] += wt * st.y[c * d + j];
                ws.s[c * d + j] += wt * xi[j];
            }
        }
        head_pull(&st.w, xi, &ws.t, d, &mut ws.z, &mut ws.g, &mut ws.v);
        if train_head {
            for r in 0..d {
                for j in 0..d {
                    ws.gw[r * d + j] += ws.g[r] * xi[j];
                }
            }
        }
        let xn = &mut ws.xnew[i * d..(i + 1) * d];
        xn.copy_from_slice(xi);
        tangent_step(xn, &ws.v, cx);
    }
    for c in 0..k {
        let sc = &ws.s[c * d..(c + 1) * d];
        if symmetric {
            let yc = &st.y[c * d..(c + 1) * d];
            head_pull(&st.w, yc, sc, d, &mut ws.z, &mut ws.g, &mut ws.v);
            if train_head {
                for r in 0..d {
                    for j in 0..d {
                        ws.gw[r * d + j] += ws.g[r] * yc[j];
                    }
                }
            }
            tangent_step(&mut st.y[c * d..(c + 1) * d], &ws.v, cy);
        } else {
            tangent_step(&mut st.y[c * d..(c + 1) * d], sc, cy);
        }
    }
    if train_head {
        for (wv, &gv) in st.w.iter_mut().zip(&ws.gw) {
            *wv += cw * gv;
        }
    }
    st.x.copy_from_slice(&ws.xnew);
}

/// Puts a random start on the sphere (samples and labels normalised; the
/// head is left as drawn).
pub fn normalize_start(st: &mut HeadState) {
    normalize_rows(&mut st.x, st.dim);
    normalize_rows(&mut st.y, st.dim);
}

//! The training kernels: one full-batch gradient-descent step and one
//! minibatch step of the update in [`super`].
use faer::linalg::matmul::matmul;
use faer::reborrow::IntoConst;
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::prepare::{Labels, Prepared};
use super::state::{Rates, State, Workspace};
use crate::models::head::config::Variant;

/// One update on the samples `xi` (b x D) with label rows `a` (b x K):
/// `frac = b / N` of an epoch. `n_total` is `N`, `per_class` is `N/K`.
#[allow(clippy::too_many_arguments)]
fn update(st: &mut State, xi: MatRef<'_, f64>, a: MatRef<'_, f64>, r: Rates, dt: f64, frac: f64, n_total: usize, per_class: f64, ws: &mut Workspace) {
    let b = xi.nrows();
    let k = a.ncols();
    let v = r.variant;
    let h = f64::from(u8::from(v.full_gradient()));
    let label_uses_head = matches!(v, Variant::Symmetric | Variant::Head);
    let lam = r.weight_decay;
    let mut x = ws.x.as_mut().subrows_mut(0, b);
    st.encoder.forward(xi, x.as_mut(), &mut ws.enc);
    let x = x.into_const();
    let w = st.w.as_ref();
    let y = st.y.as_ref();
    let mut ybar = ws.ybar.as_mut().subrows_mut(0, b);
    matmul(ybar.as_mut(), Accum::Replace, a, y, 1.0, Par::Seq);
    let ybar = ybar.into_const();
    let mut rr = ws.r.as_mut().subrows_mut(0, b);
    matmul(rr.as_mut(), Accum::Replace, x, w.transpose(), 1.0, Par::Seq);
    sub_assign(rr.as_mut(), ybar);
    let rr = rr.into_const();
    let mut gx = ws.gx.as_mut().subrows_mut(0, b);
    matmul(gx.as_mut(), Accum::Replace, rr, w, 1.0, Par::Seq);
    if h != 0.0 {
        add_assign(gx.as_mut(), x);
        matmul(gx.as_mut(), Accum::Add, ybar, w.transpose(), -1.0, Par::Seq);
    }
    st.encoder.backward(xi, gx.as_ref(), &mut ws.enc);
    // Label side.
    for c in 0..k {
        ws.mass[c] = (0..b).map(|i| a[(i, c)]).sum();
    }
    matmul(ws.s.as_mut(), Accum::Replace, a.transpose(), x, 1.0, Par::Seq);
    let d = st.y.ncols();
    if label_uses_head || v.trains_head() {
        matmul(ws.q.as_mut(), Accum::Replace, y, w.transpose(), 1.0, Par::Seq);
        for j in 0..d {
            for c in 0..k {
                ws.q[(c, j)] = ws.mass[c] * ws.q[(c, j)] - ws.s[(c, j)];
            }
        }
    }
    if label_uses_head {
        matmul(ws.gy.as_mut(), Accum::Replace, ws.q.as_ref(), w, 1.0, Par::Seq);
        if v == Variant::Head {
            for j in 0..d {
                for c in 0..k {
                    ws.gy[(c, j)] += ws.mass[c] * y[(c, j)];
                }
            }
            matmul(ws.gy.as_mut(), Accum::Add, ws.s.as_ref(), w.transpose(), -1.0, Par::Seq);
        }
    } else {
        for j in 0..d {
            for c in 0..k {
                ws.gy[(c, j)] = ws.mass[c] * y[(c, j)] - ws.s[(c, j)];
            }
        }
    }
    if v.trains_head() {
        matmul(ws.gw.as_mut(), Accum::Replace, rr.transpose(), x, 1.0, Par::Seq);
        if label_uses_head {
            matmul(ws.gw.as_mut(), Accum::Add, ws.q.as_ref().transpose(), y, 1.0, Par::Seq);
        }
    }
    // Apply (every gradient above is at the old state).
    st.encoder.update(&ws.enc, dt * r.eta_x, frac * lam);
    let cy = dt * r.eta_y;
    for j in 0..d {
        for c in 0..k {
            let yv = st.y[(c, j)];
            st.y[(c, j)] = yv - cy * (ws.gy[(c, j)] / per_class + frac * lam * yv);
        }
    }
    if v.trains_head() {
        let cw = dt * r.eta_w;
        let inv_n = 1.0 / n_total as f64;
        for j in 0..d {
            for i in 0..d {
                let wv = st.w[(i, j)];
                st.w[(i, j)] = wv - cw * (ws.gw[(i, j)] * inv_n + frac * lam * wv);
            }
        }
    }
}

fn sub_assign(mut a: MatMut<'_, f64>, b: MatRef<'_, f64>) {
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            a[(i, j)] -= b[(i, j)];
        }
    }
}
fn add_assign(mut a: MatMut<'_, f64>, b: MatRef<'_, f64>) {
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            a[(i, j)] += b[(i, j)];
        }
    }
}

/// One full-batch gradient-descent step.
pub fn gd_step(st: &mut State, prep: &Prepared, labels: &Labels, r: Rates, dt: f64, ws: &mut Workspace) {
    let n = prep.samples();
    let per = n as f64 / prep.classes() as f64;
    update(st, prep.xi.as_ref(), labels.a.as_ref(), r, dt, 1.0, n, per, ws);
}

/// One minibatch step on the samples `rows` (gathered into the workspace).
pub fn sgd_step(st: &mut State, prep: &Prepared, labels: &Labels, r: Rates, dt: f64, rows: &[usize], ws: &mut Workspace) {
    let n = prep.samples();
    let per = n as f64 / prep.classes() as f64;
    let b = rows.len();
    for (bi, &i) in rows.iter().enumerate() {
        for j in 0..prep.xi.ncols() {
            ws.xb[(bi, j)] = prep.xi[(i, j)];
        }
        for c in 0..labels.a.ncols() {
            ws.ab[(bi, c)] = labels.a[(i, c)];
        }
    }
    let xb = std::mem::replace(&mut ws.xb, Mat::zeros(0, 0));
    let ab = std::mem::replace(&mut ws.ab, Mat::zeros(0, 0));
    update(st, xb.as_ref().subrows(0, b), ab.as_ref().subrows(0, b), r, dt, b as f64 / n as f64, n, per, ws);
    ws.xb = xb;
    ws.ab = ab;
}

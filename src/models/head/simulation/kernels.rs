//! The stepping kernels of Model H: one full-batch GD step and one minibatch
//! SGD step of the equations in [`super`], each with its per-sample (per-pair)
//! pass compiled once per small dimension.
use crate::models::common::frustration::LabelWeights;
use crate::models::head::config::Variant;
use crate::simd::Level;

use super::state::{HeadRates, HeadState, HeadWorkspace};

/// The monomorphised pass for embedding dimension `d` (1..=8, loops fully
/// unrolled, no bounds checks), or the generic one (`D = 0`) for any `d`.
macro_rules! by_dimension {
    ($pass:ident, $d:expr) => {
        match $d {
            1 => $pass::<1>,
            2 => $pass::<2>,
            3 => $pass::<3>,
            4 => $pass::<4>,
            5 => $pass::<5>,
            6 => $pass::<6>,
            7 => $pass::<7>,
            8 => $pass::<8>,
            _ => $pass::<0>,
        }
    };
}

#[inline]
pub(super) fn matvec(w: &[f64], v: &[f64], out: &mut [f64]) {
    let d = v.len();
    for j in 0..d {
        out[j] = (0..d).map(|l| w[j * d + l] * v[l]).sum();
    }
}
/// `out1 = W^T v1` and `out2 = W^T v2` in one sweep over `W`, each entry
/// summed as in [`matvec_t`].
#[inline]
fn matvec_t2(w: &[f64], v1: &[f64], v2: &[f64], out1: &mut [f64], out2: &mut [f64]) {
    let d = v1.len();
    out1.fill(0.0);
    out2.fill(0.0);
    for j in 0..d {
        for l in 0..d {
            out1[l] += w[j * d + l] * v1[j];
            out2[l] += w[j * d + l] * v2[j];
        }
    }
}
#[inline]
fn matvec_t(w: &[f64], v: &[f64], out: &mut [f64]) {
    let d = v.len();
    out.fill(0.0);
    for j in 0..d {
        for l in 0..d {
            out[l] += w[j * d + l] * v[j];
        }
    }
}

/// The per-sample part of [`gd_step`] for the dimension `D` (`0`: any,
/// read from the state): `r_i = W x_i - ybar_i`, `t_i = W ybar_i`, the class
/// sums `S_c += A_ic x_i`, the head gradient `G += r_i x_i^T` and the sample
/// gradient `W^T r_i + h (x_i - t_i) + lambda x_i`, in that order.
///
/// `ybar_i` and `W ybar_i` depend on row `i` only through its labels and
/// weights, so they are accumulated once per row pattern (each coordinate
/// over the row's labels in row order, from zero, as per row before); the
/// class sums keep their order over the samples. Expects `ws.wy = W y_c`.
#[inline(always)]
fn sample_pass<const D: usize>(a: &LabelWeights, st: &HeadState, ws: &mut HeadWorkspace, h: f64, lam: f64, train: bool) {
    let d = if D == 0 { st.dim } else { D };
    debug_assert_eq!(d, st.dim);
    let w = &st.w[..d * d];
    let y = &st.y;
    let HeadWorkspace { wx: ws_wx, s, wy, gw, dx, r: ws_r, row_pattern, pattern_rows, ybar, wybar, .. } = ws;
    for ((&row, yb), wyb) in pattern_rows.iter().zip(ybar.chunks_exact_mut(d)).zip(wybar.chunks_exact_mut(d)) {
        let (yb, wyb) = (&mut yb[..d], &mut wyb[..d]);
        yb.fill(0.0);
        wyb.fill(0.0);
        let (cols, vals) = a.row_slices(row);
        for (&c, &v) in cols.iter().zip(vals) {
            let (yc, wyc) = (&y[c * d..(c + 1) * d], &wy[c * d..(c + 1) * d]);
            for j in 0..d {
                yb[j] += v * yc[j];
                wyb[j] += v * wyc[j];
            }
        }
    }
    // For a fixed small `d` the per-sample vectors and the head gradient live
    // on the stack, so they stay in registers: accumulated in `ws`, the
    // scalar stores of `r` were reloaded as one 16-byte vector, a
    // store-forwarding stall that took a third of the pass. Same operations
    // in the same order either way.
    let (mut wx, mut r, mut g_local) = ([0.0; 8], [0.0; 8], [0.0; 64]);
    let (wx, r) = if D == 0 { (&mut ws_wx[..d], &mut ws_r[..d]) } else { (&mut wx[..d], &mut r[..d]) };
    let g: &mut [f64] = if D == 0 {
        &mut gw[..d * d]
    } else {
        g_local[..d * d].copy_from_slice(&gw[..d * d]);
        &mut g_local[..d * d]
    };
    for (i, (xi, dxi)) in st.x.chunks_exact(d).zip(dx.chunks_exact_mut(d)).enumerate() {
        // Re-sliced so that the length is the constant `d` when `D > 0`.
        let (xi, dxi) = (&xi[..d], &mut dxi[..d]);
        let p = row_pattern[i];
        let (yb, t) = (&ybar[p * d..(p + 1) * d], &wybar[p * d..(p + 1) * d]);
        matvec(w, xi, wx);
        let (cols, vals) = a.row_slices(i);
        for (&c, &v) in cols.iter().zip(vals) {
            let sc = &mut s[c * d..(c + 1) * d];
            for j in 0..d {
                sc[j] += v * xi[j];
            }
        }
        for j in 0..d {
            r[j] = wx[j] - yb[j];
        }
        if train {
            for (gj, &rj) in g.chunks_exact_mut(d).zip(r.iter()) {
                for l in 0..d {
                    gj[l] += rj * xi[l];
                }
            }
        }
        matvec_t(w, r, dxi);
        for j in 0..d {
            dxi[j] += h * (xi[j] - t[j]) + lam * xi[j];
        }
    }
    if D != 0 {
        gw[..d * d].copy_from_slice(&g_local[..d * d]);
    }
}

/// One full-batch gradient-descent step of the equations above, every
/// right-hand side evaluated at the old state.
///
/// The step (and its per-sample pass, all but `O(K d^2)` of the work) is
/// compiled once per small dimension (`d <= 8`, where the loops unroll
/// completely) and once for any `d`, each for portable x86-64 and for AVX2
/// (chosen at run time by `crate::simd`); every variant performs the same
/// floating-point operations in the same order, so the step is
/// bit-identical whichever one runs.
pub fn gd_step(a: &LabelWeights, st: &mut HeadState, r: HeadRates, dt: f64, ws: &mut HeadWorkspace) {
    gd_step_at(crate::simd::level(), a, st, r, dt, ws)
}

/// [`gd_step`] compiled for the instruction-set `level` (`crate::simd`):
/// AVX2 also for AVX-512 machines (the vectors of a small `d` are short).
fn gd_step_at(level: Level, a: &LabelWeights, st: &mut HeadState, r: HeadRates, dt: f64, ws: &mut HeadWorkspace) {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `crate::simd` reports AVX2 or wider only when the CPU has AVX2.
        Level::Avx2 | Level::Avx512 => unsafe { by_dimension!(gd_step_avx2, st.dim)(a, st, r, dt, ws) },
        _ => by_dimension!(gd_step_fixed, st.dim)(a, st, r, dt, ws),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gd_step_avx2<const D: usize>(a: &LabelWeights, st: &mut HeadState, r: HeadRates, dt: f64, ws: &mut HeadWorkspace) {
    gd_step_fixed::<D>(a, st, r, dt, ws)
}

/// [`gd_step`] for the dimension `D` (`0`: any).
#[inline(always)]
fn gd_step_fixed<const D: usize>(a: &LabelWeights, st: &mut HeadState, r: HeadRates, dt: f64, ws: &mut HeadWorkspace) {
    let d = if D == 0 { st.dim } else { D };
    debug_assert_eq!(d, st.dim);
    let (n_s, k) = (a.samples(), a.classes());
    let n = a.per_class();
    let h = r.h();
    let lam = r.weight_decay;
    ws.s.fill(0.0);
    ws.gw.fill(0.0);
    for c in 0..k {
        matvec(&st.w[..d * d], &st.y[c * d..(c + 1) * d], &mut ws.wy[c * d..(c + 1) * d]);
    }
    let train = r.variant.trains_head();
    sample_pass::<D>(a, st, ws, h, lam, train);
    // Label gradients: q_c = m_c W y_c - S_c.
    let w = &st.w[..d * d];
    let (q, wsc) = (&mut ws.r[..d], &mut ws.t[..d]);
    for c in 0..k {
        let m = a.class_mass(c);
        let (wyc, sc) = (&ws.wy[c * d..(c + 1) * d], &ws.s[c * d..(c + 1) * d]);
        for j in 0..d {
            q[j] = m * wyc[j] - sc[j];
        }
        let yc = &st.y[c * d..(c + 1) * d];
        let dyc = &mut ws.dy[c * d..(c + 1) * d];
        if r.label_uses_head() {
            matvec_t(w, q, dyc);
            if r.variant == Variant::Head {
                matvec(w, sc, wsc);
                for j in 0..d {
                    dyc[j] += m * yc[j] - wsc[j];
                }
            }
        } else {
            for j in 0..d {
                dyc[j] = m * yc[j] - sc[j];
            }
        }
        for j in 0..d {
            dyc[j] = dyc[j] / n + lam * yc[j];
        }
        if r.variant.trains_head() && r.label_uses_head() {
            for (gj, &qj) in ws.gw[..d * d].chunks_exact_mut(d).zip(q.iter()) {
                for l in 0..d {
                    gj[l] += qj * yc[l];
                }
            }
        }
    }
    let (cx, cy, cw) = (dt * r.eta_x, dt * r.eta_y, dt * r.eta_w);
    for (xv, dv) in st.x.iter_mut().zip(&ws.dx[..n_s * d]) {
        *xv -= cx * dv;
    }
    for (yv, dv) in st.y.iter_mut().zip(&ws.dy) {
        *yv -= cy * dv;
    }
    if r.variant.trains_head() {
        let inv_n = 1.0 / n_s as f64;
        for (wv, g) in st.w.iter_mut().zip(&ws.gw) {
            *wv -= cw * (g * inv_n + lam * *wv);
        }
    }
}

/// The per-pair part of [`sgd_step`] for the dimension `D` (`0`: any), as
/// [`sample_pass`] for [`gd_step`]: same operations in the same order for
/// every `D`. With `wy_hoisted`, `W y_c` is read from `ws.wy` (computed once
/// per class by the caller, the same operations as per pair).
#[inline(always)]
fn pair_pass<const D: usize>(a: &LabelWeights, pair_rows: &[usize], st: &HeadState, r: HeadRates, batch: &[usize], wy_hoisted: bool, ws: &mut HeadWorkspace) {
    let d = if D == 0 { st.dim } else { D };
    debug_assert_eq!(d, st.dim);
    let n = a.per_class();
    let h = r.h();
    let lam = r.weight_decay;
    let w = &st.w[..d * d];
    let HeadWorkspace { wx: ws_wx, wy, gw, dy, dx, r: ws_r, t: ws_t, q: ws_q, .. } = ws;
    let gw = &mut gw[..d * d];
    let (mut local, mut rr, mut t, mut q) = ([0.0; 16], [0.0; 8], [0.0; 8], [0.0; 8]);
    // W x_i, W y_c and the per-pair vectors: on the stack for small d (see
    // `sample_pass` for why), else in the workspace.
    let (wxi, wyc_buf) = if D == 0 { ws_wx[..2 * d].split_at_mut(d) } else { local[..2 * d].split_at_mut(d) };
    let (rr, t, q) = if D == 0 { (&mut ws_r[..d], &mut ws_t[..d], &mut ws_q[..d]) } else { (&mut rr[..d], &mut t[..d], &mut q[..d]) };
    let (trains, label_head) = (r.variant.trains_head(), r.label_uses_head());
    for (&p, dxb) in batch.iter().zip(dx.chunks_exact_mut(d)) {
        let i = pair_rows[p];
        let (c, v) = a.pair(p);
        let xi = &st.x[i * d..(i + 1) * d];
        let yc = &st.y[c * d..(c + 1) * d];
        let dxb = &mut dxb[..d];
        matvec(w, xi, wxi);
        let wyc: &[f64] = if wy_hoisted {
            &wy[c * d..(c + 1) * d]
        } else {
            matvec(w, yc, wyc_buf);
            wyc_buf
        };
        // The sample branch's residual W x_i - y_c and the label branch's
        // q = W y_c - x_i; W^T of both in one sweep over W when the label
        // branch goes through the head.
        for j in 0..d {
            rr[j] = wxi[j] - yc[j];
            q[j] = wyc[j] - xi[j];
        }
        if label_head {
            matvec_t2(w, rr, q, dxb, t);
        } else {
            matvec_t(w, rr, dxb);
        }
        for j in 0..d {
            dxb[j] = v * (dxb[j] + h * (xi[j] - wyc[j]) + lam * xi[j]);
        }
        // Each entry of G takes the pair's sample term, then its label term.
        if trains && label_head {
            for (gj, (&rj, &qj)) in gw.chunks_exact_mut(d).zip(rr.iter().zip(q.iter())) {
                for l in 0..d {
                    gj[l] += v * rj * xi[l];
                    gj[l] += v * qj * yc[l];
                }
            }
        } else if trains {
            for (gj, &rj) in gw.chunks_exact_mut(d).zip(rr.iter()) {
                for l in 0..d {
                    gj[l] += v * rj * xi[l];
                }
            }
        }
        if label_head {
            if r.variant == Variant::Head {
                for j in 0..d {
                    t[j] += yc[j] - wxi[j];
                }
            }
        } else {
            for j in 0..d {
                t[j] = yc[j] - xi[j];
            }
        }
        let dyc = &mut dy[c * d..(c + 1) * d];
        for j in 0..d {
            dyc[j] += v * t[j] / n;
        }
    }
}

/// One minibatch SGD step over the pairs `batch` (indices into the pair
/// list), every gradient at the old state; compiled per small dimension as
/// [`gd_step`], bit-identical whichever variant runs.
pub fn sgd_step(a: &LabelWeights, pair_rows: &[usize], st: &mut HeadState, r: HeadRates, dt: f64, batch: &[usize], ws: &mut HeadWorkspace) {
    sgd_step_at(crate::simd::level(), a, pair_rows, st, r, dt, batch, ws)
}

/// [`sgd_step`] compiled for the instruction-set `level`, as [`gd_step_at`].
#[allow(clippy::too_many_arguments)]
fn sgd_step_at(level: Level, a: &LabelWeights, pair_rows: &[usize], st: &mut HeadState, r: HeadRates, dt: f64, batch: &[usize], ws: &mut HeadWorkspace) {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `gd_step_at`.
        Level::Avx2 | Level::Avx512 => unsafe { by_dimension!(sgd_step_avx2, st.dim)(a, pair_rows, st, r, dt, batch, ws) },
        _ => by_dimension!(sgd_step_fixed, st.dim)(a, pair_rows, st, r, dt, batch, ws),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sgd_step_avx2<const D: usize>(a: &LabelWeights, pair_rows: &[usize], st: &mut HeadState, r: HeadRates, dt: f64, batch: &[usize], ws: &mut HeadWorkspace) {
    sgd_step_fixed::<D>(a, pair_rows, st, r, dt, batch, ws)
}

/// [`sgd_step`] for the dimension `D` (`0`: any).
#[inline(always)]
fn sgd_step_fixed<const D: usize>(a: &LabelWeights, pair_rows: &[usize], st: &mut HeadState, r: HeadRates, dt: f64, batch: &[usize], ws: &mut HeadWorkspace) {
    let d = if D == 0 { st.dim } else { D };
    debug_assert_eq!(d, st.dim);
    let lam = r.weight_decay;
    let frac = batch.len() as f64 / a.pairs() as f64;
    ws.dy.fill(0.0);
    ws.gw.fill(0.0);
    // W y_c once per class when there are no more classes than pairs in the batch.
    let wy_hoisted = a.classes() <= batch.len();
    if wy_hoisted {
        for c in 0..a.classes() {
            matvec(&st.w[..d * d], &st.y[c * d..(c + 1) * d], &mut ws.wy[c * d..(c + 1) * d]);
        }
    }
    pair_pass::<D>(a, pair_rows, st, r, batch, wy_hoisted, ws);
    let (cx, cy, cw) = (dt * r.eta_x, dt * r.eta_y, dt * r.eta_w);
    for (&p, dxb) in batch.iter().zip(ws.dx.chunks_exact(d)) {
        let i = pair_rows[p];
        let (xi, dxb) = (&mut st.x[i * d..(i + 1) * d], &dxb[..d]);
        for j in 0..d {
            xi[j] -= cx * dxb[j];
        }
    }
    for (yv, dv) in st.y.iter_mut().zip(&ws.dy) {
        *yv -= cy * (dv + frac * lam * *yv);
    }
    if r.variant.trains_head() {
        let inv_n = 1.0 / a.samples() as f64;
        for (wv, g) in st.w.iter_mut().zip(&ws.gw) {
            *wv -= cw * (g * inv_n + frac * lam * *wv);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The passes and steps compiled for a fixed `D` against the generic ones
    //! (`D = 0`), and both against the per-row passes they replaced (kept
    //! here as the reference): `gd_step` and `sgd_step` promise the same bits
    //! whichever one runs.
    use super::*;
    use crate::models::head::config::HeadConfig;

    fn case(variant: &str, dim: usize) -> (LabelWeights, HeadState, HeadRates) {
        let sets: Vec<String> = [format!("variant={variant}"), "frustrated=0.3".into(), "weight_decay=0.07".into(), format!("dim={dim}"), "per_class=10".into()].into();
        let c = HeadConfig::from_sets(&sets).unwrap();
        let a = c.base.label_weights().unwrap();
        let st = HeadState::random(&a, dim, 1.0, 0.3, 11);
        (a, st, HeadRates::from_config(&c))
    }

    fn bits(ws: &HeadWorkspace) -> Vec<u64> {
        ws.dx.iter().chain(&ws.s).chain(&ws.gw).chain(&ws.dy).map(|v| v.to_bits()).collect()
    }

    fn state_bits(st: &HeadState) -> Vec<u64> {
        st.x.iter().chain(&st.y).chain(&st.w).map(|v| v.to_bits()).collect()
    }

    /// The per-sample pass as it was before the row patterns: `ybar_i` and
    /// `W ybar_i` accumulated per row.
    fn reference_sample_pass(a: &LabelWeights, st: &HeadState, ws: &mut HeadWorkspace, h: f64, lam: f64, train: bool) {
        let d = st.dim;
        let (mut wx, mut r, mut t) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        for (i, (xi, dxi)) in st.x.chunks_exact(d).zip(ws.dx.chunks_exact_mut(d)).enumerate() {
            matvec(&st.w, xi, &mut wx);
            r.fill(0.0);
            t.fill(0.0);
            for (c, v) in a.row(i) {
                for j in 0..d {
                    r[j] += v * st.y[c * d + j];
                    t[j] += v * ws.wy[c * d + j];
                    ws.s[c * d + j] += v * xi[j];
                }
            }
            for j in 0..d {
                r[j] = wx[j] - r[j];
            }
            if train {
                for j in 0..d {
                    for l in 0..d {
                        ws.gw[j * d + l] += r[j] * xi[l];
                    }
                }
            }
            matvec_t(&st.w, &r, dxi);
            for j in 0..d {
                dxi[j] += h * (xi[j] - t[j]) + lam * xi[j];
            }
        }
    }

    /// The per-pair pass as it was before `W y_c` was hoisted out of it.
    fn reference_pair_pass(a: &LabelWeights, pair_rows: &[usize], st: &HeadState, r: HeadRates, batch: &[usize], ws: &mut HeadWorkspace) {
        let d = st.dim;
        let (n, h, lam) = (a.per_class(), r.h(), r.weight_decay);
        let (mut wxi, mut wyc, mut rr, mut t) = (vec![0.0; d], vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        for (b, &p) in batch.iter().enumerate() {
            let i = pair_rows[p];
            let (c, v) = a.pair(p);
            let (xi, yc) = (&st.x[i * d..(i + 1) * d], &st.y[c * d..(c + 1) * d]);
            matvec(&st.w, xi, &mut wxi);
            matvec(&st.w, yc, &mut wyc);
            for j in 0..d {
                rr[j] = wxi[j] - yc[j];
            }
            let dxb = &mut ws.dx[b * d..(b + 1) * d];
            matvec_t(&st.w, &rr, dxb);
            for j in 0..d {
                dxb[j] = v * (dxb[j] + h * (xi[j] - wyc[j]) + lam * xi[j]);
            }
            if r.variant.trains_head() {
                for j in 0..d {
                    for l in 0..d {
                        ws.gw[j * d + l] += v * rr[j] * xi[l];
                    }
                }
            }
            for j in 0..d {
                rr[j] = wyc[j] - xi[j];
            }
            if r.label_uses_head() {
                matvec_t(&st.w, &rr, &mut t);
                if r.variant == Variant::Head {
                    for j in 0..d {
                        t[j] += yc[j] - wxi[j];
                    }
                }
                if r.variant.trains_head() {
                    for j in 0..d {
                        for l in 0..d {
                            ws.gw[j * d + l] += v * rr[j] * yc[l];
                        }
                    }
                }
            } else {
                for j in 0..d {
                    t[j] = yc[j] - xi[j];
                }
            }
            for j in 0..d {
                ws.dy[c * d + j] += v * t[j] / n;
            }
        }
    }

    #[test]
    fn fixed_dimension_passes_match_the_generic_and_the_per_row_passes_bit_for_bit() {
        for variant in ["head", "symmetric", "asymmetric", "sg-only"] {
            for dim in [3, 6] {
                let (a, st, r) = case(variant, dim);
                let pairs: Vec<usize> = (0..a.pairs()).step_by(3).take(16).collect();
                let rows = a.pair_row_index();
                // 0: the per-row reference, 1: generic, 2: fixed D; the pair pass
                // reads `W y_c` hoisted in the generic run and per pair in the fixed one, and the other way round.
                let run = |which: u8, wy_hoisted: bool| {
                    let mut ws = HeadWorkspace::new(&a, dim, pairs.len());
                    for c in 0..a.classes() {
                        matvec(&st.w, &st.y[c * dim..(c + 1) * dim], &mut ws.wy[c * dim..(c + 1) * dim]);
                    }
                    let (h, lam, train) = (r.h(), r.weight_decay, r.variant.trains_head());
                    match which {
                        0 => reference_sample_pass(&a, &st, &mut ws, h, lam, train),
                        1 => sample_pass::<0>(&a, &st, &mut ws, h, lam, train),
                        _ => by_dimension!(sample_pass, dim)(&a, &st, &mut ws, h, lam, train),
                    }
                    let full = bits(&ws);
                    ws.gw.fill(0.0);
                    match which {
                        0 => reference_pair_pass(&a, &rows, &st, r, &pairs, &mut ws),
                        1 => pair_pass::<0>(&a, &rows, &st, r, &pairs, wy_hoisted, &mut ws),
                        _ => by_dimension!(pair_pass, dim)(&a, &rows, &st, r, &pairs, wy_hoisted, &mut ws),
                    }
                    (full, bits(&ws))
                };
                let reference = run(0, false);
                assert!(reference.0.iter().any(|&b| b != 0), "{variant} d = {dim}: the pass wrote nothing");
                for (which, hoisted) in [(1, true), (1, false), (2, true), (2, false)] {
                    assert_eq!(reference, run(which, hoisted), "{variant} d = {dim}: pass {which} (W y_c hoisted: {hoisted}) differs from the per-row pass");
                }
            }
        }
    }

    #[test]
    fn fixed_dimension_steps_match_the_generic_steps_bit_for_bit_at_every_level() {
        for variant in ["head", "symmetric", "asymmetric", "sg-only"] {
            for dim in [3, 6] {
                let (a, start, r) = case(variant, dim);
                let rows = a.pair_row_index();
                // A batch with more pairs than classes (W y_c hoisted) and one with fewer.
                for batch in [(0..a.pairs()).step_by(3).take(16).collect::<Vec<usize>>(), vec![1, 7]] {
                    // `None`: the generic step; else the dispatched one at that level.
                    let run = |level: Option<Level>| {
                        let (mut gd, mut sgd) = (start.clone(), start.clone());
                        let mut ws = HeadWorkspace::new(&a, dim, batch.len());
                        for _ in 0..3 {
                            match level {
                                None => {
                                    gd_step_fixed::<0>(&a, &mut gd, r, 0.05, &mut ws);
                                    sgd_step_fixed::<0>(&a, &rows, &mut sgd, r, 0.05, &batch, &mut ws);
                                }
                                Some(level) => {
                                    gd_step_at(level, &a, &mut gd, r, 0.05, &mut ws);
                                    sgd_step_at(level, &a, &rows, &mut sgd, r, 0.05, &batch, &mut ws);
                                }
                            }
                        }
                        (state_bits(&gd), state_bits(&sgd))
                    };
                    let generic = run(None);
                    assert_ne!(generic.0, state_bits(&start), "{variant} d = {dim}: the GD step moved nothing");
                    assert_ne!(generic.1, state_bits(&start), "{variant} d = {dim}: the SGD step moved nothing");
                    for level in crate::simd::supported() {
                        assert_eq!(generic, run(Some(level)), "{variant} d = {dim}, batch {}, {level:?}: fixed-D step differs from the generic one", batch.len());
                    }
                }
            }
        }
    }
}

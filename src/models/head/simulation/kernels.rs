//! The stepping kernels of Model H: one full-batch GD step and one minibatch
//! SGD step of the equations in [`super`], each with its per-sample (per-pair)
//! pass compiled once per small dimension.
use crate::models::common::frustration::LabelWeights;
use crate::models::head::config::Variant;

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
#[inline(always)]
fn sample_pass<const D: usize>(a: &LabelWeights, st: &HeadState, ws: &mut HeadWorkspace, h: f64, lam: f64, train: bool) {
    let d = if D == 0 { st.dim } else { D };
    debug_assert_eq!(d, st.dim);
    let w = &st.w[..d * d];
    let (y, wy) = (&st.y, &ws.wy);
    // For a fixed small `d` the per-sample vectors live on the stack, so they
    // stay in registers: accumulated in `ws`, the scalar stores of `r` were
    // reloaded as one 16-byte vector, a store-forwarding stall that took a
    // third of the pass. Same operations in the same order either way.
    let (mut wx, mut r, mut t) = ([0.0; 8], [0.0; 8], [0.0; 8]);
    let (wx, r, t) = if D == 0 { (&mut ws.wx[..d], &mut ws.r[..d], &mut ws.t[..d]) } else { (&mut wx[..d], &mut r[..d], &mut t[..d]) };
    for (i, (xi, dxi)) in st.x.chunks_exact(d).zip(ws.dx.chunks_exact_mut(d)).enumerate() {
        // Re-sliced so that the length is the constant `d` when `D > 0`.
        let (xi, dxi) = (&xi[..d], &mut dxi[..d]);
        let (cols, vals) = a.row_slices(i);
        matvec(w, xi, wx);
        // r accumulates ybar_i (negated below) and t accumulates W ybar_i,
        // each coordinate over the row's labels in row order.
        r.fill(0.0);
        t.fill(0.0);
        for (&c, &v) in cols.iter().zip(vals) {
            let (yc, wyc) = (&y[c * d..(c + 1) * d], &wy[c * d..(c + 1) * d]);
            let sc = &mut ws.s[c * d..(c + 1) * d];
            for j in 0..d {
                r[j] += v * yc[j];
                t[j] += v * wyc[j];
                sc[j] += v * xi[j];
            }
        }
        for j in 0..d {
            r[j] = wx[j] - r[j];
        }
        if train {
            for (gj, &rj) in ws.gw.chunks_exact_mut(d).zip(r.iter()) {
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
}

/// One full-batch gradient-descent step of the equations above, every
/// right-hand side evaluated at the old state.
///
/// The per-sample pass (all but `O(K d^2)` of the work) is compiled once per
/// small dimension (`d <= 8`, where the loops unroll completely) and once
/// for any `d`; every variant performs the same floating-point operations
/// in the same order, so the step is bit-identical whichever one runs.
pub fn gd_step(a: &LabelWeights, st: &mut HeadState, r: HeadRates, dt: f64, ws: &mut HeadWorkspace) {
    let d = st.dim;
    let (n_s, k) = (a.samples(), a.classes());
    let n = a.per_class();
    let h = r.h();
    let lam = r.weight_decay;
    ws.s.fill(0.0);
    ws.gw.fill(0.0);
    for c in 0..k {
        matvec(&st.w, &st.y[c * d..(c + 1) * d], &mut ws.wy[c * d..(c + 1) * d]);
    }
    let train = r.variant.trains_head();
    let pass = by_dimension!(sample_pass, d);
    pass(a, st, ws, h, lam, train);
    // Label gradients: q_c = m_c W y_c - S_c.
    for c in 0..k {
        let m = a.class_mass(c);
        for j in 0..d {
            ws.r[j] = m * ws.wy[c * d + j] - ws.s[c * d + j];
        }
        let yc = &st.y[c * d..(c + 1) * d];
        let dyc = &mut ws.dy[c * d..(c + 1) * d];
        if r.label_uses_head() {
            matvec_t(&st.w, &ws.r, dyc);
            if r.variant == Variant::Head {
                matvec(&st.w, &ws.s[c * d..(c + 1) * d], &mut ws.t);
                for j in 0..d {
                    dyc[j] += m * yc[j] - ws.t[j];
                }
            }
        } else {
            for j in 0..d {
                dyc[j] = m * yc[j] - ws.s[c * d + j];
            }
        }
        for j in 0..d {
            dyc[j] = dyc[j] / n + lam * yc[j];
        }
        if r.variant.trains_head() && r.label_uses_head() {
            for j in 0..d {
                for l in 0..d {
                    ws.gw[j * d + l] += ws.r[j] * yc[l];
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
/// every `D`.
#[inline(always)]
fn pair_pass<const D: usize>(a: &LabelWeights, pair_rows: &[usize], st: &HeadState, r: HeadRates, batch: &[usize], ws: &mut HeadWorkspace) {
    let d = if D == 0 { st.dim } else { D };
    debug_assert_eq!(d, st.dim);
    let n = a.per_class();
    let h = r.h();
    let lam = r.weight_decay;
    let w = &st.w[..d * d];
    let (mut local, mut rr, mut t) = ([0.0; 16], [0.0; 8], [0.0; 8]);
    // W x_i, W y_c and the per-pair vectors: on the stack for small d (see
    // `sample_pass` for why), else in the workspace.
    let (wxi, wyc) = if D == 0 { ws.wx[..2 * d].split_at_mut(d) } else { local[..2 * d].split_at_mut(d) };
    let (rr, t) = if D == 0 { (&mut ws.r[..d], &mut ws.t[..d]) } else { (&mut rr[..d], &mut t[..d]) };
    for (&p, dxb) in batch.iter().zip(ws.dx.chunks_exact_mut(d)) {
        let i = pair_rows[p];
        let (c, v) = a.pair(p);
        let xi = &st.x[i * d..(i + 1) * d];
        let yc = &st.y[c * d..(c + 1) * d];
        let dxb = &mut dxb[..d];
        matvec(w, xi, wxi);
        matvec(w, yc, wyc);
        for j in 0..d {
            rr[j] = wxi[j] - yc[j];
        }
        matvec_t(w, rr, dxb);
        for j in 0..d {
            dxb[j] = v * (dxb[j] + h * (xi[j] - wyc[j]) + lam * xi[j]);
        }
        if r.variant.trains_head() {
            for (gj, &rj) in ws.gw.chunks_exact_mut(d).zip(rr.iter()) {
                for l in 0..d {
                    gj[l] += v * rj * xi[l];
                }
            }
        }
        // Label branch: q = W y_c - x_i.
        for j in 0..d {
            rr[j] = wyc[j] - xi[j];
        }
        if r.label_uses_head() {
            matvec_t(w, rr, t);
            if r.variant == Variant::Head {
                for j in 0..d {
                    t[j] += yc[j] - wxi[j];
                }
            }
            if r.variant.trains_head() {
                for (gj, &rj) in ws.gw.chunks_exact_mut(d).zip(rr.iter()) {
                    for l in 0..d {
                        gj[l] += v * rj * yc[l];
                    }
                }
            }
        } else {
            for j in 0..d {
                t[j] = yc[j] - xi[j];
            }
        }
        let dyc = &mut ws.dy[c * d..(c + 1) * d];
        for j in 0..d {
            dyc[j] += v * t[j] / n;
        }
    }
}

/// One minibatch SGD step over the pairs `batch` (indices into the pair
/// list), every gradient at the old state.
pub fn sgd_step(a: &LabelWeights, pair_rows: &[usize], st: &mut HeadState, r: HeadRates, dt: f64, batch: &[usize], ws: &mut HeadWorkspace) {
    let d = st.dim;
    let lam = r.weight_decay;
    let frac = batch.len() as f64 / a.pairs() as f64;
    ws.dy.fill(0.0);
    ws.gw.fill(0.0);
    let pass = by_dimension!(pair_pass, d);
    pass(a, pair_rows, st, r, batch, ws);
    let (cx, cy, cw) = (dt * r.eta_x, dt * r.eta_y, dt * r.eta_w);
    for (b, &p) in batch.iter().enumerate() {
        let i = pair_rows[p];
        for j in 0..d {
            st.x[i * d + j] -= cx * ws.dx[b * d + j];
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
    //! The passes compiled for a fixed `D` against the generic pass (`D = 0`):
    //! `gd_step` and `sgd_step` promise the same bits whichever one runs.
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

    #[test]
    fn fixed_dimension_passes_match_the_generic_pass_bit_for_bit() {
        for variant in ["head", "symmetric", "asymmetric", "sg-only"] {
            for dim in [3, 6] {
                let (a, st, r) = case(variant, dim);
                let pairs: Vec<usize> = (0..a.pairs()).step_by(3).take(16).collect();
                let rows = a.pair_row_index();
                let run = |fixed: bool| {
                    let mut ws = HeadWorkspace::new(&a, dim, pairs.len());
                    for c in 0..a.classes() {
                        matvec(&st.w, &st.y[c * dim..(c + 1) * dim], &mut ws.wy[c * dim..(c + 1) * dim]);
                    }
                    let (sample, pair) = if fixed { (by_dimension!(sample_pass, dim), by_dimension!(pair_pass, dim)) } else { (sample_pass::<0> as _, pair_pass::<0> as _) };
                    sample(&a, &st, &mut ws, r.h(), r.weight_decay, r.variant.trains_head());
                    let full = bits(&ws);
                    ws.gw.fill(0.0);
                    pair(&a, &rows, &st, r, &pairs, &mut ws);
                    (full, bits(&ws))
                };
                let (generic, fixed) = (run(false), run(true));
                assert!(generic.0.iter().any(|&b| b != 0), "{variant} d = {dim}: the pass wrote nothing");
                assert_eq!(generic, fixed, "{variant} d = {dim}: fixed-D pass differs from the generic one");
            }
        }
    }
}

//! Diagnostics of the head: its spectrum on the label-geometry subspace and
//! how far it leaves that subspace invariant.
use crate::engine::sorted_eigenvalues;

/// Orthonormal basis (rows, row-major `r x d`) of the label-geometry
/// subspace `span{y_c - mean_c y_c}`, by modified Gram-Schmidt; directions
/// with norm below `1e-10` of the largest centred label are dropped.
pub fn label_subspace(y: &[f64], k: usize, d: usize) -> Vec<f64> {
    let mean: Vec<f64> = (0..d).map(|j| (0..k).map(|c| y[c * d + j]).sum::<f64>() / k as f64).collect();
    let centred: Vec<Vec<f64>> = (0..k).map(|c| (0..d).map(|j| y[c * d + j] - mean[j]).collect()).collect();
    let scale = centred.iter().map(|v| norm(v)).fold(0.0, f64::max);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for mut v in centred {
        for _ in 0..2 {
            for b in &basis {
                let p: f64 = v.iter().zip(b).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(b).for_each(|(a, b)| *a -= p * b);
            }
        }
        let nv = norm(&v);
        if nv > 1e-10 * scale && nv > 0.0 {
            basis.push(v.iter().map(|a| a / nv).collect());
        }
    }
    basis.concat()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// Spectrum of the head restricted to the label-geometry subspace: the
/// eigenvalues `[re, im]` of the compression `Q^T W Q` (`Q` from
/// [`label_subspace`]), sorted by decreasing real part. This is `W`'s
/// spectrum on the subspace when `W` leaves it invariant (see
/// [`label_subspace_invariance`]); the `asymmetric` fixed point (`W = M`)
/// does, the `symmetric` one only guarantees it for `W^2` (`W^2 = M`).
pub fn head_label_spectrum(w: &[f64], y: &[f64], k: usize, d: usize) -> Vec<[f64; 2]> {
    compression_spectrum(w, &label_subspace(y, k, d), d)
}

/// `W^2` (row-major `d x d`).
pub fn square(w: &[f64], d: usize) -> Vec<f64> {
    (0..d * d).map(|i| (0..d).map(|m| w[(i / d) * d + m] * w[m * d + i % d]).sum()).collect()
}

/// Relative size of the part of `W Q` outside the label subspace,
/// `|(I - Q Q^T) W Q|_F / |W Q|_F`: zero when `W` maps the subspace into itself.
pub fn label_subspace_invariance(w: &[f64], y: &[f64], k: usize, d: usize) -> f64 {
    let q = label_subspace(y, k, d);
    let r = q.len() / d;
    let (mut out, mut all) = (0.0, 0.0);
    for b in 0..r {
        let wq: Vec<f64> = (0..d).map(|j| (0..d).map(|l| w[j * d + l] * q[b * d + l]).sum()).collect();
        let mut rest = wq.clone();
        for a in 0..r {
            let p: f64 = (0..d).map(|j| q[a * d + j] * wq[j]).sum();
            (0..d).for_each(|j| rest[j] -= p * q[a * d + j]);
        }
        out += rest.iter().map(|v| v * v).sum::<f64>();
        all += wq.iter().map(|v| v * v).sum::<f64>();
    }
    if all > 0.0 { (out / all).sqrt() } else { 0.0 }
}

pub(super) fn compression_spectrum(w: &[f64], q: &[f64], d: usize) -> Vec<[f64; 2]> {
    let r = q.len() / d;
    if r == 0 {
        return Vec::new();
    }
    let b = faer::Mat::<f64>::from_fn(r, r, |a, bb| {
        let mut s = 0.0;
        for j in 0..d {
            for l in 0..d {
                s += q[a * d + j] * w[j * d + l] * q[bb * d + l];
            }
        }
        s
    });
    sorted_eigenvalues(&b).map(|ev| ev.iter().map(|e| [e.re, e.im]).collect()).unwrap_or_default()
}

//! Mesh adaptation for collocation: equidistribution of an error monitor
//! (after Russell & Christiansen, *SIAM J. Numer. Anal.* 15 (1978), as in
//! AUTO-07p's `ADAPT`).
//!
//! On interval `j` the collocation polynomial of degree `m` has a constant
//! `m`-th derivative, `D_j = m! a_m`, read off the `m`-th difference of the
//! equally spaced node values: `Delta^m U_j = (h_j/m)^m D_j`. The local
//! error of the scheme is `~ h_j^{m+1} |u^{(m+1)}|`; `u^{(m+1)}` is estimated
//! from the jumps of `D` between neighbouring intervals, and the new mesh
//! equidistributes `int |u^{(m+1)}|^{1/(m+1)} dtau`, so every interval
//! carries the same share of the error bound.
use super::orbit::PeriodicOrbit;

fn binomial(m: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (m - i) as f64 / (i + 1) as f64)
}

/// A new mesh of `ntst` intervals equidistributing the error monitor of `orbit`.
pub fn adapted_mesh(orbit: &PeriodicOrbit, ntst: usize) -> Vec<f64> {
    let (n, m, nt) = (orbit.dim, orbit.ncol, orbit.ntst());
    let h: Vec<f64> = (0..nt).map(|j| orbit.mesh[j + 1] - orbit.mesh[j]).collect();
    // m-th derivative per interval (vector).
    let dm: Vec<Vec<f64>> = (0..nt)
        .map(|j| {
            let scale = (m as f64 / h[j]).powi(m as i32);
            (0..n)
                .map(|r| {
                    let diff: f64 = (0..=m)
                        .map(|k| {
                            let sign = if (m - k) % 2 == 0 { 1.0 } else { -1.0 };
                            sign * binomial(m, k) * orbit.node(j * m + k)[r]
                        })
                        .sum();
                    diff * scale
                })
                .collect()
        })
        .collect();
    // (m+1)-th derivative from the jumps of D across each interval's two ends (periodic).
    let monitor: Vec<f64> = (0..nt)
        .map(|j| {
            let (jp, jn) = ((j + nt - 1) % nt, (j + 1) % nt);
            let left: f64 = (0..n).map(|r| (dm[j][r] - dm[jp][r]).powi(2)).sum::<f64>().sqrt() / (0.5 * (h[j] + h[jp]));
            let right: f64 = (0..n).map(|r| (dm[jn][r] - dm[j][r]).powi(2)).sum::<f64>().sqrt() / (0.5 * (h[j] + h[jn]));
            (0.5 * (left + right)).powf(1.0 / (m as f64 + 1.0))
        })
        .collect();
    let total: f64 = monitor.iter().zip(&h).map(|(a, b)| a * b).sum();
    // A floor keeps intervals finite where the solution is locally a
    // polynomial of degree m (monitor 0): 1% of the mean density.
    let floor = 0.01 * total.max(f64::MIN_POSITIVE);
    let density: Vec<f64> = monitor.iter().map(|v| v + floor).collect();
    let total: f64 = density.iter().zip(&h).map(|(a, b)| a * b).sum();
    let mut mesh = vec![0.0; ntst + 1];
    let mut acc = 0.0;
    let mut j = 0;
    for (q, slot) in mesh.iter_mut().enumerate().take(ntst).skip(1) {
        let target = total * q as f64 / ntst as f64;
        while j < nt && acc + density[j] * h[j] < target {
            acc += density[j] * h[j];
            j += 1;
        }
        let j_ = j.min(nt - 1);
        *slot = orbit.mesh[j_] + (target - acc) / density[j_];
    }
    mesh[ntst] = 1.0;
    mesh
}

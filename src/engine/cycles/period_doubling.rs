//! Branch switching at a period-doubling point: the doubled orbit and the
//! direction of the period-2 branch (Kuznetsov, *Elements of Applied
//! Bifurcation Theory*, 3rd ed., sec. 10.3.2; the AUTO-07p manual, ch.
//! "Periodic solutions", on restarting at a PD label).
//!
//! At a PD point the monodromy matrix `M` of the cycle `u` (period `T`) has
//! the multiplier `-1` with eigenvector `v_0`; the solution of the
//! variational equation from `v_0`, `v(t)`, is anti-periodic:
//! `v(t + T) = -v(t)`. Seen as an orbit of period `2 T`, `u` traversed twice
//! is a solution of both the primary and the period-2 branch, and the
//! period-2 branch leaves it along `w(t) = v(t)` on `[0, T]`,
//! `w(t) = -v(t - T)` on `[T, 2 T]` (a `2 T`-periodic function), with no
//! first-order change of period or parameter. The collocation form of `v`
//! comes from the condensed interval blocks
//! ([`CollocationSystem::transfers`]): they map `v` at the first node of an
//! interval to its values at the interval's other nodes.
use faer::linalg::solvers::Solve;
use faer::Mat;

use super::collocation::CollocationSystem;
use super::orbit::PeriodicOrbit;
use crate::engine::{sorted_eigenvalues, VectorField};
use crate::error::{Error, Result};

/// The start of a period-2 branch.
pub struct DoubledStart {
    /// The cycle traversed twice: period `2 T`, `2 N` mesh intervals (each
    /// interval of the cycle's mesh, halved in rescaled time, twice).
    pub orbit: PeriodicOrbit,
    /// Node values (same mesh) of the branch direction `w`, unit in the
    /// node-weighted `L2(0, 1)` norm.
    pub direction: Vec<f64>,
    /// The multiplier of the cycle nearest `-1` (the PD multiplier).
    pub multiplier: f64,
}

/// The doubled orbit and the period-2 direction at the (located) PD cycle
/// `orbit`. Fails if `orbit` has no real multiplier within `0.1` of `-1`.
pub fn period_doubling_start(field: &dyn VectorField, orbit: &PeriodicOrbit) -> Result<DoubledStart> {
    let (n, m, nt) = (orbit.dim, orbit.ncol, orbit.ntst());
    let mut sys = CollocationSystem::new(field, orbit, None);
    let z = sys.pack(orbit);
    let blocks = sys.transfers(&z);
    let mn = m * n;
    let mut mono = Mat::<f64>::identity(n, n);
    for x in &blocks {
        mono = x.as_ref().submatrix(mn - n, 0, n, n) * mono.as_ref();
    }
    let mu = sorted_eigenvalues(&mono)?
        .into_iter()
        .filter(|e| e.im.abs() <= 1e-8 * e.norm().max(1.0))
        .map(|e| e.re)
        .min_by(|a, b| (a + 1.0).abs().total_cmp(&(b + 1.0).abs()))
        .filter(|e| (e + 1.0).abs() < 0.1)
        .ok_or_else(|| Error::numerical("period-doubling switch", "the cycle has no real multiplier near -1"))?;
    // Eigenvector by inverse iteration with a shift just off mu (the shifted
    // matrix is nearly singular by design; three steps reach round-off).
    let shift = mu + 1e-10 * (1.0 + mu.abs());
    let a = Mat::<f64>::from_fn(n, n, |i, j| mono[(i, j)] - if i == j { shift } else { 0.0 });
    let lu = a.partial_piv_lu();
    let mut v0 = Mat::<f64>::from_fn(n, 1, |i, _| 1.0 + 0.1 * i as f64);
    for _ in 0..3 {
        lu.solve_in_place(v0.as_mut());
        let norm = (0..n).map(|i| v0[(i, 0)].powi(2)).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(Error::numerical("period-doubling switch", "inverse iteration for the PD eigenvector failed"));
        }
        for i in 0..n {
            v0[(i, 0)] /= norm;
        }
    }
    // v at every node of the cycle, interval by interval.
    let n_nodes = nt * m + 1;
    let mut v = vec![0.0; n_nodes * n];
    let mut start = v0;
    for i in 0..n {
        v[i] = start[(i, 0)];
    }
    for (j, x) in blocks.iter().enumerate() {
        let vals = x * &start;
        for k in 1..=m {
            for i in 0..n {
                v[(j * m + k) * n + i] = vals[((k - 1) * n + i, 0)];
            }
        }
        start = vals.as_ref().submatrix(mn - n, 0, n, 1).to_owned();
    }
    // Twice around: the orbit repeated, the direction v then -v.
    let mut mesh: Vec<f64> = orbit.mesh.iter().map(|t| 0.5 * t).collect();
    mesh.extend(orbit.mesh[1..].iter().map(|t| 0.5 + 0.5 * t));
    let mut nodes = orbit.nodes.clone();
    nodes.extend_from_slice(&orbit.nodes[n..]);
    let mut direction = v.clone();
    direction.extend(v[n..].iter().map(|x| -x));
    let doubled = PeriodicOrbit { dim: n, ncol: m, mesh, nodes, period: 2.0 * orbit.period, params: orbit.params.clone() };
    let w = doubled.node_weights();
    let norm = (0..w.len()).map(|g| w[g] * (0..n).map(|i| direction[g * n + i].powi(2)).sum::<f64>()).sum::<f64>().sqrt();
    if !(norm.is_finite() && norm > 0.0) {
        return Err(Error::numerical("period-doubling switch", "zero PD eigenfunction"));
    }
    direction.iter_mut().for_each(|x| *x /= norm);
    Ok(DoubledStart { orbit: doubled, direction, multiplier: mu })
}

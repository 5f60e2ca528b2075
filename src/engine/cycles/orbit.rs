//! A periodic orbit in collocation form: a mesh `0 = tau_0 < ... < tau_N = 1`
//! of the rescaled time `tau = t / T`, and on each interval a polynomial of
//! degree `m = ncol` given by its values at `m + 1` equally spaced nodes,
//! the last node of an interval being the first of the next (continuity
//! is built in). Node `g = j m + k` is the `k`-th node of interval `j`; there
//! are `N m + 1` nodes, the last one `u(1)`, equal to `u(0)` on a solution.
use serde::{Deserialize, Serialize};

use super::gauss::lagrange;

/// A periodic orbit `u(t) = U(t / T)`, `U(0) = U(1)`, at parameters `params`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeriodicOrbit {
    /// State dimension `n`.
    pub dim: usize,
    /// Collocation points per interval `m`.
    pub ncol: usize,
    /// Mesh `tau_0 = 0 < ... < tau_N = 1`.
    pub mesh: Vec<f64>,
    /// Node values, node `g` at `nodes[g n .. (g + 1) n]`, `N m + 1` nodes.
    pub nodes: Vec<f64>,
    /// Period `T`.
    pub period: f64,
    /// All parameters of the field (the continued one included).
    pub params: Vec<f64>,
}

impl PeriodicOrbit {
    /// Number of mesh intervals `N`.
    pub fn ntst(&self) -> usize {
        self.mesh.len() - 1
    }
    /// Number of nodes `N m + 1`.
    pub fn n_nodes(&self) -> usize {
        self.ntst() * self.ncol + 1
    }
    /// State at node `g`.
    pub fn node(&self, g: usize) -> &[f64] {
        &self.nodes[g * self.dim..(g + 1) * self.dim]
    }
    /// Rescaled time of node `g`.
    pub fn node_time(&self, g: usize) -> f64 {
        let (j, k) = (g / self.ncol, g % self.ncol);
        if j == self.ntst() {
            return 1.0;
        }
        self.mesh[j] + (self.mesh[j + 1] - self.mesh[j]) * k as f64 / self.ncol as f64
    }

    /// `U(tau)` for `tau` in `[0, 1]` (taken modulo 1), from the interval's polynomial.
    pub fn eval(&self, tau: f64, out: &mut [f64]) {
        let tau = tau - tau.floor();
        let n_int = self.ntst();
        let j = match self.mesh.partition_point(|&t| t <= tau) {
            0 => 0,
            i => (i - 1).min(n_int - 1),
        };
        let h = self.mesh[j + 1] - self.mesh[j];
        let s = ((tau - self.mesh[j]) / h).clamp(0.0, 1.0);
        out.fill(0.0);
        for k in 0..=self.ncol {
            let l = lagrange(self.ncol, k, s);
            let g = j * self.ncol + k;
            for (o, v) in out.iter_mut().zip(self.node(g)) {
                *o += l * v;
            }
        }
    }

    /// Trapezoidal weights of the nodes in `tau` (sum 1): the discrete
    /// `L2(0, 1)` inner product used for arclength and amplitudes.
    pub fn node_weights(&self) -> Vec<f64> {
        node_weights(&self.mesh, self.ncol)
    }

    /// Minimum and maximum of each state variable over the orbit, sampled at
    /// the nodes and at `8` points per interval in between.
    pub fn min_max(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.dim;
        let (mut lo, mut hi) = (vec![f64::INFINITY; n], vec![f64::NEG_INFINITY; n]);
        let mut x = vec![0.0; n];
        let per = 8 * self.ncol;
        for j in 0..self.ntst() {
            for r in 0..per {
                let tau = self.mesh[j] + (self.mesh[j + 1] - self.mesh[j]) * r as f64 / per as f64;
                self.eval(tau, &mut x);
                for i in 0..n {
                    lo[i] = lo[i].min(x[i]);
                    hi[i] = hi[i].max(x[i]);
                }
            }
        }
        (lo, hi)
    }

    /// The orbit on another mesh (same period and parameters), by evaluating
    /// the current piecewise polynomial at the new nodes.
    pub fn remeshed(&self, mesh: Vec<f64>, ncol: usize) -> PeriodicOrbit {
        let n = self.dim;
        let n_nodes = (mesh.len() - 1) * ncol + 1;
        let mut nodes = vec![0.0; n_nodes * n];
        let mut out = PeriodicOrbit { dim: n, ncol, mesh, nodes: Vec::new(), period: self.period, params: self.params.clone() };
        for g in 0..n_nodes {
            let tau = out.node_time(g);
            // tau = 1 must give u(1), not u(0) via the modulo.
            if g + 1 == n_nodes {
                nodes[g * n..(g + 1) * n].copy_from_slice(self.node(self.n_nodes() - 1));
            } else {
                self.eval(tau, &mut nodes[g * n..(g + 1) * n]);
            }
        }
        out.nodes = nodes;
        out
    }
}

/// Trapezoidal weights of the `N m + 1` nodes of `mesh` (sum 1).
pub fn node_weights(mesh: &[f64], ncol: usize) -> Vec<f64> {
    let n_int = mesh.len() - 1;
    let mut w = vec![0.0; n_int * ncol + 1];
    for j in 0..n_int {
        let d = (mesh[j + 1] - mesh[j]) / ncol as f64;
        for k in 0..ncol {
            w[j * ncol + k] += 0.5 * d;
            w[j * ncol + k + 1] += 0.5 * d;
        }
    }
    w
}

/// `N + 1` equally spaced mesh points on `[0, 1]`.
pub fn uniform_mesh(ntst: usize) -> Vec<f64> {
    (0..=ntst).map(|j| j as f64 / ntst as f64).collect()
}

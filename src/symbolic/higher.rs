//! Exact second and third directional derivatives of a model file's
//! right-hand side, `B(u, v) = D^2 F(x)[u, v]` and `C(u, v, w) = D^3 F(x)[u, v, w]`,
//! for normal-form coefficients (the first Lyapunov coefficient of a Hopf
//! point).
//!
//! The directions are new symbols of the same DAG: with the Jacobian
//! entries `J_ij` already in the graph,
//!
//! ```text
//!   (J v)_i   = sum_j J_ij v_j
//!   B_i(u, v) = sum_k d(J v)_i / dx_k  u_k
//!   C_i(u, v, w) = sum_l d B_i / dx_l  w_l
//! ```
//!
//! so the cost is `2n` differentiation sweeps over the DAG (not the `n^3`
//! or `n^4` entries of the full derivative tensors). Both batches are
//! simplified and compiled into tapes with inputs `[x, p, u, v, w]`, built
//! on first use (they are not needed by integration or continuation).
use super::diff::derivatives;
use super::expr::{Graph, Id};
use super::simplify::simplify;
use super::tape::Tape;

/// Compiled `B` and `C` tapes of one model.
#[derive(Clone, Debug)]
pub struct HigherDerivatives {
    n: usize,
    m: usize,
    b: Tape,
    c: Tape,
}

impl HigherDerivatives {
    /// Build from the model graph and its row-major Jacobian entries, for
    /// `n` states and `m` parameters (symbols `0..n` and `n..n+m`).
    pub fn build(graph: &Graph, jac: &[Id], n: usize, m: usize) -> Self {
        let mut g = graph.clone();
        let base = n + m;
        let sym = |g: &mut Graph, block: usize| -> Vec<Id> { (0..n).map(|j| g.var(base + block * n + j)).collect() };
        let (u, v, w) = (sym(&mut g, 0), sym(&mut g, 1), sym(&mut g, 2));
        let contract = |g: &mut Graph, terms: Vec<(Id, Id)>| -> Id {
            let mut acc = g.constant(0.0);
            for (a, b) in terms {
                let t = g.mul(a, b);
                acc = g.add(acc, t);
            }
            acc
        };
        let jv: Vec<Id> = (0..n).map(|i| contract(&mut g, (0..n).map(|j| (jac[i * n + j], v[j])).collect())).collect();
        let djv: Vec<Vec<Id>> = (0..n).map(|k| derivatives(&mut g, &jv, k)).collect();
        let b: Vec<Id> = (0..n).map(|i| contract(&mut g, (0..n).map(|k| (djv[k][i], u[k])).collect())).collect();
        let db: Vec<Vec<Id>> = (0..n).map(|l| derivatives(&mut g, &b, l)).collect();
        let c: Vec<Id> = (0..n).map(|i| contract(&mut g, (0..n).map(|l| (db[l][i], w[l])).collect())).collect();
        let n_in = n + m + 3 * n;
        let (gb, rb) = simplify(&g, &b);
        let (gc, rc) = simplify(&g, &c);
        HigherDerivatives { n, m, b: Tape::compile(&gb, &rb, n_in), c: Tape::compile(&gc, &rc, n_in) }
    }

    /// Inputs `[p, u, v, w]` after `x` (allocates one vector per call).
    fn inputs(&self, p: &[f64], u: &[f64], v: &[f64], w: &[f64]) -> Vec<f64> {
        assert!(p.len() == self.m && u.len() == self.n && v.len() == self.n && w.len() == self.n, "direction lengths");
        p.iter().chain(u).chain(v).chain(w).copied().collect()
    }

    /// `out = B(u, v)` at `(x, p)`.
    pub fn second(&self, x: &[f64], p: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        let zero = vec![0.0; self.n];
        self.b.eval_into(x, &self.inputs(p, u, v, &zero), out);
    }

    /// `out = C(u, v, w)` at `(x, p)`.
    pub fn third(&self, x: &[f64], p: &[f64], u: &[f64], v: &[f64], w: &[f64], out: &mut [f64]) {
        self.c.eval_into(x, &self.inputs(p, u, v, w), out);
    }
}

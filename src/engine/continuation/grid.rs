//! Brute-force classification of a parameter plane, the independent check
//! of traced boundaries: in every cell of an `n1 x n2` grid of `(p1, p2)`,
//! damped Newton from a fixed Halton set of starts finds the distinct
//! equilibria of `F(x; p) = 0`, and each is classified linearly stable or
//! not from the eigenvalues of its Jacobian. Cells where the count of
//! (stable) equilibria changes bracket the boundaries that
//! [`grid_check`](super::grid_check) compares with a traced curve.
use faer::Mat;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::continuation::test_functions::stability;
use crate::engine::linalg::lu::DenseLu;
use crate::engine::linalg::spectrum::sorted_eigenvalues;
use crate::engine::VectorField;
use crate::error::{Error, Result};

/// Settings of [`brute_force_grid`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GridParams {
    /// Box `[lo_i, hi_i]` of the state space sampled for Newton starts
    /// (one interval per state variable).
    pub state_box: Vec<(f64, f64)>,
    /// Number of starts (a Halton sequence in `state_box`).
    pub n_starts: usize,
    /// Residual tolerance for accepting an equilibrium.
    pub newton_tol: f64,
    pub newton_max_iter: usize,
    /// Two roots are the same if closer than `dedup_tol (1 + |x|_inf)`.
    pub dedup_tol: f64,
}

impl GridParams {
    /// `n_starts` starts in `state_box`, tolerance `1e-10`, 50 damped
    /// Newton iterations, deduplication at `1e-6`.
    pub fn new(state_box: Vec<(f64, f64)>, n_starts: usize) -> Self {
        GridParams { state_box, n_starts, newton_tol: 1e-10, newton_max_iter: 50, dedup_tol: 1e-6 }
    }
}

/// Classification of one grid cell.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GridCell {
    /// Cell indices along `param` and `param2`.
    pub i: usize,
    pub j: usize,
    /// Cell centre.
    pub p1: f64,
    pub p2: f64,
    /// Distinct equilibria found.
    pub n_equilibria: usize,
    /// Of which linearly asymptotically stable.
    pub n_stable: usize,
    /// E.g. `"3 eq, 2 stable"`.
    pub label: String,
}

/// Radical inverse of `i` in base `b` (Halton sequence component).
fn halton(mut i: usize, b: usize) -> f64 {
    let (mut f, mut r) = (1.0, 0.0);
    while i > 0 {
        f /= b as f64;
        r += f * (i % b) as f64;
        i /= b;
    }
    r
}

const PRIMES: [usize; 16] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];

#[allow(clippy::too_many_arguments)]
/// Damped Newton for `F(x; p) = 0` from `x` (backtracking on `|F|_inf`).
fn newton_root(field: &dyn VectorField, p: &[f64], x: &mut [f64], gp: &GridParams, lu: &mut DenseLu, f: &mut [f64], xt: &mut [f64], ft: &mut [f64]) -> bool {
    let n = x.len();
    field.rhs(x, p, f);
    let mut fnorm = f.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    for _ in 0..gp.newton_max_iter {
        if !fnorm.is_finite() {
            return false;
        }
        if fnorm <= gp.newton_tol {
            return true;
        }
        field.jacobian(x, p, lu.matrix_mut());
        if !lu.factor() {
            return false;
        }
        xt.copy_from_slice(f);
        lu.solve_in_place(xt);
        let mut lambda = 1.0;
        let mut improved = false;
        for _ in 0..20 {
            for i in 0..n {
                ft[i] = x[i] - lambda * xt[i];
            }
            let mut fn_try = 0.0_f64;
            field.rhs(ft, p, f);
            for v in f.iter() {
                fn_try = if v.is_nan() { f64::NAN } else { fn_try.max(v.abs()) };
            }
            if fn_try.is_finite() && fn_try < (1.0 - 1e-4 * lambda) * fnorm {
                x.copy_from_slice(ft);
                fnorm = fn_try;
                improved = true;
                break;
            }
            lambda *= 0.5;
        }
        if !improved {
            field.rhs(x, p, f);
            return fnorm <= gp.newton_tol;
        }
    }
    fnorm <= gp.newton_tol
}

/// Classify a grid of `n1 x n2` cells of the `(p_{param}, p_{param2})`
/// rectangle `ranges` (other parameters at `p_base`) by counting distinct
/// equilibria found by damped Newton from `gp.n_starts` quasi-random starts,
/// and how many of them are linearly stable. Cells are computed in
/// parallel (rayon). Counts are lower bounds: an equilibrium outside the
/// state box or with a tiny basin may be missed.
#[allow(clippy::too_many_arguments)]
pub fn brute_force_grid(
    field: &dyn VectorField,
    p_base: &[f64],
    param: usize,
    param2: usize,
    ranges: [(f64, f64); 2],
    n1: usize,
    n2: usize,
    gp: &GridParams,
) -> Result<Vec<GridCell>> {
    let n = field.dim();
    let m = field.param_names().len();
    if p_base.len() < m {
        return Err(Error::invalid("p_base", format!("{p_base:?}"), format!("{m} values")));
    }
    for (name, k) in [("param", param), ("param2", param2)] {
        if k >= p_base.len() {
            return Err(Error::invalid(name, k, format!("0..{}", p_base.len())));
        }
    }
    if n1 == 0 || n2 == 0 {
        return Err(Error::invalid("n1/n2", format!("{n1}/{n2}"), ">= 1"));
    }
    for (lo, hi) in ranges {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::invalid("ranges", format!("[{lo}, {hi}]"), "finite with lo < hi"));
        }
    }
    if gp.state_box.len() != n {
        return Err(Error::invalid("state_box", format!("{} intervals", gp.state_box.len()), format!("{n} (one per state variable)")));
    }
    if n > PRIMES.len() {
        return Err(Error::invalid("state dimension", n, format!("<= {} for Halton starts", PRIMES.len())));
    }
    if gp.n_starts == 0 {
        return Err(Error::invalid("n_starts", 0, ">= 1"));
    }
    let starts: Vec<Vec<f64>> = (1..=gp.n_starts)
        .map(|s| gp.state_box.iter().enumerate().map(|(d, (lo, hi))| lo + (hi - lo) * halton(s, PRIMES[d])).collect())
        .collect();
    let cells: Vec<(usize, usize)> = (0..n1).flat_map(|i| (0..n2).map(move |j| (i, j))).collect();
    let out: Vec<Result<GridCell>> = cells
        .par_iter()
        .map_init(
            || (DenseLu::new(n), p_base.to_vec(), vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], Mat::<f64>::zeros(n, n)),
            |(lu, p, x, f, xt, ft, jac), &(i, j)| {
                let p1 = ranges[0].0 + (ranges[0].1 - ranges[0].0) * (i as f64 + 0.5) / n1 as f64;
                let p2 = ranges[1].0 + (ranges[1].1 - ranges[1].0) * (j as f64 + 0.5) / n2 as f64;
                p[param] = p1;
                p[param2] = p2;
                let mut roots: Vec<Vec<f64>> = Vec::new();
                for s in &starts {
                    x.copy_from_slice(s);
                    if newton_root(field, p, x, gp, lu, f, xt, ft) {
                        let scale = 1.0 + x.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
                        let dup = roots.iter().any(|r| r.iter().zip(x.iter()).all(|(a, b)| (a - b).abs() < gp.dedup_tol * scale));
                        if !dup {
                            roots.push(x.clone());
                        }
                    }
                }
                let mut n_stable = 0;
                for r in &roots {
                    field.jacobian(r, p, jac.as_mut());
                    if stability(&sorted_eigenvalues(jac)?).1 {
                        n_stable += 1;
                    }
                }
                let n_eq = roots.len();
                Ok(GridCell { i, j, p1, p2, n_equilibria: n_eq, n_stable, label: format!("{n_eq} eq, {n_stable} stable") })
            },
        )
        .collect();
    out.into_iter().collect()
}

//! Sparse LU factorisation with a symbolic analysis reused across numeric
//! refactorisations:
//!
//! ```text
//!     P A Q = L U,   solve A x = b  by  L y = P b,  U z = y,  x = Q z,
//! ```
//!
//! with `Q` a fill-reducing column ordering (COLAMD) computed once from the
//! sparsity pattern, and `P` the partial-pivoting row permutation chosen at
//! every numeric factorisation (Gilbert-Peierls left-looking LU, faer's
//! simplicial sparse LU). The work of one factorisation grows with the
//! non-zeros of `L` and `U`, not with `n^3`.
//!
//! The API mirrors [`DenseLu`](super::lu::DenseLu): [`SparseLu::new`] does
//! the symbolic step (pattern -> compressed sparse columns -> ordering) and
//! allocates; [`values_mut`](SparseLu::values_mut) (indexed through
//! [`slot`](SparseLu::slot)) is filled; [`factor`](SparseLu::factor)
//! returns `false` on a zero or non-finite pivot; [`solve_in_place`](SparseLu::solve_in_place)
//! overwrites the right-hand side; [`log_det`](SparseLu::log_det) gives the
//! determinant as sign and log-modulus, which continuation's branch-point
//! test needs. Any square sparse system can use it: Newton on equilibria,
//! the bordered continuation corrector, collocation of periodic orbits.
//!
//! Fill-in: on a pattern without band or block structure (a random sparse
//! graph) `L` and `U` fill in nearly to dense even after COLAMD, and the
//! left-looking simplicial LU then does its `O(n^3)` work one scalar at a
//! time (17 s per factorisation of a random 5,000-state Jacobian, 4
//! non-zeros a row). A system that needs no determinant
//! ([`SparseLu::without_determinant`]: Newton's Jacobian) lets faer choose
//! between the simplicial and the supernodal LU from the predicted flops per
//! non-zero (`factorize_symbolic_lu`, `SupernodalThreshold::AUTO`); the
//! supernodal LU does the same work in dense blocks (0.9 s on that matrix).
//! faer's supernodal factors do not expose `U`'s diagonal, so a system that
//! needs [`log_det`](SparseLu::log_det) stays simplicial.
//! [`predict_fill`] gives the fill and the flops up front, from the pattern
//! alone, for cost estimates.
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::perm::PermRef;
use faer::sparse::linalg::colamd;
use faer::sparse::linalg::lu::simplicial::{
    factorize_simplicial_numeric_lu, factorize_simplicial_numeric_lu_scratch, solve_in_place_scratch, SimplicialLu,
};
use faer::sparse::linalg::lu::{factorize_symbolic_lu, LuRef, LuSymbolicParams, NumericLu, SymbolicLu};
use faer::sparse::linalg::qr::{col_etree, col_etree_scratch, column_counts_ata, column_counts_aat_scratch, postorder, postorder_scratch};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par};

use crate::engine::linalg::signed_log::SignedLog;

/// A sparse `n x n` matrix pattern factored symbolically once, then
/// numerically as often as its values change.
pub struct SparseLu {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<f64>,
    col_perm: Vec<usize>,
    col_perm_inv: Vec<usize>,
    row_perm: Vec<usize>,
    row_perm_inv: Vec<usize>,
    lu: SimplicialLu<usize, f64>,
    buf: MemBuffer,
    /// `Some`: faer's own choice of simplicial or supernodal LU (no determinant).
    auto: Option<(SymbolicLu<usize>, NumericLu<usize, f64>)>,
}

impl SparseLu {
    /// Symbolic analysis of the pattern `entries` (`(row, col)` pairs, in
    /// any order, duplicates allowed; all `< n`): the compressed columns and
    /// the COLAMD column ordering. Entries outside the pattern are zero.
    pub fn new(n: usize, entries: &[(usize, usize)]) -> Self {
        let mut sorted: Vec<(usize, usize)> = entries.iter().map(|&(r, c)| (c, r)).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut col_ptr = vec![0usize; n + 1];
        let mut row_idx = Vec::with_capacity(sorted.len());
        for &(c, r) in &sorted {
            assert!(r < n && c < n, "pattern entry ({r}, {c}) outside a {n} x {n} matrix");
            col_ptr[c + 1] += 1;
            row_idx.push(r);
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        let nnz = row_idx.len();
        let mut col_perm: Vec<usize> = (0..n).collect();
        let mut col_perm_inv: Vec<usize> = (0..n).collect();
        {
            let sym = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
            let mut mem = MemBuffer::new(colamd::order_scratch::<usize>(n, n, nnz));
            // On failure (out of memory) the identity ordering is still correct, only slower.
            let _ = colamd::order(&mut col_perm, &mut col_perm_inv, sym, Default::default(), MemStack::new(&mut mem));
        }
        let req = StackReq::any_of(&[
            factorize_simplicial_numeric_lu_scratch::<usize, f64>(n, n),
            solve_in_place_scratch::<usize, f64>(n, 1, Par::Seq),
        ]);
        SparseLu {
            n,
            col_ptr,
            row_idx,
            values: vec![0.0; nnz],
            col_perm,
            col_perm_inv,
            row_perm: vec![0; n],
            row_perm_inv: vec![0; n],
            lu: SimplicialLu::new(),
            buf: MemBuffer::new(req),
            auto: None,
        }
    }

    /// The same symbolic analysis for a system whose determinant is never
    /// asked for: faer chooses the simplicial or the supernodal LU from the
    /// predicted fill (module docs). [`log_det`](Self::log_det) must not be
    /// called on it. Falls back to [`new`](Self::new) if faer's symbolic
    /// step fails (out of memory).
    pub fn without_determinant(n: usize, entries: &[(usize, usize)]) -> Self {
        let mut lu = Self::new(n, entries);
        if n == 0 {
            return lu;
        }
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &lu.col_ptr, None, &lu.row_idx);
        let Ok(symbolic) = factorize_symbolic_lu(sym, LuSymbolicParams::default()) else { return lu };
        let req = StackReq::any_of(&[
            symbolic.factorize_numeric_lu_scratch::<f64>(Par::Seq, Default::default()),
            symbolic.solve_in_place_scratch::<f64>(1, Par::Seq),
        ]);
        lu.buf = MemBuffer::new(req);
        lu.auto = Some((symbolic, NumericLu::new()));
        lu
    }

    /// Matrix dimension `n`.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Number of stored (structurally non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    /// Position of entry `(row, col)` in [`values_mut`](Self::values_mut),
    /// `None` if it is not in the pattern.
    pub fn slot(&self, row: usize, col: usize) -> Option<usize> {
        let (a, b) = (self.col_ptr[col], self.col_ptr[col + 1]);
        self.row_idx[a..b].binary_search(&row).ok().map(|k| a + k)
    }

    /// The `(row, col)` pairs in storage order (column by column, rows
    /// increasing): `values_mut()[k]` is the entry `entries()[k]`.
    pub fn entries(&self) -> Vec<(usize, usize)> {
        (0..self.n).flat_map(|c| self.row_idx[self.col_ptr[c]..self.col_ptr[c + 1]].iter().map(move |&r| (r, c))).collect()
    }

    /// The values to fill before [`factor`](Self::factor), in storage order.
    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }

    /// Numeric factorisation of the current values; `false` if a pivot is
    /// zero or not finite (the matrix is singular to working precision).
    pub fn factor(&mut self) -> bool {
        if self.n == 0 {
            return true;
        }
        if !self.values.iter().all(|v| v.is_finite()) {
            return false;
        }
        let a = SparseColMatRef::new(
            SymbolicSparseColMatRef::new_checked(self.n, self.n, &self.col_ptr, None, &self.row_idx),
            &self.values,
        );
        if let Some((symbolic, numeric)) = &mut self.auto {
            if symbolic.factorize_numeric_lu(numeric, a, Par::Seq, MemStack::new(&mut self.buf), Default::default()).is_err() {
                return false;
            }
            // No access to U's diagonal here: a zero pivot shows as a
            // non-finite solution of a probe system.
            let mut probe = vec![1.0; self.n];
            self.solve_in_place(&mut probe);
            return probe.iter().all(|v| v.is_finite());
        }
        let q = PermRef::new_checked(&self.col_perm, &self.col_perm_inv, self.n);
        let ok = factorize_simplicial_numeric_lu(
            &mut self.row_perm,
            &mut self.row_perm_inv,
            &mut self.lu,
            a,
            q,
            MemStack::new(&mut self.buf),
        )
        .is_ok();
        ok && (0..self.n).all(|j| {
            let d = self.u_diagonal(j);
            d != 0.0 && d.is_finite()
        })
    }

    /// `U_jj` of the last factorisation.
    fn u_diagonal(&self, j: usize) -> f64 {
        let u = self.lu.u_factor_unsorted();
        let rows = u.row_idx_of_col_raw(j);
        let vals = u.val_of_col(j);
        rows.iter().zip(vals).find(|(r, _)| **r == j).map_or(0.0, |(_, v)| *v)
    }

    /// `det A = sign(P) sign(Q) prod_j U_jj` of the last successful
    /// factorisation, as a [`SignedLog`].
    pub fn log_det(&self) -> SignedLog {
        assert!(self.auto.is_none(), "log_det of a SparseLu built without_determinant");
        let mut sign = permutation_sign(&self.row_perm) * permutation_sign(&self.col_perm);
        let mut log = 0.0;
        for j in 0..self.n {
            let d = self.u_diagonal(j);
            if d < 0.0 {
                sign = -sign;
            }
            log += d.abs().ln();
        }
        SignedLog { sign, log }
    }

    /// Overwrites `b` with `A^-1 b` using the last factorisation.
    pub fn solve_in_place(&mut self, b: &mut [f64]) {
        if self.n == 0 {
            return;
        }
        let rhs = MatMut::from_column_major_slice_mut(b, self.n, 1);
        if let Some((symbolic, numeric)) = &self.auto {
            LuRef::new_unchecked(symbolic, numeric).solve_in_place_with_conj(Conj::No, rhs, Par::Seq, MemStack::new(&mut self.buf));
            return;
        }
        let p = PermRef::new_checked(&self.row_perm, &self.row_perm_inv, self.n);
        let q = PermRef::new_checked(&self.col_perm, &self.col_perm_inv, self.n);
        self.lu.solve_in_place_with_conj(p, q, Conj::No, rhs, Par::Seq, MemStack::new(&mut self.buf));
    }
}

/// Fill and work of a sparse LU with partial pivoting, predicted from the
/// pattern alone.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct LuFill {
    /// Structural non-zeros of `A`.
    pub nnz: usize,
    /// Upper bound on the non-zeros of `U` (and of `L`): the non-zeros of
    /// the Cholesky factor of `(A Q)^T (A Q)`, `Q` the COLAMD ordering
    /// (George & Ng 1987: partial pivoting fills no more than that).
    pub fill: usize,
    /// Predicted multiply-adds of one factorisation, `sum_j c_j^2` over the
    /// column counts `c_j` of that factor (each column updates a `c_j x c_j`
    /// block at most).
    pub flops: f64,
}

/// [`LuFill`] of the `n x n` pattern `entries` (the symbolic steps of
/// faer's `factorize_symbolic_lu`: COLAMD, column elimination tree, its
/// postorder, column counts of `A^T A`), in `O(nnz)` time and memory.
pub fn predict_fill(n: usize, entries: &[(usize, usize)]) -> LuFill {
    let lu = SparseLu::new(n, entries);
    let nnz = lu.nnz();
    if n == 0 {
        return LuFill { nnz, fill: 0, flops: 0.0 };
    }
    let a = SymbolicSparseColMatRef::new_checked(n, n, &lu.col_ptr, None, &lu.row_idx);
    // A^T in compressed columns, which column_counts_ata takes.
    let mut t_ptr = vec![0usize; n + 1];
    for &r in &lu.row_idx {
        t_ptr[r + 1] += 1;
    }
    for r in 0..n {
        t_ptr[r + 1] += t_ptr[r];
    }
    let mut next = t_ptr.clone();
    let mut t_idx = vec![0usize; nnz];
    for c in 0..n {
        for &r in &lu.row_idx[lu.col_ptr[c]..lu.col_ptr[c + 1]] {
            t_idx[next[r]] = c;
            next[r] += 1;
        }
    }
    let at = SymbolicSparseColMatRef::new_checked(n, n, &t_ptr, None, &t_idx);
    let q = PermRef::new_checked(&lu.col_perm, &lu.col_perm_inv, n);
    let mut mem = MemBuffer::new(StackReq::any_of(&[
        col_etree_scratch::<usize>(n, n),
        postorder_scratch::<usize>(n),
        column_counts_aat_scratch::<usize>(n, n),
    ]));
    let mut etree = vec![0usize; n];
    let mut post = vec![0usize; n];
    let mut counts = vec![0usize; n];
    let mut min_col = vec![0usize; n];
    let tree = col_etree(a, Some(q), &mut etree, MemStack::new(&mut mem));
    postorder(&mut post, tree, MemStack::new(&mut mem));
    column_counts_ata(&mut counts, &mut min_col, at, Some(q), tree, &post, MemStack::new(&mut mem));
    LuFill { nnz, fill: counts.iter().sum(), flops: counts.iter().map(|&c| (c as f64) * (c as f64)).sum() }
}

/// `+1` for an even permutation, `-1` for an odd one (from its cycles: a
/// cycle of length `k` is `k - 1` transpositions).
fn permutation_sign(perm: &[usize]) -> f64 {
    let mut seen = vec![false; perm.len()];
    let mut sign = 1.0;
    for start in 0..perm.len() {
        if seen[start] {
            continue;
        }
        let mut len = 0;
        let mut i = start;
        while !seen[i] {
            seen[i] = true;
            i = perm[i];
            len += 1;
        }
        if len % 2 == 0 {
            sign = -sign;
        }
    }
    sign
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::linalg::lu::DenseLu;

    /// A tridiagonal matrix with a dense last row and column (the shape of a
    /// bordered continuation system) and a zero leading entry (needs pivoting).
    fn bordered(n: usize) -> Vec<(usize, usize, f64)> {
        let mut e = Vec::new();
        for i in 0..n {
            let d = if i == 0 { 0.0 } else { 2.0 + (i as f64).sin() };
            e.push((i, i, d));
            if i + 1 < n {
                e.push((i, i + 1, -1.0 + 0.1 * i as f64));
                e.push((i + 1, i, 1.5));
            }
            e.push((n - 1, i, 0.3 + 0.01 * i as f64));
            e.push((i, n - 1, -0.7));
        }
        e
    }

    #[test]
    fn sparse_solve_and_determinant_match_the_dense_lu() {
        for n in [1usize, 2, 5, 40] {
            let entries = bordered(n);
            let pattern: Vec<(usize, usize)> = entries.iter().map(|&(r, c, _)| (r, c)).collect();
            let mut sp = SparseLu::new(n, &pattern);
            let mut dense = DenseLu::new(n);
            sp.values_mut().fill(0.0);
            dense.matrix_mut().fill(0.0);
            for &(r, c, v) in &entries {
                let k = sp.slot(r, c).unwrap();
                // Duplicates (the bordered corner) accumulate the same way in both.
                sp.values_mut()[k] += v;
                dense.matrix_mut()[(r, c)] += v;
            }
            assert!(sp.factor() && dense.factor());
            let x: Vec<f64> = (0..n).map(|i| 1.0 + 0.5 * i as f64).collect();
            let mut b = vec![0.0; n];
            for &(r, c, v) in &entries {
                b[r] += v * x[c];
            }
            sp.solve_in_place(&mut b);
            for i in 0..n {
                assert!((b[i] - x[i]).abs() < 1e-10 * (1.0 + x[i].abs()), "n = {n}, x[{i}] = {} vs {}", b[i], x[i]);
            }
            let (a, d) = (sp.log_det(), dense.log_det());
            assert_eq!(a.sign, d.sign, "n = {n}");
            assert!((a.log - d.log).abs() < 1e-10 * (1.0 + d.log.abs()), "n = {n}: {} vs {}", a.log, d.log);
            // Refactor with new values on the same symbolic analysis.
            for v in sp.values_mut() {
                *v *= -2.0;
            }
            assert!(sp.factor());
            let scaled = sp.log_det();
            let flips = if n % 2 == 1 { -1.0 } else { 1.0 };
            assert_eq!(scaled.sign, d.sign * flips);
            assert!((scaled.log - d.log - n as f64 * 2f64.ln()).abs() < 1e-9 * (1.0 + d.log.abs()));
        }
    }

    /// A random pattern with four entries a row (the fill-heavy case) and a
    /// dominant diagonal, with values from a fixed xorshift sequence.
    fn random_rows(n: usize) -> Vec<(usize, usize, f64)> {
        let mut s = 0x9e3779b97f4a7c15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let mut e = Vec::new();
        for i in 0..n {
            e.push((i, i, 4.0 + (i % 7) as f64));
            for _ in 0..3 {
                let j = (next() % n as u64) as usize;
                e.push((i, j, ((next() % 1000) as f64) / 500.0 - 1.0));
            }
        }
        e
    }

    #[test]
    fn the_fill_aware_lu_solves_like_the_dense_lu() {
        let n = 600;
        let entries = random_rows(n);
        let pattern: Vec<(usize, usize)> = entries.iter().map(|&(r, c, _)| (r, c)).collect();
        let mut sp = SparseLu::without_determinant(n, &pattern);
        let mut dense = DenseLu::new(n);
        dense.matrix_mut().fill(0.0);
        for &(r, c, v) in &entries {
            let k = sp.slot(r, c).unwrap();
            sp.values_mut()[k] += v;
            dense.matrix_mut()[(r, c)] += v;
        }
        assert!(sp.factor() && dense.factor());
        let mut a = vec![0.0; n];
        let mut b = vec![0.0; n];
        for i in 0..n {
            a[i] = (i as f64).cos();
            b[i] = a[i];
        }
        sp.solve_in_place(&mut a);
        dense.solve_in_place(&mut b);
        for i in 0..n {
            assert!((a[i] - b[i]).abs() < 1e-10 * (1.0 + b[i].abs()), "x[{i}] = {} vs {}", a[i], b[i]);
        }
        // A zero column is refused.
        let mut singular = SparseLu::without_determinant(2, &[(0, 0), (1, 0), (0, 1), (1, 1)]);
        singular.values_mut().copy_from_slice(&[1.0, 2.0, 2.0, 4.0]);
        assert!(!singular.factor());
    }

    #[test]
    fn predicted_fill_is_exact_on_dense_and_banded_patterns() {
        // Dense: the Cholesky factor of A^T A is the full triangle.
        let n = 30;
        let dense: Vec<(usize, usize)> = (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).collect();
        let f = predict_fill(n, &dense);
        assert_eq!(f.nnz, n * n);
        assert_eq!(f.fill, n * (n + 1) / 2);
        let sum_sq: f64 = (1..=n).map(|c| (c * c) as f64).sum();
        assert_eq!(f.flops, sum_sq);
        // Tridiagonal: A^T A is pentadiagonal, its factor has at most 3 entries a column.
        let n = 1000;
        let tri: Vec<(usize, usize)> = (0..n).flat_map(|i: usize| [(i, i), (i, i.saturating_sub(1)), (i, (i + 1).min(n - 1))]).collect();
        let f = predict_fill(n, &tri);
        assert!(f.fill <= 3 * n && f.fill >= n, "fill {}", f.fill);
        // Random rows fill in far beyond their non-zeros.
        let pattern: Vec<(usize, usize)> = random_rows(2000).iter().map(|&(r, c, _)| (r, c)).collect();
        let f = predict_fill(2000, &pattern);
        assert!(f.fill > 20 * f.nnz, "fill {} of nnz {}", f.fill, f.nnz);
    }

    #[test]
    fn singular_and_non_finite_matrices_are_refused() {
        let mut sp = SparseLu::new(2, &[(0, 0), (0, 1), (1, 0), (1, 1)]);
        sp.values_mut().copy_from_slice(&[1.0, 2.0, 2.0, 4.0]);
        assert!(!sp.factor());
        sp.values_mut().copy_from_slice(&[1.0, f64::NAN, 0.0, 1.0]);
        assert!(!sp.factor());
        // An empty column is structurally singular.
        let mut empty = SparseLu::new(2, &[(0, 0), (1, 0)]);
        empty.values_mut().copy_from_slice(&[1.0, 1.0]);
        assert!(!empty.factor());
        assert_eq!(permutation_sign(&[1, 0, 2]), -1.0);
        assert_eq!(permutation_sign(&[1, 2, 0]), 1.0);
    }
}

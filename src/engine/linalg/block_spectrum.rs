//! Eigenvalues of a large sparse matrix from its block triangular form.
//!
//! Order the strongly connected components of the directed graph of `A`
//! (an edge `i -> j` for every structural non-zero `A_ij`) topologically;
//! the symmetric permutation to that order makes `A` block upper
//! triangular, so
//!
//! ```text
//!     spec(A) = union over components C of spec(A[C, C]).
//! ```
//!
//! Uncoupled or one-way coupled subsystems (copies of a small model, a
//! cascade) then cost a few small dense eigenproblems instead of one
//! `n^3` one. A component larger than the caller's limit is not solved:
//! the caller reports that the spectrum was not computed and why.
use faer::{c64, Mat};

use crate::engine::linalg::spectrum::sorted_eigenvalues;
use crate::error::Result;

/// Outcome of [`block_eigenvalues`].
pub enum BlockSpectrum {
    /// All `n` eigenvalues, sorted as in [`sorted_eigenvalues`].
    Full(Vec<c64>),
    /// A diagonal block of `largest` states exceeds the limit.
    TooLarge { largest: usize, limit: usize },
}

/// Strongly connected components of the graph with the edges `pattern`
/// on `n` vertices (Tarjan, iterative).
pub fn strongly_connected_components(n: usize, pattern: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut start = vec![0usize; n + 1];
    for &(i, _) in pattern {
        start[i + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut adj = vec![0usize; pattern.len()];
    for &(i, j) in pattern {
        adj[fill[i]] = j;
        fill[i] += 1;
    }
    const UNSEEN: usize = usize::MAX;
    let (mut index, mut low, mut on_stack) = (vec![UNSEEN; n], vec![0usize; n], vec![false; n]);
    let (mut stack, mut comps, mut next) = (Vec::new(), Vec::new(), 0usize);
    let mut call: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        call.push((root, start[root]));
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut k)) = call.last_mut() {
            if *k < start[v + 1] {
                let w = adj[*k];
                *k += 1;
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, start[w]));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comps.push(comp);
                }
            }
        }
    }
    comps
}

/// Eigenvalues of the `n x n` matrix with entries `values[k]` at
/// `pattern[k]` from its diagonal blocks (module docs), or
/// [`BlockSpectrum::TooLarge`] when a block has more than `max_block` states.
pub fn block_eigenvalues(n: usize, pattern: &[(usize, usize)], values: &[f64], max_block: usize) -> Result<BlockSpectrum> {
    let comps = strongly_connected_components(n, pattern);
    let largest = comps.iter().map(Vec::len).max().unwrap_or(0);
    if largest > max_block {
        return Ok(BlockSpectrum::TooLarge { largest, limit: max_block });
    }
    let mut comp_of = vec![0usize; n];
    let mut pos = vec![0usize; n];
    for (c, comp) in comps.iter().enumerate() {
        for (k, &i) in comp.iter().enumerate() {
            comp_of[i] = c;
            pos[i] = k;
        }
    }
    let mut blocks: Vec<Mat<f64>> = comps.iter().map(|c| Mat::zeros(c.len(), c.len())).collect();
    for (&(i, j), &v) in pattern.iter().zip(values) {
        if comp_of[i] == comp_of[j] {
            blocks[comp_of[i]][(pos[i], pos[j])] += v;
        }
    }
    let mut ev = Vec::with_capacity(n);
    for b in &blocks {
        ev.extend(sorted_eigenvalues(b)?);
    }
    ev.sort_by(|a, b| b.re.total_cmp(&a.re).then(b.im.total_cmp(&a.im)));
    Ok(BlockSpectrum::Full(ev))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_triangular_spectrum_equals_the_dense_spectrum() {
        // Two rotation-like 2x2 blocks coupled one way, plus a 1x1 block, scrambled.
        let order = [3usize, 0, 4, 1, 2];
        let dense = [
            [-1.0, -2.0, 0.5, 0.0, 0.3],
            [2.0, -1.0, 0.0, 0.7, 0.0],
            [0.0, 0.0, 0.5, 3.0, 0.0],
            [0.0, 0.0, -3.0, 0.5, 1.0],
            [0.0, 0.0, 0.0, 0.0, -4.0],
        ];
        let mut pattern = Vec::new();
        let mut values = Vec::new();
        let mut m = Mat::<f64>::zeros(5, 5);
        for r in 0..5 {
            for c in 0..5 {
                if dense[r][c] != 0.0 {
                    pattern.push((order[r], order[c]));
                    values.push(dense[r][c]);
                    m[(order[r], order[c])] = dense[r][c];
                }
            }
        }
        assert_eq!(strongly_connected_components(5, &pattern).len(), 3);
        let want = sorted_eigenvalues(&m).unwrap();
        let BlockSpectrum::Full(got) = block_eigenvalues(5, &pattern, &values, 2).unwrap() else { panic!("blocks of 2 fit") };
        assert_eq!(got.len(), 5);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).norm() < 1e-12, "{a} vs {b}");
        }
        assert!(matches!(block_eigenvalues(5, &pattern, &values, 1).unwrap(), BlockSpectrum::TooLarge { largest: 2, limit: 1 }));
    }
}

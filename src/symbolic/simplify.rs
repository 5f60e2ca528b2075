//! Algebraic simplification of a shared DAG: the nodes the roots depend on
//! are rebuilt, in one forward sweep, into a fresh graph through the smart
//! constructors of [`Graph`] (constant folding, `0`/`1` identities, sign
//! normalisation, integer powers to `powi`), which also drops every node no
//! root uses (e.g. the intermediate nodes of differentiation).
//!
//! The rules are deliberately conservative: each preserves the value exactly
//! in IEEE arithmetic for finite inputs, except `0 * e = 0` (which ignores
//! `0 * inf`), the usual symbolic convention. Cost: linear in the number of
//! nodes per sweep, at most [`MAX_SWEEPS`] sweeps.
use super::expr::{Graph, Id};

/// Sweeps until a fixed point; a second sweep can fire on patterns that the
/// first exposed, a third has never been seen to change anything.
pub const MAX_SWEEPS: usize = 4;

/// Simplify the expressions `roots` of `g` together (shared nodes are
/// simplified once), returning the new graph and the new roots.
pub fn simplify(g: &Graph, roots: &[Id]) -> (Graph, Vec<Id>) {
    let mut cur = Graph::new();
    let mut ids = g.copy_into(roots, &mut cur);
    for _ in 1..MAX_SWEEPS {
        let mut next = Graph::new();
        let next_ids = cur.copy_into(&ids, &mut next);
        if next.len() == cur.len() && next_ids == ids {
            break;
        }
        cur = next;
        ids = next_ids;
    }
    (cur, ids)
}

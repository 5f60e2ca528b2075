//! Symbolic differentiation `d e / d Var(k)` on the expression DAG, with
//! respect to a state variable or a parameter alike (both are symbols of
//! the same table).
//!
//! Rules (primes denote `d/dv`):
//!
//! ```text
//! (a^n)'      = n a^(n-1) a'                     (constant integer n)
//! (a^b)'      = a^b (b' ln a + b a'/a)           (b' = 0: b a^(b-1) a')
//! f(u)'       = f'(u) u'                         (exp, log, ...: the rule in
//!                                                 the function table, super::func)
//! min(a,b)'   = a' + H(a - b) (b' - a')          (min = a on ties)
//! max(a,b)'   = a' + H(b - a) (b' - a')          (max = a on ties)
//! atan2(a,b)' = (b a' - a b') / (a^2 + b^2)
//! ```
//!
//! `H` is the Heaviside step with `H(0) = 0`, matching the tie-breaking of
//! the evaluator, so the derivative is the one-sided derivative of the
//! branch the evaluator actually takes.
//!
//! Why this is linear in the size of the DAG: the derivative of every node
//! is computed once, in one forward sweep over the ids (operands come
//! before their users), and each rule adds a bounded number of nodes that
//! refer to the node itself, its operands and their derivatives, all of
//! which already exist and are shared, never copied. A tree
//! implementation copies operand subtrees into the result instead, which
//! is what made nested `max(max(...(x, mu)...), mu)` exponential.
use super::expr::{Func, Graph, Id, Node};

/// `d root / d Var(k)` for each of `roots`, built in `g` (simplified by
/// the smart constructors: the derivative of a node that does not depend
/// on `Var(k)` is the constant 0, so a structurally zero Jacobian entry is
/// the node `Const(0)`). Cost: one pass over the nodes `roots` depend on.
pub fn derivatives(g: &mut Graph, roots: &[Id], k: usize) -> Vec<Id> {
    let n0 = g.len();
    let mark = g.reachable(roots);
    let zero = g.constant(0.0);
    let mut d = vec![zero; n0];
    for i in 0..n0 {
        if mark[i] {
            d[i] = rule(g, Id(i as u32), k, &d, zero);
        }
    }
    roots.iter().map(|r| d[r.index()]).collect()
}

/// `d[k][i] = d roots[i] / d Var(k)` for `k < n_vars`, like calling
/// [`derivatives`] for every `k`, but each `k` differentiates only the roots
/// that depend on `Var(k)` (the others get the constant 0 directly): for a
/// large sparse system (each equation uses a few variables) the cost grows
/// with the number of non-zero derivatives instead of `n_vars * len(g)`.
/// The variables each node depends on are found in one forward pass;
/// `None` when some root depends on more than `max_support` variables (then
/// the system is not sparse and [`derivatives`] is the right tool).
pub fn sparse_derivatives(g: &mut Graph, roots: &[Id], n_vars: usize, max_support: usize) -> Option<Vec<Vec<Id>>> {
    let n0 = g.len();
    let mark = g.reachable(roots);
    let mut support: Vec<Vec<u32>> = vec![Vec::new(); n0];
    for i in 0..n0 {
        if !mark[i] {
            continue;
        }
        let node = g.node(Id(i as u32));
        let mut s: Vec<u32> = match node {
            Node::Var(k) => vec![k],
            _ => Vec::new(),
        };
        for a in node.operands() {
            s.extend_from_slice(&support[a.index()]);
        }
        s.sort_unstable();
        s.dedup();
        if s.len() > max_support {
            return None;
        }
        support[i] = s;
    }
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n_vars];
    for (i, r) in roots.iter().enumerate() {
        for &k in &support[r.index()] {
            if (k as usize) < n_vars {
                users[k as usize].push(i);
            }
        }
    }
    drop(support);
    let zero = g.constant(0.0);
    let mut d = Vec::with_capacity(n_vars);
    for (k, user) in users.iter().enumerate() {
        let mut col = vec![zero; roots.len()];
        if !user.is_empty() {
            let sub: Vec<Id> = user.iter().map(|&i| roots[i]).collect();
            for (&i, di) in user.iter().zip(derivatives(g, &sub, k)) {
                col[i] = di;
            }
        }
        d.push(col);
    }
    Some(d)
}

/// The derivative of node `e` given the derivatives `d` of all earlier nodes.
fn rule(g: &mut Graph, e: Id, k: usize, d: &[Id], zero: Id) -> Id {
    let node = g.node(e);
    // A node whose operands all have derivative 0 has derivative 0 (for
    // every rule below); return early so no dead nodes are built.
    if !matches!(node, Node::Var(_)) && node.operands().all(|a| d[a.index()] == zero) {
        return zero;
    }
    let dd = |a: Id| d[a.index()];
    match node {
        Node::Const(_) => zero,
        Node::Var(j) => g.constant(if j as usize == k { 1.0 } else { 0.0 }),
        Node::Neg(a) => g.neg(dd(a)),
        Node::Add(a, b) => g.add(dd(a), dd(b)),
        Node::Sub(a, b) => g.sub(dd(a), dd(b)),
        Node::Mul(a, b) => {
            let l = g.mul(dd(a), b);
            let r = g.mul(a, dd(b));
            g.add(l, r)
        }
        Node::Div(a, b) => {
            if dd(b) == zero {
                g.div(dd(a), b)
            } else {
                // (a/b)' = (a' b - a b') / b^2
                let l = g.mul(dd(a), b);
                let r = g.mul(a, dd(b));
                let num = g.sub(l, r);
                let den = g.powi(b, 2);
                g.div(num, den)
            }
        }
        Node::PowI(a, n) => {
            let c = g.constant(n as f64);
            let p = g.powi(a, n - 1);
            let outer = g.mul(c, p);
            g.mul(outer, dd(a))
        }
        Node::Pow(a, b) => {
            if dd(b) == zero {
                // b a^(b-1) a'
                let one = g.constant(1.0);
                let bm1 = g.sub(b, one);
                let p = g.pow(a, bm1);
                let outer = g.mul(b, p);
                g.mul(outer, dd(a))
            } else {
                // a^b (b' ln a + b a' / a)
                let ln = g.call(Func::Log, a);
                let l = g.mul(dd(b), ln);
                let ba = g.mul(b, dd(a));
                let r = g.div(ba, a);
                let s = g.add(l, r);
                g.mul(e, s)
            }
        }
        // The chain rule of the function table (`super::func`).
        Node::Call(f, u) => f.derivative(g, u, e, dd(u)),
        Node::Min(a, b) | Node::Max(a, b) => {
            // Step to the second branch: min takes b iff a > b, max iff b > a.
            let switch = if matches!(node, Node::Min(..)) { g.sub(a, b) } else { g.sub(b, a) };
            let h = g.call(Func::Heaviside, switch);
            let diff = g.sub(dd(b), dd(a));
            let jump = g.mul(h, diff);
            g.add(dd(a), jump)
        }
        Node::Atan2(a, b) => {
            let a2 = g.powi(a, 2);
            let b2 = g.powi(b, 2);
            let den = g.add(a2, b2);
            let l = g.mul(b, dd(a));
            let r = g.mul(a, dd(b));
            let num = g.sub(l, r);
            g.div(num, den)
        }
    }
}

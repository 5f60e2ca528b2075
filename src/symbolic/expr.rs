//! Expressions as a hash-consed DAG over a fixed symbol table.
//!
//! A [`Graph`] is an arena of [`Node`]s; a node refers to its operands by
//! [`Id`]. Every node is *interned*: building a node that already exists
//! returns the existing id, so equal subexpressions are one node, however
//! often they occur (in one right-hand side, across equations, or between
//! `F` and its derivatives). Operands are always created before the node
//! that uses them, so ids are a topological order and every pass over a
//! graph (differentiation, simplification, evaluation, compilation) is one
//! loop over ids without recursion: its cost is linear in the number of
//! distinct nodes and independent of how deeply they nest.
//!
//! Symbols are resolved to indices at parse time (`Var(k)` is the `k`-th
//! entry of the evaluation vector: state variables first, then parameters).
//!
//! The constructors ([`Graph::add`], [`Graph::mul`], ...) are *smart*: they
//! fold constants and apply the 0/1 identities as nodes are built, which is
//! what [`super::diff`] relies on to keep derivatives small (the derivative
//! of a subexpression independent of the variable is the constant 0, and it
//! stays 0 through products and sums). Every rule preserves the value exactly
//! in IEEE arithmetic for finite operands, except `0 * e = 0`, which ignores
//! `0 * inf = NaN` (the usual symbolic convention, and what keeps Jacobians
//! sparse), and `-(a - b) = b - a`, which can flip the sign of a zero result.
//!
//! [`Expr`] is a shared handle (graph + root) for the public API.
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

pub use super::func::{heaviside, max2, min2, sign, Func};
use super::func::Builder;

/// Index of a node in its [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub u32);

impl Id {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One operation of the DAG. Constants are stored by bit pattern so that
/// nodes can be hashed (`0.0` and `-0.0` are different nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Const(u64),
    Var(u32),
    Neg(Id),
    Add(Id, Id),
    Sub(Id, Id),
    Mul(Id, Id),
    Div(Id, Id),
    /// `a^b` with a non-integer or non-constant exponent (`powf`).
    Pow(Id, Id),
    /// `a^n` for a constant integer `n`, evaluated with `powi` (exact for
    /// negative bases, unlike `powf`).
    PowI(Id, i32),
    Call(Func, Id),
    /// `min(a, b)`: `a` on ties, NaN if either is NaN.
    Min(Id, Id),
    /// `max(a, b)`: `a` on ties, NaN if either is NaN.
    Max(Id, Id),
    /// `atan2(a, b)`: the angle of the point `(b, a)` in `(-pi, pi]`
    /// (libm's `atan2`, so `atan2(y, x)` as in C).
    Atan2(Id, Id),
}

impl Node {
    /// The constant's value, if the node is one.
    pub fn as_const(self) -> Option<f64> {
        match self {
            Node::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    /// Operands, in order (at most two).
    pub fn operands(self) -> impl Iterator<Item = Id> {
        let (a, b) = match self {
            Node::Const(_) | Node::Var(_) => (None, None),
            Node::Neg(a) | Node::PowI(a, _) | Node::Call(_, a) => (Some(a), None),
            Node::Add(a, b)
            | Node::Sub(a, b)
            | Node::Mul(a, b)
            | Node::Div(a, b)
            | Node::Pow(a, b)
            | Node::Min(a, b)
            | Node::Max(a, b)
            | Node::Atan2(a, b) => (Some(a), Some(b)),
        };
        a.into_iter().chain(b)
    }

    /// The same operation with operands renamed by `f` (used to copy nodes
    /// between graphs).
    pub fn map(self, mut f: impl FnMut(Id) -> Id) -> Node {
        match self {
            Node::Const(_) | Node::Var(_) => self,
            Node::Neg(a) => Node::Neg(f(a)),
            Node::PowI(a, n) => Node::PowI(f(a), n),
            Node::Call(g, a) => Node::Call(g, f(a)),
            Node::Add(a, b) => Node::Add(f(a), f(b)),
            Node::Sub(a, b) => Node::Sub(f(a), f(b)),
            Node::Mul(a, b) => Node::Mul(f(a), f(b)),
            Node::Div(a, b) => Node::Div(f(a), f(b)),
            Node::Pow(a, b) => Node::Pow(f(a), f(b)),
            Node::Min(a, b) => Node::Min(f(a), f(b)),
            Node::Max(a, b) => Node::Max(f(a), f(b)),
            Node::Atan2(a, b) => Node::Atan2(f(a), f(b)),
        }
    }

    /// Evaluate the node given its operands' values (`val(id)`) and the
    /// inputs `v`: the one definition of every operation's value, shared
    /// by the reference evaluator and the tape interpreter.
    #[inline(always)]
    pub fn apply(self, v: &[f64], val: impl Fn(Id) -> f64) -> f64 {
        match self {
            Node::Const(bits) => f64::from_bits(bits),
            Node::Var(k) => v[k as usize],
            Node::Neg(a) => -val(a),
            Node::Add(a, b) => val(a) + val(b),
            Node::Sub(a, b) => val(a) - val(b),
            Node::Mul(a, b) => val(a) * val(b),
            Node::Div(a, b) => val(a) / val(b),
            Node::Pow(a, b) => val(a).powf(val(b)),
            Node::PowI(a, n) => val(a).powi(n),
            Node::Call(f, a) => f.apply(val(a)),
            Node::Min(a, b) => min2(val(a), val(b)),
            Node::Max(a, b) => max2(val(a), val(b)),
            Node::Atan2(a, b) => val(a).atan2(val(b)),
        }
    }
}

/// Exponents up to this size are turned into `PowI`.
pub const POWI_LIMIT: f64 = 1024.0;

/// An arena of interned nodes.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    index: HashMap<Node, Id>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    pub fn node(&self, id: Id) -> Node {
        self.nodes[id.index()]
    }
    pub fn as_const(&self, id: Id) -> Option<f64> {
        self.node(id).as_const()
    }
    fn is_const(&self, id: Id, v: f64) -> bool {
        self.as_const(id) == Some(v)
    }

    /// The id of `node`, creating it if it does not exist yet.
    ///
    /// # Panics
    /// If an operand id does not exist in this graph (ids from another
    /// graph must be copied with [`Graph::import`]).
    pub fn intern(&mut self, node: Node) -> Id {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = Id(u32::try_from(self.nodes.len()).expect("expression graph exceeds 2^32 nodes"));
        assert!(node.operands().all(|a| a < id), "operand of {node:?} is not in the graph");
        self.nodes.push(node);
        self.index.insert(node, id);
        id
    }

    pub fn constant(&mut self, c: f64) -> Id {
        self.intern(Node::Const(c.to_bits()))
    }
    pub fn var(&mut self, k: usize) -> Id {
        self.intern(Node::Var(u32::try_from(k).expect("symbol index fits in u32")))
    }

    /// `-a`, folding constants and double negation; `-(x - y) = y - x`,
    /// built by `sub` so that its rules apply too (`-(-u - y) = y + u`, as
    /// the printed form `y - -u` re-parses; found by the round-trip
    /// property test in tests/symbolic/properties.rs).
    pub fn neg(&mut self, a: Id) -> Id {
        match self.node(a) {
            Node::Const(c) => self.constant(-f64::from_bits(c)),
            Node::Neg(inner) => inner,
            Node::Sub(x, y) => self.sub(y, x),
            _ => self.intern(Node::Neg(a)),
        }
    }

    /// `a + b` with `0 + b = b`, `a + (-b) = a - b`.
    pub fn add(&mut self, a: Id, b: Id) -> Id {
        match (self.node(a), self.node(b)) {
            (Node::Const(x), Node::Const(y)) => self.constant(f64::from_bits(x) + f64::from_bits(y)),
            _ if self.is_const(a, 0.0) => b,
            _ if self.is_const(b, 0.0) => a,
            (_, Node::Neg(b)) => self.sub(a, b),
            (Node::Neg(a), _) => self.sub(b, a),
            _ => self.intern(Node::Add(a, b)),
        }
    }

    /// `a - b` with `a - 0 = a`, `0 - b = -b`, `a - (-b) = a + b`.
    pub fn sub(&mut self, a: Id, b: Id) -> Id {
        match (self.node(a), self.node(b)) {
            (Node::Const(x), Node::Const(y)) => self.constant(f64::from_bits(x) - f64::from_bits(y)),
            _ if self.is_const(b, 0.0) => a,
            _ if self.is_const(a, 0.0) => self.neg(b),
            (_, Node::Neg(b)) => self.add(a, b),
            _ => self.intern(Node::Sub(a, b)),
        }
    }

    /// `a * b` with `0 * b = 0`, `1 * b = b`, `-1 * b = -b`, constants
    /// gathered to the left (`c1 * (c2 * x) = (c1 c2) * x`).
    pub fn mul(&mut self, a: Id, b: Id) -> Id {
        match (self.node(a), self.node(b)) {
            (Node::Const(x), Node::Const(y)) => self.constant(f64::from_bits(x) * f64::from_bits(y)),
            _ if self.is_const(a, 0.0) || self.is_const(b, 0.0) => self.constant(0.0),
            _ if self.is_const(a, 1.0) => b,
            _ if self.is_const(b, 1.0) => a,
            _ if self.is_const(a, -1.0) => self.neg(b),
            _ if self.is_const(b, -1.0) => self.neg(a),
            (_, Node::Const(_)) => self.mul(b, a),
            (Node::Const(c), Node::Mul(x, y)) if self.as_const(x).is_some() => {
                let c = self.constant(f64::from_bits(c) * self.as_const(x).unwrap_or(1.0));
                self.mul(c, y)
            }
            (Node::Const(c), Node::Neg(x)) => {
                let c = self.constant(-f64::from_bits(c));
                self.mul(c, x)
            }
            (Node::Neg(a), Node::Neg(b)) => self.mul(a, b),
            _ => self.intern(Node::Mul(a, b)),
        }
    }

    /// `a / b` with `0 / b = 0`, `a / 1 = a`, `a / -1 = -a`.
    pub fn div(&mut self, a: Id, b: Id) -> Id {
        match (self.node(a), self.node(b)) {
            (Node::Const(x), Node::Const(y)) => self.constant(f64::from_bits(x) / f64::from_bits(y)),
            _ if self.is_const(a, 0.0) => self.constant(0.0),
            _ if self.is_const(b, 1.0) => a,
            _ if self.is_const(b, -1.0) => self.neg(a),
            _ => self.intern(Node::Div(a, b)),
        }
    }

    /// `a ^ b`; an integer constant exponent becomes [`Node::PowI`].
    pub fn pow(&mut self, a: Id, b: Id) -> Id {
        match (self.node(a), self.node(b)) {
            (Node::Const(x), Node::Const(y)) => self.constant(pow_const(f64::from_bits(x), f64::from_bits(y))),
            (_, Node::Const(y)) if is_powi_exponent(f64::from_bits(y)) => self.powi(a, f64::from_bits(y) as i32),
            _ => self.intern(Node::Pow(a, b)),
        }
    }

    /// `a ^ n` with `a^0 = 1`, `a^1 = a`, `(a^m)^n = a^(mn)`.
    pub fn powi(&mut self, a: Id, n: i32) -> Id {
        match (self.node(a), n) {
            (_, 0) => self.constant(1.0),
            (_, 1) => a,
            (Node::Const(x), n) => self.constant(f64::from_bits(x).powi(n)),
            (Node::PowI(b, m), n) if (m as i64 * n as i64).abs() <= POWI_LIMIT as i64 => self.powi(b, m * n),
            _ => self.intern(Node::PowI(a, n)),
        }
    }

    /// `f(a)`, folded when `a` is constant.
    pub fn call(&mut self, f: Func, a: Id) -> Id {
        match self.as_const(a) {
            Some(x) => self.constant(f.apply(x)),
            None => self.intern(Node::Call(f, a)),
        }
    }

    pub fn min(&mut self, a: Id, b: Id) -> Id {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(min2(x, y)),
            _ => self.intern(Node::Min(a, b)),
        }
    }

    pub fn max(&mut self, a: Id, b: Id) -> Id {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(max2(x, y)),
            _ => self.intern(Node::Max(a, b)),
        }
    }

    /// `atan2(a, b)`, folded when both arguments are constant.
    pub fn atan2(&mut self, a: Id, b: Id) -> Id {
        match (self.as_const(a), self.as_const(b)) {
            (Some(y), Some(x)) => self.constant(y.atan2(x)),
            _ => self.intern(Node::Atan2(a, b)),
        }
    }

    /// Rebuild `node` (whose operands are ids of this graph) through the
    /// smart constructors.
    pub fn build(&mut self, node: Node) -> Id {
        match node {
            Node::Const(_) | Node::Var(_) => self.intern(node),
            Node::Neg(a) => self.neg(a),
            Node::Add(a, b) => self.add(a, b),
            Node::Sub(a, b) => self.sub(a, b),
            Node::Mul(a, b) => self.mul(a, b),
            Node::Div(a, b) => self.div(a, b),
            Node::Pow(a, b) => self.pow(a, b),
            Node::PowI(a, n) => self.powi(a, n),
            Node::Call(f, a) => self.call(f, a),
            Node::Min(a, b) => self.min(a, b),
            Node::Max(a, b) => self.max(a, b),
            Node::Atan2(a, b) => self.atan2(a, b),
        }
    }

    /// Which nodes `roots` depend on (`mark[id]`), in one backward sweep
    /// (ids are topologically ordered).
    pub fn reachable(&self, roots: &[Id]) -> Vec<bool> {
        let mut mark = vec![false; self.nodes.len()];
        for r in roots {
            mark[r.index()] = true;
        }
        for i in (0..self.nodes.len()).rev() {
            if mark[i] {
                for a in self.nodes[i].operands() {
                    mark[a.index()] = true;
                }
            }
        }
        mark
    }

    /// Copy the nodes `roots` depend on into `dst` through the smart
    /// constructors (so `dst` may simplify further), returning the new ids.
    /// Linear in the size of this graph.
    pub fn copy_into(&self, roots: &[Id], dst: &mut Graph) -> Vec<Id> {
        let mark = self.reachable(roots);
        let mut map = vec![Id(u32::MAX); self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            if mark[i] {
                map[i] = dst.build(node.map(|a| map[a.index()]));
            }
        }
        roots.iter().map(|r| map[r.index()]).collect()
    }

    /// Copy another expression into this graph (sharing what already exists).
    pub fn import(&mut self, e: &Expr) -> Id {
        e.graph.copy_into(&[e.root], self)[0]
    }

    /// Reference evaluation of `roots` at the inputs `v` (one sweep over the
    /// nodes they depend on; allocates its value table).
    pub fn eval(&self, roots: &[Id], v: &[f64]) -> Vec<f64> {
        let mark = self.reachable(roots);
        let mut val = vec![0.0; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            if mark[i] {
                val[i] = node.apply(v, |a| val[a.index()]);
            }
        }
        roots.iter().map(|r| val[r.index()]).collect()
    }

    /// Number of distinct nodes `roots` depend on.
    pub fn count(&self, roots: &[Id]) -> usize {
        self.reachable(roots).iter().filter(|&&m| m).count()
    }

    /// Whether two expressions, possibly in different graphs, are the same
    /// tree (same operations, operands and constant bit patterns). Each
    /// pair of nodes is compared once, so this is linear in the DAG sizes.
    pub fn same(&self, a: Id, other: &Graph, b: Id) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![(a, b)];
        while let Some((a, b)) = stack.pop() {
            if !seen.insert((a, b)) {
                continue;
            }
            let (na, nb) = (self.node(a), other.node(b));
            let same_kind = match (na, nb) {
                (Node::Const(x), Node::Const(y)) => x == y,
                (Node::Var(x), Node::Var(y)) => x == y,
                (Node::PowI(_, m), Node::PowI(_, n)) => m == n,
                (Node::Call(f, _), Node::Call(g, _)) => f == g,
                _ => std::mem::discriminant(&na) == std::mem::discriminant(&nb),
            };
            if !same_kind {
                return false;
            }
            stack.extend(na.operands().zip(nb.operands()));
        }
        true
    }
}

/// The derivative rules of the function table ([`Func::derivative`]) build
/// through the smart constructors.
impl Builder for Graph {
    type Id = Id;
    fn constant(&mut self, c: f64) -> Id {
        Graph::constant(self, c)
    }
    fn neg(&mut self, a: Id) -> Id {
        Graph::neg(self, a)
    }
    fn add(&mut self, a: Id, b: Id) -> Id {
        Graph::add(self, a, b)
    }
    fn sub(&mut self, a: Id, b: Id) -> Id {
        Graph::sub(self, a, b)
    }
    fn mul(&mut self, a: Id, b: Id) -> Id {
        Graph::mul(self, a, b)
    }
    fn div(&mut self, a: Id, b: Id) -> Id {
        Graph::div(self, a, b)
    }
    fn powi(&mut self, a: Id, n: i32) -> Id {
        Graph::powi(self, a, n)
    }
    fn call(&mut self, f: Func, a: Id) -> Id {
        Graph::call(self, f, a)
    }
}

/// `x^y` for constants, with integer exponents through `powi`.
pub fn pow_const(x: f64, y: f64) -> f64 {
    if is_powi_exponent(y) {
        x.powi(y as i32)
    } else {
        x.powf(y)
    }
}

fn is_powi_exponent(y: f64) -> bool {
    y.fract() == 0.0 && y.abs() <= POWI_LIMIT
}

/// A shared handle on one expression: a graph and a root in it. Cloning is
/// cheap (the graph is reference-counted); equality is structural
/// ([`Graph::same`]), so expressions from different graphs compare.
#[derive(Clone, Debug)]
pub struct Expr {
    graph: Arc<Graph>,
    root: Id,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        (Arc::ptr_eq(&self.graph, &other.graph) && self.root == other.root)
            || self.graph.same(self.root, &other.graph, other.root)
    }
}

impl Expr {
    pub fn new(graph: Arc<Graph>, root: Id) -> Self {
        Expr { graph, root }
    }
    /// A constant as a one-node expression.
    pub fn constant(c: f64) -> Self {
        let mut g = Graph::new();
        let root = g.constant(c);
        Expr::new(Arc::new(g), root)
    }
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
    pub fn root(&self) -> Id {
        self.root
    }
    /// The root operation.
    pub fn node(&self) -> Node {
        self.graph.node(self.root)
    }
    pub fn as_const(&self) -> Option<f64> {
        self.node().as_const()
    }
    /// Reference evaluation (allocates; the compiled tapes are the fast path).
    pub fn eval(&self, v: &[f64]) -> f64 {
        self.graph.eval(&[self.root], v)[0]
    }
    /// Number of distinct nodes (the DAG size).
    pub fn dag_size(&self) -> usize {
        self.graph.count(&[self.root])
    }
    /// `d self / d Var(k)`, simplified, in a fresh graph.
    pub fn derivative(&self, k: usize) -> Expr {
        let mut g = Graph::new();
        let root = g.import(self);
        let d = super::diff::derivatives(&mut g, &[root], k)[0];
        let (g, roots) = super::simplify::simplify(&g, &[d]);
        Expr::new(Arc::new(g), roots[0])
    }
    /// A `Display` adaptor printing symbols by name; the text re-parses to
    /// an identical expression. Printing expands shared nodes (it writes a
    /// tree), so the text can be much longer than the DAG is large.
    pub fn display<'a, S: AsRef<str>>(&'a self, names: &'a [S]) -> impl fmt::Display + 'a {
        super::print::Printer { graph: &self.graph, root: self.root, names }
    }
}

//! Printing expressions as model-file text that re-parses to the same
//! expression: minimal parentheses, round-trip float literals. The printer
//! writes a tree, expanding shared nodes, and recurses once per level of
//! the tree (bounded by the parser's nesting limit for parsed input).
use std::fmt;

use super::expr::{Graph, Id, Node};

// Printing precedences: sum < product < unary < power < atom.
const P_SUM: u8 = 1;
const P_PROD: u8 = 2;
const P_UNARY: u8 = 3;
const P_POW: u8 = 4;
const P_ATOM: u8 = 5;

pub(crate) struct Printer<'a, S> {
    pub graph: &'a Graph,
    pub root: Id,
    pub names: &'a [S],
}

impl<S: AsRef<str>> fmt::Display for Printer<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(self.graph, self.root, self.names, 0, f)
    }
}

fn prec(n: Node) -> u8 {
    match n {
        Node::Const(c) if f64::from_bits(c).is_sign_negative() => P_UNARY,
        Node::Const(_) | Node::Var(_) | Node::Call(..) | Node::Min(..) | Node::Max(..) | Node::Atan2(..) => P_ATOM,
        Node::Neg(_) => P_UNARY,
        Node::Add(..) | Node::Sub(..) => P_SUM,
        Node::Mul(..) | Node::Div(..) => P_PROD,
        Node::Pow(..) | Node::PowI(..) => P_POW,
    }
}

fn write_expr<S: AsRef<str>>(g: &Graph, e: Id, names: &[S], min_prec: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let node = g.node(e);
    let paren = prec(node) < min_prec;
    if paren {
        f.write_str("(")?;
    }
    let bin = |a: Id, pa: u8, op: &str, b: Id, pb: u8, f: &mut fmt::Formatter<'_>| -> fmt::Result {
        write_expr(g, a, names, pa, f)?;
        f.write_str(op)?;
        write_expr(g, b, names, pb, f)
    };
    match node {
        Node::Const(c) => write_const(f64::from_bits(c), f)?,
        Node::Var(k) => match names.get(k as usize) {
            Some(n) => f.write_str(n.as_ref())?,
            None => write!(f, "v{k}")?,
        },
        // The operand of unary minus must not be a sum or product, else
        // `-(a*b)` would re-parse as `(-a)*b`.
        Node::Neg(a) => {
            f.write_str("-")?;
            write_expr(g, a, names, P_POW, f)?;
        }
        Node::Add(a, b) => bin(a, P_SUM, " + ", b, P_PROD, f)?,
        Node::Sub(a, b) => bin(a, P_SUM, " - ", b, P_PROD, f)?,
        Node::Mul(a, b) => bin(a, P_PROD, "*", b, P_UNARY, f)?,
        Node::Div(a, b) => bin(a, P_PROD, "/", b, P_UNARY, f)?,
        Node::Pow(a, b) => bin(a, P_ATOM, "^", b, P_UNARY, f)?,
        Node::PowI(a, n) => {
            write_expr(g, a, names, P_ATOM, f)?;
            write!(f, "^{n}")?;
        }
        Node::Call(func, a) => {
            write!(f, "{}(", func.name())?;
            write_expr(g, a, names, 0, f)?;
            f.write_str(")")?;
        }
        Node::Min(a, b) | Node::Max(a, b) | Node::Atan2(a, b) => {
            f.write_str(match node {
                Node::Min(..) => "min(",
                Node::Max(..) => "max(",
                _ => "atan2(",
            })?;
            bin(a, 0, ", ", b, 0, f)?;
            f.write_str(")")?;
        }
    }
    if paren {
        f.write_str(")")?;
    }
    Ok(())
}

/// Shortest round-trip literal; non-finite values as expressions that the
/// parser accepts and folds back.
fn write_const(c: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if c.is_nan() {
        f.write_str("(0/0)")
    } else if c.is_infinite() {
        f.write_str(if c > 0.0 { "(1/0)" } else { "-(1/0)" })
    } else {
        // `{:?}` is the shortest representation that parses back exactly.
        write!(f, "{c:?}")
    }
}

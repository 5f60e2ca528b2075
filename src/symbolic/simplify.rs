//! Algebraic simplification: a bottom-up rebuild of a tree through the
//! simplifying constructors of [`Expr`] (constant folding, `0`/`1`
//! identities, sign normalisation, integer powers to `powi`).
//!
//! The rewrite is deliberately conservative: every rule preserves the value
//! exactly in IEEE arithmetic for finite inputs, except `0 * e = 0` (which
//! ignores `0 * inf`), the usual symbolic convention.
use super::expr::Expr;

/// Rebuild `e` bottom-up with the simplifying constructors until a fixed
/// point (a second pass can fire on patterns exposed by the first).
pub fn simplify(e: &Expr) -> Expr {
    let mut cur = once(e);
    for _ in 0..4 {
        let next = once(&cur);
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

fn once(e: &Expr) -> Expr {
    match e {
        Expr::Const(c) => Expr::Const(*c),
        Expr::Var(k) => Expr::Var(*k),
        Expr::Neg(a) => Expr::neg(once(a)),
        Expr::Add(a, b) => Expr::add(once(a), once(b)),
        Expr::Sub(a, b) => Expr::sub(once(a), once(b)),
        Expr::Mul(a, b) => Expr::mul(once(a), once(b)),
        Expr::Div(a, b) => Expr::div(once(a), once(b)),
        Expr::Pow(a, b) => Expr::pow(once(a), once(b)),
        Expr::PowI(a, n) => Expr::powi(once(a), *n),
        Expr::Call(f, a) => Expr::call(*f, once(a)),
        Expr::Min(a, b) => Expr::min(once(a), once(b)),
        Expr::Max(a, b) => Expr::max(once(a), once(b)),
        Expr::Atan2(a, b) => Expr::atan2(once(a), once(b)),
    }
}

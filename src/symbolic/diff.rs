//! Symbolic differentiation `d e / d Var(k)`, with respect to a state
//! variable or a parameter alike (both are symbols of the same table).
//!
//! Rules (primes denote `d/dv`):
//!
//! ```text
//! (a^n)'      = n a^(n-1) a'                     (constant integer n)
//! (a^b)'      = a^b (b' ln a + b a'/a)           (b' = 0: b a^(b-1) a')
//! exp' = exp, log' = 1/u, sqrt' = 1/(2 sqrt u), abs' = sign(u),
//! sin' = cos, cos' = -sin, tan' = 1 + tan^2, tanh' = 1 - tanh^2,
//! sinh' = cosh, cosh' = sinh, atan' = 1/(1 + u^2),
//! erf' = 2/sqrt(pi) exp(-u^2), erfc' = -erf', sign' = heaviside' = 0
//! min(a,b)'   = a' + H(a - b) (b' - a')          (min = a on ties)
//! max(a,b)'   = a' + H(b - a) (b' - a')          (max = a on ties)
//! atan2(a,b)' = (b a' - a b') / (a^2 + b^2)
//! ```
//!
//! `H` is the Heaviside step with `H(0) = 0`, matching the tie-breaking of
//! the evaluator, so the derivative is the one-sided derivative of the
//! branch the evaluator actually takes. Results are built with the
//! simplifying constructors, so derivatives of independent sub-trees
//! vanish structurally (a zero entry of the Jacobian is a `Const(0)`).
use super::expr::{Expr, Func};

/// `d e / d Var(k)`, simplified.
pub fn derivative(e: &Expr, k: usize) -> Expr {
    if !e.depends_on(k) {
        return Expr::Const(0.0);
    }
    match e {
        Expr::Const(_) => Expr::Const(0.0),
        Expr::Var(j) => Expr::Const(if *j == k { 1.0 } else { 0.0 }),
        Expr::Neg(a) => Expr::neg(derivative(a, k)),
        Expr::Add(a, b) => Expr::add(derivative(a, k), derivative(b, k)),
        Expr::Sub(a, b) => Expr::sub(derivative(a, k), derivative(b, k)),
        Expr::Mul(a, b) => Expr::add(
            Expr::mul(derivative(a, k), (**b).clone()),
            Expr::mul((**a).clone(), derivative(b, k)),
        ),
        Expr::Div(a, b) => {
            let da = derivative(a, k);
            let db = derivative(b, k);
            if db.as_const() == Some(0.0) {
                Expr::div(da, (**b).clone())
            } else {
                // (a/b)' = (a' b - a b') / b^2
                Expr::div(
                    Expr::sub(Expr::mul(da, (**b).clone()), Expr::mul((**a).clone(), db)),
                    Expr::powi((**b).clone(), 2),
                )
            }
        }
        Expr::PowI(a, n) => Expr::mul(
            Expr::mul(Expr::Const(*n as f64), Expr::powi((**a).clone(), n - 1)),
            derivative(a, k),
        ),
        Expr::Pow(a, b) => {
            let da = derivative(a, k);
            let db = derivative(b, k);
            if db.as_const() == Some(0.0) {
                // b a^(b-1) a'
                Expr::mul(
                    Expr::mul((**b).clone(), Expr::pow((**a).clone(), Expr::sub((**b).clone(), Expr::Const(1.0)))),
                    da,
                )
            } else {
                // a^b (b' ln a + b a' / a)
                Expr::mul(
                    e.clone(),
                    Expr::add(
                        Expr::mul(db, Expr::call(Func::Log, (**a).clone())),
                        Expr::div(Expr::mul((**b).clone(), da), (**a).clone()),
                    ),
                )
            }
        }
        Expr::Call(f, a) => {
            let da = derivative(a, k);
            let u = (**a).clone();
            let outer = match f {
                Func::Exp => e.clone(),
                Func::Log => return Expr::div(da, u),
                Func::Sqrt => return Expr::div(da, Expr::mul(Expr::Const(2.0), e.clone())),
                Func::Abs => Expr::call(Func::Sign, u),
                Func::Sin => Expr::call(Func::Cos, u),
                Func::Cos => Expr::neg(Expr::call(Func::Sin, u)),
                Func::Tan => Expr::add(Expr::Const(1.0), Expr::powi(e.clone(), 2)),
                Func::Tanh => Expr::sub(Expr::Const(1.0), Expr::powi(e.clone(), 2)),
                Func::Sinh => Expr::call(Func::Cosh, u),
                Func::Cosh => Expr::call(Func::Sinh, u),
                Func::Atan => return Expr::div(da, Expr::add(Expr::Const(1.0), Expr::powi(u, 2))),
                Func::Erf | Func::Erfc => {
                    let c = 2.0 / std::f64::consts::PI.sqrt();
                    let c = if *f == Func::Erf { c } else { -c };
                    Expr::mul(Expr::Const(c), Expr::call(Func::Exp, Expr::neg(Expr::powi(u, 2))))
                }
                Func::Sign | Func::Heaviside => return Expr::Const(0.0),
            };
            Expr::mul(outer, da)
        }
        Expr::Min(a, b) | Expr::Max(a, b) => {
            let da = derivative(a, k);
            let db = derivative(b, k);
            let (a, b) = ((**a).clone(), (**b).clone());
            // Step to the second branch: min takes b iff a > b, max iff b > a.
            let switch = if matches!(e, Expr::Min(..)) { Expr::sub(a, b) } else { Expr::sub(b, a) };
            Expr::add(da.clone(), Expr::mul(Expr::call(Func::Heaviside, switch), Expr::sub(db, da)))
        }
        Expr::Atan2(a, b) => {
            let (da, db) = (derivative(a, k), derivative(b, k));
            let (a, b) = ((**a).clone(), (**b).clone());
            let den = Expr::add(Expr::powi(a.clone(), 2), Expr::powi(b.clone(), 2));
            Expr::div(Expr::sub(Expr::mul(b, da), Expr::mul(a, db)), den)
        }
    }
}

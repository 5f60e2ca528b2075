//! The elementary one-argument functions of the expression language, in one
//! table, and the scalar conventions (NaN propagation, tie-breaking,
//! `sign(0) = 0`) that every evaluator (tree walk, interpreter, JIT) shares.
//!
//! Each row of the table (the invocation of `functions!` below) gives a
//! function's variant, its model-file name, its value and its derivative
//! rule. Everything else is generated from the rows, so adding a function
//! is one row:
//! - [`Func`] and [`Func::ALL`], which the parser's name lookup
//!   ([`Func::from_name`]), its suggestions and the reserved names read;
//! - [`Func::apply`], the value for constant folding, the tree walk and the
//!   tape interpreter;
//! - [`Func::derivative`], the chain rule that [`super::diff`] applies;
//! - [`Func::c_abi`], the same value with the C calling convention: the
//!   shim through which machine code ([`super::jit`]) calls the very Rust
//!   function the interpreter uses (the JIT inlines a few functions as IEEE
//!   operations or selects; every other one is a call of its shim).
//!
//! Derivative rules are written against [`Builder`], the smart constructors
//! of [`super::expr::Graph`], rather than the graph itself, because the
//! graph's nodes hold a [`Func`]: this module cannot import the graph
//! without an import circle.

/// The constructors a derivative rule builds with: those of
/// [`super::expr::Graph`] (folding constants and 0/1 identities as nodes are
/// built), which implements this trait by calling them.
pub trait Builder {
    /// A node of the graph.
    type Id: Copy;
    fn constant(&mut self, c: f64) -> Self::Id;
    fn neg(&mut self, a: Self::Id) -> Self::Id;
    fn add(&mut self, a: Self::Id, b: Self::Id) -> Self::Id;
    fn sub(&mut self, a: Self::Id, b: Self::Id) -> Self::Id;
    fn mul(&mut self, a: Self::Id, b: Self::Id) -> Self::Id;
    fn div(&mut self, a: Self::Id, b: Self::Id) -> Self::Id;
    fn powi(&mut self, a: Self::Id, n: i32) -> Self::Id;
    fn call(&mut self, f: Func, a: Self::Id) -> Self::Id;
}

/// A function with the C calling convention, as machine code calls it.
pub type CFn = extern "C" fn(f64) -> f64;

/// Generates [`Func`] and its methods from the table of rows
/// `Variant "name", |u| value, |g, u, e, du| derivative;`
/// where the derivative rule builds `d f(u) / dv` in `g` from the argument
/// `u`, the node `e = f(u)` itself and the argument's derivative `du`.
macro_rules! functions {
    ($(
        $(#[$doc:meta])*
        $variant:ident $name:literal,
        |$u:ident| $value:expr,
        |$g:ident, $arg:ident, $e:ident, $du:ident| $derivative:expr;
    )*) => {
        /// Elementary one-argument functions.
        ///
        /// `Sign` and `Heaviside` arise as derivatives of `abs`, `min` and
        /// `max`; they are also accepted in model files so that every
        /// printed derivative re-parses.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Func {
            $($(#[$doc])* $variant,)*
        }

        impl Func {
            /// Every one-argument function, in table order (`ALL[f as usize] == f`).
            pub const ALL: [Func; [$(Func::$variant),*].len()] = [$(Func::$variant),*];

            /// The name used in model files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Func::$variant => $name,)*
                }
            }

            /// Apply the function.
            #[inline(always)]
            pub fn apply(self, u: f64) -> f64 {
                match self {
                    $(Func::$variant => {
                        let $u = u;
                        $value
                    })*
                }
            }

            /// `d f(u) / dv` by the chain rule, given the argument `u`, the
            /// node `e = f(u)` and the argument's derivative `du` (not the
            /// constant 0: [`super::diff`] returns 0 itself then).
            #[allow(unused_variables)]
            pub fn derivative<B: Builder>(self, g: &mut B, u: B::Id, e: B::Id, du: B::Id) -> B::Id {
                match self {
                    $(Func::$variant => {
                        let ($g, $arg, $e, $du) = (g, u, e, du);
                        $derivative
                    })*
                }
            }

            /// [`Func::apply`] with the C calling convention (the JIT's shim).
            pub fn c_abi(self) -> CFn {
                match self {
                    $(Func::$variant => {
                        extern "C" fn shim(u: f64) -> f64 {
                            Func::$variant.apply(u)
                        }
                        shim
                    })*
                }
            }
        }
    };
}

// Values: natural log; statrs' erf and erfc. Derivatives, with primes
// denoting d/du: exp' = exp, log' = 1/u, sqrt' = 1/(2 sqrt u),
// abs' = sign(u), sin' = cos, cos' = -sin, tan' = 1 + tan^2,
// tanh' = 1 - tanh^2, sinh' = cosh, cosh' = sinh, atan' = 1/(1 + u^2),
// erf' = 2/sqrt(pi) exp(-u^2), erfc' = -erf', sign' = heaviside' = 0.
// A rule that divides by its outer factor (log, sqrt, atan) builds
// `du / den` rather than `(1/den) du`: fewer nodes, and the shape that
// exported derivatives have always had.
functions! {
    Exp "exp",        |u| u.exp(),   |g, u, e, du| g.mul(e, du);
    Log "log",        |u| u.ln(),    |g, u, e, du| g.div(du, u);
    Sqrt "sqrt",      |u| u.sqrt(),  |g, u, e, du| { let two = g.constant(2.0); let den = g.mul(two, e); g.div(du, den) };
    Abs "abs",        |u| u.abs(),   |g, u, e, du| { let s = g.call(Func::Sign, u); g.mul(s, du) };
    Sin "sin",        |u| u.sin(),   |g, u, e, du| { let c = g.call(Func::Cos, u); g.mul(c, du) };
    Cos "cos",        |u| u.cos(),   |g, u, e, du| { let s = g.call(Func::Sin, u); let m = g.neg(s); g.mul(m, du) };
    Tan "tan",        |u| u.tan(),   |g, u, e, du| { let one = g.constant(1.0); let sq = g.powi(e, 2); let d = g.add(one, sq); g.mul(d, du) };
    Tanh "tanh",      |u| u.tanh(),  |g, u, e, du| { let one = g.constant(1.0); let sq = g.powi(e, 2); let d = g.sub(one, sq); g.mul(d, du) };
    Sinh "sinh",      |u| u.sinh(),  |g, u, e, du| { let c = g.call(Func::Cosh, u); g.mul(c, du) };
    Cosh "cosh",      |u| u.cosh(),  |g, u, e, du| { let s = g.call(Func::Sinh, u); g.mul(s, du) };
    Atan "atan",      |u| u.atan(),  |g, u, e, du| { let one = g.constant(1.0); let sq = g.powi(u, 2); let den = g.add(one, sq); g.div(du, den) };
    Erf "erf",        |u| statrs::function::erf::erf(u),  |g, u, e, du| gauss_chain(g, 1.0, u, du);
    Erfc "erfc",      |u| statrs::function::erf::erfc(u), |g, u, e, du| gauss_chain(g, -1.0, u, du);
    /// `sign(u)`: -1, 0 or 1 (0 at 0, so that `d/du abs(u) = 0` at the kink).
    Sign "sign",      |u| sign(u),      |g, u, e, du| g.constant(0.0);
    /// `heaviside(u)`: 1 for `u > 0`, else 0.
    Heaviside "heaviside", |u| heaviside(u), |g, u, e, du| g.constant(0.0);
}

/// `s 2/sqrt(pi) exp(-u^2) du`: the derivative of `erf` (`s = 1`) and
/// `erfc` (`s = -1`).
fn gauss_chain<B: Builder>(g: &mut B, s: f64, u: B::Id, du: B::Id) -> B::Id {
    let c = g.constant(s * (2.0 / std::f64::consts::PI.sqrt()));
    let sq = g.powi(u, 2);
    let m = g.neg(sq);
    let ex = g.call(Func::Exp, m);
    let outer = g.mul(c, ex);
    g.mul(outer, du)
}

impl Func {
    /// Look a function up by its model-file name.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// `sign(u)` with `sign(0) = 0` (and NaN propagated).
#[inline(always)]
pub fn sign(u: f64) -> f64 {
    if u > 0.0 {
        1.0
    } else if u < 0.0 {
        -1.0
    } else {
        u * 0.0
    }
}

/// Heaviside step `H(u) = 1` for `u > 0`, `0` otherwise (NaN propagated).
#[inline(always)]
pub fn heaviside(u: f64) -> f64 {
    if u > 0.0 {
        1.0
    } else if u.is_nan() {
        u
    } else {
        0.0
    }
}

/// `min(a, b)` returning `a` on ties; NaN in either argument gives NaN
/// (unlike `f64::min`, which would hide a NaN).
#[inline(always)]
pub fn min2(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a <= b {
        a
    } else {
        b
    }
}

/// `max(a, b)` returning `a` on ties; NaN-propagating.
#[inline(always)]
pub fn max2(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a >= b {
        a
    } else {
        b
    }
}

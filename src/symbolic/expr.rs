//! Expression trees over a fixed symbol table.
//!
//! Symbols are resolved to indices at parse time (`Var(k)` is the `k`-th
//! entry of the evaluation vector: state variables first, then parameters),
//! so neither differentiation nor evaluation ever touches a string.
//!
//! The `Expr::add`/`mul`/... constructors are *smart*: they fold constants
//! and apply the 0/1 identities as the tree is built, which is what
//! [`super::simplify`] and [`super::diff`] rely on to keep derivative trees
//! small.
use std::fmt;

/// Elementary one-argument functions.
///
/// `Sign` and `Heaviside` arise as derivatives of `abs`, `min` and `max`;
/// they are also accepted in model files so that every printed derivative
/// re-parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    Exp,
    Log,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tan,
    Tanh,
    Sinh,
    Cosh,
    Atan,
    Erf,
    Erfc,
    /// `sign(u)`: -1, 0 or 1 (0 at 0, so that `d/du abs(u) = 0` at the kink).
    Sign,
    /// `heaviside(u)`: 1 for `u > 0`, else 0.
    Heaviside,
}

impl Func {
    /// Every one-argument function, for name lookup and suggestions.
    pub const ALL: [Func; 15] = [
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Abs,
        Func::Sin,
        Func::Cos,
        Func::Tan,
        Func::Tanh,
        Func::Sinh,
        Func::Cosh,
        Func::Atan,
        Func::Erf,
        Func::Erfc,
        Func::Sign,
        Func::Heaviside,
    ];

    /// The name used in model files.
    pub fn name(self) -> &'static str {
        match self {
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Tanh => "tanh",
            Func::Sinh => "sinh",
            Func::Cosh => "cosh",
            Func::Atan => "atan",
            Func::Erf => "erf",
            Func::Erfc => "erfc",
            Func::Sign => "sign",
            Func::Heaviside => "heaviside",
        }
    }

    /// Look a function up by its model-file name.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Apply the function (natural log; statrs' erf/erfc).
    #[inline(always)]
    pub fn apply(self, u: f64) -> f64 {
        match self {
            Func::Exp => u.exp(),
            Func::Log => u.ln(),
            Func::Sqrt => u.sqrt(),
            Func::Abs => u.abs(),
            Func::Sin => u.sin(),
            Func::Cos => u.cos(),
            Func::Tan => u.tan(),
            Func::Tanh => u.tanh(),
            Func::Sinh => u.sinh(),
            Func::Cosh => u.cosh(),
            Func::Atan => u.atan(),
            Func::Erf => statrs::function::erf::erf(u),
            Func::Erfc => statrs::function::erf::erfc(u),
            Func::Sign => sign(u),
            Func::Heaviside => heaviside(u),
        }
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

/// A real-valued expression in the symbols `Var(0..)`.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Const(f64),
    Var(usize),
    Neg(Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    /// `a^b` with a non-integer or non-constant exponent (`exp(b ln a)`).
    Pow(Box<Expr>, Box<Expr>),
    /// `a^n` for a constant integer `n`, evaluated with `powi` (exact for
    /// negative bases, unlike `powf`).
    PowI(Box<Expr>, i32),
    Call(Func, Box<Expr>),
    Min(Box<Expr>, Box<Expr>),
    Max(Box<Expr>, Box<Expr>),
    /// `atan2(a, b)`: the angle of the point `(b, a)` in `(-pi, pi]`
    /// (libm's `atan2`, so `atan2(y, x)` as in C).
    Atan2(Box<Expr>, Box<Expr>),
}

/// Exponents up to this size are turned into `PowI`.
const POWI_LIMIT: f64 = 1024.0;

impl Expr {
    pub fn constant(c: f64) -> Expr {
        Expr::Const(c)
    }
    pub fn var(k: usize) -> Expr {
        Expr::Var(k)
    }
    pub fn as_const(&self) -> Option<f64> {
        match self {
            Expr::Const(c) => Some(*c),
            _ => None,
        }
    }
    fn is_const(&self, v: f64) -> bool {
        matches!(self, Expr::Const(c) if *c == v)
    }

    /// `-a`, folding constants and double negation.
    #[allow(clippy::should_implement_trait)]
    pub fn neg(a: Expr) -> Expr {
        match a {
            Expr::Const(c) => Expr::Const(-c),
            Expr::Neg(inner) => *inner,
            Expr::Sub(x, y) => Expr::Sub(y, x),
            a => Expr::Neg(Box::new(a)),
        }
    }

    /// `a + b` with `0 + b = b`, `a + (-b) = a - b`.
    #[allow(clippy::should_implement_trait)]
    pub fn add(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::Const(x), Expr::Const(y)) => Expr::Const(x + y),
            (a, b) if a.is_const(0.0) => b,
            (a, b) if b.is_const(0.0) => a,
            (a, Expr::Neg(b)) => Expr::sub(a, *b),
            (Expr::Neg(a), b) => Expr::sub(b, *a),
            (a, b) => Expr::Add(Box::new(a), Box::new(b)),
        }
    }

    /// `a - b` with `a - 0 = a`, `0 - b = -b`, `a - (-b) = a + b`.
    #[allow(clippy::should_implement_trait)]
    pub fn sub(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::Const(x), Expr::Const(y)) => Expr::Const(x - y),
            (a, b) if b.is_const(0.0) => a,
            (a, b) if a.is_const(0.0) => Expr::neg(b),
            (a, Expr::Neg(b)) => Expr::add(a, *b),
            (a, b) => Expr::Sub(Box::new(a), Box::new(b)),
        }
    }

    /// `a * b` with `0 * b = 0`, `1 * b = b`, `-1 * b = -b`, constants
    /// gathered to the left (`c1 * (c2 * x) = (c1 c2) * x`).
    ///
    /// `0 * b = 0` deliberately ignores `0 * inf = NaN`: it is the standard
    /// symbolic convention and is what keeps Jacobian tapes sparse.
    #[allow(clippy::should_implement_trait)]
    pub fn mul(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::Const(x), Expr::Const(y)) => Expr::Const(x * y),
            (a, b) if a.is_const(0.0) || b.is_const(0.0) => Expr::Const(0.0),
            (a, b) if a.is_const(1.0) => b,
            (a, b) if b.is_const(1.0) => a,
            (a, b) if a.is_const(-1.0) => Expr::neg(b),
            (a, b) if b.is_const(-1.0) => Expr::neg(a),
            (a, Expr::Const(c)) => Expr::mul(Expr::Const(c), a),
            (Expr::Const(c), Expr::Mul(x, y)) if x.as_const().is_some() => {
                Expr::mul(Expr::Const(c * x.as_const().unwrap_or(1.0)), *y)
            }
            (Expr::Const(c), Expr::Neg(x)) => Expr::mul(Expr::Const(-c), *x),
            (Expr::Neg(a), Expr::Neg(b)) => Expr::mul(*a, *b),
            (a, b) => Expr::Mul(Box::new(a), Box::new(b)),
        }
    }

    /// `a / b` with `0 / b = 0`, `a / 1 = a`, `a / -1 = -a`.
    #[allow(clippy::should_implement_trait)]
    pub fn div(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::Const(x), Expr::Const(y)) => Expr::Const(x / y),
            (a, _) if a.is_const(0.0) => Expr::Const(0.0),
            (a, b) if b.is_const(1.0) => a,
            (a, b) if b.is_const(-1.0) => Expr::neg(a),
            (a, b) => Expr::Div(Box::new(a), Box::new(b)),
        }
    }

    /// `a ^ b`; an integer constant exponent becomes [`Expr::PowI`].
    pub fn pow(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::Const(x), Expr::Const(y)) => Expr::Const(pow_const(x, y)),
            (a, Expr::Const(y)) if y.fract() == 0.0 && y.abs() <= POWI_LIMIT => Expr::powi(a, y as i32),
            (a, b) => Expr::Pow(Box::new(a), Box::new(b)),
        }
    }

    /// `a ^ n` with `a^0 = 1`, `a^1 = a`, `(a^m)^n = a^(mn)`.
    pub fn powi(a: Expr, n: i32) -> Expr {
        match (a, n) {
            (_, 0) => Expr::Const(1.0),
            (a, 1) => a,
            (Expr::Const(x), n) => Expr::Const(x.powi(n)),
            (Expr::PowI(a, m), n) if (m as i64 * n as i64).abs() <= POWI_LIMIT as i64 => {
                Expr::powi(*a, m * n)
            }
            (a, n) => Expr::PowI(Box::new(a), n),
        }
    }

    /// `f(a)`, folded when `a` is constant.
    pub fn call(f: Func, a: Expr) -> Expr {
        match a {
            Expr::Const(x) => Expr::Const(f.apply(x)),
            a => Expr::Call(f, Box::new(a)),
        }
    }

    pub fn min(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::Const(x), Expr::Const(y)) => Expr::Const(min2(x, y)),
            (a, b) => Expr::Min(Box::new(a), Box::new(b)),
        }
    }

    pub fn max(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::Const(x), Expr::Const(y)) => Expr::Const(max2(x, y)),
            (a, b) => Expr::Max(Box::new(a), Box::new(b)),
        }
    }

    /// `atan2(a, b)`, folded when both arguments are constant.
    pub fn atan2(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::Const(y), Expr::Const(x)) => Expr::Const(y.atan2(x)),
            (a, b) => Expr::Atan2(Box::new(a), Box::new(b)),
        }
    }

    /// Reference tree-walking evaluation (allocation-free but recursive;
    /// the compiled [`super::tape::Tape`] is the fast path).
    pub fn eval(&self, v: &[f64]) -> f64 {
        match self {
            Expr::Const(c) => *c,
            Expr::Var(k) => v[*k],
            Expr::Neg(a) => -a.eval(v),
            Expr::Add(a, b) => a.eval(v) + b.eval(v),
            Expr::Sub(a, b) => a.eval(v) - b.eval(v),
            Expr::Mul(a, b) => a.eval(v) * b.eval(v),
            Expr::Div(a, b) => a.eval(v) / b.eval(v),
            Expr::Pow(a, b) => a.eval(v).powf(b.eval(v)),
            Expr::PowI(a, n) => a.eval(v).powi(*n),
            Expr::Call(f, a) => f.apply(a.eval(v)),
            Expr::Min(a, b) => min2(a.eval(v), b.eval(v)),
            Expr::Max(a, b) => max2(a.eval(v), b.eval(v)),
            Expr::Atan2(a, b) => a.eval(v).atan2(b.eval(v)),
        }
    }

    /// Whether `Var(k)` occurs in the expression.
    pub fn depends_on(&self, k: usize) -> bool {
        match self {
            Expr::Const(_) => false,
            Expr::Var(j) => *j == k,
            Expr::Neg(a) | Expr::PowI(a, _) | Expr::Call(_, a) => a.depends_on(k),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Min(a, b)
            | Expr::Max(a, b)
            | Expr::Atan2(a, b) => a.depends_on(k) || b.depends_on(k),
        }
    }

    /// Number of nodes (a size measure for tests and diagnostics).
    pub fn size(&self) -> usize {
        match self {
            Expr::Const(_) | Expr::Var(_) => 1,
            Expr::Neg(a) | Expr::PowI(a, _) | Expr::Call(_, a) => 1 + a.size(),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Min(a, b)
            | Expr::Max(a, b)
            | Expr::Atan2(a, b) => 1 + a.size() + b.size(),
        }
    }

    /// A `Display` adaptor printing symbols by name; the text re-parses to
    /// an identical tree (minimal parentheses, round-trip float literals).
    pub fn display<'a, S: AsRef<str>>(&'a self, names: &'a [S]) -> impl fmt::Display + 'a {
        Printer { e: self, names }
    }
}

/// `x^y` for constants, with integer exponents through `powi`.
fn pow_const(x: f64, y: f64) -> f64 {
    if y.fract() == 0.0 && y.abs() <= POWI_LIMIT {
        x.powi(y as i32)
    } else {
        x.powf(y)
    }
}

// Printing precedences: sum < product < unary < power < atom.
const P_SUM: u8 = 1;
const P_PROD: u8 = 2;
const P_UNARY: u8 = 3;
const P_POW: u8 = 4;
const P_ATOM: u8 = 5;

struct Printer<'a, S> {
    e: &'a Expr,
    names: &'a [S],
}

impl<S: AsRef<str>> fmt::Display for Printer<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(self.e, self.names, 0, f)
    }
}

fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Const(c) if c.is_sign_negative() => P_UNARY,
        Expr::Const(_) | Expr::Var(_) | Expr::Call(..) | Expr::Min(..) | Expr::Max(..) | Expr::Atan2(..) => P_ATOM,
        Expr::Neg(_) => P_UNARY,
        Expr::Add(..) | Expr::Sub(..) => P_SUM,
        Expr::Mul(..) | Expr::Div(..) => P_PROD,
        Expr::Pow(..) | Expr::PowI(..) => P_POW,
    }
}

fn write_expr<S: AsRef<str>>(e: &Expr, names: &[S], min_prec: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let p = prec(e);
    let paren = p < min_prec;
    if paren {
        f.write_str("(")?;
    }
    match e {
        Expr::Const(c) => write_const(*c, f)?,
        Expr::Var(k) => match names.get(*k) {
            Some(n) => f.write_str(n.as_ref())?,
            None => write!(f, "v{k}")?,
        },
        // The operand of unary minus must not be a sum or product, else
        // `-(a*b)` would re-parse as `(-a)*b`.
        Expr::Neg(a) => {
            f.write_str("-")?;
            write_expr(a, names, P_POW, f)?;
        }
        Expr::Add(a, b) => {
            write_expr(a, names, P_SUM, f)?;
            f.write_str(" + ")?;
            write_expr(b, names, P_PROD, f)?;
        }
        Expr::Sub(a, b) => {
            write_expr(a, names, P_SUM, f)?;
            f.write_str(" - ")?;
            write_expr(b, names, P_PROD, f)?;
        }
        Expr::Mul(a, b) => {
            write_expr(a, names, P_PROD, f)?;
            f.write_str("*")?;
            write_expr(b, names, P_UNARY, f)?;
        }
        Expr::Div(a, b) => {
            write_expr(a, names, P_PROD, f)?;
            f.write_str("/")?;
            write_expr(b, names, P_UNARY, f)?;
        }
        Expr::Pow(a, b) => {
            write_expr(a, names, P_ATOM, f)?;
            f.write_str("^")?;
            write_expr(b, names, P_UNARY, f)?;
        }
        Expr::PowI(a, n) => {
            write_expr(a, names, P_ATOM, f)?;
            write!(f, "^{n}")?;
        }
        Expr::Call(func, a) => {
            write!(f, "{}(", func.name())?;
            write_expr(a, names, 0, f)?;
            f.write_str(")")?;
        }
        Expr::Min(a, b) | Expr::Max(a, b) | Expr::Atan2(a, b) => {
            f.write_str(match e {
                Expr::Min(..) => "min(",
                Expr::Max(..) => "max(",
                _ => "atan2(",
            })?;
            write_expr(a, names, 0, f)?;
            f.write_str(", ")?;
            write_expr(b, names, 0, f)?;
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

//! The elementary functions of the expression language and the scalar
//! conventions (NaN propagation, tie-breaking, `sign(0) = 0`) that every
//! evaluator (tree walk, interpreter, JIT) shares.

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


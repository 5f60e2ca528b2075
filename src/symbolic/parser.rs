//! Recursive-descent parser for the expression language.
//!
//! Grammar (lowest to highest precedence):
//!
//! ```text
//! sum     := product (('+' | '-') product)*          left-associative
//! product := unary (('*' | '/') unary)*              left-associative
//! unary   := ('-' | '+') unary | power
//! power   := primary ('^' unary)?                    right-associative
//! primary := number | 'pi' | name | func '(' sum (',' sum)* ')' | '(' sum ')'
//! ```
//!
//! so `-x^2 = -(x^2)`, `2^-1 = 0.5`, `2^3^2 = 2^9` and `a/b*c = (a/b)*c`,
//! as in written mathematics. Names are resolved against the model's symbol
//! table while parsing, so every error (unknown name, unknown function,
//! arity, unbalanced parenthesis) carries the byte range it refers to.
//!
//! Nodes are built directly in a shared [`Graph`] with its simplifying,
//! hash-consing constructors, so equal subexpressions of all equations of a
//! model are one node from the start.
//!
//! **Nesting limit.** The parser recurses once per *nesting level*: a
//! parenthesised group, a function call, a unary sign or an exponent each
//! open one level; operator chains (`a + b + c ...`, `a*b*c ...`) are loops
//! and do not nest. At most [`MAX_DEPTH`] levels are accepted, a bound that
//! keeps the recursion well inside a 2 MiB thread stack. Every later pass
//! (differentiation, simplification, compilation) is a loop over the DAG and
//! has no depth limit of its own.
use std::sync::Arc;

use super::expr::{Expr, Func, Graph, Id};
use super::lexer::{tokenize, ExprError, Tok, Token};
use crate::error::suggest;

/// Names of the two-argument functions.
const BINARY_FUNCS: [&str; 4] = ["min", "max", "atan2", "pow"];

/// Functions that the grammar does not have but users write, with the
/// spelling or the identity to use instead. They are answered with this
/// hint rather than an edit-distance suggestion, which would propose a
/// *different* function (`acos` -> `cos`, `log10` -> `log`).
const NOT_IN_GRAMMAR: [(&str, &str); 22] = [
    ("ln", "the natural logarithm is `log(u)`"),
    ("log10", "write `log(u)/log(10)`"),
    ("log2", "write `log(u)/log(2)`"),
    ("arctan", "the arc tangent is `atan(u)`"),
    ("arctan2", "write `atan2(y, x)`"),
    ("asin", "write `atan2(u, sqrt(1 - u^2))` (= asin(u) for |u| <= 1)"),
    ("acos", "write `atan2(sqrt(1 - u^2), u)` (= acos(u) for |u| <= 1)"),
    ("arcsin", "write `atan2(u, sqrt(1 - u^2))` (= asin(u) for |u| <= 1)"),
    ("arccos", "write `atan2(sqrt(1 - u^2), u)` (= acos(u) for |u| <= 1)"),
    ("asinh", "write `log(u + sqrt(u^2 + 1))`"),
    ("acosh", "write `log(u + sqrt(u^2 - 1))` (u >= 1)"),
    ("atanh", "write `log((1 + u)/(1 - u))/2` (|u| < 1)"),
    ("sec", "write `1/cos(u)`"),
    ("csc", "write `1/sin(u)`"),
    ("cot", "write `cos(u)/sin(u)`"),
    ("sech", "write `1/cosh(u)`"),
    ("csch", "write `1/sinh(u)`"),
    ("coth", "write `cosh(u)/sinh(u)`"),
    ("power", "write `pow(a, b)` or `a^b`"),
    ("sgn", "the sign function is `sign(u)`"),
    ("hypot", "write `sqrt(a^2 + b^2)`"),
    ("cbrt", "write `sign(u)*abs(u)^(1/3)`"),
];

/// Every function name the parser knows, for suggestions.
pub fn function_names() -> Vec<&'static str> {
    Func::ALL.iter().map(|f| f.name()).chain(BINARY_FUNCS).collect()
}

/// Names that cannot be used as model symbols.
pub fn is_reserved(name: &str) -> bool {
    name == "pi" || function_names().contains(&name)
}

/// Parse `src` with symbol `names[k]` mapped to `Var(k)`, into a graph of
/// its own.
pub fn parse_expr<S: AsRef<str>>(src: &str, names: &[S]) -> Result<Expr, ExprError> {
    let mut g = Graph::new();
    let root = parse_into(&mut g, src, names)?;
    Ok(Expr::new(Arc::new(g), root))
}

/// Parse `src` into the shared graph `g` (nodes that already exist are
/// reused), returning the root.
pub fn parse_into<S: AsRef<str>>(g: &mut Graph, src: &str, names: &[S]) -> Result<Id, ExprError> {
    let tokens = tokenize(src)?;
    let mut p = Parser { tokens, pos: 0, names, depth: 0, g };
    if p.peek() == &Tok::End {
        return Err(ExprError::new(0..src.len(), "empty expression")
            .with_help(Some("write a formula, e.g. `mu - x^2`".into())));
    }
    let e = p.sum()?;
    match p.peek() {
        Tok::End => Ok(e),
        Tok::RParen => {
            Err(ExprError::new(p.span(), "unbalanced `)`: no matching `(`").with_help(Some("remove it or add a `(` before it".into())))
        }
        t => Err(ExprError::new(p.span(), format!("unexpected {} after a complete expression", t.describe()))
            .with_help(Some("missing operator?".into()))),
    }
}

/// Maximum nesting depth (see the module documentation for what counts as
/// a level): `MAX_DEPTH` levels parse, one more is an error.
pub const MAX_DEPTH: usize = 500;

struct Parser<'n, 'g, S> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'n [S],
    /// Nesting levels open at the current position.
    depth: usize,
    g: &'g mut Graph,
}

impl<S: AsRef<str>> Parser<'_, '_, S> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }
    fn span(&self) -> std::ops::Range<usize> {
        self.tokens[self.pos].span.clone()
    }
    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    /// Run `inner` one nesting level deeper, failing past [`MAX_DEPTH`].
    fn nested<T>(&mut self, at: std::ops::Range<usize>, inner: impl FnOnce(&mut Self) -> Result<T, ExprError>) -> Result<T, ExprError> {
        if self.depth >= MAX_DEPTH {
            return Err(ExprError::new(at, format!("expression nested deeper than {MAX_DEPTH} levels"))
                .with_help(Some("split it with intermediate parameters or simplify it".into())));
        }
        self.depth += 1;
        let r = inner(self);
        self.depth -= 1;
        r
    }

    fn sum(&mut self) -> Result<Id, ExprError> {
        let mut lhs = self.product()?;
        loop {
            match self.peek() {
                Tok::Plus => {
                    self.bump();
                    let rhs = self.product()?;
                    lhs = self.g.add(lhs, rhs);
                }
                Tok::Minus => {
                    self.bump();
                    let rhs = self.product()?;
                    lhs = self.g.sub(lhs, rhs);
                }
                _ => break,
            }
        }
        Ok(lhs)
    }

    fn product(&mut self) -> Result<Id, ExprError> {
        let mut lhs = self.unary()?;
        loop {
            match self.peek() {
                Tok::Star => {
                    self.bump();
                    let rhs = self.unary()?;
                    lhs = self.g.mul(lhs, rhs);
                }
                Tok::Slash => {
                    self.bump();
                    let rhs = self.unary()?;
                    lhs = self.g.div(lhs, rhs);
                }
                _ => break,
            }
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Id, ExprError> {
        match self.peek() {
            Tok::Minus => {
                let t = self.bump();
                let a = self.nested(t.span, Self::unary)?;
                Ok(self.g.neg(a))
            }
            Tok::Plus => {
                let t = self.bump();
                self.nested(t.span, Self::unary)
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Id, ExprError> {
        let base = self.primary()?;
        if self.peek() == &Tok::Caret {
            let t = self.bump();
            let exponent = self.nested(t.span, Self::unary)?;
            return Ok(self.g.pow(base, exponent));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Id, ExprError> {
        let t = self.bump();
        match t.tok {
            Tok::Num(x) => Ok(self.g.constant(x)),
            Tok::LParen => {
                let e = self.nested(t.span.clone(), Self::sum)?;
                if self.peek() == &Tok::RParen {
                    self.bump();
                    Ok(e)
                } else {
                    Err(ExprError::new(t.span, "unbalanced `(`: no matching `)`").with_help(Some(format!(
                        "found {} where `)` was expected",
                        self.peek().describe()
                    ))))
                }
            }
            Tok::Ident(name) => {
                if self.peek() == &Tok::LParen {
                    let span = t.span.clone();
                    self.nested(t.span, |p| p.call(&name, span))
                } else {
                    self.symbol(&name, t.span)
                }
            }
            Tok::End => Err(ExprError::new(t.span, "expression ends too early")
                .with_help(Some("an operand is missing after the last operator".into()))),
            Tok::RParen => Err(ExprError::new(t.span, "unexpected `)`")
                .with_help(Some("an operand is missing, or the parentheses are unbalanced".into()))),
            other => Err(ExprError::new(t.span, format!("unexpected {}", other.describe()))
                .with_help(Some("expected a number, a name, a function call or `(`".into()))),
        }
    }

    fn symbol(&mut self, name: &str, span: std::ops::Range<usize>) -> Result<Id, ExprError> {
        if let Some(k) = self.names.iter().position(|n| n.as_ref() == name) {
            return Ok(self.g.var(k));
        }
        if name == "pi" {
            return Ok(self.g.constant(std::f64::consts::PI));
        }
        if function_names().contains(&name) {
            return Err(ExprError::new(span, format!("function `{name}` used without arguments"))
                .with_help(Some(format!("call it as `{name}(...)`"))));
        }
        let candidates = self.names.iter().map(|n| n.as_ref()).chain(["pi"]);
        let help = suggest(name, candidates).map(|s| format!("did you mean `{s}`?"));
        let help = help.or_else(|| {
            let all: Vec<&str> = self.names.iter().map(|n| n.as_ref()).collect();
            Some(format!("defined symbols: {}", all.join(", ")))
        });
        Err(ExprError::new(span, format!("undefined symbol `{name}`")).with_help(help))
    }

    fn call(&mut self, name: &str, span: std::ops::Range<usize>) -> Result<Id, ExprError> {
        let open = self.bump(); // `(`
        let unary = Func::from_name(name);
        if unary.is_none() && !BINARY_FUNCS.contains(&name) {
            let known = self.names.iter().any(|n| n.as_ref() == name);
            let help = if known {
                format!("`{name}` is a symbol, not a function; write `{name}*(...)` for a product")
            } else if let Some((_, hint)) = NOT_IN_GRAMMAR.iter().find(|(n, _)| *n == name) {
                format!("`{name}` is not in the grammar; {hint}")
            } else {
                suggest(name, function_names())
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("known functions: {}", function_names().join(", ")))
            };
            return Err(ExprError::new(span, format!("unknown function `{name}`")).with_help(Some(help)));
        }
        let mut args = Vec::new();
        if self.peek() != &Tok::RParen {
            loop {
                args.push(self.sum()?);
                match self.peek() {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RParen => break,
                    t => {
                        return Err(ExprError::new(open.span, format!("unbalanced `(` in call to `{name}`"))
                            .with_help(Some(format!("found {} where `,` or `)` was expected", t.describe()))))
                    }
                }
            }
        }
        let close = self.bump(); // `)`
        let full = span.start..close.span.end;
        let expected = if unary.is_some() { 1 } else { 2 };
        if args.len() != expected {
            let plural = if expected == 1 { "" } else { "s" };
            return Err(ExprError::new(
                full,
                format!("function `{name}` takes {expected} argument{plural}, got {}", args.len()),
            )
            .with_help(Some(if expected == 1 {
                format!("write `{name}(x)`")
            } else {
                format!("write `{name}(a, b)`")
            })));
        }
        // The arity was checked above: one argument for `unary`, else two.
        if let Some(f) = unary {
            return Ok(self.g.call(f, args[0]));
        }
        let (a, b) = (args[0], args[1]);
        Ok(match name {
            "min" => self.g.min(a, b),
            "max" => self.g.max(a, b),
            "atan2" => self.g.atan2(a, b),
            // `pow(a, b)` is `a^b`, the same node (integer exponents -> powi).
            _ => self.g.pow(a, b),
        })
    }
}

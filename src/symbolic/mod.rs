//! Symbolic model files: a reduced ODE written as text, parsed, differentiated
//! and compiled into a [`crate::engine::VectorField`], so every engine
//! analysis (integration, fixed points, spectra, continuation) runs on it.
//!
//! Pipeline: [`model_file`] reads the TOML with spans → [`parser`] turns each
//! expression into an [`expr::Expr`] with symbols resolved to indices (state
//! variables, then parameters) → [`diff`] differentiates with respect to
//! states and parameters → [`simplify`] folds constants and identities →
//! [`tape`] compiles to straight-line register code → [`model::SymbolicModel`]
//! evaluates `F`, `dF/dx` and `dF/dp` allocation-free.
//!
//! Why a hand-written parser rather than a crate (e.g. `exmex`): every error
//! must be reported at a line and column of the model *file* with a caret and
//! a "did you mean" suggestion, which needs byte spans for each token and
//! control over name resolution; and the evaluator must run on a caller- or
//! thread-owned register file with common subexpressions shared between `F`
//! and its Jacobian, which a generic expression crate does not expose. The
//! grammar is small (five operators, a dozen functions), so the lexer and
//! parser together are about 400 lines, exercised by `tests/symbolic/model_files.rs`.
pub mod diff;
pub mod expr;
pub mod func;
pub mod higher;
pub mod jit;
pub mod lexer;
pub mod model;
pub mod model_file;
pub mod parser;
mod print;
pub mod simplify;
pub mod tape;

pub use expr::{Expr, Func, Graph, Id, Node};
pub use lexer::ExprError;
pub use model::SymbolicModel;
pub use model_file::{parse_model_file, to_toml_string, ModelSpec};
pub use parser::{parse_expr, parse_into};

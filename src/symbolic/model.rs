//! [`SymbolicModel`]: a model file compiled into a [`VectorField`].
//!
//! At load time the right-hand sides `F_i` (one shared DAG for the whole
//! file) are differentiated symbolically with respect to every state
//! variable and every parameter in the same DAG, so derivatives share
//! subexpressions with `F` and with each other. The whole DAG (`F`, `dF/dx`,
//! `dF/dp`, observables) is simplified once, then compiled into four kinds
//! of tapes: `F`, the dense Jacobian `dF_i/dx_j` (row-major, one tape so that
//! common factors are shared), one tape per parameter `dF/dp_k`, and the
//! observables. Cost: `O((n + m) S)` for `n` states, `m` parameters and `S`
//! distinct nodes, linear in nesting depth.
//!
//! Evaluation runs the tapes compiled to machine code ([`super::jit`]),
//! or the tape interpreter where that is unavailable: no strings, no
//! allocation.
use std::path::Path;
use std::sync::{Arc, OnceLock};

use faer::MatMut;

use super::diff::{derivatives, sparse_derivatives};
use super::expr::{Expr, Graph, Id};
use super::higher::HigherDerivatives;
use super::jit::{self, Code, Layout, MatrixKernel, VectorKernel};
use super::model_file::{parse_model_file, to_toml_string};
use super::simplify::simplify;
use super::tape::Tape;
use crate::engine::VectorField;
use crate::error::{suggest, Error, Result};

/// A vector field `dx/dt = F(x; p)` defined by a model file.
#[derive(Clone, Debug)]
pub struct SymbolicModel {
    name: String,
    description: Option<String>,
    state_names: Vec<String>,
    param_names: Vec<String>,
    initial_state: Vec<f64>,
    params: Vec<f64>,
    equation_sources: Vec<String>,
    observable_names: Vec<String>,
    observable_sources: Vec<String>,
    /// The simplified DAG of every expression below.
    graph: Arc<Graph>,
    rhs_exprs: Vec<Id>,
    /// Row-major `n x n`.
    jac_exprs: Vec<Id>,
    /// The `(i, j)` whose `jac_exprs` entry is not the constant 0, row-major.
    jac_pattern: Vec<(usize, usize)>,
    /// Those entries only, in `jac_pattern` order: the `O(nnz)` Jacobian of
    /// large sparse systems.
    jac_sparse_tape: Tape,
    /// `dparam_exprs[k][i] = dF_i/dp_k`.
    dparam_exprs: Vec<Vec<Id>>,
    observable_exprs: Vec<Id>,
    rhs_tape: Tape,
    jac_tape: Tape,
    dparam_tapes: Vec<Tape>,
    observable_tape: Tape,
    /// Native code for the four kinds of tapes; `None`: the interpreter.
    kernels: Option<Kernels>,
    /// Exact second and third directional derivatives, compiled on first use.
    higher: OnceLock<Arc<HigherDerivatives>>,
}

/// Entry points of the compiled tapes and the code that holds them.
#[derive(Clone, Debug)]
struct Kernels {
    _code: Arc<Code>,
    n_x: usize,
    n_p: usize,
    rhs: VectorKernel,
    jac: MatrixKernel,
    dparam: Vec<VectorKernel>,
    obs: VectorKernel,
}

impl Kernels {
    fn compile(n_x: usize, n_p: usize, rhs: &Tape, jac: &Tape, dparam: &[Tape], obs: &Tape) -> std::result::Result<Self, String> {
        let mut tapes = vec![(rhs, Layout::Vector), (jac, Layout::Matrix { n: n_x }), (obs, Layout::Vector)];
        tapes.extend(dparam.iter().map(|t| (t, Layout::Vector)));
        let (code, ptrs) = jit::compile(&tapes, n_x)?;
        // SAFETY: `jit::compile` returns one entry point per tape with the
        // signature of its layout; they live as long as `code`, which the
        // struct keeps.
        unsafe {
            let vector = |p: *const u8| std::mem::transmute::<*const u8, VectorKernel>(p);
            Ok(Kernels {
                n_x,
                n_p,
                rhs: vector(ptrs[0]),
                jac: std::mem::transmute::<*const u8, MatrixKernel>(ptrs[1]),
                obs: vector(ptrs[2]),
                dparam: ptrs[3..].iter().map(|&p| vector(p)).collect(),
                _code: code,
            })
        }
    }

    /// Zero iff `x.len() == n_x` and `p.len() == n_p`. Callers OR in their
    /// output checks the same way (`a ^ b` is zero iff `a == b`) and test
    /// the result once: the hot path of a small model is a few nanoseconds,
    /// and separate predicted compare-and-branch pairs were a measurable
    /// part of it.
    #[inline(always)]
    fn input_mismatch(&self, x: &[f64], p: &[f64]) -> usize {
        (x.len() ^ self.n_x) | (p.len() ^ self.n_p)
    }
}

impl SymbolicModel {
    /// Parse, differentiate and compile a model file given as text;
    /// `source_name` (usually the path) appears in error messages.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Self> {
        let mut spec = parse_model_file(text, source_name)?;
        let (n, m) = (spec.state.len(), spec.parameters.len());
        let g = &mut spec.graph;
        let rhs = spec.equation_exprs.clone();
        // d[j][i] = dF_i / d symbol_j, all in the shared graph.
        // Large sparse systems differentiate each equation only in the
        // variables it uses (the engine's sparse threshold; below it the
        // graph is built exactly as before, so results keep their bits).
        let sparse = if n >= crate::engine::linalg::sparse_jacobian::SPARSE_MIN_DIM {
            sparse_derivatives(g, &rhs, n, n / 10)
        } else {
            None
        };
        let d: Vec<Vec<Id>> = match sparse {
            Some(mut d) => {
                d.extend((n..n + m).map(|j| derivatives(g, &rhs, j)));
                d
            }
            None => (0..n + m).map(|j| derivatives(g, &rhs, j)).collect(),
        };
        let jac: Vec<Id> = (0..n * n).map(|ij| d[ij % n][ij / n]).collect();
        // Simplify everything together, once: one list of roots.
        let mut roots = rhs.clone();
        roots.extend(&jac);
        roots.extend(d[n..].iter().flatten());
        roots.extend(&spec.observable_exprs);
        let (graph, roots) = simplify(g, &roots);
        let (rhs_exprs, rest) = roots.split_at(n);
        let (jac_exprs, rest) = rest.split_at(n * n);
        let (dp, observable_exprs) = rest.split_at(n * m);
        let dparam_exprs: Vec<Vec<Id>> = dp.chunks(n.max(1)).take(m).map(<[Id]>::to_vec).collect();
        let n_in = n + m;
        let rhs_tape = Tape::compile(&graph, rhs_exprs, n_in);
        let jac_tape = Tape::compile(&graph, jac_exprs, n_in);
        let jac_nonzero: Vec<usize> = (0..n * n).filter(|&ij| graph.as_const(jac_exprs[ij]) != Some(0.0)).collect();
        let jac_pattern: Vec<(usize, usize)> = jac_nonzero.iter().map(|&ij| (ij / n, ij % n)).collect();
        let jac_sparse_ids: Vec<Id> = jac_nonzero.iter().map(|&ij| jac_exprs[ij]).collect();
        let jac_sparse_tape = Tape::compile(&graph, &jac_sparse_ids, n_in);
        let dparam_tapes: Vec<Tape> = dparam_exprs.iter().map(|d| Tape::compile(&graph, d, n_in)).collect();
        let observable_tape = Tape::compile(&graph, observable_exprs, n_in);
        // Machine code when available; the interpreter otherwise (the
        // kernels compute the same bits, see `jit`).
        let kernels = if jit::enabled() {
            Kernels::compile(n, m, &rhs_tape, &jac_tape, &dparam_tapes, &observable_tape).ok()
        } else {
            None
        };
        Ok(SymbolicModel {
            rhs_tape,
            jac_tape,
            jac_pattern,
            jac_sparse_tape,
            dparam_tapes,
            observable_tape,
            kernels,
            higher: OnceLock::new(),
            rhs_exprs: rhs_exprs.to_vec(),
            jac_exprs: jac_exprs.to_vec(),
            observable_exprs: observable_exprs.to_vec(),
            dparam_exprs,
            graph: Arc::new(graph),
            name: spec.name,
            description: spec.description,
            state_names: spec.state.iter().map(|(s, _)| s.clone()).collect(),
            initial_state: spec.state.iter().map(|(_, v)| *v).collect(),
            param_names: spec.parameters.iter().map(|(s, _)| s.clone()).collect(),
            params: spec.parameters.iter().map(|(_, v)| *v).collect(),
            equation_sources: spec.equations.into_iter().map(|(_, e)| e).collect(),
            observable_names: spec.observables.iter().map(|(s, _)| s.clone()).collect(),
            observable_sources: spec.observables.into_iter().map(|(_, e)| e).collect(),
        })
    }

    /// Read a model file from disk.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Read { path: path.to_path_buf(), reason: e.to_string() })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Override default parameter values or initial-state values by name
    /// (the CLI's `--set name=value`). Unknown names are an error with a
    /// "did you mean" suggestion; non-finite values are rejected.
    pub fn with_overrides<S: AsRef<str>>(mut self, overrides: &[(S, f64)]) -> Result<Self> {
        for (name, value) in overrides {
            let name = name.as_ref();
            if !value.is_finite() {
                return Err(Error::invalid(name, value, "a finite number"));
            }
            if let Some(k) = self.param_names.iter().position(|n| n == name) {
                self.params[k] = *value;
            } else if let Some(i) = self.state_names.iter().position(|n| n == name) {
                self.initial_state[i] = *value;
            } else {
                let valid: Vec<&str> = self.param_names.iter().chain(&self.state_names).map(String::as_str).collect();
                let hint = suggest(name, valid.iter().copied()).map_or(String::new(), |s| format!(" (did you mean `{s}`?)"));
                return Err(Error::UnknownKey {
                    key: name.to_string(),
                    context: format!("model `{}`", self.name),
                    hint,
                    valid: valid.join(", "),
                });
            }
        }
        Ok(self)
    }

    /// The model as a model file, with the current default parameters and
    /// initial state (what `repcollapse export` writes).
    pub fn to_toml(&self) -> String {
        let zip = |names: &[String], vals: &[f64]| names.iter().cloned().zip(vals.iter().copied()).collect::<Vec<_>>();
        let zips = |names: &[String], srcs: &[String]| names.iter().cloned().zip(srcs.iter().cloned()).collect::<Vec<_>>();
        to_toml_string(
            &self.name,
            &zip(&self.param_names, &self.params),
            &zip(&self.state_names, &self.initial_state),
            &zips(&self.state_names, &self.equation_sources),
            &zips(&self.observable_names, &self.observable_sources),
        )
    }

    /// Free-text description from the file, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Names of all symbols in expression order: state, then parameters
    /// (the name table for [`Expr::display`]).
    pub fn symbol_names(&self) -> Vec<&str> {
        self.state_names.iter().chain(&self.param_names).map(String::as_str).collect()
    }
    /// Right-hand sides as written in the file, in state order.
    pub fn equation_sources(&self) -> &[String] {
        &self.equation_sources
    }
    fn expr(&self, id: Id) -> Expr {
        Expr::new(Arc::clone(&self.graph), id)
    }
    /// Simplified right-hand sides `F_i`.
    pub fn rhs_exprs(&self) -> Vec<Expr> {
        self.rhs_exprs.iter().map(|&r| self.expr(r)).collect()
    }
    /// Simplified symbolic Jacobian entry `dF_i/dx_j`.
    pub fn jacobian_expr(&self, i: usize, j: usize) -> Expr {
        self.expr(self.jac_exprs[i * self.dim() + j])
    }
    /// Simplified symbolic `dF_i/dp_k`.
    pub fn param_derivative_expr(&self, i: usize, k: usize) -> Expr {
        self.expr(self.dparam_exprs[k][i])
    }
    /// Simplified observable expressions.
    pub fn observable_exprs(&self) -> Vec<Expr> {
        self.observable_exprs.iter().map(|&r| self.expr(r)).collect()
    }
    /// Distinct nodes of the simplified DAG holding `F`, `dF/dx`, `dF/dp`
    /// and the observables together (a size measure).
    pub fn dag_size(&self) -> usize {
        self.graph.len()
    }
    /// Instruction counts of the (rhs, Jacobian) tapes, a cost measure.
    pub fn tape_sizes(&self) -> (usize, usize) {
        (self.rhs_tape.len(), self.jac_tape.len())
    }
    /// Whether evaluation runs native code (`"native"`) or the tape
    /// interpreter (`"interpreter"`).
    pub fn backend(&self) -> &'static str {
        if self.kernels.is_some() {
            "native"
        } else {
            "interpreter"
        }
    }
    /// The same model evaluated by the tape interpreter (the reference the
    /// native code is tested against).
    pub fn interpreted(&self) -> Self {
        SymbolicModel { kernels: None, ..self.clone() }
    }
    /// The exact `B`, `C` tapes (built on the first call).
    fn higher(&self) -> &HigherDerivatives {
        self.higher.get_or_init(|| Arc::new(HigherDerivatives::build(&self.graph, &self.jac_exprs, self.dim(), self.param_names.len())))
    }
    /// Instruction counts of the `dF/dp_k` tapes.
    pub fn param_tape_sizes(&self) -> Vec<usize> {
        self.dparam_tapes.iter().map(Tape::len).collect()
    }
}

/// The interpreter (also the place that reports wrong lengths), kept out of
/// line so that the native hot paths below inline into their callers as a
/// few compares and one call: inlined, the interpreter's 4 KiB stack
/// register file made every call save six registers and probe a stack page,
/// native or not.
#[cold]
#[inline(never)]
fn interpret(tape: &Tape, x: &[f64], p: &[f64], out: &mut [f64]) {
    tape.eval_into(x, p, out);
}

/// The native paths on their own: each evaluates with machine code and
/// returns `true`, or returns `false` without writing anything when there
/// is no machine code or the lengths are not the compiled ones (the
/// [`VectorField`] methods then interpret, which also reports wrong
/// lengths). Tests use them to know that the native code, not the fallback,
/// produced what they compare.
impl SymbolicModel {
    /// [`VectorField::rhs`] by machine code: `out_i = F_i(x; p)`.
    #[inline]
    pub fn rhs_native(&self, x: &[f64], p: &[f64], out: &mut [f64]) -> bool {
        match &self.kernels {
            Some(k) if k.input_mismatch(x, p) | (out.len() ^ k.n_x) == 0 => {
                // SAFETY: the kernel reads n_x + n_p inputs and writes n_x
                // outputs; the lengths are checked just above.
                unsafe { (k.rhs)(x.as_ptr(), p.as_ptr(), out.as_mut_ptr()) };
                true
            }
            _ => false,
        }
    }

    /// [`VectorField::jacobian`] by machine code, `jac_ij = dF_i/dx_j`,
    /// into an `n x n` view with unit row stride (any column stride).
    #[inline]
    pub fn jacobian_native(&self, x: &[f64], p: &[f64], jac: MatMut<'_, f64>) -> bool {
        match &self.kernels {
            // n x n with unit row stride, in the same single test.
            Some(k) if k.input_mismatch(x, p) | (jac.nrows() ^ k.n_x) | (jac.ncols() ^ k.n_x) | (jac.row_stride() ^ 1) as usize == 0 => {
                // SAFETY: the kernel writes entry (i, j) at i + j*cs for
                // i, j < n: inside the n x n matrix `jac` (checked above)
                // with unit row stride.
                unsafe { (k.jac)(x.as_ptr(), p.as_ptr(), jac.as_ptr_mut(), jac.col_stride()) };
                true
            }
            _ => false,
        }
    }

    /// [`VectorField::param_derivative`] by machine code: `out_i = dF_i/dp_k`.
    #[inline]
    pub fn param_derivative_native(&self, x: &[f64], p: &[f64], k: usize, out: &mut [f64]) -> bool {
        match &self.kernels {
            Some(ks) if ks.input_mismatch(x, p) | (out.len() ^ ks.n_x) == 0 && k < ks.dparam.len() => {
                // SAFETY: as for `rhs_native`; the parameter index is checked.
                unsafe { (ks.dparam[k])(x.as_ptr(), p.as_ptr(), out.as_mut_ptr()) };
                true
            }
            _ => false,
        }
    }

    /// [`VectorField::observables`] by machine code.
    #[inline]
    pub fn observables_native(&self, x: &[f64], p: &[f64], out: &mut [f64]) -> bool {
        match &self.kernels {
            Some(k) if k.input_mismatch(x, p) | (out.len() ^ self.observable_names.len()) == 0 => {
                // SAFETY: as for `rhs_native`, with one output per observable.
                unsafe { (k.obs)(x.as_ptr(), p.as_ptr(), out.as_mut_ptr()) };
                true
            }
            _ => false,
        }
    }

    #[cold]
    #[inline(never)]
    fn jacobian_interpreted(&self, x: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let n = self.dim();
        assert!(jac.nrows() == n && jac.ncols() == n, "Jacobian must be {n} x {n}");
        // Outputs arrive row-major; walk (i, j) instead of dividing by n.
        let (mut i, mut j) = (0, 0);
        self.jac_tape.eval_with(x, p, |_, v| {
            jac[(i, j)] = v;
            j += 1;
            if j == n {
                j = 0;
                i += 1;
            }
        });
    }
}

impl VectorField for SymbolicModel {
    fn name(&self) -> &str {
        &self.name
    }
    fn dim(&self) -> usize {
        self.state_names.len()
    }
    fn state_names(&self) -> Vec<String> {
        self.state_names.clone()
    }
    fn param_names(&self) -> Vec<String> {
        self.param_names.clone()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.clone()
    }
    fn initial_state(&self) -> Vec<f64> {
        self.initial_state.clone()
    }

    #[inline]
    fn rhs(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        if !self.rhs_native(x, p, out) {
            interpret(&self.rhs_tape, x, p, out);
        }
    }

    #[inline]
    fn jacobian(&self, x: &[f64], p: &[f64], jac: MatMut<'_, f64>) {
        // Reborrow: the fallback needs the view if the native path declines.
        let mut jac = jac;
        if !self.jacobian_native(x, p, jac.as_mut()) {
            self.jacobian_interpreted(x, p, jac);
        }
    }

    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        Some(self.jac_pattern.clone())
    }

    fn jacobian_entries(&self, x: &[f64], p: &[f64], pattern: &[(usize, usize)], out: &mut [f64]) {
        if pattern == self.jac_pattern.as_slice() {
            // The interpreter computes the same bits as the compiled kernels (see `jit`).
            self.jac_sparse_tape.eval_into(x, p, out);
        } else {
            // Another order or subset: evaluate ours, then look each entry up.
            let mut vals = vec![0.0; self.jac_pattern.len()];
            self.jac_sparse_tape.eval_into(x, p, &mut vals);
            for (o, ij) in out.iter_mut().zip(pattern) {
                *o = self.jac_pattern.binary_search(ij).map_or(0.0, |k| vals[k]);
            }
        }
    }

    #[inline]
    fn param_derivative(&self, x: &[f64], p: &[f64], k: usize, out: &mut [f64]) {
        if !self.param_derivative_native(x, p, k, out) {
            interpret(&self.dparam_tapes[k], x, p, out);
        }
    }

    fn observable_names(&self) -> Vec<String> {
        self.observable_names.clone()
    }
    fn second_derivative(&self, x: &[f64], p: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        self.higher().second(x, p, u, v, out);
    }
    fn third_derivative(&self, x: &[f64], p: &[f64], u: &[f64], v: &[f64], w: &[f64], out: &mut [f64]) {
        self.higher().third(x, p, u, v, w, out);
    }
    fn exact_higher_derivatives(&self) -> bool {
        true
    }
    #[inline]
    fn observables(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        if !self.observables_native(x, p, out) {
            interpret(&self.observable_tape, x, p, out);
        }
    }
}

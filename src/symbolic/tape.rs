//! Compiled evaluator: a flat register tape (straight-line code) for a
//! batch of expressions sharing the same inputs, and its interpreter.
//!
//! Register layout: `regs[0..n_in]` hold the inputs (state then
//! parameters), the next `n_consts` registers the constants, and register
//! `base + i` (`base = n_in + n_consts`) the result of instruction `i`.
//!
//! Why this layout is cheap to run:
//! - constants are values, not instructions: they are stored once at compile
//!   time and copied into the register file with one `memcpy` per call;
//! - every operand of instruction `i` is checked, when compiling, to be a
//!   register written before it, and every output to be a register; so the
//!   interpreter reads and writes registers without bounds checks after one
//!   length check of the caller's slices;
//! - small tapes (at most [`STACK_REGISTERS`] registers, which covers every
//!   hand-written model) run on a register file on the stack: no
//!   thread-local borrow and no allocation per call.
//!
//! Compilation walks the shared expression DAG once (operands come before
//! their users), so common subexpressions across all outputs of the tape
//! are one instruction, as are commutative operations written in both
//! orders (`x*y`, `y*x`). This matters for Jacobians: `tanh(u)` in `F` and
//! `1 - tanh(u)^2` in `dF/dx` share one `tanh` instruction when compiled
//! together, and an entry that is identically zero costs nothing beyond
//! one shared constant register.
//!
//! The interpreter is the reference for, and the fallback of, the machine
//! code compiled from the same tape by [`super::jit`].
use std::cell::RefCell;
use std::collections::HashMap;
use std::mem::MaybeUninit;

use super::expr::{Expr, Graph, Id, Node};

/// Tapes with at most this many registers are evaluated on a stack
/// register file (4 KiB).
pub const STACK_REGISTERS: usize = 512;

/// A compiled batch of expressions `out_j = e_j(inputs)`.
///
/// Instructions are [`Node`]s whose operand ids are *register* indices
/// (never `Const` or `Var`: those are registers themselves).
#[derive(Clone, Debug)]
pub struct Tape {
    n_in: usize,
    consts: Vec<f64>,
    ops: Vec<Node>,
    outputs: Vec<u32>,
}

thread_local! {
    /// Per-thread register file for tapes too large for the stack; it only
    /// grows, so after the first call evaluation allocates nothing.
    static REGS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Tape {
    /// Compile the expressions `roots` of `g` over `n_in` inputs
    /// (`Var(k)` reads input `k`). Cost: one pass over the nodes the roots
    /// depend on.
    ///
    /// # Panics
    /// If an expression references `Var(k)` with `k >= n_in` (a parser bug,
    /// since names are resolved against the same table): checked here, once,
    /// so that evaluation need not check.
    pub fn compile(g: &Graph, roots: &[Id], n_in: usize) -> Tape {
        let mark = g.reachable(roots);
        // Constants first (their registers follow the inputs), deduplicated
        // by bit pattern.
        let mut consts = Vec::new();
        let mut const_reg: HashMap<u64, u32> = HashMap::new();
        for (i, &m) in mark.iter().enumerate() {
            if let (true, Node::Const(bits)) = (m, g.node(Id(i as u32))) {
                const_reg.entry(bits).or_insert_with(|| {
                    consts.push(f64::from_bits(bits));
                    (n_in + consts.len() - 1) as u32
                });
            }
        }
        let base = n_in + consts.len();
        let mut reg = vec![u32::MAX; g.len()];
        let mut ops: Vec<Node> = Vec::new();
        let mut memo: HashMap<Node, u32> = HashMap::new();
        for (i, &m) in mark.iter().enumerate() {
            if !m {
                continue;
            }
            let node = g.node(Id(i as u32));
            reg[i] = match node {
                Node::Const(bits) => const_reg[&bits],
                Node::Var(k) => {
                    assert!((k as usize) < n_in, "Var({k}) out of range for a tape with {n_in} inputs");
                    k
                }
                _ => {
                    let op = node.map(|a| Id(reg[a.index()]));
                    // Commutative operations share one key for both orders.
                    let key = match op {
                        Node::Add(a, b) if b < a => Node::Add(b, a),
                        Node::Mul(a, b) if b < a => Node::Mul(b, a),
                        op => op,
                    };
                    *memo.entry(key).or_insert_with(|| {
                        ops.push(op);
                        (base + ops.len() - 1) as u32
                    })
                }
            };
        }
        let outputs = roots.iter().map(|r| reg[r.index()]).collect();
        let tape = Tape { n_in, consts, ops, outputs };
        tape.validate();
        tape
    }

    /// Compile expressions that may live in different graphs (they are
    /// first copied into one, sharing what is common).
    pub fn from_exprs(exprs: &[Expr], n_in: usize) -> Tape {
        let mut g = Graph::new();
        let roots: Vec<Id> = exprs.iter().map(|e| g.import(e)).collect();
        Tape::compile(&g, &roots, n_in)
    }

    /// The invariant the unchecked interpreter relies on: every operand of
    /// instruction `i` is a register written before it, every output is a
    /// register, and no instruction is a `Const` or `Var`.
    fn validate(&self) {
        let base = self.n_in + self.consts.len();
        for (i, op) in self.ops.iter().enumerate() {
            assert!(!matches!(op, Node::Const(_) | Node::Var(_)), "tape instruction {i} is a leaf");
            assert!(op.operands().all(|a| a.index() < base + i), "tape instruction {i} reads a later register");
        }
        assert!(self.outputs.iter().all(|&o| (o as usize) < self.n_registers()), "tape output out of range");
    }

    /// Number of inputs.
    pub fn n_inputs(&self) -> usize {
        self.n_in
    }
    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }
    /// Number of instructions (a cost measure; constants are not instructions).
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    /// The constants, in register order after the inputs.
    pub fn constants(&self) -> &[f64] {
        &self.consts
    }
    /// The instructions; instruction `i` writes register
    /// `n_inputs() + constants().len() + i`.
    pub fn instructions(&self) -> &[Node] {
        &self.ops
    }
    /// The register holding each output.
    pub fn output_registers(&self) -> &[u32] {
        &self.outputs
    }
    /// Size of the register file [`Tape::eval`] needs.
    pub fn n_registers(&self) -> usize {
        self.n_in + self.consts.len() + self.ops.len()
    }

    /// Evaluate with inputs `[x, p]` (concatenated; `x.len() + p.len()`
    /// must equal [`Tape::n_inputs`]) on the caller's register file `regs`
    /// (at least [`Tape::n_registers`] long), writing `out` (length
    /// [`Tape::n_outputs`]).
    #[inline]
    pub fn eval(&self, x: &[f64], p: &[f64], regs: &mut [f64], out: &mut [f64]) {
        self.check(x, p, out.len());
        assert!(regs.len() >= self.n_registers(), "tape register file too short");
        // SAFETY: `regs` holds `n_registers` values (checked above) and the
        // inputs have the lengths `run` copies (checked in `check`).
        unsafe { self.run(x, p, regs.as_mut_ptr()) };
        for (o, &k) in out.iter_mut().zip(&self.outputs) {
            *o = regs[k as usize];
        }
    }

    /// Evaluate and write `out`, with a register file on the stack (small
    /// tapes) or the calling thread's (large ones).
    #[inline]
    pub fn eval_into(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        self.check(x, p, out.len());
        self.with_registers(x, p, |regs| {
            for (o, &k) in out.iter_mut().zip(&self.outputs) {
                // SAFETY: outputs are registers (`validate`), all written.
                *o = unsafe { *regs.add(k as usize) };
            }
        });
    }

    /// Evaluate and hand each output to `sink(j, value)` (scatters into a
    /// matrix without a temporary output vector).
    #[inline]
    pub fn eval_with(&self, x: &[f64], p: &[f64], mut sink: impl FnMut(usize, f64)) {
        self.check(x, p, self.outputs.len());
        self.with_registers(x, p, |regs| {
            for (j, &k) in self.outputs.iter().enumerate() {
                // SAFETY: as in `eval_into`.
                sink(j, unsafe { *regs.add(k as usize) });
            }
        });
    }

    /// The one check per call that makes the unchecked sweep sound.
    #[inline(always)]
    fn check(&self, x: &[f64], p: &[f64], n_out: usize) {
        if x.len() + p.len() != self.n_in || n_out != self.outputs.len() {
            length_mismatch(self.n_in, self.outputs.len(), x.len() + p.len(), n_out);
        }
    }

    /// Run the sweep on a register file and give `read` a pointer to it.
    #[inline(always)]
    fn with_registers(&self, x: &[f64], p: &[f64], read: impl FnOnce(*const f64)) {
        let n = self.n_registers();
        if n <= STACK_REGISTERS {
            let mut regs = [MaybeUninit::<f64>::uninit(); STACK_REGISTERS];
            let ptr = regs.as_mut_ptr() as *mut f64;
            // SAFETY: `n <= STACK_REGISTERS` registers; `run` writes every
            // register before it is read (inputs, constants, then each
            // instruction reads only earlier registers).
            unsafe { self.run(x, p, ptr) };
            read(ptr);
        } else {
            let deliver = |regs: &mut Vec<f64>| {
                if regs.len() < n {
                    regs.resize(n, 0.0);
                }
                // SAFETY: `regs` holds at least `n` values.
                unsafe { self.run(x, p, regs.as_mut_ptr()) };
                read(regs.as_ptr());
            };
            REGS.with(|cell| match cell.try_borrow_mut() {
                Ok(mut regs) => deliver(&mut regs),
                // Re-entrant use (a sink that evaluates another large tape)
                // must not panic; it pays for a private register file.
                Err(_) => deliver(&mut Vec::new()),
            })
        }
    }

    /// The forward sweep: fill every register.
    ///
    /// # Safety
    /// `regs` must be valid for writes of [`Tape::n_registers`] values and
    /// `x.len() + p.len() == n_in`.
    #[inline(always)]
    unsafe fn run(&self, x: &[f64], p: &[f64], regs: *mut f64) {
        unsafe {
            std::ptr::copy_nonoverlapping(x.as_ptr(), regs, x.len());
            std::ptr::copy_nonoverlapping(p.as_ptr(), regs.add(x.len()), p.len());
            std::ptr::copy_nonoverlapping(self.consts.as_ptr(), regs.add(self.n_in), self.consts.len());
            let base = regs.add(self.n_in + self.consts.len());
            for (i, op) in self.ops.iter().enumerate() {
                // `validate` guarantees every operand is an earlier register.
                let v = op.apply(&[], |a| *regs.add(a.index()));
                *base.add(i) = v;
            }
        }
    }
}

#[cold]
#[inline(never)]
fn length_mismatch(n_in: usize, n_out: usize, got_in: usize, got_out: usize) -> ! {
    panic!("tape takes {n_in} inputs and {n_out} outputs, called with {got_in} and {got_out}")
}

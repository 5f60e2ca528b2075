//! Compiled evaluator: a flat register tape (straight-line bytecode) for a
//! batch of expressions sharing the same inputs.
//!
//! Register layout: `regs[0..n_in]` hold the inputs (state then parameters),
//! `regs[n_in + i]` the result of instruction `i`. Instructions only read
//! registers written earlier, so evaluation is one forward sweep with no
//! branching on tree shape, no recursion, no strings and no allocation; the
//! caller supplies the register file (see [`Tape::eval`]) or uses a
//! per-thread one ([`Tape::eval_tls`]).
//!
//! Compilation hash-conses the trees (common-subexpression elimination
//! across all outputs of the tape), which matters for Jacobians: `tanh(u)`
//! in `F` and `1 - tanh(u)^2` in `dF/dx` share one `tanh` instruction when
//! compiled together, and an entry that is identically zero costs nothing
//! beyond one shared constant register.
use std::cell::RefCell;
use std::collections::HashMap;

use super::expr::{max2, min2, Expr, Func};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Const(f64),
    Neg(u32),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Pow(u32, u32),
    PowI(u32, i32),
    Call(Func, u32),
    Min(u32, u32),
    Max(u32, u32),
    Atan2(u32, u32),
}

/// Hashable identity of an instruction, for common-subexpression
/// elimination (constants by bit pattern, so `0.0` and `-0.0` differ).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Const(u64),
    Un(u8, u32),
    Bin(u8, u32, u32),
    PowI(u32, i32),
    Call(Func, u32),
}

/// A compiled batch of expressions `out_j = e_j(inputs)`.
#[derive(Clone, Debug)]
pub struct Tape {
    n_in: usize,
    ops: Vec<Op>,
    outputs: Vec<u32>,
}

thread_local! {
    /// Per-thread register file shared by all tapes; it only ever grows, so
    /// after the first call of the largest tape evaluation allocates nothing.
    static REGS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Tape {
    /// Compile `exprs` over `n_in` inputs (`Var(k)` reads input `k`).
    ///
    /// # Panics
    /// If an expression references `Var(k)` with `k >= n_in` (a parser bug,
    /// since names are resolved against the same table).
    pub fn compile(exprs: &[Expr], n_in: usize) -> Tape {
        let mut b = Builder { n_in, ops: Vec::new(), memo: HashMap::new() };
        let outputs = exprs.iter().map(|e| b.emit(e)).collect();
        Tape { n_in, ops: b.ops, outputs }
    }

    /// Number of inputs.
    pub fn n_inputs(&self) -> usize {
        self.n_in
    }
    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }
    /// Number of instructions (a cost measure).
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    /// Size of the register file [`Tape::eval`] needs.
    pub fn n_registers(&self) -> usize {
        self.n_in + self.ops.len()
    }

    /// Evaluate with inputs `[x, p]` (concatenated; `x.len() + p.len()`
    /// must equal [`Tape::n_inputs`]), using the register file `regs` (at
    /// least [`Tape::n_registers`] long), and write `out` (length
    /// [`Tape::n_outputs`]).
    #[inline]
    pub fn eval(&self, x: &[f64], p: &[f64], regs: &mut [f64], out: &mut [f64]) {
        assert_eq!(out.len(), self.outputs.len(), "tape output length");
        self.run(x, p, regs);
        for (o, &k) in out.iter_mut().zip(&self.outputs) {
            *o = regs[k as usize];
        }
    }

    /// The forward sweep: fill every register.
    #[inline]
    fn run(&self, x: &[f64], p: &[f64], regs: &mut [f64]) {
        assert_eq!(x.len() + p.len(), self.n_in, "tape input length");
        assert!(regs.len() >= self.n_registers(), "tape register file too short");
        regs[..x.len()].copy_from_slice(x);
        regs[x.len()..self.n_in].copy_from_slice(p);
        for (i, op) in self.ops.iter().enumerate() {
            let r = |k: u32| regs[k as usize];
            let v = match *op {
                Op::Const(c) => c,
                Op::Neg(a) => -r(a),
                Op::Add(a, b) => r(a) + r(b),
                Op::Sub(a, b) => r(a) - r(b),
                Op::Mul(a, b) => r(a) * r(b),
                Op::Div(a, b) => r(a) / r(b),
                Op::Pow(a, b) => r(a).powf(r(b)),
                Op::PowI(a, n) => r(a).powi(n),
                Op::Call(f, a) => f.apply(r(a)),
                Op::Min(a, b) => min2(r(a), r(b)),
                Op::Max(a, b) => max2(r(a), r(b)),
                Op::Atan2(a, b) => r(a).atan2(r(b)),
            };
            regs[self.n_in + i] = v;
        }
    }

    /// [`Tape::eval`] with the calling thread's register file.
    pub fn eval_tls(&self, x: &[f64], p: &[f64], out: &mut [f64]) {
        assert_eq!(out.len(), self.outputs.len(), "tape output length");
        self.eval_tls_with(x, p, |j, v| out[j] = v);
    }

    /// Evaluate with the calling thread's register file and hand each
    /// output to `sink(j, value)` (scatters into a matrix without a
    /// temporary output vector).
    pub fn eval_tls_with(&self, x: &[f64], p: &[f64], mut sink: impl FnMut(usize, f64)) {
        let mut deliver = |regs: &mut Vec<f64>| {
            if regs.len() < self.n_registers() {
                regs.resize(self.n_registers(), 0.0);
            }
            self.run(x, p, regs);
            for (j, &k) in self.outputs.iter().enumerate() {
                sink(j, regs[k as usize]);
            }
        };
        REGS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut regs) => deliver(&mut regs),
            // Re-entrant use (a sink that evaluates another tape) must not
            // panic; it pays for a private register file instead.
            Err(_) => deliver(&mut Vec::new()),
        })
    }
}

struct Builder {
    n_in: usize,
    ops: Vec<Op>,
    memo: HashMap<Key, u32>,
}

impl Builder {
    fn push(&mut self, key: Key, op: Op) -> u32 {
        if let Some(&r) = self.memo.get(&key) {
            return r;
        }
        let r = (self.n_in + self.ops.len()) as u32;
        self.ops.push(op);
        self.memo.insert(key, r);
        r
    }

    fn emit(&mut self, e: &Expr) -> u32 {
        match e {
            Expr::Const(c) => self.push(Key::Const(c.to_bits()), Op::Const(*c)),
            Expr::Var(k) => {
                assert!(*k < self.n_in, "Var({k}) out of range for a tape with {} inputs", self.n_in);
                *k as u32
            }
            Expr::Neg(a) => {
                let a = self.emit(a);
                self.push(Key::Un(0, a), Op::Neg(a))
            }
            Expr::PowI(a, n) => {
                let a = self.emit(a);
                self.push(Key::PowI(a, *n), Op::PowI(a, *n))
            }
            Expr::Call(f, a) => {
                let a = self.emit(a);
                self.push(Key::Call(*f, a), Op::Call(*f, a))
            }
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b)
            | Expr::Min(a, b)
            | Expr::Max(a, b)
            | Expr::Atan2(a, b) => {
                let (a, b) = (self.emit(a), self.emit(b));
                let (tag, op) = match e {
                    Expr::Add(..) => (1, Op::Add(a, b)),
                    Expr::Sub(..) => (2, Op::Sub(a, b)),
                    Expr::Mul(..) => (3, Op::Mul(a, b)),
                    Expr::Div(..) => (4, Op::Div(a, b)),
                    Expr::Pow(..) => (5, Op::Pow(a, b)),
                    Expr::Min(..) => (6, Op::Min(a, b)),
                    Expr::Max(..) => (7, Op::Max(a, b)),
                    _ => (8, Op::Atan2(a, b)),
                };
                // Commutative operations share one key for both orders.
                let (ka, kb) = if matches!(tag, 1 | 3) && b < a { (b, a) } else { (a, b) };
                self.push(Key::Bin(tag, ka, kb), op)
            }
        }
    }
}


//! Machine code for compiled tapes, with Cranelift (`cranelift-jit`).
//!
//! Each [`Tape`] becomes one native function with no loop, no dispatch and
//! no register file: the tape's registers become SSA values, constants
//! become immediates, and the outputs are stored straight into the caller's
//! slice or matrix. Two signatures:
//!
//! ```text
//! vector kernel: fn(x: *const f64, p: *const f64, out: *mut f64)  out[j] = e_j
//! matrix kernel: fn(x, p, out: *mut f64, col_stride: isize)        out[i + j cs] = e_{i n + j}
//! ```
//!
//! The matrix kernel writes a row-major list of `n x n` outputs straight
//! into a column-major matrix with unit row stride (faer's `Mat` and its
//! column blocks), so the Jacobian needs no scatter loop; other views use
//! the interpreter.
//!
//! **Same values as the interpreter.** Every operation is either an IEEE
//! operation that Cranelift emits exactly as Rust does (`+ - * /`, `neg`,
//! `abs`, `sqrt`: correctly rounded, no fused multiply-add is ever formed),
//! a call of the very Rust function the interpreter uses (`exp`, `sin`, ...,
//! `powf`, `atan2`: [`Func::apply`] through the shims [`Func::c_abi`]), or a
//! select with the interpreter's NaN and tie conventions (`min`, `max`,
//! `sign`, `heaviside`). Integer powers are unrolled with the binary powering
//! of compiler-rt's `__powidf2`, which is what `f64::powi` calls for a
//! runtime exponent, so they perform the same multiplications in the same
//! order. The machine code is therefore bit-for-bit the interpreter's
//! (tested on random expressions, and on every function of the table, in
//! `tests/symbolic/jit.rs`).
//!
//! Small leaf kernels run without a stack frame ([`omit_frame`]): at a few
//! nanoseconds a call, Cranelift's frame setup was a third of the Lorenz
//! right-hand side.
//!
//! The interpreter stays the fallback: when the host is not supported by
//! Cranelift, when compilation fails, or when `REPCOLLAPSE_JIT=0`.
use std::sync::Arc;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, AbiParam, FuncRef, InstBuilder, MemFlagsData, UserFuncName, Value};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module, ModuleReloc};

use super::expr::{Func, Node};
use super::tape::Tape;

/// `out[j] = e_j(x, p)`.
pub type VectorKernel = unsafe extern "C" fn(*const f64, *const f64, *mut f64);
/// `out[i + j * col_stride] = e_{i n + j}(x, p)`.
pub type MatrixKernel = unsafe extern "C" fn(*const f64, *const f64, *mut f64, isize);

/// How a kernel stores its outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Output `j` to `out[j]`.
    Vector,
    /// Output `i n + j` to `out[i + j cs]` (row-major `n x n` list).
    Matrix { n: usize },
}

/// The executable memory of a set of kernels. The function pointers handed
/// out by [`compile`] are valid while this is alive.
pub struct Code {
    module: Option<JITModule>,
    /// Per kernel: whether it runs without a frame (see [`omit_frame`]).
    frameless: Vec<bool>,
}

impl Code {
    /// Per kernel, in the order compiled: whether its frame setup was
    /// removed (a leaf kernel that never touches the stack).
    pub fn frameless(&self) -> &[bool] {
        &self.frameless
    }
}

// SAFETY: after `finalize_definitions` the module is never used again except
// to free it in `drop` (which needs `&mut self`, so no other reference
// exists); the code it owns is immutable and executable, and the kernels
// only read their arguments. Sharing it between threads is therefore as
// safe as sharing a `fn` pointer.
unsafe impl Send for Code {}
unsafe impl Sync for Code {}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the kernels are only reachable through `Kernels`,
            // which holds an `Arc<Code>`; this runs when the last one goes.
            unsafe { m.free_memory() };
        }
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(native)")
    }
}

/// Whether model files are compiled to machine code (`REPCOLLAPSE_JIT=0`
/// turns it off, for comparisons and as an escape hatch).
pub fn enabled() -> bool {
    std::env::var("REPCOLLAPSE_JIT").map_or(true, |v| v != "0")
}

/// Tapes longer than this (in total) stay interpreted: Cranelift's compile
/// time and memory grow with function size, and a model this large spends
/// its time in linear algebra rather than in evaluating `F`.
pub const MAX_INSTRUCTIONS: usize = 200_000;

/// Compile `tapes` into one code object; returns the code and one entry
/// point per tape (cast to [`VectorKernel`] or [`MatrixKernel`] by layout).
/// Input `k` of every tape is `x[k]` for `k < n_x`, else `p[k - n_x]`.
pub fn compile(tapes: &[(&Tape, Layout)], n_x: usize) -> Result<(Arc<Code>, Vec<*const u8>), String> {
    let total: usize = tapes.iter().map(|(t, _)| t.len() + t.n_outputs()).sum();
    if total > MAX_INSTRUCTIONS {
        return Err(format!("{total} instructions exceed the native-code limit {MAX_INSTRUCTIONS}"));
    }
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| format!("cranelift flag {k}: {e}"));
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    set(&mut flags, "is_pic", "false")?;
    let isa = cranelift_native::builder()
        .map_err(|e| format!("host not supported by cranelift: {e}"))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("cranelift isa: {e}"))?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, ptr, _) in shims() {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    let result = define_all(&mut module, tapes, n_x);
    match result {
        Ok(defs) => {
            // SAFETY (of the offset): `define_all` returns for each kernel
            // an entry offset inside its code, at an instruction boundary:
            // 0, or past the frame setup that `omit_frame` verified.
            let ptrs = defs.iter().map(|&(id, entry)| unsafe { module.get_finalized_function(id).add(entry) }).collect();
            let frameless = defs.iter().map(|&(_, entry)| entry != 0).collect();
            Ok((Arc::new(Code { module: Some(module), frameless }), ptrs))
        }
        Err(e) => {
            // SAFETY: nothing from this module was handed out.
            unsafe { module.free_memory() };
            Err(e)
        }
    }
}

/// Define every kernel; returns its id and the offset of its entry point.
fn define_all(module: &mut JITModule, tapes: &[(&Tape, Layout)], n_x: usize) -> Result<Vec<(FuncId, usize)>, String> {
    let ptr = module.target_config().pointer_type();
    // Imported shims: f64 -> f64 and (f64, f64) -> f64.
    let mut sig1 = module.make_signature();
    sig1.params.push(AbiParam::new(types::F64));
    sig1.returns.push(AbiParam::new(types::F64));
    let mut sig2 = sig1.clone();
    sig2.params.push(AbiParam::new(types::F64));
    let mut imports = Vec::new();
    for (name, _, arity) in shims() {
        let sig = if arity == 2 { &sig2 } else { &sig1 };
        imports.push(module.declare_function(&name, Linkage::Import, sig).map_err(|e| e.to_string())?);
    }
    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut ids = Vec::new();
    for (k, (tape, layout)) in tapes.iter().enumerate() {
        let mut sig = module.make_signature();
        for _ in 0..3 {
            sig.params.push(AbiParam::new(ptr));
        }
        if matches!(layout, Layout::Matrix { .. }) {
            sig.params.push(AbiParam::new(ptr));
        }
        let id = module.declare_function(&format!("tape{k}"), Linkage::Local, &sig).map_err(|e| e.to_string())?;
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let refs: Vec<FuncRef> = imports.iter().map(|&i| module.declare_func_in_func(i, b.func)).collect();
            emit(&mut b, tape, *layout, n_x, &refs)?;
            b.seal_all_blocks();
            b.finalize(module.target_config());
        }
        // The listing is what `omit_frame` checks; large kernels keep their
        // frame (they are not call-bound) and skip the listing's cost.
        let dump = std::env::var_os("REPCOLLAPSE_JIT_DUMP").is_some();
        let small = tape.len() <= FRAMELESS_MAX_INSTRUCTIONS;
        ctx.set_disasm(dump || small);
        let alignment = ctx.compile(module.isa(), &mut ControlPlane::default()).map_err(|e| format!("cranelift: {:?}", e.inner))?.buffer.alignment;
        let compiled = ctx.compiled_code().ok_or("cranelift: no code")?;
        let listing = compiled.vcode.as_deref().unwrap_or("");
        if dump {
            eprintln!("{listing}");
        }
        let relocs: Vec<ModuleReloc> = compiled.buffer.relocs().iter().map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id)).collect();
        let mut bytes = compiled.code_buffer().to_vec();
        let entry = if small && relocs.is_empty() { omit_frame(&mut bytes, listing) } else { 0 };
        module.define_function_bytes(id, u64::from(alignment), &bytes, &relocs).map_err(|e| format!("cranelift: {e:?}"))?;
        module.clear_context(&mut ctx);
        ids.push((id, entry));
    }
    module.finalize_definitions().map_err(|e| e.to_string())?;
    Ok(ids)
}

/// Kernels of at most this many tape instructions are candidates for
/// [`omit_frame`]; longer ones spill (so need their frame) and run long
/// enough that a call's overhead does not matter.
const FRAMELESS_MAX_INSTRUCTIONS: usize = 256;

/// Cranelift's x86-64 frame setup, `push rbp; mov rbp, rsp`, and teardown,
/// `mov rsp, rbp; pop rbp; ret`, as it encodes them.
const PROLOGUE: [u8; 4] = [0x55, 0x48, 0x89, 0xe5];
const EPILOGUE: [u8; 5] = [0x48, 0x89, 0xec, 0x5d, 0xc3];

/// Frame-pointer omission for leaf kernels; returns the entry offset
/// (0: unchanged).
///
/// Cranelift's x86-64 back end gives every function a frame, even a leaf
/// that never touches the stack. For the Lorenz right-hand side (17
/// instructions) the four frame instructions cost about 1 ns a call: the
/// kernel's instructions as hand-written assembly called through a pointer
/// took 3.9 ns with them and 2.9 ns without (one run, load 5), and
/// `lorenz/rhs symbolic` in benches/engine.rs went from 1.2-1.4x to 1.1x
/// of the hand-written field (short runs at load 3.5-5). When the listing shows
/// the frame setup first, the teardown last, and between them no use of
/// `rsp` or `rbp`, no push, pop, call, return or constant-pool load, and the
/// bytes begin and end with exactly those encodings, the body runs the same
/// without the frame: the entry moves past the setup, and the teardown
/// becomes a bare `ret` (the rest `int3`). Nothing moves, so no offset in
/// the code changes. Any doubt keeps the function as compiled.
fn omit_frame(bytes: &mut [u8], listing: &str) -> usize {
    if !cfg!(target_arch = "x86_64") {
        return 0;
    }
    // Instructions only: no labels (`block0:`) or unwind annotations.
    let lines: Vec<&str> =
        listing.lines().map(str::trim).filter(|l| !l.is_empty() && !l.ends_with(':') && !l.starts_with("unwind ")).collect();
    let n = lines.len();
    let uses_stack = |l: &&str| ["%rsp", "%rbp", "push", "pop", "call", "ret", "const("].iter().any(|w| l.contains(w));
    let frame_only = n >= 5
        && lines[..2] == ["pushq %rbp", "movq %rsp, %rbp"]
        && lines[n - 3..] == ["movq %rbp, %rsp", "popq %rbp", "retq"]
        && !lines[2..n - 3].iter().any(uses_stack)
        && bytes.starts_with(&PROLOGUE)
        && bytes.ends_with(&EPILOGUE);
    if !frame_only {
        return 0;
    }
    let end = bytes.len();
    bytes[end - EPILOGUE.len()] = 0xc3;
    bytes[end - EPILOGUE.len() + 1..].fill(0xcc);
    PROLOGUE.len()
}

/// Import indices of the two-argument functions; one-argument function `f`
/// is import `f as usize` (the order of [`Func::ALL`]).
const POWF: usize = Func::ALL.len();
const ATAN2: usize = Func::ALL.len() + 1;

extern "C" fn rc_powf(a: f64, b: f64) -> f64 {
    a.powf(b)
}
extern "C" fn rc_atan2(a: f64, b: f64) -> f64 {
    a.atan2(b)
}

/// Imported symbols `(name, address, number of arguments)`: the shim of
/// every function of the table ([`Func::c_abi`]; `emit` inlines a few, whose
/// imports then go unused), then `powf` and `atan2`.
fn shims() -> Vec<(String, *const u8, usize)> {
    let unary = Func::ALL.iter().map(|f| (format!("rc_{}", f.name()), f.c_abi() as *const u8, 1));
    let binary: [(&str, extern "C" fn(f64, f64) -> f64); 2] = [("rc_powf", rc_powf), ("rc_atan2", rc_atan2)];
    unary.chain(binary.map(|(name, f)| (name.to_string(), f as *const u8, 2))).collect()
}

/// Emit the body of one kernel.
fn emit(b: &mut FunctionBuilder, tape: &Tape, layout: Layout, n_x: usize, refs: &[FuncRef]) -> Result<(), String> {
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    let params = b.block_params(block).to_vec();
    let (xp, pp, outp) = (params[0], params[1], params[2]);
    let n_in = tape.n_inputs();
    let consts = tape.constants();
    // Inputs are loaded on first use: registers `0..n_x` from `x`, the
    // rest from `p`.
    let flags = MemFlagsData::trusted().with_readonly();
    let mut val: Vec<Option<Value>> = vec![None; tape.n_registers()];
    let base = n_in + consts.len();
    let get = |b: &mut FunctionBuilder, val: &mut Vec<Option<Value>>, r: u32| -> Value {
        let r = r as usize;
        if let Some(v) = val[r] {
            return v;
        }
        let v = if r < n_in {
            let (p, k) = if r < n_x { (xp, r) } else { (pp, r - n_x) };
            b.ins().load(types::F64, flags, p, (8 * k) as i32)
        } else {
            // Constants: `r < base` (validated by the tape).
            b.ins().f64const(consts[r - n_in])
        };
        val[r] = Some(v);
        v
    };
    for (i, op) in tape.instructions().iter().enumerate() {
        let v = match *op {
            Node::Neg(a) => {
                let a = get(b, &mut val, a.0);
                b.ins().fneg(a)
            }
            Node::Add(a, c) | Node::Sub(a, c) | Node::Mul(a, c) | Node::Div(a, c) => {
                let (a, c) = (get(b, &mut val, a.0), get(b, &mut val, c.0));
                match *op {
                    Node::Add(..) => b.ins().fadd(a, c),
                    Node::Sub(..) => b.ins().fsub(a, c),
                    Node::Mul(..) => b.ins().fmul(a, c),
                    _ => b.ins().fdiv(a, c),
                }
            }
            Node::Pow(a, c) | Node::Atan2(a, c) => {
                let (a, c) = (get(b, &mut val, a.0), get(b, &mut val, c.0));
                let f = if matches!(op, Node::Pow(..)) { refs[POWF] } else { refs[ATAN2] };
                let call = b.ins().call(f, &[a, c]);
                b.inst_results(call)[0]
            }
            Node::PowI(a, n) => {
                let a = get(b, &mut val, a.0);
                powi(b, a, n)
            }
            Node::Min(a, c) | Node::Max(a, c) => {
                // min: a if a <= b; max: a if a >= b; NaN if either is NaN.
                let (a, c) = (get(b, &mut val, a.0), get(b, &mut val, c.0));
                let cc = if matches!(op, Node::Min(..)) { FloatCC::LessThanOrEqual } else { FloatCC::GreaterThanOrEqual };
                let take_a = b.ins().fcmp(cc, a, c);
                let pick = b.ins().select(take_a, a, c);
                let nan = b.ins().fcmp(FloatCC::Unordered, a, c);
                let qnan = b.ins().f64const(f64::NAN);
                b.ins().select(nan, qnan, pick)
            }
            Node::Call(f, a) => {
                let u = get(b, &mut val, a.0);
                match f {
                    Func::Abs => b.ins().fabs(u),
                    Func::Sqrt => b.ins().sqrt(u),
                    Func::Sign => {
                        // 1 if u > 0, -1 if u < 0, else u * 0 (keeps ±0, NaN).
                        let zero = b.ins().f64const(0.0);
                        let one = b.ins().f64const(1.0);
                        let mone = b.ins().f64const(-1.0);
                        let gt = b.ins().fcmp(FloatCC::GreaterThan, u, zero);
                        let lt = b.ins().fcmp(FloatCC::LessThan, u, zero);
                        let z = b.ins().fmul(u, zero);
                        let neg = b.ins().select(lt, mone, z);
                        b.ins().select(gt, one, neg)
                    }
                    Func::Heaviside => {
                        // 1 if u > 0, u if u is NaN, else 0.
                        let zero = b.ins().f64const(0.0);
                        let one = b.ins().f64const(1.0);
                        let gt = b.ins().fcmp(FloatCC::GreaterThan, u, zero);
                        let nan = b.ins().fcmp(FloatCC::Unordered, u, u);
                        let low = b.ins().select(nan, u, zero);
                        b.ins().select(gt, one, low)
                    }
                    // Every other function: a call of its shim.
                    f => {
                        let call = b.ins().call(refs[f as usize], &[u]);
                        b.inst_results(call)[0]
                    }
                }
            }
            Node::Const(_) | Node::Var(_) => return Err(format!("tape instruction {i} is a leaf")),
        };
        val[base + i] = Some(v);
    }
    // Outputs are stored run by run (a vector, or a matrix column): two
    // neighbours that are both the constant +0.0 become one 16-byte store
    // of zero bits, which is +0.0 in both lanes. Sparse Jacobians are mostly
    // such zeros (Lorenz-96 with 50 states: 2350 of 2500 entries), and
    // their stores were most of the kernel's time.
    let store = MemFlagsData::trusted();
    let is_zero = |r: u32| (n_in..base).contains(&(r as usize)) && consts[r as usize - n_in].to_bits() == 0;
    let mut zeros: Option<Value> = None;
    let mut store_run = |b: &mut FunctionBuilder, val: &mut Vec<Option<Value>>, regs: &[u32], ptr: Value| {
        let mut i = 0;
        while i < regs.len() {
            if i + 1 < regs.len() && is_zero(regs[i]) && is_zero(regs[i + 1]) {
                let z = *zeros.get_or_insert_with(|| {
                    let z = b.ins().f64const(0.0);
                    b.ins().splat(types::F64X2, z)
                });
                b.ins().store(store, z, ptr, (8 * i) as i32);
                i += 2;
            } else {
                let v = get(b, val, regs[i]);
                b.ins().store(store, v, ptr, (8 * i) as i32);
                i += 1;
            }
        }
    };
    match layout {
        Layout::Vector => store_run(b, &mut val, tape.output_registers(), outp),
        Layout::Matrix { n } => {
            // Column by column: one pointer per column (the previous one
            // plus the column stride), entries at immediate offsets 8 i,
            // so a store costs no address arithmetic.
            let cs8 = b.ins().imul_imm_s(params[3], 8);
            let outs = tape.output_registers();
            let mut col = outp;
            let mut column = Vec::with_capacity(n);
            for j in 0..n {
                if j > 0 {
                    col = b.ins().iadd(col, cs8);
                }
                column.clear();
                column.extend((0..n).map(|i| outs[i * n + j]));
                store_run(b, &mut val, &column, col);
            }
        }
    }
    b.ins().return_(&[]);
    Ok(())
}

/// `a^n` with the multiplications of compiler-rt's `__powidf2`:
/// `r = 1; loop { if n & 1 { r *= a } n >>= 1; if n == 0 break; a *= a }`,
/// then `1 / r` for negative `n`. The first product `1 * a` is exact, so
/// it is skipped.
fn powi(b: &mut FunctionBuilder, a: Value, n: i32) -> Value {
    let mut e = n.unsigned_abs();
    let mut sq = a;
    let mut r: Option<Value> = None;
    loop {
        if e & 1 != 0 {
            r = Some(match r {
                None => sq,
                Some(r) => b.ins().fmul(r, sq),
            });
        }
        e >>= 1;
        if e == 0 {
            break;
        }
        sq = b.ins().fmul(sq, sq);
    }
    let one = b.ins().f64const(1.0);
    let r = r.unwrap_or(one);
    if n < 0 {
        b.ins().fdiv(one, r)
    } else {
        r
    }
}

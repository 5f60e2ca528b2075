//! Issue 11 part 3: the native code compiled from a tape computes the same
//! numbers as the tape interpreter, which stays the reference. Claimed and
//! tested: bit-identical results (any NaN counts as equal to any NaN, since
//! NaN payloads carry no value), for every operation of the grammar, at
//! ordinary, extreme and non-finite inputs; see `symbolic::jit` for why the
//! bits agree.
use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use repcollapse::engine::VectorField;
use repcollapse::symbolic::{parse_expr, to_toml_string, Func, Node, SymbolicModel};

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Whether this run compiles model files (`REPCOLLAPSE_JIT=0` turns it off).
fn jit_on() -> bool {
    std::env::var("REPCOLLAPSE_JIT").as_deref() != Ok("0")
}

/// Compare every evaluation of `m` with its interpreted twin at `x, p`.
/// With the JIT on, the native entry points are called directly and must
/// accept the call, so what is compared is the machine code's output (the
/// `VectorField` methods would silently fall back to the interpreter); the
/// `VectorField` methods are then checked to give the same bits.
fn assert_identical(m: &SymbolicModel, x: &[f64], p: &[f64], what: &str) {
    let r = m.interpreted();
    assert_eq!(r.backend(), "interpreter");
    let native = m.backend() == "native";
    assert_eq!(native, jit_on(), "{what}: backend {}", m.backend());
    let n = m.dim();
    let (mut a, mut b, mut c) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let ran = m.rhs_native(x, p, &mut a);
    assert_eq!(ran, native, "{what}: native rhs ran");
    r.rhs(x, p, &mut b);
    m.rhs(x, p, &mut c);
    for i in 0..n {
        if native {
            assert!(same(a[i], b[i]), "{what}: F_{i} native {} vs interpreter {} at {x:?} {p:?}", a[i], b[i]);
        }
        assert!(same(c[i], b[i]), "{what}: F_{i} dispatched {} vs interpreter {} at {x:?} {p:?}", c[i], b[i]);
    }
    let (mut ja, mut jb, mut jc) = (Mat::<f64>::zeros(n, n), Mat::<f64>::zeros(n, n), Mat::<f64>::zeros(n, n));
    assert_eq!(m.jacobian_native(x, p, ja.as_mut()), native, "{what}: native Jacobian ran");
    r.jacobian(x, p, jb.as_mut());
    m.jacobian(x, p, jc.as_mut());
    for i in 0..n {
        for j in 0..n {
            if native {
                assert!(same(ja[(i, j)], jb[(i, j)]), "{what}: J[{i}][{j}] native {} vs {}", ja[(i, j)], jb[(i, j)]);
            }
            assert!(same(jc[(i, j)], jb[(i, j)]), "{what}: J[{i}][{j}] dispatched {} vs {}", jc[(i, j)], jb[(i, j)]);
        }
    }
    for k in 0..p.len() {
        assert_eq!(m.param_derivative_native(x, p, k, &mut a), native, "{what}: native dF/dp_{k} ran");
        r.param_derivative(x, p, k, &mut b);
        m.param_derivative(x, p, k, &mut c);
        for i in 0..n {
            if native {
                assert!(same(a[i], b[i]), "{what}: dF_{i}/dp_{k} native {} vs {}", a[i], b[i]);
            }
            assert!(same(c[i], b[i]), "{what}: dF_{i}/dp_{k} dispatched {} vs {}", c[i], b[i]);
        }
    }
    let no = m.observable_names().len();
    let (mut oa, mut ob, mut oc) = (vec![0.0; no], vec![0.0; no], vec![0.0; no]);
    assert_eq!(m.observables_native(x, p, &mut oa), native, "{what}: native observables ran");
    r.observables(x, p, &mut ob);
    m.observables(x, p, &mut oc);
    for i in 0..no {
        if native {
            assert!(same(oa[i], ob[i]), "{what}: observable {i} native {} vs {}", oa[i], ob[i]);
        }
        assert!(same(oc[i], ob[i]), "{what}: observable {i} dispatched {} vs {}", oc[i], ob[i]);
    }
}

/// A random expression over x, y, z, a, b using every function and
/// operator (without the guards of tests/symbolic/model_files.rs: poles, NaN and
/// overflow are wanted here, both back ends must agree on them too).
fn random_expr(rng: &mut ChaCha8Rng, depth: u32) -> String {
    const V: [&str; 5] = ["x", "y", "z", "a", "b"];
    let f1: Vec<&str> = Func::ALL.iter().map(|f| f.name()).collect();
    const F2: [&str; 4] = ["min", "max", "atan2", "pow"];
    if depth == 0 || rng.random_bool(0.2) {
        return if rng.random_bool(0.5) {
            V[rng.random_range(0..5)].to_string()
        } else {
            format!("{:?}", (rng.random_range(-3.0..3.0_f64) * 100.0).round() / 100.0)
        };
    }
    let sub = |rng: &mut ChaCha8Rng| random_expr(rng, depth - 1);
    match rng.random_range(0..10) {
        0 => format!("({}) + ({})", sub(rng), sub(rng)),
        1 => format!("({}) - ({})", sub(rng), sub(rng)),
        2 => format!("({})*({})", sub(rng), sub(rng)),
        3 => format!("({})/({})", sub(rng), sub(rng)),
        4 => format!("({})^{}", sub(rng), rng.random_range(-7..=9)),
        5 => format!("({})^({})", sub(rng), sub(rng)),
        6 => format!("-({})", sub(rng)),
        7 | 8 => format!("{}({})", f1[rng.random_range(0..f1.len())], sub(rng)),
        _ => format!("{}({}, {})", F2[rng.random_range(0..F2.len())], sub(rng), sub(rng)),
    }
}

#[test]
fn native_code_is_bit_identical_to_the_interpreter() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let special = [0.0, -0.0, 1.0, -1.0, 1e-300, -1e300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 0.5, -2.5];
    let mut native = 0;
    for model in 0..120 {
        let eqs: Vec<(String, String)> = ["x", "y", "z"].iter().map(|v| (v.to_string(), random_expr(&mut rng, 4))).collect();
        let obs = vec![("o".to_string(), random_expr(&mut rng, 3))];
        let text = to_toml_string(
            "random",
            &[("a".into(), 0.3), ("b".into(), -0.7)],
            &[("x".into(), 0.1), ("y".into(), 0.2), ("z".into(), 0.3)],
            &eqs,
            &obs,
        );
        let m = SymbolicModel::from_toml_str(&text, "random.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        native += usize::from(m.backend() == "native");
        for point in 0..12 {
            let v: Vec<f64> = (0..5)
                .map(|_| if point < 6 { rng.random_range(-3.0..3.0) } else { special[rng.random_range(0..special.len())] })
                .collect();
            assert_identical(&m, &v[..3], &v[3..], &format!("model {model}\n{text}"));
        }
    }
    if jit_on() {
        assert_eq!(native, 120, "every model compiles to native code on this host");
    }
}

#[test]
fn example_models_and_jacobian_views_agree() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/models");
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let m = SymbolicModel::from_path(&path).unwrap();
        let n = m.dim();
        let p = m.default_params();
        for _ in 0..10 {
            let x: Vec<f64> = (0..n).map(|_| rng.random_range(-5.0..5.0)).collect();
            assert_identical(&m, &x, &p, &path.display().to_string());
            // The Jacobian into views: a block of a larger matrix (native,
            // column stride n + 3) and the same block transposed (row
            // stride != 1: the interpreter); both exact, nothing written
            // outside the block.
            let mut want = Mat::<f64>::zeros(n, n);
            m.interpreted().jacobian(&x, &p, want.as_mut());
            for transposed in [false, true] {
                let mut big = Mat::<f64>::from_fn(n + 3, n + 2, |_, _| f64::NAN);
                let block = big.as_mut().submatrix_mut(2, 1, n, n);
                if transposed {
                    m.jacobian(&x, &p, block.transpose_mut());
                } else {
                    m.jacobian(&x, &p, block);
                }
                for i in 0..n {
                    for j in 0..n {
                        let got = if transposed { big[(2 + j, 1 + i)] } else { big[(2 + i, 1 + j)] };
                        assert!(same(got, want[(i, j)]), "{}: view J[{i}][{j}] (transposed: {transposed})", path.display());
                    }
                }
                let inside = |r: usize, c: usize| (2..2 + n).contains(&r) && (1..1 + n).contains(&c);
                let clean = (0..n + 3).all(|r| (0..n + 2).all(|c| inside(r, c) || big[(r, c)].is_nan()));
                assert!(clean, "{}: wrote outside the view", path.display());
            }
        }
    }
}

/// The native entry points decline (write nothing, return false) whenever
/// the lengths are not the compiled ones, and the `VectorField` methods then
/// go to the interpreter, which rejects wrong lengths with its message. The
/// single combined length check of the hot path must catch each length on
/// its own.
#[test]
fn wrong_lengths_fall_back_to_the_interpreter() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/models/lorenz.toml");
    let m = SymbolicModel::from_path(&path).unwrap();
    let p = m.default_params();
    let x = [1.0, 2.0, 3.0];
    let untouched = |v: &[f64]| v.iter().all(|e| e.to_bits() == 7.0f64.to_bits());
    // One length off at a time: x, p, out.
    let cases: [(&[f64], &[f64], usize); 5] =
        [(&x[..2], &p, 3), (&[1.0, 2.0, 3.0, 4.0], &p, 3), (&x, &p[..2], 3), (&x, &[10.0, 28.0, 2.0, 1.0], 3), (&x, &p, 2)];
    for (xs, ps, n_out) in cases {
        let mut out = vec![7.0; n_out];
        assert!(!m.rhs_native(xs, ps, &mut out), "rhs_native accepted x {} p {} out {n_out}", xs.len(), ps.len());
        assert!(untouched(&out));
        for k in 0..3 {
            assert!(!m.param_derivative_native(xs, ps, k, &mut out));
            assert!(untouched(&out));
        }
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.rhs(xs, ps, &mut out))).unwrap_err();
        let msg = err.downcast_ref::<String>().map(String::as_str).unwrap_or("");
        assert!(msg.contains("tape takes 6 inputs and 3 outputs"), "{msg}");
    }
    // A parameter index past the end.
    assert!(!m.param_derivative_native(&x, &p, 3, &mut [7.0; 3]));
    // Jacobian views: wrong shape, or a row stride other than 1 (a
    // transposed view); the latter is valid and is interpreted.
    let mut j = Mat::<f64>::from_fn(3, 4, |_, _| 7.0);
    assert!(!m.jacobian_native(&x, &p, j.as_mut()));
    assert!(!m.jacobian_native(&x, &p, j.as_mut().submatrix_mut(0, 0, 2, 3)));
    assert!(!m.jacobian_native(&x, &p, j.as_mut().submatrix_mut(0, 0, 3, 3).transpose_mut()));
    assert!((0..3).all(|r| (0..4).all(|c| j[(r, c)] == 7.0)), "a declined call wrote");
    if jit_on() {
        assert!(m.jacobian_native(&x, &p, j.as_mut().submatrix_mut(0, 1, 3, 3)), "a column block is native");
        let mut out = [0.0; 3];
        assert!(m.rhs_native(&x, &p, &mut out));
        // dx/dt = sigma (y - x) = 10 at x = (1, 2, 3): the kernel's inputs are wired.
        assert_eq!(out[0], 10.0);
    }
}

/// Compile `srcs` (over inputs `names`, the first `n_x` of them state) into
/// one vector kernel; returns whether it runs frameless and its outputs at
/// `v` next to the interpreter's.
fn kernel_vs_interpreter(srcs: &[String], names: &[String], n_x: usize, v: &[f64]) -> (bool, Vec<f64>, Vec<f64>) {
    use repcollapse::symbolic::jit::{compile, Layout, VectorKernel};
    use repcollapse::symbolic::tape::Tape;
    let exprs: Vec<_> = srcs.iter().map(|s| parse_expr(s, names).unwrap()).collect();
    let tape = Tape::from_exprs(&exprs, names.len());
    let (code, ptrs) = compile(&[(&tape, Layout::Vector)], n_x).unwrap();
    let (x, p) = v.split_at(n_x);
    let mut got = vec![f64::NAN; srcs.len()];
    // SAFETY: a vector kernel of this tape reads n_x + n_p inputs and
    // writes one output per expression; `code` outlives the call.
    unsafe {
        let k = std::mem::transmute::<*const u8, VectorKernel>(ptrs[0]);
        k(x.as_ptr(), p.as_ptr(), got.as_mut_ptr());
    }
    let mut want = vec![0.0; srcs.len()];
    let mut regs = vec![0.0; tape.n_registers()];
    tape.eval(x, p, &mut regs, &mut want);
    (code.frameless()[0], got, want)
}

/// Frame-pointer omission (x86-64): a small leaf kernel runs without its
/// frame and still computes the interpreter's bits; a kernel that calls a
/// shim keeps its frame (the call needs the aligned stack). A kernel with
/// more live values than registers may or may not spill, so only its values
/// are checked, at many inputs: a wrongly removed frame would crash or
/// corrupt them.
#[test]
fn leaf_kernels_run_without_a_frame_and_agree() {
    if !jit_on() {
        return;
    }
    let s = |v: &[&str]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>();
    let names = s(&["x", "y", "z", "sigma", "rho", "beta"]);
    let lorenz = s(&["sigma*(y - x)", "x*(rho - z) - y", "x*y - beta*z"]);
    let (frameless, got, want) = kernel_vs_interpreter(&lorenz, &names, 3, &[1.3, -0.7, 24.1, 10.0, 28.0, 8.0 / 3.0]);
    assert_eq!(cfg!(target_arch = "x86_64"), frameless, "Lorenz kernel frame omission");
    assert!(got.iter().zip(&want).all(|(a, b)| same(*a, *b)), "{got:?} vs {want:?}");
    let (frameless, got, want) = kernel_vs_interpreter(&s(&["exp(x) * y"]), &s(&["x", "y"]), 1, &[0.5, 3.0]);
    assert!(!frameless, "a kernel that calls a shim keeps its frame");
    assert!(same(got[0], want[0]));
    // 40 inputs all live at once: every output reads two far-apart inputs
    // and constants, so the allocator may spill.
    let n = 40;
    let names: Vec<String> = (0..n).map(|i| format!("u{i}")).collect();
    let srcs: Vec<String> = (0..n).map(|i| format!("u{i}*u{} - 1.5*u{} + u{}/3.25", (i + 17) % n, (i + 29) % n, (i + 7) % n)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..20 {
        let v: Vec<f64> = (0..n).map(|_| rng.random_range(-4.0..4.0)).collect();
        let (_, got, want) = kernel_vs_interpreter(&srcs, &names, 25, &v);
        assert!(got.iter().zip(&want).all(|(a, b)| same(*a, *b)), "{got:?} vs {want:?}");
    }
}

/// The function table (`symbolic::func`) is the one list from which the
/// parser's names, the derivative rules, the interpreter and the JIT's
/// shims are generated; this follows every row through all of them, so a
/// function that one of them lacks or gets wrong fails here. Each function
/// parses by its name (and prints back to the same expression), its
/// derivative is the central difference where it is smooth, and the tree
/// walk, the tape interpreter and the machine code give the same bits for
/// the function and its derivative, at ordinary and non-finite arguments.
#[test]
fn every_table_function_parses_differentiates_and_runs_alike() {
    use repcollapse::symbolic::parser::is_reserved;
    let names: Vec<String> = ["x", "y"].iter().map(|s| s.to_string()).collect();
    // Arguments `u = x*y`: smooth points (inside every domain, away from
    // kinks and poles) and, with y = 1, special values of u itself.
    let smooth = [(0.3, 0.9), (0.7, 1.1), (1.3, 0.6)];
    let special = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 1e-300, 40.0, -40.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let points: Vec<(f64, f64)> = smooth.iter().copied().chain(special.iter().map(|&u| (u, 1.0))).collect();
    for (i, f) in Func::ALL.into_iter().enumerate() {
        let name = f.name();
        // The JIT imports the shim of `f` at index `f as usize`.
        assert_eq!(f as usize, i, "{name}: table index");
        assert_eq!(Func::from_name(name), Some(f), "{name}: name lookup");
        assert!(is_reserved(name), "{name}: not reserved as a symbol");
        let e = parse_expr(&format!("{name}(x*y)"), &names).unwrap_or_else(|err| panic!("{name}: {err:?}"));
        assert!(matches!(e.node(), Node::Call(g, _) if g == f), "{name}: parsed as {:?}", e.node());
        let d = e.derivative(0);
        let texts = [e.display(&names).to_string(), d.display(&names).to_string()];
        for (text, expr) in texts.iter().zip([&e, &d]) {
            let back = parse_expr(text, &names).unwrap_or_else(|err| panic!("{name}: `{text}` does not re-parse: {err:?}"));
            assert!(back == *expr, "{name}: `{text}` re-parses to another expression");
        }
        for &(x, y) in &smooth {
            let h = 1e-6;
            let fd = (f.apply((x + h) * y) - f.apply((x - h) * y)) / (2.0 * h);
            let exact = d.eval(&[x, y]);
            assert!((exact - fd).abs() <= 1e-6 * (1.0 + fd.abs()), "{name}: d/dx at ({x}, {y}) is {exact}, central difference {fd}");
        }
        for &(x, y) in &points {
            let tree = [e.eval(&[x, y]), d.eval(&[x, y])];
            assert!(same(tree[0], f.apply(x * y)), "{name}({}): tree walk {} vs apply {}", x * y, tree[0], f.apply(x * y));
            let (native, interpreted) = if jit_on() {
                let (_, native, interpreted) = kernel_vs_interpreter(&texts, &names, 1, &[x, y]);
                (Some(native), interpreted)
            } else {
                let tape = repcollapse::symbolic::tape::Tape::from_exprs(&[e.clone(), d.clone()], 2);
                let mut out = vec![0.0; 2];
                tape.eval_into(&[x], &[y], &mut out);
                (None, out)
            };
            for k in 0..2 {
                let what = ["value", "derivative"][k];
                assert!(same(interpreted[k], tree[k]), "{name} {what} at ({x}, {y}): interpreter {} vs tree {}", interpreted[k], tree[k]);
                if let Some(native) = &native {
                    assert!(same(native[k], tree[k]), "{name} {what} at ({x}, {y}): native {} vs tree {}", native[k], tree[k]);
                }
            }
        }
    }
}

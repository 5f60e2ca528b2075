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
use repcollapse::symbolic::{to_toml_string, SymbolicModel};

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Compare every evaluation of `m` (native) with its interpreted twin at `x, p`.
fn assert_identical(m: &SymbolicModel, x: &[f64], p: &[f64], what: &str) {
    let r = m.interpreted();
    assert_eq!(r.backend(), "interpreter");
    let n = m.dim();
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    m.rhs(x, p, &mut a);
    r.rhs(x, p, &mut b);
    for i in 0..n {
        assert!(same(a[i], b[i]), "{what}: F_{i} native {} vs interpreter {} at {x:?} {p:?}", a[i], b[i]);
    }
    let (mut ja, mut jb) = (Mat::<f64>::zeros(n, n), Mat::<f64>::zeros(n, n));
    m.jacobian(x, p, ja.as_mut());
    r.jacobian(x, p, jb.as_mut());
    for i in 0..n {
        for j in 0..n {
            assert!(same(ja[(i, j)], jb[(i, j)]), "{what}: J[{i}][{j}] native {} vs {}", ja[(i, j)], jb[(i, j)]);
        }
    }
    for k in 0..p.len() {
        m.param_derivative(x, p, k, &mut a);
        r.param_derivative(x, p, k, &mut b);
        for i in 0..n {
            assert!(same(a[i], b[i]), "{what}: dF_{i}/dp_{k} native {} vs {}", a[i], b[i]);
        }
    }
    let no = m.observable_names().len();
    let (mut oa, mut ob) = (vec![0.0; no], vec![0.0; no]);
    m.observables(x, p, &mut oa);
    r.observables(x, p, &mut ob);
    for i in 0..no {
        assert!(same(oa[i], ob[i]), "{what}: observable {i} native {} vs {}", oa[i], ob[i]);
    }
}

/// A random expression over x, y, z, a, b using every function and
/// operator (without the guards of tests/symbolic.rs: poles, NaN and
/// overflow are wanted here, both back ends must agree on them too).
fn random_expr(rng: &mut ChaCha8Rng, depth: u32) -> String {
    const V: [&str; 5] = ["x", "y", "z", "a", "b"];
    const F1: [&str; 15] =
        ["exp", "log", "sqrt", "abs", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan", "erf", "erfc", "sign", "heaviside"];
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
        7 | 8 => format!("{}({})", F1[rng.random_range(0..F1.len())], sub(rng)),
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
    if std::env::var("REPCOLLAPSE_JIT").as_deref() != Ok("0") {
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

//! Tests of the symbolic model-file engine against independent oracles:
//! closed forms written in Rust, a test-side evaluator of randomly generated
//! expressions, central finite differences, and analytic Jacobians.
use std::path::PathBuf;

use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use repcollapse::engine::jacobian_eigenvalues;
use repcollapse::engine::VectorField;
use repcollapse::symbolic::{parse_expr, parse_model_file, to_toml_string, Expr, Node, SymbolicModel};

// ---------------------------------------------------------------------------
// Allocation counter (per thread, so parallel tests do not interfere).

use crate::support::counting_alloc::allocations;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/models")
}

fn load(name: &str) -> SymbolicModel {
    SymbolicModel::from_path(models_dir().join(name)).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------
// Parsing and evaluation: operator precedence against Rust closed forms.

#[test]
fn precedence_and_functions_match_closed_forms() {
    let (x, y) = (1.7_f64, -0.6_f64);
    let names = ["x", "y"];
    let erf = statrs::function::erf::erf;
    let cases: Vec<(&str, f64)> = vec![
        ("-x^2", -(x * x)),
        ("(-x)^2", x * x),
        ("2^3^2", 512.0),
        ("2^-1", 0.5),
        ("-2^-2", -0.25),
        ("1 - 2 - 3", -4.0),
        ("8/4/2", 1.0),
        ("x/y*2", x / y * 2.0),
        ("x - y*x^2/3", x - y * x * x / 3.0),
        ("2*-x", -2.0 * x),
        ("-x*y", -x * y),
        ("--x", x),
        ("+x - +y", x - y),
        ("(x + y)*(x - y)", (x + y) * (x - y)),
        ("1e-3*x + 2.5E+2 + .5", 1e-3 * x + 250.0 + 0.5),
        ("x^y", x.powf(y)),
        ("y^3", y * y * y),
        ("y^-3", 1.0 / (y * y * y)),
        ("exp(x) + log(x) + sqrt(x)", x.exp() + x.ln() + x.sqrt()),
        ("abs(y) + sin(y) + cos(y) + tan(y)", y.abs() + y.sin() + y.cos() + y.tan()),
        ("tanh(x) + erf(y) + erfc(x)", x.tanh() + erf(y) + (1.0 - erf(x))),
        ("min(x, y) + max(x, y)*2", y + 2.0 * x),
        ("sinh(y) + cosh(y) + atan(x)", y.sinh() + y.cosh() + x.atan()),
        ("atan2(y, x) + atan2(x, y) + atan2(y, -x)", y.atan2(x) + x.atan2(y) + y.atan2(-x)),
        ("pow(x, y) + pow(y, 3) + pow(2, -1)", x.powf(y) + y * y * y + 0.5),
        ("min(max(x, 0), 1)", 1.0),
        ("pi*x", std::f64::consts::PI * x),
        ("exp(-x^2/2)", (-(x * x) / 2.0).exp()),
        ("  x\t*\n y ", x * y),
    ];
    for (src, want) in cases {
        let e = parse_expr(src, &names).unwrap_or_else(|e| panic!("{src}: {e:?}"));
        let got = e.eval(&[x, y]);
        assert!((got - want).abs() <= 1e-14 * want.abs().max(1.0), "{src}: got {got}, want {want}");
    }
}

/// The functions added for published models (Morris-Lecar needs `cosh`):
/// value, `dF/dx` and `dF/dp` against closed forms written in Rust and their
/// central differences. Step 1e-5 with a second difference at h/2 as a
/// consistency check: the truncation error of the central difference is
/// O(h^2 f''') ~ 1e-10 and the rounding error O(eps |f| / h) ~ 1e-11 for the
/// O(1..10) values used here, so 1e-7 relative is a safe bound that a wrong
/// rule (off by a factor, a sign or a missing chain factor) cannot meet.
#[test]
fn added_functions_have_exact_derivatives() {
    type F = fn(f64, f64) -> f64;
    let cases: [(&str, F); 7] = [
        ("cosh(k*x) - x", |x, k| (k * x).cosh() - x),
        ("sinh(x^2)*k", |x, k| (x * x).sinh() * k),
        ("atan(k*x - 1)", |x, k| (k * x - 1.0).atan()),
        ("atan2(k - x, x)", |x, k| (k - x).atan2(x)),
        ("atan2(x, k)*x", |x, k| x.atan2(k) * x),
        ("pow(x, k)", |x, k| x.powf(k)),
        ("pow(k, x) + pow(x, 2)", |x, k| k.powf(x) + x * x),
    ];
    for (src, f) in cases {
        let text = format!("name = \"f\"\n[parameters]\nk = 1.5\n[state]\nx = 0.5\n[equations]\nx = \"{src}\"\n");
        let m = SymbolicModel::from_toml_str(&text, "f.toml").unwrap_or_else(|e| panic!("{e}"));
        let mut jac = Mat::<f64>::zeros(1, 1);
        let mut out = [0.0];
        for &(x, k) in &[(0.3, 1.5), (1.7, 0.6), (2.2, 1.3), (0.9, 2.5)] {
            m.rhs(&[x], &[k], &mut out);
            assert!((out[0] - f(x, k)).abs() <= 1e-14 * f(x, k).abs().max(1.0), "{src} at ({x}, {k}): {} vs {}", out[0], f(x, k));
            m.jacobian(&[x], &[k], jac.as_mut());
            let dfdx = |h: f64| (f(x + h, k) - f(x - h, k)) / (2.0 * h);
            let (d1, d2) = (dfdx(1e-5), dfdx(5e-6));
            assert!((d1 - d2).abs() < 1e-7 * d2.abs().max(1.0), "{src}: unstable difference quotient");
            assert!((jac[(0, 0)] - d2).abs() < 1e-7 * d2.abs().max(1.0), "d/dx {src} at ({x}, {k}): {} vs {d2}", jac[(0, 0)]);
            m.param_derivative(&[x], &[k], 0, &mut out);
            let h = 1e-5;
            let dk = (f(x, k + h) - f(x, k - h)) / (2.0 * h);
            assert!((out[0] - dk).abs() < 1e-7 * dk.abs().max(1.0), "d/dk {src} at ({x}, {k}): {} vs {dk}", out[0]);
        }
    }
}

#[test]
fn integer_powers_use_powi_and_handle_negative_bases() {
    // powf of a negative base is NaN; powi is exact.
    let e = parse_expr("x^3", &["x"]).unwrap();
    assert!(matches!(e.node(), Node::PowI(_, 3)), "{e:?}");
    assert_eq!(e.eval(&[-2.0]), -8.0);
    let e = parse_expr("x^(1+1)", &["x"]).unwrap();
    assert!(matches!(e.node(), Node::PowI(_, 2)), "constant exponent expressions fold: {e:?}");
}

#[test]
fn tape_keeps_operand_order_of_non_commutative_ops_when_sharing() {
    use repcollapse::symbolic::tape::Tape;
    let names = ["x", "y"];
    let srcs = [
        "x - y", "y - x", "x/y", "y/x", "x^y", "y^x", "min(x, y)", "min(y, x)", "max(x, y)", "max(y, x)",
        "x*y", "y*x", "x + y", "y + x", "sin(x - y)", "sin(y - x)",
    ];
    let (x, y) = (0.7_f64, 2.3_f64);
    let want = [
        x - y, y - x, x / y, y / x, x.powf(y), y.powf(x), x, x, y, y, x * y, x * y, x + y, x + y,
        (x - y).sin(), (y - x).sin(),
    ];
    let exprs: Vec<Expr> = srcs.iter().map(|s| parse_expr(s, &names).unwrap()).collect();
    let tape = Tape::from_exprs(&exprs, 2);
    let mut regs = vec![0.0; tape.n_registers()];
    let mut out = vec![0.0; srcs.len()];
    tape.eval(&[x], &[y], &mut regs, &mut out);
    for ((s, got), w) in srcs.iter().zip(&out).zip(want) {
        assert_eq!(*got, w, "{s}");
    }
    assert_eq!(tape.len(), srcs.len() - 2, "x*y, y*x and x+y, y+x share; sin(.) reuses its argument");
}

// ---------------------------------------------------------------------------
// Random expressions: test-side trees with their own evaluator.

#[derive(Clone, Debug)]
enum T {
    C(f64),
    V(usize),
    Neg(Box<T>),
    Add(Box<T>, Box<T>),
    Sub(Box<T>, Box<T>),
    Mul(Box<T>, Box<T>),
    /// a / (1 + b^2): no poles.
    Div(Box<T>, Box<T>),
    PowI(Box<T>, i32),
    /// (1 + a^2)^b: positive base.
    Pow(Box<T>, Box<T>),
    Exp(Box<T>),
    /// log(1 + a^2)
    Log(Box<T>),
    /// sqrt(1 + a^2)
    Sqrt(Box<T>),
    Abs(Box<T>),
    Sin(Box<T>),
    Cos(Box<T>),
    /// tan(tanh(a)): |tanh| < 1 < pi/2.
    Tan(Box<T>),
    Tanh(Box<T>),
    Erf(Box<T>),
    Erfc(Box<T>),
    Min(Box<T>, Box<T>),
    Max(Box<T>, Box<T>),
    Sinh(Box<T>),
    Cosh(Box<T>),
    Atan(Box<T>),
    Atan2(Box<T>, Box<T>),
    /// pow(1 + a^2, b), the function spelling of `^`.
    PowF(Box<T>, Box<T>),
}

const NAMES: [&str; 5] = ["x", "y", "z", "a", "b"];
const N_KINDS: usize = 26;

fn gen(rng: &mut ChaCha8Rng, depth: u32, seen: &mut [usize; N_KINDS]) -> T {
    let leaf = depth == 0 || rng.random_bool(0.25);
    let kind = if leaf { rng.random_range(0..2) } else { rng.random_range(2..N_KINDS) };
    seen[kind] += 1;
    let mut sub = |rng: &mut ChaCha8Rng| Box::new(gen(rng, depth.saturating_sub(1), seen));
    match kind {
        0 => T::C((rng.random_range(-2.0..2.0_f64) * 1000.0).round() / 1000.0),
        1 => T::V(rng.random_range(0..NAMES.len())),
        2 => T::Neg(sub(rng)),
        3 => T::Add(sub(rng), sub(rng)),
        4 => T::Sub(sub(rng), sub(rng)),
        5 => T::Mul(sub(rng), sub(rng)),
        6 => T::Div(sub(rng), sub(rng)),
        7 => T::PowI(sub(rng), rng.random_range(-2..=4)),
        8 => T::Pow(sub(rng), sub(rng)),
        9 => T::Exp(sub(rng)),
        10 => T::Log(sub(rng)),
        11 => T::Sqrt(sub(rng)),
        12 => T::Abs(sub(rng)),
        13 => T::Sin(sub(rng)),
        14 => T::Cos(sub(rng)),
        15 => T::Tan(sub(rng)),
        16 => T::Tanh(sub(rng)),
        17 => T::Erf(sub(rng)),
        18 => T::Erfc(sub(rng)),
        19 => T::Min(sub(rng), sub(rng)),
        20 => T::Max(sub(rng), sub(rng)),
        21 => T::Sinh(sub(rng)),
        22 => T::Cosh(sub(rng)),
        23 => T::Atan(sub(rng)),
        24 => T::Atan2(sub(rng), sub(rng)),
        _ => T::PowF(sub(rng), sub(rng)),
    }
}

fn show(t: &T) -> String {
    use T::*;
    match t {
        C(c) => format!("({c})"),
        V(k) => NAMES[*k].to_string(),
        Neg(a) => format!("-({})", show(a)),
        Add(a, b) => format!("({}) + ({})", show(a), show(b)),
        Sub(a, b) => format!("({}) - ({})", show(a), show(b)),
        Mul(a, b) => format!("({})*({})", show(a), show(b)),
        Div(a, b) => format!("({})/(1 + ({})^2)", show(a), show(b)),
        PowI(a, n) if *n < 0 => format!("(1 + ({})^2)^{n}", show(a)),
        PowI(a, n) => format!("({})^{n}", show(a)),
        Pow(a, b) => format!("(1 + ({})^2)^({})", show(a), show(b)),
        Exp(a) => format!("exp({})", show(a)),
        Log(a) => format!("log(1 + ({})^2)", show(a)),
        Sqrt(a) => format!("sqrt(1 + ({})^2)", show(a)),
        Abs(a) => format!("abs({})", show(a)),
        Sin(a) => format!("sin({})", show(a)),
        Cos(a) => format!("cos({})", show(a)),
        Tan(a) => format!("tan(tanh({}))", show(a)),
        Tanh(a) => format!("tanh({})", show(a)),
        Erf(a) => format!("erf({})", show(a)),
        Erfc(a) => format!("erfc({})", show(a)),
        Min(a, b) => format!("min({}, {})", show(a), show(b)),
        Max(a, b) => format!("max({}, {})", show(a), show(b)),
        Sinh(a) => format!("sinh({})", show(a)),
        Cosh(a) => format!("cosh({})", show(a)),
        Atan(a) => format!("atan({})", show(a)),
        Atan2(a, b) => format!("atan2({}, {})", show(a), show(b)),
        PowF(a, b) => format!("pow(1 + ({})^2, {})", show(a), show(b)),
    }
}

fn ev(t: &T, v: &[f64]) -> f64 {
    use T::*;
    let sq1 = |a: &T| 1.0 + ev(a, v) * ev(a, v);
    match t {
        C(c) => *c,
        V(k) => v[*k],
        Neg(a) => -ev(a, v),
        Add(a, b) => ev(a, v) + ev(b, v),
        Sub(a, b) => ev(a, v) - ev(b, v),
        Mul(a, b) => ev(a, v) * ev(b, v),
        Div(a, b) => ev(a, v) / sq1(b),
        PowI(a, n) if *n < 0 => sq1(a).powi(*n),
        PowI(a, n) => ev(a, v).powi(*n),
        Pow(a, b) => sq1(a).powf(ev(b, v)),
        Exp(a) => ev(a, v).exp(),
        Log(a) => sq1(a).ln(),
        Sqrt(a) => sq1(a).sqrt(),
        Abs(a) => ev(a, v).abs(),
        Sin(a) => ev(a, v).sin(),
        Cos(a) => ev(a, v).cos(),
        Tan(a) => ev(a, v).tanh().tan(),
        Tanh(a) => ev(a, v).tanh(),
        Erf(a) => statrs::function::erf::erf(ev(a, v)),
        Erfc(a) => statrs::function::erf::erfc(ev(a, v)),
        Min(a, b) => ev(a, v).min(ev(b, v)),
        Max(a, b) => ev(a, v).max(ev(b, v)),
        Sinh(a) => ev(a, v).sinh(),
        Cosh(a) => ev(a, v).cosh(),
        Atan(a) => ev(a, v).atan(),
        Atan2(a, b) => ev(a, v).atan2(ev(b, v)),
        PowF(a, b) => sq1(a).powf(ev(b, v)),
    }
}

/// Central difference of the test-side evaluator in coordinate `k`, with
/// step `h`.
fn central(t: &T, v: &[f64], k: usize, h: f64) -> f64 {
    let (mut up, mut dn) = (v.to_vec(), v.to_vec());
    up[k] += h;
    dn[k] -= h;
    (ev(t, &up) - ev(t, &dn)) / (2.0 * h)
}

#[test]
fn random_expressions_values_and_derivatives_match_oracles() {
    let mut rng = ChaCha8Rng::seed_from_u64(20240611);
    let mut seen = [0usize; N_KINDS];
    let (mut checked, mut skipped) = (0usize, 0usize);
    for _model in 0..150 {
        let trees: Vec<T> = (0..3).map(|_| gen(&mut rng, 4, &mut seen)).collect();
        let srcs: Vec<(String, String)> =
            trees.iter().zip(["x", "y", "z"]).map(|(t, v)| (v.to_string(), show(t))).collect();
        let text = to_toml_string(
            "random",
            &[("a".into(), 0.3), ("b".into(), -0.7)],
            &[("x".into(), 0.1), ("y".into(), 0.2), ("z".into(), 0.3)],
            &srcs,
            &[],
        );
        let model = SymbolicModel::from_toml_str(&text, "random.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut jac = Mat::<f64>::zeros(3, 3);
        let mut f = [0.0; 3];
        let mut dp = [0.0; 3];
        for _point in 0..4 {
            let v: Vec<f64> = (0..5).map(|_| rng.random_range(-1.5..1.5)).collect();
            let (x, p) = v.split_at(3);
            model.rhs(x, p, &mut f);
            model.jacobian(x, p, jac.as_mut());
            for (i, t) in trees.iter().enumerate() {
                let want = ev(t, &v);
                if !want.is_finite() || want.abs() > 1e6 {
                    skipped += 6;
                    continue;
                }
                assert!(
                    (f[i] - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "value of {} at {v:?}: tape {} vs oracle {want}",
                    srcs[i].1,
                    f[i]
                );
                for k in 0..5 {
                    let sym = if k < 3 {
                        jac[(i, k)]
                    } else {
                        model.param_derivative(x, p, k - 3, &mut dp);
                        dp[i]
                    };
                    let h = 1e-5;
                    let (d1, d2) = (central(t, &v, k, h), central(t, &v, k, h / 2.0));
                    // A kink (abs, min, max) or steep curvature within h makes
                    // the difference quotient itself unreliable: skip, judged
                    // on the oracle alone.
                    if !(d1 - d2).is_finite() || (d1 - d2).abs() > 1e-7 * d2.abs().max(1.0) {
                        skipped += 1;
                        continue;
                    }
                    assert!(
                        (sym - d2).abs() <= 1e-6 * d2.abs().max(1.0),
                        "d/d{} of {} at {v:?}: symbolic {sym} vs finite difference {d2}",
                        NAMES[k],
                        srcs[i].1
                    );
                    checked += 1;
                }
            }
        }
    }
    eprintln!("random derivatives: {checked} checked, {skipped} skipped; grammar coverage {seen:?}");
    assert!(checked > 4 * skipped && checked > 5000, "checked {checked}, skipped {skipped}");
    assert!(seen.iter().all(|&c| c > 20), "every grammar element exercised: {seen:?}");
}

#[test]
fn printed_expressions_reparse_to_the_same_tree() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut seen = [0usize; N_KINDS];
    for _ in 0..300 {
        let t = gen(&mut rng, 4, &mut seen);
        let e = parse_expr(&show(&t), &NAMES).unwrap();
        let printed = e.display(&NAMES).to_string();
        let again = parse_expr(&printed, &NAMES).unwrap_or_else(|err| panic!("{printed}: {err:?}"));
        assert_eq!(e, again, "{printed}");
        // Derivatives print and re-parse too (they contain sign/heaviside).
        let d = e.derivative(0);
        let dp = d.display(&NAMES).to_string();
        assert_eq!(parse_expr(&dp, &NAMES).unwrap(), d, "{dp}");
    }
}

// ---------------------------------------------------------------------------
// Example model files against analytic results.

#[test]
fn lorenz_rhs_jacobian_and_parameter_derivatives_are_analytic() {
    let m = load("lorenz.toml");
    assert_eq!(m.state_names(), ["x", "y", "z"]);
    assert_eq!(m.param_names(), ["sigma", "rho", "beta"]);
    let p = m.default_params();
    assert_eq!(p, [10.0, 28.0, 8.0 / 3.0]);
    let (s, r, b) = (p[0], p[1], p[2]);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut jac = Mat::<f64>::zeros(3, 3);
    let mut f = [0.0; 3];
    for _ in 0..20 {
        let x: Vec<f64> = (0..3).map(|_| rng.random_range(-20.0..20.0)).collect();
        let (u, v, w) = (x[0], x[1], x[2]);
        m.rhs(&x, &p, &mut f);
        assert_eq!(f, [s * (v - u), u * (r - w) - v, u * v - b * w]);
        m.jacobian(&x, &p, jac.as_mut());
        let want = [[-s, s, 0.0], [r - w, -1.0, -u], [v, u, -b]];
        for i in 0..3 {
            for j in 0..3 {
                assert_eq!(jac[(i, j)], want[i][j], "J[{i}][{j}] at {x:?}");
            }
        }
        let want_dp = [[v - u, 0.0, 0.0], [0.0, u, 0.0], [0.0, 0.0, -w]];
        for (k, row) in want_dp.iter().enumerate() {
            m.param_derivative(&x, &p, k, &mut f);
            assert_eq!(&f, row, "dF/dp_{k}");
        }
    }
    // Identically-zero Jacobian entries are structural zeros.
    assert_eq!(m.jacobian_expr(0, 2), Expr::constant(0.0));
}

#[test]
fn hopf_brusselator_and_cusp_match_their_textbook_linearisations() {
    // Hopf normal form at the origin: eigenvalues mu +- i omega.
    let m = load("hopf.toml");
    let ev = jacobian_eigenvalues(&m, &[0.0, 0.0], &[0.2, 1.3, 0.4]).unwrap();
    assert!((ev[0].re - 0.2).abs() < 1e-12 && (ev[0].im.abs() - 1.3).abs() < 1e-12, "{ev:?}");
    let mut r = [0.0];
    m.observables(&[0.3, 0.4], &m.default_params(), &mut r);
    assert!((r[0] - 0.5).abs() < 1e-15);

    // Brusselator at (a, b/a): trace b - 1 - a^2, determinant a^2.
    let m = load("brusselator.toml");
    let (a, b) = (1.5, 2.0);
    let mut jac = Mat::<f64>::zeros(2, 2);
    m.jacobian(&[a, b / a], &[a, b], jac.as_mut());
    let want = [[b - 1.0, a * a], [-b, -a * a]];
    for i in 0..2 {
        for j in 0..2 {
            assert!((jac[(i, j)] - want[i][j]).abs() < 1e-13, "{i}{j}: {:?}", jac);
        }
    }
    let mut f = [0.0; 2];
    m.rhs(&[a, b / a], &[a, b], &mut f);
    assert!(f.iter().all(|v| v.abs() < 1e-14), "(a, b/a) is a fixed point: {f:?}");

    // Cusp: the saddle-node curve 27 h^2 = 4 r^3 has a double root
    // x = sqrt(r/3) (h < 0 branch) where F = F' = 0.
    let m = load("cusp.toml");
    let r0: f64 = 1.2;
    let x0 = (r0 / 3.0).sqrt();
    let h0 = -(4.0 * r0.powi(3) / 27.0).sqrt();
    let mut f = [0.0];
    let mut j = Mat::<f64>::zeros(1, 1);
    m.rhs(&[x0], &[h0, r0], &mut f);
    m.jacobian(&[x0], &[h0, r0], j.as_mut());
    assert!(f[0].abs() < 1e-14 && j[(0, 0)].abs() < 1e-14, "{f:?} {j:?}");
    m.param_derivative(&[x0], &[h0, r0], 0, &mut f);
    assert_eq!(f[0], 1.0);
    m.param_derivative(&[x0], &[h0, r0], 1, &mut f);
    assert!((f[0] - x0).abs() < 1e-15);

    // Pitchfork and saddle-node: J = mu - 3x^2 and -2x.
    let m = load("pitchfork.toml");
    m.jacobian(&[0.7], &[0.5], j.as_mut());
    assert!((j[(0, 0)] - (0.5 - 3.0 * 0.49)).abs() < 1e-15);
    let m = load("saddle-node.toml");
    m.jacobian(&[0.7], &[0.5], j.as_mut());
    assert_eq!(j[(0, 0)], -1.4);
    assert_eq!(m.observable_names(), ["x_squared"]);
    assert_eq!(m.initial_state(), [0.5]);
}

#[test]
fn evaluation_does_not_allocate() {
    let m = load("hopf.toml");
    let p = m.default_params();
    let mut f = [0.0; 2];
    let mut jac = Mat::<f64>::zeros(2, 2);
    // Warm up the thread's register file.
    m.rhs(&[0.1, 0.2], &p, &mut f);
    m.jacobian(&[0.1, 0.2], &p, jac.as_mut());
    m.param_derivative(&[0.1, 0.2], &p, 0, &mut f);
    let mut obs = [0.0];
    m.observables(&[0.1, 0.2], &p, &mut obs);
    let before = allocations();
    let mut acc = 0.0;
    for i in 0..1000 {
        let x = [0.1 + 1e-3 * i as f64, 0.2];
        m.rhs(&x, &p, &mut f);
        m.jacobian(&x, &p, jac.as_mut());
        m.param_derivative(&x, &p, 1, &mut f);
        m.observables(&x, &p, &mut obs);
        acc += f[0] + jac[(1, 1)] + obs[0];
    }
    assert!(acc.is_finite());
    assert_eq!(allocations() - before, 0, "allocations during evaluation");
    // The counter works at all (so the assertion above can fail).
    let v = std::hint::black_box(vec![1u8; 10]);
    assert!(allocations() > before && v.len() == 10);
}

// ---------------------------------------------------------------------------
// Errors: line, offending name, suggestion.

fn err(text: &str) -> String {
    match SymbolicModel::from_toml_str(text, "bad.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn assert_contains(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "message lacks {p:?}:\n{msg}");
    }
}

const HEAD: &str = "name = \"t\"\n[parameters]\nmu = 1.0\n[state]\nx = 0.5\n[equations]\n";

#[test]
fn undefined_symbol_is_located_with_suggestion() {
    let msg = err(&format!("{HEAD}x = \"mu - xx^2\"\n"));
    assert_contains(&msg, &["bad.toml", "line 7, column 11", "undefined symbol `xx`", "did you mean `x`?"]);
    assert_contains(&msg, &["x = \"mu - xx^2\"", "\n  |           ^^"]);
    // The same inside a multi-line string, two lines down.
    let msg = err(&format!("{HEAD}x = \"\"\"\nmu\n - mv*x\"\"\"\n"));
    assert_contains(&msg, &["line 9, column 4", "`mv`", "did you mean `mu`?"]);
}

#[test]
fn unknown_function_and_wrong_arity() {
    let msg = err(&format!("{HEAD}x = \"mu - exq(x)\"\n"));
    assert_contains(&msg, &["line 7", "unknown function `exq`", "did you mean `exp`?"]);
    let msg = err(&format!("{HEAD}x = \"min(x) + mu\"\n"));
    assert_contains(&msg, &["line 7, column 6", "`min` takes 2 arguments, got 1", "min(a, b)"]);
    let msg = err(&format!("{HEAD}x = \"exp(x, mu)\"\n"));
    assert_contains(&msg, &["line 7", "`exp` takes 1 argument, got 2", "exp(x)"]);
    // A function the grammar has is not "corrected" to a different one, and
    // a missing function gets its identity rather than a near name.
    assert!(SymbolicModel::from_toml_str(&format!("{HEAD}x = \"cosh(x) - mu\"\n"), "ok.toml").is_ok());
    let msg = err(&format!("{HEAD}x = \"coshh(x)\"\n"));
    assert_contains(&msg, &["unknown function `coshh`", "did you mean `cosh`?"]);
    let msg = err(&format!("{HEAD}x = \"acos(x)\"\n"));
    assert_contains(&msg, &["unknown function `acos`", "atan2(sqrt(1 - u^2), u)"]);
    assert!(!msg.contains("did you mean"), "{msg}");
    let msg = err(&format!("{HEAD}x = \"atan2(x)\"\n"));
    assert_contains(&msg, &["`atan2` takes 2 arguments, got 1"]);
    let msg = err(&format!("{HEAD}x = \"mu(x + 1)\"\n"));
    assert_contains(&msg, &["line 7", "unknown function `mu`", "`mu` is a symbol, not a function"]);
}

#[test]
fn syntax_errors_are_located() {
    let msg = err(&format!("{HEAD}x = \"mu - (x^2\"\n"));
    assert_contains(&msg, &["line 7, column 11", "unbalanced `(`", "found end of expression"]);
    let msg = err(&format!("{HEAD}x = \"mu - x^2)\"\n"));
    assert_contains(&msg, &["line 7, column 14", "unbalanced `)`"]);
    let msg = err(&format!("{HEAD}x = \"mu - * x\"\n"));
    assert_contains(&msg, &["line 7, column 11", "unexpected `*`"]);
    let msg = err(&format!("{HEAD}x = \"mu x\"\n"));
    assert_contains(&msg, &["line 7, column 9", "unexpected name `x`", "missing operator"]);
    let msg = err(&format!("{HEAD}x = \"2x\"\n"));
    assert_contains(&msg, &["line 7", "`2*x`"]);
    let msg = err(&format!("{HEAD}x = \"x**2\"\n"));
    assert_contains(&msg, &["line 7", "x^2"]);
    let msg = err(&format!("{HEAD}x = \"\"\n"));
    assert_contains(&msg, &["line 7", "empty expression"]);
}

#[test]
fn equation_without_state_and_state_without_equation() {
    let text = "[parameters]\nmu = 1.0\n[state]\nx = 0.5\ny = 0.1\n[equations]\nx = \"mu\"\nyy = \"x\"\n";
    let msg = err(text);
    assert_contains(&msg, &["line 8, column 1", "equation for `yy`", "no initial value in [state]", "did you mean `y`?"]);

    let text = "[state]\nx = 0.5\n[equations]\nx = \"-x\"\nw = \"x\"\n";
    assert_contains(&err(text), &["line 5", "`w`", "add `w = <initial value>` to [state]"]);

    let text = "[parameters]\nmu = 1.0\n[state]\nx = 0.5\n[equations]\nx = \"-x\"\nmu = \"x\"\n";
    assert_contains(&err(text), &["line 7", "`mu`, which is a parameter"]);

    let text = "[parameters]\nmu = 1.0\n[state]\nx = 0.5\ny = 0.2\n[equations]\nx = \"mu\"\n";
    let msg = err(text);
    assert_contains(&msg, &["line 5, column 1", "state variable `y` has no equation", "add `y = "]);
}

#[test]
fn name_clashes_are_rejected() {
    let text = "[parameters]\nmu = 1.0\nx = 2.0\n[state]\nx = 0.5\n[equations]\nx = \"mu\"\n";
    let msg = err(text);
    assert_contains(&msg, &["line 5", "`x` is declared both as a parameter (line 3) and as a state variable", "rename"]);
    let msg = err("[parameters]\npi = 3.0\n[state]\nx = 0.5\n[equations]\nx = \"pi\"\n");
    assert_contains(&msg, &["line 2", "`pi` is reserved", "pi_"]);
    let msg = err("[state]\nx = 0.5\n[equations]\nx = \"-x\"\n[observables]\nx = \"x^2\"\n");
    assert_contains(&msg, &["line 6", "observable `x`"]);
}

#[test]
fn non_numeric_values_are_rejected() {
    let msg = err("[parameters]\nmu = \"fast\"\n[state]\nx = 0.5\n[equations]\nx = \"mu\"\n");
    assert_contains(&msg, &["line 2, column 6", "parameter `mu` must be a number, got a string", "mu = <number>"]);
    let msg = err("[parameters]\nmu = \"0.25\"\n[state]\nx = 0.5\n[equations]\nx = \"mu\"\n");
    assert_contains(&msg, &["line 2", "remove the quotes: `mu = 0.25`"]);
    let msg = err("[parameters]\nmu = 1.0\n[state]\nx = [1, 2]\n[equations]\nx = \"mu\"\n");
    assert_contains(&msg, &["line 4", "state variable `x` must be a number, got a array"]);
    let msg = err("[parameters]\nmu = nan\n[state]\nx = 1\n[equations]\nx = \"mu\"\n");
    assert_contains(&msg, &["line 2", "`mu` must be a finite number"]);
}

#[test]
fn unknown_section_and_malformed_toml() {
    let msg = err("[parameter]\nmu = 1.0\n[state]\nx = 0.5\n[equations]\nx = \"mu\"\n");
    assert_contains(&msg, &["line 1, column 2", "unknown top-level key or section `parameter`", "did you mean `parameters`?"]);
    let msg = err("nmae = \"m\"\n[state]\nx = 0.5\n[equations]\nx = \"mu\"\n");
    assert_contains(&msg, &["line 1", "`nmae`", "did you mean `name`?"]);
    let msg = err("[parameters]\nmu = 1.0\n[state]\nx = 0.5\n[equations]\nx = \"mu - x^2\n");
    assert_contains(&msg, &["line 6", "malformed TOML"]);
    let msg = err("[parameters]\nmu = 1.0\nmu = 2.0\n[state]\nx = 0.5\n[equations]\nx = \"mu\"\n");
    assert_contains(&msg, &["line 3", "malformed TOML", "mu"]);
}

#[test]
fn overrides_set_parameters_and_initial_values_or_suggest() {
    let m = load("saddle-node.toml").with_overrides(&[("mu", -0.5), ("x", 2.0)]).unwrap();
    assert_eq!(m.default_params(), [-0.5]);
    assert_eq!(m.initial_state(), [2.0]);
    let e = load("lorenz.toml").with_overrides(&[("rh0", 1.0)]).unwrap_err().to_string();
    assert_contains(&e, &["rh0", "did you mean `rho`?"]);
    assert!(load("lorenz.toml").with_overrides(&[("rho", f64::NAN)]).is_err());
}

// ---------------------------------------------------------------------------
// Writer → parser round trip.

#[test]
fn writer_round_trips_through_the_parser() {
    let params = vec![("mu".to_string(), -1.0 / 3.0), ("k_2".to_string(), 1e-300), ("big".to_string(), 6.02e23)];
    let state = vec![("x".to_string(), 0.1), ("y".to_string(), -0.0)];
    let eqs = vec![("x".to_string(), "mu - x^2 + k_2*y".to_string()), ("y".to_string(), "-y + big*0 + \"0\"^0".replace("\"0\"^0", "1"))];
    let obs = vec![("r".to_string(), "sqrt(x^2 + y^2)".to_string())];
    let text = to_toml_string("round \"trip\" \\ test", &params, &state, &eqs, &obs);
    let spec = parse_model_file(&text, "rt.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(spec.name, "round \"trip\" \\ test");
    assert_eq!(spec.parameters, params);
    assert_eq!(spec.state, state);
    assert!(spec.state[1].1.is_sign_negative(), "-0.0 survives");
    assert_eq!(spec.equations, eqs);
    assert_eq!(spec.observables, obs);

    // Every example file survives load → to_toml → load unchanged.
    for entry in std::fs::read_dir(models_dir()).unwrap() {
        let path = entry.unwrap().path();
        let m = SymbolicModel::from_path(&path).unwrap();
        let back = SymbolicModel::from_toml_str(&m.to_toml(), "export.toml").unwrap();
        assert_eq!(back.name(), m.name());
        assert_eq!(back.state_names(), m.state_names());
        assert_eq!(back.param_names(), m.param_names());
        assert_eq!(back.default_params(), m.default_params());
        assert_eq!(back.initial_state(), m.initial_state());
        assert_eq!(back.rhs_exprs(), m.rhs_exprs(), "{}", path.display());
        assert_eq!(back.observable_names(), m.observable_names());
    }
}

#[test]
fn name_is_optional_and_defaults_to_the_file_stem() {
    // docs/model-files.md: `name` is optional; without it the model is named after the file.
    let m = SymbolicModel::from_toml_str("[state]\nx = 1.0\n[equations]\nx = \"-x\"\n", "some/dir/decay.toml").unwrap();
    assert_eq!(m.name(), "decay");
    let m = SymbolicModel::from_toml_str("name = \"given\"\n[state]\nx = 1.0\n[equations]\nx = \"-x\"\n", "decay.toml").unwrap();
    assert_eq!(m.name(), "given");
}

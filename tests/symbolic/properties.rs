//! Property tests (issue 15 part 6, symbolic side), with proptest:
//! - the parser reads back what the printer writes (same DAG), and reads a
//!   generated expression to the value of an independent test-side
//!   evaluator;
//! - simplification preserves the value and is idempotent;
//! - symbolic derivatives agree with central differences of the
//!   test-side evaluator.
//!
//! Expressions come from a test-side AST covering every function and
//! operator; poles are guarded as in tests/symbolic/model_files.rs (`a/(1 + b^2)`,
//! `log(1 + a^2)`, ...), so values are finite and differences meaningful.
//! Failing inputs are shrunk and saved by proptest in
//! `tests/symbolic/properties.proptest-regressions` (to be committed: they are
//! replayed first on every run). Checked to fail: a wrong `sinh` derivative
//! rule and a wrong constant fold of `a - b` are each caught in < 1 s.
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use repcollapse::symbolic::{parse_expr, Graph};

const NAMES: [&str; 4] = ["x", "y", "a", "b"];

#[derive(Clone, Debug)]
enum T {
    C(f64),
    V(usize),
    Un(&'static str, Box<T>),
    Bin(&'static str, Box<T>, Box<T>),
    PowI(Box<T>, i32),
}

/// Unary forms: (printed template with `{}` for the operand, evaluator).
const UNARY: [(&str, fn(f64) -> f64); 17] = [
    ("-({})", |a| -a),
    ("exp(tanh({}))", |a| a.tanh().exp()),
    ("log(1 + ({})^2)", |a| (1.0 + a * a).ln()),
    ("sqrt(1 + ({})^2)", |a| (1.0 + a * a).sqrt()),
    ("abs({})", f64::abs),
    ("sin({})", f64::sin),
    ("cos({})", f64::cos),
    ("tan(tanh({}))", |a| a.tanh().tan()),
    ("tanh({})", f64::tanh),
    ("sinh(tanh({}))", |a| a.tanh().sinh()),
    ("cosh(tanh({}))", |a| a.tanh().cosh()),
    ("atan({})", f64::atan),
    ("erf({})", statrs::function::erf::erf),
    ("erfc({})", statrs::function::erf::erfc),
    ("sign({})", |a: f64| if a > 0.0 { 1.0 } else if a < 0.0 { -1.0 } else { 0.0 }),
    ("heaviside({})", |a: f64| if a > 0.0 { 1.0 } else { 0.0 }),
    ("+({})", |a| a),
];

/// Binary forms: (template with `{0}`, `{1}`, evaluator).
const BINARY: [(&str, fn(f64, f64) -> f64); 9] = [
    ("({0}) + ({1})", |a, b| a + b),
    ("({0}) - ({1})", |a, b| a - b),
    ("({0})*({1})", |a, b| a * b),
    ("({0})/(1 + ({1})^2)", |a, b| a / (1.0 + b * b)),
    ("(1 + ({0})^2)^(tanh({1}))", |a, b| (1.0 + a * a).powf(b.tanh())),
    ("pow(1 + ({0})^2, tanh({1}))", |a, b| (1.0 + a * a).powf(b.tanh())),
    ("min({0}, {1})", f64::min),
    ("max({0}, {1})", f64::max),
    ("atan2({0}, 1 + ({1})^2)", |a, b| a.atan2(1.0 + b * b)),
];

fn tree() -> impl Strategy<Value = T> {
    let leaf = prop_oneof![
        (-40i32..40).prop_map(|k| T::C(k as f64 / 8.0)),
        (0..NAMES.len()).prop_map(T::V),
    ];
    leaf.prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            ((0..UNARY.len()), inner.clone()).prop_map(|(k, a)| T::Un(UNARY[k].0, Box::new(a))),
            ((0..BINARY.len()), inner.clone(), inner.clone()).prop_map(|(k, a, b)| T::Bin(BINARY[k].0, Box::new(a), Box::new(b))),
            (inner, -3i32..5).prop_map(|(a, n)| T::PowI(Box::new(a), n)),
        ]
    })
}

fn show(t: &T) -> String {
    match t {
        T::C(c) => format!("({c:?})"),
        T::V(k) => NAMES[*k].to_string(),
        T::Un(f, a) => f.replace("{}", &show(a)),
        T::Bin(f, a, b) => f.replace("{0}", &show(a)).replace("{1}", &show(b)),
        // Negative integer powers of a positive base only.
        T::PowI(a, n) if *n < 0 => format!("(1 + ({})^2)^{n}", show(a)),
        T::PowI(a, n) => format!("({})^{n}", show(a)),
    }
}

fn ev(t: &T, v: &[f64]) -> f64 {
    match t {
        T::C(c) => *c,
        T::V(k) => v[*k],
        T::Un(f, a) => (UNARY.iter().find(|u| u.0 == *f).expect("known form").1)(ev(a, v)),
        T::Bin(f, a, b) => (BINARY.iter().find(|u| u.0 == *f).expect("known form").1)(ev(a, v), ev(b, v)),
        T::PowI(a, n) if *n < 0 => (1.0 + ev(a, v) * ev(a, v)).powi(*n),
        T::PowI(a, n) => ev(a, v).powi(*n),
    }
}

fn point() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-2.0..2.0f64, NAMES.len())
}

/// Agreement up to rounding: the simplifier and the parser's constant
/// folding reassociate nothing, but fold `(a^m)^n` to `a^(mn)` and compute
/// `powi` differently from repeated products, each a few ulps; through
/// at most ~40 nodes that stays far below 1e-9 relative.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn config() -> Config {
    // 1000 cases per property: the three properties together run in well
    // under a second in release mode. A fixed seed makes every run (and CI)
    // draw the same cases; `PROPTEST_RNG_SEED=N` or `PROPTEST_CASES=N` in
    // the environment explore others.
    let seed = std::env::var("PROPTEST_RNG_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_2026);
    Config { cases: 1000, rng_seed: RngSeed::Fixed(seed), ..Config::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parser_round_trips_and_matches_the_oracle(t in tree(), v in point()) {
        let src = show(&t);
        let e = parse_expr(&src, &NAMES).map_err(|err| TestCaseError::fail(format!("{src}: {err:?}")))?;
        let printed = e.display(&NAMES).to_string();
        let again = parse_expr(&printed, &NAMES).map_err(|err| TestCaseError::fail(format!("{printed}: {err:?}")))?;
        prop_assert!(e == again, "{src}\nprinted {printed}");
        let want = ev(&t, &v);
        prop_assume!(want.is_finite() && want.abs() < 1e8);
        prop_assert!(close(e.eval(&v), want), "{src} at {v:?}: {} vs {want}", e.eval(&v));
    }

    #[test]
    fn simplification_preserves_value_and_is_idempotent(t in tree(), v in point()) {
        let e = parse_expr(&show(&t), &NAMES).unwrap();
        let (g1, r1) = repcollapse::symbolic::simplify::simplify(e.graph(), &[e.root()]);
        let (g2, r2) = repcollapse::symbolic::simplify::simplify(&g1, &r1);
        prop_assert!(g1.same(r1[0], &g2, r2[0]), "simplify is not idempotent for {}", show(&t));
        prop_assert!(g2.len() <= g1.len());
        let want = ev(&t, &v);
        prop_assume!(want.is_finite() && want.abs() < 1e8);
        let got = g1.eval(&r1, &v)[0];
        prop_assert!(close(got, want), "{} at {v:?}: simplified {got} vs {want}", show(&t));
    }

    #[test]
    fn derivatives_match_central_differences(t in tree(), v in point(), k in 0..NAMES.len()) {
        let e = parse_expr(&show(&t), &NAMES).unwrap();
        let mut g = Graph::new();
        let root = g.import(&e);
        let d = repcollapse::symbolic::diff::derivatives(&mut g, &[root], k)[0];
        let sym = g.eval(&[d], &v)[0];
        let fd = |h: f64| {
            let (mut up, mut dn) = (v.clone(), v.clone());
            up[k] += h;
            dn[k] -= h;
            (ev(&t, &up) - ev(&t, &dn)) / (2.0 * h)
        };
        let (d1, d2) = (fd(1e-5), fd(5e-6));
        // A kink (abs, min, max, sign) or steep curvature within h makes
        // the quotient itself unreliable: such points are discarded, judged
        // by the two step sizes disagreeing. Otherwise the central
        // difference is accurate to O(h^2 f''') + O(eps f / h) ~ 1e-9 for
        // values below 1e4, so 1e-6 relative separates a wrong rule.
        // The value itself must be below 1e4 too: the round-off term grows
        // with |f|, not with the derivative (found with 3e5 random cases:
        // `(-4.75)^9 + sinh(tanh(0.625 x))` at x = 0 has |f| = 1.2e6, so
        // eps |f| / h ~ 3e-5, and both step sizes agreed on a wrong value).
        let f0 = ev(&t, &v);
        prop_assume!(f0.is_finite() && f0.abs() < 1e4);
        prop_assume!(d2.is_finite() && d2.abs() < 1e4 && (d1 - d2).abs() <= 1e-7 * d2.abs().max(1.0));
        prop_assert!((sym - d2).abs() <= 1e-6 * d2.abs().max(1.0), "d/d{} {} at {v:?}: {sym} vs {d2}", NAMES[k], show(&t));
    }
}

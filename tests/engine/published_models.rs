//! External models with published closed forms (examples/models/*.toml,
//! sources cited in the files).
use repcollapse::engine::boundary_analysis;
use repcollapse::engine::BifurcationKind;
use repcollapse::engine::BoundaryParams;
use repcollapse::engine::VectorField;
use repcollapse::symbolic::SymbolicModel;

fn model(file: &str) -> SymbolicModel {
    SymbolicModel::from_path(format!("{}/examples/models/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Sel'kov (Strogatz Example 7.3.2): the line a = 0.08 crosses the closed
/// Hopf curve twice; both crossings lead to the same curve, which must be
/// reported once (it used to be returned twice, once reversed), and every
/// traced point lies on b^2 = (1 - 2a +- sqrt(1 - 8a))/2.
#[test]
fn selkov_hopf_curve_is_reported_once_and_matches_the_closed_form() {
    let m = model("selkov.toml");
    let p = m.default_params();
    let (ia, ib) = (m.param_index("a").unwrap(), m.param_index("b").unwrap());
    let bp = BoundaryParams { p1_min: 0.05, p1_max: 1.2, ..BoundaryParams::new(ib, ia, 0.0, 0.125) };
    let r = boundary_analysis(&m, &p, &bp, Some(BifurcationKind::Hopf), 0).unwrap();
    assert_eq!(r.curves.len(), 1, "{} curves", r.curves.len());
    let mut worst = 0.0_f64;
    for q in &r.curves[0].points {
        let (b, a) = (q.p1, q.p2);
        let disc = (1.0 - 8.0 * a).max(0.0).sqrt();
        let lo = (1.0 - 2.0 * a - disc) / 2.0;
        let hi = (1.0 - 2.0 * a + disc) / 2.0;
        let e = (b * b - lo).abs().min((b * b - hi).abs());
        worst = worst.max(e);
    }
    eprintln!("Sel'kov Hopf curve: {} points, worst |b^2 - closed form| = {worst:.2e}", r.curves[0].points.len());
    // The augmented Hopf system is solved to Newton tolerance 1e-10.
    assert!(worst < 1e-8, "{worst}");
    assert!(!r.grid_checked);
}

// ---------------------------------------------------------------------------
// The external test suite of issue 9: the AUTO-07p demo `ab`, Bazykin's
// predator-prey model, the MatCont catalytic oscillator and the fast
// Morris-Lecar model (sources cited in the model files and below).
//
// Two independent references per value:
// - the published value as printed (6-7 significant digits): the computed
//   value must agree within 1e-5 relative or, where the printed rounding is
//   coarser than that, within half a unit of the last printed digit;
// - a 30-digit solution of the same defining system (F = 0 and det J = 0 for
//   folds, the Hopf condition for Hopf points) by mpmath, computed by
//   scripts/published-models-reference.py from the published values as
//   guesses, without repcollapse: agreement to 1e-8 relative (the located
//   points are converged to Newton tolerance 1e-10 and arc accuracy 1e-10,
//   so 1e-8 leaves two orders for the conditioning of the test functions).
// ---------------------------------------------------------------------------

use repcollapse::engine::{default_box, full_diagram};
use repcollapse::engine::{ContinuationParams, ContinuationResult, StopReason};
use repcollapse::engine::{find_fixed_points, FixedPoint, FixedPointOptions};

/// `|got - printed| <= max(1e-5 |printed|, half a unit of the last printed digit)`.
fn check_published(what: &str, got: f64, printed: f64, unit: f64) -> f64 {
    let err = (got - printed).abs();
    let tol = (1e-5 * printed.abs()).max(0.5 * unit) * (1.0 + 1e-9);
    assert!(err <= tol, "{what}: computed {got:.10}, published {printed} (error {err:.2e} > {tol:.2e})");
    err / printed.abs().max(f64::MIN_POSITIVE)
}

/// The state coordinates MatCont prints at a located point carry its
/// locator's error (default `VarTolerance = 1e-6`, `TestTolerance = 1e-5`;
/// e.g. the catalytic oscillator's Hopf point x = 0.077929 printed, 0.0779278
/// from the defining system): they are checked to 2e-6 absolute (half of this
/// "unit"), the parameter values to 1e-5 relative; the 30-digit references
/// check everything to 1e-8.
const MATCONT_STATE_UNIT: f64 = 4e-6;

/// Agreement with the 30-digit reference to 1e-8 relative (absolute below 1).
fn check_reference(what: &str, got: f64, reference: f64) -> f64 {
    let err = (got - reference).abs() / reference.abs().max(1.0);
    assert!(err <= 1e-8, "{what}: computed {got:.14}, reference {reference:.14} (error {err:.2e})");
    err
}

fn with(m: &SymbolicModel, set: &[(&str, f64)]) -> Vec<f64> {
    let mut p = m.default_params();
    for (name, v) in set {
        p[m.param_index(name).unwrap_or_else(|| panic!("no parameter {name}"))] = *v;
    }
    p
}

fn diagram(m: &SymbolicModel, p: &[f64], param: &str, from: f64, to: f64) -> ContinuationResult {
    let cp = ContinuationParams::new(m.param_index(param).unwrap(), from, to);
    full_diagram(m, p, &cp).unwrap()
}

/// The located special points of `kind`, sorted by parameter value.
fn special(r: &ContinuationResult, kind: BifurcationKind) -> Vec<(f64, Vec<f64>)> {
    let mut v: Vec<(f64, Vec<f64>)> = r.bifurcations.iter().filter(|b| b.kind == kind).map(|b| (b.param, b.state.clone())).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Matches every reference point `(param, state)` to a located point and
/// checks it; returns the largest relative error against the reference.
fn check_points(what: &str, got: &[(f64, Vec<f64>)], reference: &[(f64, &[f64])]) -> f64 {
    assert_eq!(got.len(), reference.len(), "{what}: located {got:?}, expected {} points", reference.len());
    let mut worst = 0.0_f64;
    for ((p, x), (rp, rx)) in got.iter().zip(reference) {
        worst = worst.max(check_reference(&format!("{what} parameter"), *p, *rp));
        for (a, b) in x.iter().zip(rx.iter()) {
            worst = worst.max(check_reference(&format!("{what} state at {rp}"), *a, *b));
        }
    }
    worst
}

/// The options of `repcollapse analyze MODEL fixed-points` without flags (and
/// of the Python `Model.fixed_points()`): 32 starts, seed 0, the scale-aware
/// default box.
fn cli_defaults(m: &SymbolicModel, p: &[f64]) -> FixedPointOptions {
    let half = default_box(&m.initial_state(), p);
    FixedPointOptions { bounds: vec![(-half, half); m.dim()], ..FixedPointOptions::default() }
}

/// `repcollapse analyze examples/models/<file> fixed-points --json`: the states found.
fn cli_fixed_points(file: &str) -> Vec<Vec<f64>> {
    let out = crate::support::bin::command()
        .args(["analyze", &format!("{}/examples/models/{file}", env!("CARGO_MANIFEST_DIR")), "fixed-points", "--json", "--out"])
        .arg(std::env::temp_dir().join(format!("published-models-{}-{file}", std::process::id())))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["fixed_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|fp| fp["state"].as_object().unwrap().values().map(|x| x.as_f64().unwrap()).collect())
        .collect()
}

fn sorted_states(points: &[FixedPoint]) -> Vec<Vec<f64>> {
    points.iter().map(|f| f.state.clone()).collect()
}

/// AUTO-07p demo `ab` (demos/ab/ab.f90; examples/models/ab.toml: B = 14,
/// beta = 2, D = 0.1). Between the two folds (D = 0.0889, 0.1057) there are
/// three equilibria, all of which the default search must find; the folds
/// and the Hopf point on the branch match the reference solutions of the
/// defining systems; with B, beta set to the demo's values, the Hopf and
/// fold points of the AUTO-07p tutorial log (python/auto/test_data/tutorial.log,
/// runs at B = 14 and B = 18, beta = 3) are reproduced.
#[test]
fn ab_cstr_equilibria_folds_and_hopf_points_match_auto() {
    let m = model("ab.toml");
    let p = m.default_params();
    let fps = find_fixed_points(&m, &p, &cli_defaults(&m, &p)).unwrap();
    assert_eq!(cli_fixed_points("ab.toml").len(), 3);
    let reference: [[f64; 2]; 3] = [
        [0.21174285708705728, 0.98813333307293401],
        [0.45304503036764129, 2.1142101417156594],
        [0.82357777279004839, 3.8433629396868926],
    ];
    assert_eq!(fps.len(), 3, "ab at D = 0.1: {:?}", sorted_states(&fps));
    let mut worst = 0.0_f64;
    for (fp, r) in fps.iter().zip(&reference) {
        for (a, b) in fp.state.iter().zip(r) {
            worst = worst.max(check_reference("ab equilibrium", *a, *b));
        }
    }
    eprintln!("ab: 3 equilibria at D = 0.1, worst error {worst:.1e}");

    // Every equilibrium is the start of a branch: the diagram over D in
    // [0.05, 0.2] covers all three (one S-shaped branch through both folds).
    let r = diagram(&m, &p, "D", 0.05, 0.2);
    for x in &reference {
        let on = r.branches.iter().flat_map(|b| b.points.windows(2)).any(|w| {
            let (a, b) = (&w[0], &w[1]);
            (a.param - 0.1) * (b.param - 0.1) <= 0.0 && (a.state[0] - x[0]).abs().min((b.state[0] - x[0]).abs()) < 0.05
        });
        assert!(on, "no branch passes through the equilibrium {x:?} at D = 0.1");
    }
    let folds = special(&r, BifurcationKind::Fold);
    let w1 = check_points(
        "ab fold",
        &folds,
        &[
            (0.088931846185772803, &[0.68898223650461361, 3.2152504370215302]),
            (0.10573897827165065, &[0.31101776349538639, 1.4514162296451365]),
        ],
    );
    let hopf = special(&r, BifurcationKind::Hopf);
    let w2 = check_points("ab Hopf", &hopf, &[(0.13090004482004332, &[0.89508063386780534, 4.1770429580497583])]);
    eprintln!("ab (B = 14, beta = 2): folds worst {w1:.1e}, Hopf {w2:.1e}");

    // AUTO-07p tutorial log, beta = 3: B = 14 one Hopf point; B = 18 two
    // Hopf points and two folds (the folds in closed form: D = u1/(1 - u1)
    // exp(-B u1/(1 + beta)) is stationary where u1 (1 - u1) = (1 + beta)/B,
    // i.e. u1 = 1/3 and 2/3, u2 = B u1/(1 + beta) = 1.5 and 3).
    let r14 = diagram(&m, &with(&m, &[("B", 14.0), ("beta", 3.0)]), "D", 0.0, 0.25);
    let h14 = special(&r14, BifurcationKind::Hopf);
    assert_eq!(h14.len(), 1, "{h14:?}");
    let mut rel = 0.0_f64;
    rel = rel.max(check_published("ab B=14 HB D", h14[0].0, 0.165042, 1e-6));
    rel = rel.max(check_published("ab B=14 HB u1", h14[0].1[0], 0.405955, 1e-6));
    rel = rel.max(check_published("ab B=14 HB u2", h14[0].1[1], 1.42084, 1e-5));
    check_points("ab B=14 Hopf", &h14, &[(0.16504204532356096, &[0.40595537211747144, 1.42084380241115])]);

    let r18 = diagram(&m, &with(&m, &[("B", 18.0), ("beta", 3.0)]), "D", 0.0, 0.25);
    let h18 = special(&r18, BifurcationKind::Hopf);
    let f18 = special(&r18, BifurcationKind::Fold);
    assert_eq!((h18.len(), f18.len()), (2, 2), "Hopf {h18:?}, folds {f18:?}");
    for ((got, x), (d, u1, u2)) in h18.iter().zip([(0.111153, 0.301792, 1.35806), (0.183833, 0.920430, 4.14194)]) {
        rel = rel.max(check_published("ab B=18 HB D", *got, d, 1e-6));
        rel = rel.max(check_published("ab B=18 HB u1", x[0], u1, 1e-6));
        rel = rel.max(check_published("ab B=18 HB u2", x[1], u2, 1e-5));
    }
    check_points(
        "ab B=18 Hopf",
        &h18,
        &[
            (0.11115348418986419, &[0.30179086873166545, 1.3580589092924945]),
            (0.18383460798598743, &[0.92043135349055677, 4.1419410907075055]),
        ],
    );
    for ((got, x), (d, unit, u1, u2)) in f18.iter().zip([(0.0995741, 1e-7, 2.0 / 3.0, 3.0), (0.111565, 1e-6, 1.0 / 3.0, 1.5)]) {
        rel = rel.max(check_published("ab B=18 LP D", *got, d, unit));
        check_reference("ab B=18 LP u1 (closed form)", x[0], u1);
        check_reference("ab B=18 LP u2 (closed form)", x[1], u2);
        let closed = u1 / (1.0 - u1) * (-18.0 * u1 / 4.0_f64).exp();
        check_reference("ab B=18 LP D (closed form)", *got, closed);
    }
    eprintln!("ab, AUTO tutorial values (beta = 3): worst relative error against the printed values {rel:.1e}");
}

/// Bazykin's predator-prey model (examples/models/bazykin.toml; AUTO demo
/// `baz` after Kuznetsov's book). At alpha = delta = 0 the equilibria are
/// (0, 0), (gamma, 1 - eps gamma) = (1, 0.99) and the prey-only (1/eps, 0) =
/// (100, 0), far outside the unit scale of the state: the default search of
/// the CLI (scale-aware box) must find all three.
#[test]
fn bazykin_equilibria_are_all_found_with_default_options() {
    let m = model("bazykin.toml");
    let p = m.default_params();
    let fps = find_fixed_points(&m, &p, &cli_defaults(&m, &p)).unwrap();
    let states = sorted_states(&fps);
    assert_eq!(states.len(), 3, "{states:?}");
    let cli = cli_fixed_points("bazykin.toml");
    assert!(cli.len() == 3 && cli.iter().any(|x| (x[0] - 100.0).abs() < 1e-8 && x[1].abs() < 1e-8), "{cli:?}");
    for (got, want) in states.iter().zip([[0.0, 0.0], [1.0, 0.99], [100.0, 0.0]]) {
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() <= 1e-10 * b.abs().max(1.0), "{got:?} vs {want:?}");
        }
    }
}

/// Bazykin, delta = 0, alpha from 0 to 0.995 (the AUTO demo's first run):
/// the interior branch grows to (100, 0) at alpha = 0.99 (x* = 1/(1 - alpha)),
/// a long arc in a large state; it must be traced within the default
/// max_steps and reproduce the demo's Hopf points (printed to 7 digits) and
/// the closed form alpha^2 - (1 - eps) alpha + eps = 0, and the branch point
/// (transcritical with the prey-only branch) at alpha = 1 - eps = 0.99, (100, 0).
#[test]
fn bazykin_alpha_continuation_completes_and_matches_the_auto_demo() {
    let m = model("bazykin.toml");
    let p = m.default_params();
    let cp = ContinuationParams::new(m.param_index("alpha").unwrap(), 0.0, 0.995);
    let r = full_diagram(&m, &p, &cp).unwrap();
    let steps: Vec<(usize, StopReason)> = r.branches.iter().map(|b| (b.points.len(), b.stop)).collect();
    eprintln!("Bazykin alpha 0 -> 0.995: branches (points, stop) {steps:?} (max_steps {})", cp.arclength.max_steps);
    assert!(r.branches.iter().all(|b| b.stop == StopReason::ParameterBound), "{steps:?}");
    // The interior branch reaches the transcritical point at (100, 0).
    assert!(r.branches.iter().any(|b| b.points.iter().any(|q| (q.state[0] - 100.0).abs() < 1.0 && q.state[1].abs() < 1.0)), "{steps:?}");

    let hopf = special(&r, BifurcationKind::Hopf);
    assert_eq!(hopf.len(), 2, "{hopf:?}");
    let (eps, disc) = (0.01_f64, (0.99_f64 * 0.99 - 0.04).sqrt());
    let closed = [(0.99 - disc) / 2.0, (0.99 + disc) / 2.0];
    let mut rel = 0.0_f64;
    for ((a, x), (pa, px, py, closed)) in hopf.iter().zip([(1.020625e-2, 1.010312, 1.000105, closed[0]), (9.797938e-1, 49.48969, 24.99740, closed[1])]) {
        rel = rel.max(check_published("Bazykin HB alpha", *a, pa, 1e-9 * pa.abs().max(1.0)));
        rel = rel.max(check_published("Bazykin HB x", x[0], px, 1e-6));
        rel = rel.max(check_published("Bazykin HB y", x[1], py, 1e-6));
        check_reference("Bazykin HB alpha (closed form)", *a, closed);
        let xs = 1.0 / (1.0 - closed);
        check_reference("Bazykin HB x (closed form)", x[0], xs);
        check_reference("Bazykin HB y (closed form)", x[1], (1.0 - eps * xs) * (1.0 + closed * xs));
    }
    let bp = special(&r, BifurcationKind::Branch);
    assert!(!bp.is_empty(), "no branch point");
    check_reference("Bazykin BP alpha", bp[0].0, 0.99);
    check_reference("Bazykin BP x", bp[0].1[0], 100.0);
    assert!(bp[0].1[1].abs() < 1e-8, "{:?}", bp[0]);
    eprintln!("Bazykin: worst relative error against the AUTO demo's printed values {rel:.1e}");
}

/// Bazykin's Hopf curve in (alpha, delta) started on the edge delta = 0 of
/// the box [0, 1]: no point may leave the box (the bound test in the
/// arclength step used not to fire from a point exactly on the bound), and
/// every point satisfies F = 0 and tr J = 0 with the Jacobian written out by
/// hand here (independent of the symbolic differentiation).
#[test]
fn bazykin_hopf_curve_started_on_the_box_edge_stays_in_the_box() {
    let m = model("bazykin.toml");
    let p = m.default_params();
    let (ia, id) = (m.param_index("alpha").unwrap(), m.param_index("delta").unwrap());
    let bp = BoundaryParams { p1_min: 0.0, p1_max: 0.995, ..BoundaryParams::new(ia, id, 0.0, 1.0) };
    let r = boundary_analysis(&m, &p, &bp, Some(BifurcationKind::Hopf), 0).unwrap();
    assert!(!r.curves.is_empty());
    let (eps, gamma) = (0.01, 1.0);
    let mut n = 0;
    for c in &r.curves {
        for q in &c.points {
            n += 1;
            let (alpha, delta, x, y) = (q.p1, q.p2, q.state[0], q.state[1]);
            assert!(delta >= 0.0 && delta <= 1.0, "delta = {delta} outside [0, 1]");
            assert!((0.0..=0.995).contains(&alpha), "alpha = {alpha} outside [0, 0.995]");
            let s = 1.0 + alpha * x;
            let f1 = x - x * y / s - eps * x * x;
            let f2 = -gamma * y + x * y / s - delta * y * y;
            let trace = (1.0 - y / (s * s) - 2.0 * eps * x) + (-gamma + x / s - 2.0 * delta * y);
            let scale = 1.0 + x.abs() + y.abs();
            assert!(f1.abs() < 1e-8 * scale && f2.abs() < 1e-8 * scale, "F = ({f1}, {f2}) at {q:?}");
            assert!(trace.abs() < 1e-7, "tr J = {trace} at {q:?}");
        }
    }
    eprintln!("Bazykin Hopf curve from delta = 0: {} curve(s), {n} points, all in the box", r.curves.len());
}

/// MatCont catalytic oscillator (examples/models/catalytic-oscillator.toml;
/// manual's testequilcataloscill run, q2 free): two Hopf points and two
/// folds; at the file's q2 = 2.204678 the two real equilibria (from the
/// exact resultant in scripts/published-models-reference.py) are both found.
#[test]
fn catalytic_oscillator_matches_the_matcont_manual() {
    let m = model("catalytic-oscillator.toml");
    let p = m.default_params();
    let fps = find_fixed_points(&m, &p, &cli_defaults(&m, &p)).unwrap();
    let states = sorted_states(&fps);
    assert_eq!(states.len(), 2, "{states:?}");
    assert_eq!(cli_fixed_points("catalytic-oscillator.toml").len(), 2);
    let reference = [
        [-0.21687733568270531, -0.53272584896722538, 1.2497165604642362],
        [0.0010709157380101538, 0.84960686548929709, 0.10665872769478054],
    ];
    // Sorted lexicographically by (x, y, s).
    for (got, want) in states.iter().zip(&reference) {
        for (a, b) in got.iter().zip(want) {
            check_reference("catalytic equilibrium", *a, *b);
        }
    }
    let r = diagram(&m, &with(&m, &[("q2", 1.0)]), "q2", 1.0, 1.1);
    let hopf = special(&r, BifurcationKind::Hopf);
    let folds = special(&r, BifurcationKind::Fold);
    let mut rel = 0.0_f64;
    let printed_h = [(1.040991, [0.077929, 0.233063, 0.492149]), (1.051558, [0.016357, 0.523973, 0.328336])];
    let printed_f = [(1.042049, [0.024717, 0.450257, 0.375018]), (1.052200, [0.054030, 0.302241, 0.459807])];
    for (got, want) in [(&hopf, &printed_h), (&folds, &printed_f)] {
        assert_eq!(got.len(), 2, "{got:?}");
        for ((q2, x), (pq2, px)) in got.iter().zip(want.iter()) {
            rel = rel.max(check_published("catalytic q2", *q2, *pq2, 1e-6));
            for (a, b) in x.iter().zip(px) {
                check_published("catalytic state", *a, *b, MATCONT_STATE_UNIT);
            }
        }
    }
    let w1 = check_points(
        "catalytic Hopf",
        &hopf,
        &[
            (1.0409915695326163, &[0.077927770598853551, 0.23306493012973372, 0.49214807090815195]),
            (1.0515574624577304, &[0.016357543040156482, 0.52397118459040745, 0.32833662312102576]),
        ],
    );
    let w2 = check_points(
        "catalytic fold",
        &folds,
        &[
            (1.0420485053785267, &[0.024716444911453507, 0.45026003715544675, 0.37501679852364267]),
            (1.0522002878699547, &[0.054029415071275151, 0.30224144004001768, 0.45980653206336226]),
        ],
    );
    eprintln!("catalytic oscillator: q2 vs printed {rel:.1e}; vs reference Hopf {w1:.1e}, folds {w2:.1e}");
}

/// Fast Morris-Lecar model of the MatCont manual (examples/models/morris-lecar.toml,
/// needs cosh): the stable equilibrium at y = 0.11047, and along y the Hopf
/// point and both folds of the manual's run.
#[test]
fn fast_morris_lecar_matches_the_matcont_manual() {
    let m = model("morris-lecar.toml");
    let p = m.default_params();
    let fps = find_fixed_points(&m, &p, &cli_defaults(&m, &p)).unwrap();
    assert_eq!(fps.len(), 1, "{:?}", sorted_states(&fps));
    assert_eq!(cli_fixed_points("morris-lecar.toml").len(), 1);
    check_published("MLfast v", fps[0].state[0], 0.047222, 1e-6);
    check_published("MLfast w", fps[0].state[1], 0.32564, 1e-5);
    check_reference("MLfast v", fps[0].state[0], 0.047221816158467282);
    check_reference("MLfast w", fps[0].state[1], 0.32563926801319971);

    let r = diagram(&m, &p, "y", -0.1, 0.2);
    let hopf = special(&r, BifurcationKind::Hopf);
    let folds = special(&r, BifurcationKind::Fold);
    let mut rel = 0.0_f64;
    assert_eq!(hopf.len(), 1, "{hopf:?}");
    // The manual's text gives y = 0.075659 (its output line prints 0.075658,
    // 1.04e-5 relative from the defining system's solution 0.0756588).
    rel = rel.max(check_published("MLfast H y", hopf[0].0, 0.075659, 1e-6));
    check_published("MLfast H v", hopf[0].1[0], 0.036756, MATCONT_STATE_UNIT);
    check_published("MLfast H w", hopf[0].1[1], 0.294770, MATCONT_STATE_UNIT);
    assert_eq!(folds.len(), 2, "{folds:?}");
    for ((y, x), (py, pv, pw)) in folds.iter().zip([(-0.020727, -0.033738, 0.136501), (0.083257, -0.244914, 0.008514)]) {
        rel = rel.max(check_published("MLfast LP y", *y, py, 1e-6));
        check_published("MLfast LP v", x[0], pv, MATCONT_STATE_UNIT);
        check_published("MLfast LP w", x[1], pw, MATCONT_STATE_UNIT);
    }
    let w1 = check_points("MLfast Hopf", &hopf, &[(0.07565878645042385, &[0.036756297640659545, 0.29477034724778779])]);
    let w2 = check_points(
        "MLfast fold",
        &folds,
        &[
            (-0.020727165255464718, &[-0.033737648232852503, 0.13650142219342399]),
            (0.083256568943219485, &[-0.24491481171236995, 0.0085143991378203345]),
        ],
    );
    eprintln!("MLfast: y vs printed {rel:.1e}; vs reference Hopf {w1:.1e}, folds {w2:.1e}");
}

/// Deflation (Farrell, Birkisson & Funke 2015) finds distinct roots from a
/// single guess: with no random starts at all, the `ab` CSTR's three
/// equilibria at D = 0.1 are all found from the initial state (the search
/// without deflation finds one: every Newton path from (0, 0) ends on the
/// low-conversion root). The result is bit-identical with 1 and 4 threads.
#[test]
fn deflation_finds_all_ab_equilibria_from_one_guess_deterministically() {
    let m = model("ab.toml");
    let p = m.default_params();
    let opts = FixedPointOptions { starts: 0, ..FixedPointOptions::default() };
    let fps = find_fixed_points(&m, &p, &opts).unwrap();
    assert_eq!(fps.len(), 3, "{:?}", sorted_states(&fps));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| sorted_states(&find_fixed_points(&m, &p, &cli_defaults(&m, &p)).unwrap()))
    };
    let (one, four) = (run(1), run(4));
    let bits = |v: &Vec<Vec<f64>>| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<u64>>();
    assert_eq!(bits(&one), bits(&four));
}

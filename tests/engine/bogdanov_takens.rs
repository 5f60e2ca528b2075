//! Bogdanov-Takens points, fold curves through them, and the grid check, on
//! the AUTO-07p demo `ab` (first-order reaction A -> B in a CSTR; Doedel et
//! al., AUTO-07p manual, demo "ab"; Uppal, Ray & Poore, Chem. Eng. Sci. 29,
//! 967 (1974)), `examples/models/ab.toml`, with `B = 14`:
//!
//! ```text
//!   u1' = -u1 + D (1 - u1) exp(u2),   u2' = -u2 + B D (1 - u1) exp(u2) - beta u2.
//! ```
//!
//! Reference values, independent of this crate:
//! * the BT point `(D, beta) = (0.1095433, 2.0731849)` quoted in issue 9 and
//!   confirmed by `scipy.optimize.fsolve` on `F = 0, det J = 0, tr J = 0`
//!   (script in the closing note of issue 9: `D = 0.109543267635, beta =
//!   2.07318490371, u1 = 0.325395324828, u2 = 1.48234964388`);
//! * the cusp in closed form. At an equilibrium `u2 = B u1 / (1 + beta)`
//!   (subtract `B` times the first equation from the second), so with `y =
//!   u2`, `a = (1 + beta) / B`: `ln D = ln a + ln y - y - ln(1 - a y)`. Folds
//!   are zeros of `d ln D / dy = 1/y - 1 + a / (1 - a y)`, the cusp also of
//!   `d^2 ln D / dy^2 = -1/y^2 + a^2 / (1 - a y)^2`, i.e. `a y = 1/2`, then
//!   `y = 2`, `a = 1/4`: `beta = B/4 - 1 = 2.5`, `D = e^-2`, `u1 = 1/2`
//!   (scipy's fsolve of the cusp system gives the same to 1e-11).
use std::path::Path;

use faer::Mat;
use repcollapse::engine::boundary_analysis;
use repcollapse::engine::BifurcationKind;
use repcollapse::engine::{critical_pair, locate_bogdanov_takens, BtOptions, BtSystem};
use repcollapse::engine::{BoundaryCurve, BoundaryParams, BoundaryStop, Codim2Kind};
use repcollapse::engine::grid_agreement;
use repcollapse::engine::VectorField;
use repcollapse::symbolic::SymbolicModel;

const BT_D: f64 = 0.1095433;
const BT_BETA: f64 = 2.0731849;
/// The reference values carry 7-8 significant digits (scipy: 0.10954327,
/// 2.0731849), so they check the located point to ~1e-6 relative; the
/// residual of the defining system checks it to the Newton tolerance.
const REL: f64 = 1e-6;

fn ab() -> SymbolicModel {
    SymbolicModel::from_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/models/ab.toml")).unwrap()
}

/// `ab` with a third variable `z' = -z` that also enters the first two
/// equations (through `z u2` and `z^2`, zero at every equilibrium): the
/// equilibria and the BT point are those of `ab`, with `z = 0`, but the
/// Jacobian is a genuine 3 x 3 matrix, so the minimally augmented system is used.
fn ab3() -> SymbolicModel {
    let text = r#"
name = "ab3"
[parameters]
D = 0.1
B = 14.0
beta = 2.0
[state]
u1 = 0.0
u2 = 0.0
z = 0.0
[equations]
u1 = "-u1 + D*(1 - u1)*exp(u2) + 0.5*z*u2"
u2 = "-u2 + B*D*(1 - u1)*exp(u2) - beta*u2 + z^2 - 0.3*z"
z = "-z"
"#;
    SymbolicModel::from_toml_str(text, "ab3").unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

fn idx(m: &SymbolicModel, name: &str) -> usize {
    m.param_index(name).unwrap()
}

fn params(m: &SymbolicModel, d: f64, beta: f64) -> Vec<f64> {
    let mut p = m.default_params();
    p[idx(m, "D")] = d;
    p[idx(m, "beta")] = beta;
    p
}

fn jac(m: &SymbolicModel, x: &[f64], p: &[f64]) -> Mat<f64> {
    let mut j = Mat::<f64>::zeros(m.dim(), m.dim());
    m.jacobian(x, p, j.as_mut());
    j
}

fn boundary(m: &SymbolicModel, beta0: f64, kind: BifurcationKind, d: (f64, f64), grid: usize) -> repcollapse::engine::BoundaryReport {
    let p = params(m, 0.1, beta0);
    let bp = BoundaryParams { p1_min: d.0, p1_max: d.1, ..BoundaryParams::new(idx(m, "D"), idx(m, "beta"), 1.5, 3.0) };
    boundary_analysis(m, &p, &bp, Some(kind), grid).unwrap()
}

fn bt_of(c: &BoundaryCurve) -> Vec<&repcollapse::engine::Codim2Point> {
    c.special_points.iter().filter(|s| s.kind == Codim2Kind::BogdanovTakens).collect()
}

#[test]
fn planar_defining_system_locates_the_ab_bt_point() {
    let m = ab();
    // Start 3% away in the parameters, on no curve at all.
    let p = params(&m, 0.1, 2.0);
    let bt = locate_bogdanov_takens(&m, &p, idx(&m, "D"), idx(&m, "beta"), &[0.3, 1.4], 0.106, 2.01, &BtOptions::default()).unwrap();
    assert_eq!(bt.system, BtSystem::DetTrace);
    assert!(rel(bt.p1, BT_D) < REL && rel(bt.p2, BT_BETA) < REL, "BT at D = {}, beta = {}", bt.p1, bt.p2);
    assert!(bt.residual < 1e-9, "residual {}", bt.residual);
    // Independently: at the point F = 0 and J has a double zero eigenvalue
    // (a Jordan block: both eigenvalues O(sqrt(residual)), J itself not 0).
    let pb = params(&m, bt.p1, bt.p2);
    let mut f = [0.0; 2];
    m.rhs(&bt.state, &pb, &mut f);
    assert!(f[0].abs() < 1e-12 && f[1].abs() < 1e-12, "F = {f:?}");
    let pair = critical_pair(&m, &bt.state, &pb).unwrap();
    assert!(pair[0].norm() < 1e-6 && pair[1].norm() < 1e-6, "critical pair {pair:?}");
    assert!(jac(&m, &bt.state, &pb).norm_max() > 0.1);
    eprintln!("ab BT: D = {:.12}, beta = {:.12}, residual {:.1e}, {} iterations", bt.p1, bt.p2, bt.residual, bt.iterations);
}

#[test]
fn minimally_augmented_system_in_three_variables() {
    let (m2, m3) = (ab(), ab3());
    let p2 = params(&m2, 0.1, 2.0);
    let p3 = params(&m3, 0.1, 2.0);
    let planar = locate_bogdanov_takens(&m2, &p2, idx(&m2, "D"), idx(&m2, "beta"), &[0.3, 1.4], 0.106, 2.01, &BtOptions::default()).unwrap();
    let general =
        locate_bogdanov_takens(&m3, &p3, idx(&m3, "D"), idx(&m3, "beta"), &[0.3, 1.4, 0.05], 0.106, 2.01, &BtOptions::default()).unwrap();
    assert_eq!(general.system, BtSystem::MinimallyAugmented);
    assert!(general.residual < 1e-9, "residual {}", general.residual);
    // Same point by two different defining systems.
    assert!(rel(general.p1, planar.p1) < 1e-9 && rel(general.p2, planar.p2) < 1e-9, "{general:?} vs {planar:?}");
    assert!(general.state[2].abs() < 1e-12, "z = {}", general.state[2]);
    assert!(rel(general.p1, BT_D) < REL && rel(general.p2, BT_BETA) < REL);
    let pair = critical_pair(&m3, &general.state, &params(&m3, general.p1, general.p2)).unwrap();
    assert!(pair[0].norm() < 1e-6 && pair[1].norm() < 1e-6, "critical pair {pair:?}");

    // The Hopf curve of the 3-variable model also ends at it.
    let r = boundary(&m3, 2.3, BifurcationKind::Hopf, (0.1, 0.2), 0);
    let c = r.curves.iter().find(|c| c.stop_backward == Some(BoundaryStop::BogdanovTakens) || c.stop_forward == BoundaryStop::BogdanovTakens).expect("a Hopf curve ending at BT");
    let bts = bt_of(c);
    assert_eq!(bts.len(), 1);
    assert!(rel(bts[0].p1, planar.p1) < 1e-9 && rel(bts[0].p2, planar.p2) < 1e-9 && bts[0].residual.unwrap() < 1e-9, "{:?}", bts[0]);
}

#[test]
fn hopf_curve_ends_at_the_bt_point_of_the_defining_system() {
    let m = ab();
    // At beta = 2.3 the line crosses the Hopf curve through the BT point
    // (D = 0.1219) and the upper one (D = 0.1866); the grid check then sees
    // both boundaries of the oscillatory band.
    let r = boundary(&m, 2.3, BifurcationKind::Hopf, (0.1, 0.2), 24);
    let c = r.curves.iter().find(|c| !bt_of(c).is_empty()).expect("a Hopf curve with a BT point");
    assert_eq!(c.stop_backward, Some(BoundaryStop::BogdanovTakens), "{:?}", c.points.first());
    let bt = bt_of(c)[0];
    assert!(rel(bt.p1, BT_D) < REL && rel(bt.p2, BT_BETA) < REL, "BT at D = {}, beta = {}", bt.p1, bt.p2);
    assert!(bt.residual.unwrap() < 1e-9);
    // The curve's end point is the BT point itself, not the last Hopf point.
    let end = &c.points[0];
    assert_eq!((end.p1, end.p2, end.frequency), (bt.p1, bt.p2, Some(0.0)));
    // Every other point is a genuine Hopf point (omega > 0, tr J = 0,
    // det J = omega^2 > 0), none a fold point reached through omega = 0.
    for q in &c.points[1..] {
        let w = q.frequency.unwrap();
        let j = jac(&m, &q.state, &params(&m, q.p1, q.p2));
        let (tr, det) = (j[(0, 0)] + j[(1, 1)], j[(0, 0)] * j[(1, 1)] - j[(0, 1)] * j[(1, 0)]);
        assert!(w > 0.0 && tr.abs() < 1e-8 && (det - w * w).abs() < 1e-8 * (1.0 + det), "{q:?}: tr {tr}, det {det}");
    }
    // Both Hopf curves traced: the grid check agrees, both ways.
    assert!(r.agreement() >= 0.95 && r.check.explained() >= 0.95, "{:?}", r.check);

    // From beta = 2.6 only the lower Hopf curve crosses the start line inside
    // D in [0.1, 0.2]: the traced curve is still correct (agreement), but the
    // grid's other Hopf boundary is unexplained (completeness).
    let r = boundary(&m, 2.6, BifurcationKind::Hopf, (0.1, 0.2), 24);
    assert_eq!(r.curves.len(), 1);
    assert!(r.agreement() >= 0.95 && r.check.explained() < 0.6, "{:?}", r.check);
    eprintln!("Hopf grid check: {:?}, agreement {}", r.check, r.agreement());
}

#[test]
fn fold_curve_continues_through_the_bt_point_to_the_cusp() {
    let m = ab();
    // beta = 2 lies below the BT point: the lower fold (D = 0.1057) must be
    // followed past the BT point (beta = 2.073) to reach the cusp (beta = 2.5).
    let r = boundary(&m, 2.0, BifurcationKind::Fold, (0.08, 0.16), 24);
    let through = r.curves.iter().find(|c| !bt_of(c).is_empty()).expect("a fold curve through the BT point");
    let kinds: Vec<Codim2Kind> = through.special_points.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [Codim2Kind::BogdanovTakens, Codim2Kind::Cusp], "{:?}", through.special_points);
    let bt = &through.special_points[0];
    assert!(rel(bt.p1, BT_D) < REL && rel(bt.p2, BT_BETA) < REL && bt.residual.unwrap() < 1e-9, "{bt:?}");
    let cusp = &through.special_points[1];
    let d_cusp = (-2.0f64).exp();
    assert!(rel(cusp.p1, d_cusp) < 1e-9 && rel(cusp.p2, 2.5) < 1e-9, "cusp at {cusp:?}");
    assert!((cusp.state[0] - 0.5).abs() < 1e-8 && (cusp.state[1] - 2.0).abs() < 1e-8, "{cusp:?}");
    assert_eq!(through.stop_forward, BoundaryStop::Cusp);
    // The stretch between the BT point and the cusp is traced.
    assert!(through.points.iter().filter(|q| q.p2 > BT_BETA + 0.05 && q.p2 < 2.45).count() >= 3);
    // Every point is a fold point: det J = 0 (one zero eigenvalue); off the
    // BT point the other eigenvalue stays away from zero, so these fold points are not BT points.
    for q in &through.points {
        let p = params(&m, q.p1, q.p2);
        let j = jac(&m, &q.state, &p);
        let det = j[(0, 0)] * j[(1, 1)] - j[(0, 1)] * j[(1, 0)];
        assert!(det.abs() < 1e-8, "{q:?}: det {det}");
        let pair = critical_pair(&m, &q.state, &p).unwrap();
        let from_bt = ((q.p1 - bt.p1) / bt.p1).hypot((q.p2 - bt.p2) / bt.p2);
        if from_bt > 1e-2 {
            assert!(pair[1].norm() > 1e-3, "{q:?}: {pair:?}");
        }
    }
    // The upper fold curve (same cusp) passes no BT point.
    assert!(r.curves.iter().filter(|c| bt_of(c).is_empty()).all(|c| c.special_points.iter().all(|s| s.kind == Codim2Kind::Cusp)));
    assert!(r.agreement() >= 0.95 && r.check.explained() >= 0.95, "{:?}", r.check);
    eprintln!("fold grid check: {:?}, agreement {}", r.check, r.agreement());
}

#[test]
fn grid_check_rejects_a_shifted_curve() {
    let m = ab();
    let r = boundary(&m, 2.0, BifurcationKind::Fold, (0.08, 0.16), 24);
    let p = params(&m, 0.1, 2.0);
    let (k1, k2) = (idx(&m, "D"), idx(&m, "beta"));
    let ranges = [(0.08, 0.16), (1.5, 3.0)];
    let exact = grid_agreement(&m, &p, k1, k2, BifurcationKind::Fold, &r.curves, &r.grid, ranges, (24, 24));
    assert!(exact.agreement() >= 0.95 && exact.explained() >= 0.95, "{exact:?}");
    // Shift every curve by 4 cells in D: a wrong curve of the right shape.
    let cell = (ranges[0].1 - ranges[0].0) / 24.0;
    let shifted: Vec<BoundaryCurve> = r
        .curves
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.points.iter_mut().for_each(|q| q.p1 += 4.0 * cell);
            c
        })
        .collect();
    let bad = grid_agreement(&m, &p, k1, k2, BifurcationKind::Fold, &shifted, &r.grid, ranges, (24, 24));
    assert!(bad.agreement() < 0.5 && bad.confirmed() < 0.5 && bad.explained() < 0.5, "{bad:?}");
    eprintln!("exact {exact:?} -> {}, shifted {bad:?} -> {}", exact.agreement(), bad.agreement());
}

#[test]
fn cli_reports_the_bt_point_in_json_csv_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/models/ab.toml").display().to_string();
    let args = [
        "analyze", &model, "--set", "beta=2.3", "--out", &out, "boundary", "--param", "D", "--from", "0.1", "--to", "0.2", "--param2", "beta",
        "--from2", "1.5", "--to2", "3", "--kind", "hopf",
    ];
    let text = crate::support::bin::command().args(args).output().unwrap();
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("bogdanov-takens on curve 0 (hopf): D = 0.10954") && stdout.contains("beta = 2.07318"), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("boundary.json")).unwrap()).unwrap();
    let sp = &json["curves"][0]["special_points"][0];
    assert_eq!(sp["kind"], "bogdanov-takens");
    assert!(rel(sp["D"].as_f64().unwrap(), BT_D) < REL && rel(sp["beta"].as_f64().unwrap(), BT_BETA) < REL, "{sp}");
    assert!(sp["residual"].as_f64().unwrap() < 1e-9);
    assert_eq!(json["curves"][0]["stop_backward"], "bogdanov-takens");
    let csv = std::fs::read_to_string(dir.path().join("boundary_points.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("curve,kind,D,beta,u1,u2,residual,iterations"));
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row[1], "bogdanov-takens");
    assert!(rel(row[2].parse().unwrap(), BT_D) < REL && rel(row[3].parse().unwrap(), BT_BETA) < REL, "{row:?}");
}

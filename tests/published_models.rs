//! External models with published closed forms (examples/models/*.toml,
//! sources cited in the files).
use repcollapse::engine::analysis::boundary_analysis;
use repcollapse::engine::bifurcation::BifurcationKind;
use repcollapse::engine::boundary::BoundaryParams;
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

//! Curves of folds of cycles (LPC) in two parameters (`engine::cycles::lpc_curve`),
//! started from the Bautin point of a Hopf curve, against the closed form of
//! the Bautin normal form.
use repcollapse::engine::{
    continue_boundary, continue_cycles_from_hopf, continue_equilibria, continue_lpc_from_bautin, BifurcationKind, BoundaryParams, Codim2Kind,
    ContinuationParams, CycleBifurcationKind, CycleContinuationParams, LpcCurveParams, StopReason,
};

/// The Bautin normal form's cycles are circles of radius^2 r with
/// p1 + p2 r - r^2 = 0 and period 2 pi; they fold where dp1/dr = 0, i.e. on
/// the LPC curve p1 = -p2^2/4, r = p2/2 (p2 > 0), which ends at the Bautin
/// point (0, 0) of the Hopf curve p1 = 0. The curve is started from the
/// Bautin point found on the Hopf curve and traced over p2 in [0.02, 1.5].
#[test]
fn bautin_normal_form_lpc_curve_from_the_bautin_point() {
    let m = crate::normal_forms::bautin(1.0);
    let p = [-0.5, -1.0];
    let r = continue_equilibria(&m, &[0.0, 0.0], &p, &ContinuationParams::new(0, -0.5, 0.5)).unwrap();
    let h = r.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).unwrap();
    let mut bp = BoundaryParams::new(0, 1, -1.0, 1.0);
    bp.arclength.ds_max = 0.05;
    let hopf = continue_boundary(&m, h, &p, &bp).unwrap();
    let gh = hopf.special_points.iter().find(|s| s.kind == Codim2Kind::Bautin).expect("Bautin point");
    let mut lp = LpcCurveParams::new([0, 1], (-1.0, 0.5), (0.02, 1.5));
    lp.orbit.ntst = 20;
    let lc = continue_lpc_from_bautin(&m, &hopf, gh, &p, &lp).unwrap();
    eprintln!("{} points, stops {:?} {:?}", lc.points.len(), lc.stop_backward, lc.stop_forward);
    let (mut e_p1, mut e_r, mut e_t) = (0.0_f64, 0.0_f64, 0.0_f64);
    for pt in &lc.points {
        let x = pt.orbit.node(0);
        let rr = x[0] * x[0] + x[1] * x[1];
        e_p1 = e_p1.max((pt.p1 + pt.p2 * pt.p2 / 4.0).abs());
        e_r = e_r.max((rr - pt.p2 / 2.0).abs());
        e_t = e_t.max((pt.period - std::f64::consts::TAU).abs());
    }
    eprintln!("max errors: p1 {e_p1:e}, r {e_r:e}, T {e_t:e}; p2 from {} to {}", lc.points[0].p2, lc.points.last().unwrap().p2);
    // The curve is traced both ways to the box: down towards the Bautin
    // point until p2 < 0.02, up until p2 > 1.5.
    assert_eq!(lc.stop_backward, Some(StopReason::ParameterBound));
    assert_eq!(lc.stop_forward, StopReason::ParameterBound);
    assert!(lc.points.len() >= 15);
    assert!(lc.points[0].p2 < 0.05 && lc.points.last().unwrap().p2 > 1.4, "p2 range {} .. {}", lc.points[0].p2, lc.points.last().unwrap().p2);
    // The extended system holds the fold condition to Newton's tolerance,
    // so what is left is the collocation error of the cycles (N = 20,
    // m = 4): observed max |p1 + p2^2/4| = 4.9e-11 (second order in the
    // radius error at a fold), max |r - p2/2| = 4.2e-10 at the mesh point
    // node 0, max |T - 2 pi| = 2.3e-11 (as on the branches of cycles).
    assert!(e_p1 < 1e-9, "max |p1 + p2^2/4| = {e_p1}");
    assert!(e_r < 1e-8, "max |r - p2/2| = {e_r}");
    assert!(e_t < 1e-10, "max |T - 2 pi| = {e_t}");
    // The curve's points are folds of the one-parameter branches: at the
    // middle point's p2, cycles continued in p1 from the Hopf point (0, p2)
    // fold at the same p1 (two solves of the same discrete problem, the
    // one-parameter fold located by regula falsi to 1e-9 in arclength).
    let mid = &lc.points[lc.points.len() / 2];
    let mut cp = CycleContinuationParams::new(0, -1.0, 0.5);
    cp.arclength.ds = 0.05;
    cp.arclength.ds_max = 0.1;
    cp.orbit.ntst = 20;
    let br = continue_cycles_from_hopf(&m, &[0.0, 0.0], &[0.0, mid.p2], 1.0, &cp).unwrap();
    let fold = br.bifurcations.iter().find(|b| b.kind == CycleBifurcationKind::Lpc).expect("fold on the branch");
    assert!((fold.point.param - mid.p1).abs() < 1e-9, "p2 = {}: one-parameter fold at p1 = {}, curve {}", mid.p2, fold.point.param, mid.p1);
}

//! Periodic orbits by orthogonal collocation, their Floquet multipliers and
//! their continuation (`engine::cycles`), against closed forms and against
//! independent integrations of the flow.
use repcollapse::engine::{
    continue_cycles_from_hopf, continue_equilibria, orbit_from_trajectory, solve_orbit, Attempt, BifurcationKind, ContinuationParams,
    CycleBifurcationKind, CycleContinuationParams, ExplicitStepper, OrbitOptions, Pair, StopReason, VectorField,
};
use repcollapse::symbolic::SymbolicModel;


/// Bautin normal form with p2 = 1 continued from its (subcritical, l1 = 2 p2)
/// Hopf point at p1 = 0: cycles are circles of radius^2 r with
/// p1 + p2 r - r^2 = 0 and angular speed exactly 1 (period 2 pi); the radial
/// multiplier is exp(2 pi * 2 r (p2 - 2 r)); the branch folds (LPC) at
/// p1 = -p2^2/4, r = p2/2, where the small unstable cycles meet the large stable ones.
#[test]
fn bautin_normal_form_cycles_period_radius_multipliers_and_fold() {
    let m = crate::normal_forms::bautin(1.0);
    let p2 = 1.0;
    let mut cp = CycleContinuationParams::new(0, -1.0, 0.5);
    cp.arclength.ds = 0.05;
    cp.arclength.ds_max = 0.1;
    cp.orbit.ntst = 20;
    let br = continue_cycles_from_hopf(&m, &[0.0, 0.0], &[0.0, p2], 1.0, &cp).unwrap();
    assert!((br.hopf_l1.unwrap() - 2.0 * p2).abs() < 1e-12);
    assert_eq!(br.stop, StopReason::ParameterBound, "{} points", br.points.len());
    assert!(br.points.len() > 10);
    for pt in &br.points {
        let p1 = pt.param;
        // The collocation solution of a circle traversed at unit speed:
        // period 2 pi to the scheme's O(h^{2m}) error (observed 2.3e-11 for
        // N = 20, m = 4, the same at every radius).
        assert!((pt.period - std::f64::consts::TAU).abs() < 1e-10, "p1 = {p1}: T = {}", pt.period);
        let o = &pt.orbit;
        let r = o.node(0)[0].powi(2) + o.node(0)[1].powi(2);
        // Mesh points (every ncol-th node) are superconvergent, O(h^{2m}),
        // and lie on the circle to round-off; interior nodes only O(h^{m+1})
        // (observed 1e-8 at r = 1.25 with N = 20, m = 4).
        let (mut dev_mesh, mut dev_all) = (0.0_f64, 0.0_f64);
        for g in 0..o.n_nodes() {
            let x = o.node(g);
            let d = (x[0] * x[0] + x[1] * x[1] - r).abs();
            dev_all = dev_all.max(d);
            if g % o.ncol == 0 {
                dev_mesh = dev_mesh.max(d);
            }
        }
        assert!(dev_mesh < 1e-9 * (1.0 + r), "not a circle at the mesh points at p1 = {p1}: {dev_mesh}");
        assert!(dev_all < 1e-5 * (1.0 + r), "not a circle at p1 = {p1}: {dev_all}");
        // Radius equation to the scheme's error (observed <= 1.1e-9 at r = 1.25,
        // growing with r as the field's higher derivatives do).
        assert!((p1 + p2 * r - r * r).abs() < 1e-8, "p1 = {p1}, r = {r}: p1 + p2 r - r^2 = {}", p1 + p2 * r - r * r);
        // One non-trivial multiplier, exp(4 pi r (p2 - 2 r)).
        let mu = pt.multipliers.nontrivial().next().unwrap();
        let expect = (4.0 * std::f64::consts::PI * r * (p2 - 2.0 * r)).exp();
        assert!(mu.im.abs() < 1e-9 && (mu.re - expect).abs() < 1e-6 * (1.0 + expect), "r = {r}: mu = {mu}, expected {expect}");
        assert!(pt.multipliers.trivial_error() < 1e-8);
        if r > p2 / 2.0 + 1e-6 {
            assert!(pt.stable, "large cycle r = {r} not stable");
        } else if r < p2 / 2.0 - 1e-6 {
            assert!(!pt.stable && pt.n_unstable == 1, "small cycle r = {r} not unstable");
        }
    }
    let lpc: Vec<_> = br.bifurcations.iter().filter(|b| b.kind == CycleBifurcationKind::Lpc).collect();
    assert_eq!(lpc.len(), 1, "{:?}", br.bifurcations.iter().map(|b| (b.kind, b.point.param)).collect::<Vec<_>>());
    // LPC located by regula falsi on the tangent's p component (arc
    // tolerance 1e-9): the parabola p1(r) is flat there, so p1 is accurate
    // to ~ tolerance^2 and r to ~ tolerance.
    assert!((lpc[0].point.param + p2 * p2 / 4.0).abs() < 1e-8, "LPC at p1 = {}", lpc[0].point.param);
    let x = lpc[0].point.orbit.node(0);
    assert!((x[0] * x[0] + x[1] * x[1] - p2 / 2.0).abs() < 1e-5);
    assert!(br.bifurcations.iter().all(|b| b.kind == CycleBifurcationKind::Lpc));
}

/// Period of the limit cycle from an independent integration: DOP853 at
/// rtol 1e-13 from a point on the cycle (after a transient), successive
/// upward crossings of the section y = 0 (at x < 0, where y' = -x > 0) located by bisection on the
/// dense output (order 7), the period as the difference of two crossing times.
fn period_by_integration(field: &dyn VectorField, x0: &[f64], p: &[f64], transient: f64) -> f64 {
    let mut st = ExplicitStepper::new(Pair::Dop853, field, p, 0.0, x0, 1e-13, 1e-15, f64::INFINITY, 0.0);
    let mut crossings = Vec::new();
    let mut prev = x0.to_vec();
    let mut buf = vec![0.0; x0.len()];
    while crossings.len() < 2 {
        assert!(st.t < 1e5, "no return to the section");
        let (att, _) = st.attempt(field, p, 1e6);
        if att != Attempt::Accepted {
            continue;
        }
        if st.t > transient && prev[1] < 0.0 && st.y[1] >= 0.0 && st.y[0] < 0.0 {
            st.prepare_dense(field, p);
            let (mut a, mut b) = (st.t_old, st.t);
            for _ in 0..200 {
                let mid = 0.5 * (a + b);
                st.dense(mid, &mut buf);
                if buf[1] < 0.0 {
                    a = mid;
                } else {
                    b = mid;
                }
                if b - a < 1e-15 * b {
                    break;
                }
            }
            crossings.push(0.5 * (a + b));
        }
        prev.copy_from_slice(&st.y);
    }
    crossings[1] - crossings[0]
}

#[test]
fn van_der_pol_period_against_integration() {
    let vdp = SymbolicModel::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/van-der-pol.toml")).unwrap();
    for (mu, ntst, tol) in [(1.0, 40, 1e-11), (10.0, 120, 1e-10)] {
        let p = [mu];
        let reference = period_by_integration(&vdp, &[2.0, 0.0], &p, 10.0 * mu + 20.0);
        let opts = OrbitOptions { ntst, ncol: 5, adapt: 3, ..OrbitOptions::default() };
        let guess = orbit_from_trajectory(&vdp, &[2.0, 0.0], &p, 10.0 * mu + 20.0, 100.0 * mu + 100.0, &opts).unwrap();
        let cycle = solve_orbit(&vdp, &guess, &opts).unwrap();
        let t = cycle.orbit.period;
        // mu = 1: smooth cycle, collocation error ~ (T/N)^(2m) ~ 1e-14, the
        // reference's ~1e-13 relative (observed difference 4e-14 relative;
        // T = 6.663286859323, the known value). mu = 10: relaxation
        // oscillation with fast jumps, 120 adapted intervals of degree 5
        // (observed 2.6e-14 relative, T = 19.0783695669).
        assert!((t - reference).abs() < tol * reference, "mu = {mu}: collocation {t}, integration {reference}");
        assert!(cycle.multipliers.stable());
        assert!(cycle.multipliers.trivial_error() < 1e-6, "mu = {mu}: trivial multiplier off by {}", cycle.multipliers.trivial_error());
        // The non-trivial multiplier is exp(int_0^T div F dt) = exp(int mu (1 - x^2) dt)
        // (Liouville): positive, below 1.
        let mu_n = cycle.multipliers.nontrivial().next().unwrap();
        let o = &cycle.orbit;
        let k = 20000;
        let mut x = [0.0; 2];
        let mut integral = 0.0;
        for i in 0..k {
            // Midpoint rule in tau on the collocation polynomial (relative error ~1e-9).
            o.eval((i as f64 + 0.5) / k as f64, &mut x);
            integral += mu * (1.0 - x[0] * x[0]) / k as f64;
        }
        let liouville = (integral * t).exp();
        if liouville > 1e-10 {
            // mu = 1: 8.6e-4, resolved by the product of interval transition matrices.
            assert!((mu_n.re - liouville).abs() < 1e-6 * liouville && mu_n.im.abs() < 1e-12, "mu = {mu}: {mu_n} vs {liouville}");
        } else {
            // mu = 10: 3.7e-136, below the round-off eps |M| ~ 1e-16 of the
            // monodromy product: only its size is meaningful.
            assert!(mu_n.norm() < 1e-12, "mu = {mu}: {mu_n} vs {liouville}");
        }
    }
}

/// The supercritical Hopf normal form `x' = mu x - y - x r^2`: continuation
/// from the Hopf point found by equilibrium continuation gives stable
/// circles of radius^2 mu with period 2 pi.
#[test]
fn hopf_normal_form_cycles_from_equilibrium_continuation() {
    use repcollapse::engine::test_models::HopfNormalForm;
    let cp = ContinuationParams::new(0, -1.0, 1.0);
    let r = continue_equilibria(&HopfNormalForm, &[0.0, 0.0], &[-1.0], &cp).unwrap();
    let h = r.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).unwrap();
    // l1 = 2 * (-1): supercritical.
    assert!((h.lyapunov.unwrap() + 2.0).abs() < 1e-6, "l1 = {:?}", h.lyapunov);
    let mut ccp = CycleContinuationParams::new(0, -1.0, 1.0);
    ccp.orbit.ntst = 16;
    let br = continue_cycles_from_hopf(&HopfNormalForm, &h.state, &[h.param], h.frequency.unwrap(), &ccp).unwrap();
    assert_eq!(br.stop, StopReason::ParameterBound);
    assert!((br.points.last().unwrap().param - 1.0).abs() < 1e-12);
    for pt in &br.points {
        assert!(pt.param > 0.0 && pt.stable);
        assert!((pt.period - std::f64::consts::TAU).abs() < 1e-9);
        assert!((pt.max[0] - pt.param.sqrt()).abs() < 1e-4 * pt.param.sqrt(), "mu = {}: max x = {}", pt.param, pt.max[0]);
        // Radial multiplier exp(-2 mu T) = exp(-4 pi mu).
        let m = pt.multipliers.nontrivial().next().unwrap();
        assert!((m.re - (-4.0 * std::f64::consts::PI * pt.param).exp()).abs() < 1e-7);
    }
    assert!(br.bifurcations.is_empty());
}

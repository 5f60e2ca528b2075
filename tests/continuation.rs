//! Continuation, bifurcation location and two-parameter boundaries against
//! closed forms of the reference fields in `engine::examples`.
use repcollapse::engine::continuation::{continue_equilibria, BifurcationKind, ContinuationParams, StopReason};
use repcollapse::engine::examples::{Brusselator, HopfNormalForm, Lorenz, Pitchfork, SaddleNode};

fn kinds(r: &repcollapse::engine::continuation::ContinuationResult, k: BifurcationKind) -> Vec<f64> {
    r.bifurcations.iter().filter(|b| b.kind == k).map(|b| b.param).collect()
}

#[test]
fn saddle_node_fold_at_zero_and_stability_flips() {
    // x' = mu - x^2: equilibria x = +-sqrt(mu), fold at mu = 0; the upper
    // branch (x > 0, eigenvalue -2x) is stable, the lower one unstable.
    let mut cp = ContinuationParams::new(0, -1.0, 1.0);
    cp.direction = -1.0;
    let r = continue_equilibria(&SaddleNode, &[1.0], &[1.0], &cp).unwrap();
    let folds = kinds(&r, BifurcationKind::Fold);
    assert_eq!(folds.len(), 1, "{:?}", r.bifurcations);
    assert!(folds[0].abs() < 1e-6, "fold at {}", folds[0]);
    assert!(r.bifurcations.iter().all(|b| b.kind == BifurcationKind::Fold));
    let b = &r.branches[0];
    assert_eq!(b.stop, StopReason::ParameterBound);
    // Ends back at mu = 1 on the lower branch x = -1.
    let last = b.points.last().unwrap();
    assert!((last.param - 1.0).abs() < 1e-12 && (last.state[0] + 1.0).abs() < 1e-8);
    for p in &b.points {
        assert!((p.param - p.state[0] * p.state[0]).abs() < 1e-9);
        if p.state[0] > 1e-6 {
            assert!(p.stable && p.n_unstable == 0);
        } else if p.state[0] < -1e-6 {
            assert!(!p.stable && p.n_unstable == 1);
        }
    }
}

#[test]
fn pitchfork_branch_point_on_trivial_branch() {
    let cp = ContinuationParams::new(0, -1.0, 1.0);
    let r = continue_equilibria(&Pitchfork, &[0.0], &[-1.0], &cp).unwrap();
    let bps = kinds(&r, BifurcationKind::Branch);
    assert_eq!(bps.len(), 1, "{:?}", r.bifurcations);
    assert!(bps[0].abs() < 1e-8, "branch point at {}", bps[0]);
    assert!(kinds(&r, BifurcationKind::Fold).is_empty());
    for p in &r.branches[0].points {
        assert!(p.state[0].abs() < 1e-12);
        assert_eq!(p.n_unstable, usize::from(p.param > 1e-9));
    }
}

#[test]
fn hopf_normal_form_hopf_at_zero_with_unit_frequency() {
    let cp = ContinuationParams::new(0, -1.0, 1.0);
    let r = continue_equilibria(&HopfNormalForm, &[0.01, -0.02], &[-1.0], &cp).unwrap();
    assert_eq!(r.bifurcations.len(), 1, "{:?}", r.bifurcations);
    let h = &r.bifurcations[0];
    assert_eq!(h.kind, BifurcationKind::Hopf);
    assert!(h.param.abs() < 1e-8, "Hopf at {}", h.param);
    assert!((h.frequency.unwrap() - 1.0).abs() < 1e-8);
    let pts = &r.branches[0].points;
    assert!(pts.first().unwrap().stable && pts.last().unwrap().n_unstable == 2);
}

#[test]
fn lorenz_hopf_on_nontrivial_branch() {
    let (sigma, b) = (10.0, 8.0 / 3.0);
    let r_h = sigma * (sigma + b + 3.0) / (sigma - b - 1.0);
    let r0: f64 = 10.0;
    let c = (b * (r0 - 1.0)).sqrt();
    let mut cp = ContinuationParams::new(1, 2.0, 30.0);
    cp.ds_max = 0.5;
    let r = continue_equilibria(&Lorenz, &[c * 1.01, c * 0.99, r0 - 1.0 + 0.1], &[sigma, r0, b], &cp).unwrap();
    let hopf: Vec<_> = r.bifurcations.iter().filter(|x| x.kind == BifurcationKind::Hopf).collect();
    assert_eq!(hopf.len(), 1, "{:?}", r.bifurcations);
    assert!(((hopf[0].param - r_h) / r_h).abs() < 1e-6, "Hopf at {} vs {}", hopf[0].param, r_h);
    // At the Hopf point the eigenvalues are -(sigma + b + 1) and +-i omega
    // with omega^2 = b (r_H + sigma) (characteristic polynomial of C+-).
    let omega = (b * (r_h + sigma)).sqrt();
    assert!((hopf[0].frequency.unwrap() - omega).abs() < 1e-6 * omega);
    assert!(r.bifurcations.iter().all(|x| x.kind == BifurcationKind::Hopf));
    for p in &r.branches[0].points {
        // Exactly on C+: x = y = sqrt(b (r - 1)), z = r - 1.
        let x = (b * (p.param - 1.0)).sqrt();
        assert!((p.state[0] - x).abs() < 1e-8 && (p.state[2] - (p.param - 1.0)).abs() < 1e-8);
        assert_eq!(p.stable, p.param < r_h - 1e-6);
    }
}

#[test]
fn lorenz_pitchfork_at_r_one_on_trivial_branch() {
    let mut cp = ContinuationParams::new(1, 0.0, 2.0);
    cp.ds_max = 0.2;
    let r = continue_equilibria(&Lorenz, &[0.0, 0.0, 0.0], &[10.0, 0.3, 8.0 / 3.0], &cp).unwrap();
    let bps = kinds(&r, BifurcationKind::Branch);
    assert_eq!(bps.len(), 1, "{:?}", r.bifurcations);
    assert!((bps[0] - 1.0).abs() < 1e-8, "branch point at {}", bps[0]);
    assert!(kinds(&r, BifurcationKind::Hopf).is_empty());
}

#[test]
fn brusselator_hopf_at_one_plus_a_squared() {
    for a in [1.0, 1.5] {
        let cp = ContinuationParams::new(1, 0.5, 4.0);
        let b0 = 1.0;
        let r = continue_equilibria(&Brusselator, &[a + 0.1, b0 / a - 0.1], &[a, b0], &cp).unwrap();
        assert_eq!(r.bifurcations.len(), 1, "{:?}", r.bifurcations);
        let h = &r.bifurcations[0];
        assert_eq!(h.kind, BifurcationKind::Hopf);
        assert!((h.param - (1.0 + a * a)).abs() < 1e-8, "Hopf at b = {}", h.param);
        assert!((h.frequency.unwrap() - a).abs() < 1e-8);
        assert!((h.state[0] - a).abs() < 1e-9 && (h.state[1] - h.param / a).abs() < 1e-9);
    }
}

//! Model H, `symmetric`: which square root of `M` a mode reaches
//! (`models::head::theory::roots`). The linearised selection at the dead
//! head against the per-mode flow's own boundary, the forward-invariant
//! sign quadrants, and the classifier on exact roots.
use repcollapse::models::head::config::HeadConfig;
use repcollapse::models::head::simulation::HeadState;
use repcollapse::models::head::theory::roots::{classify_root, mode_basis, mode_boundary, mode_flow, selection_gain, RootStatus};

#[test]
fn linearised_selection_matches_the_per_mode_flow_for_small_starts() {
    // K = 4, mu = 2/3; samples at alpha = 0.1 of their targets: the boundary
    // w0 = -Lambda alpha should be the flow's to within 1% (measured 0.0-0.3%).
    let (k, mu, alpha, s) = (4, 2.0 / 3.0, 0.1, 1.0);
    for ratio in [0.1, 0.316, 1.0] {
        let lin = -selection_gain(ratio, s, mu, k) * alpha;
        let flow = mode_boundary(alpha, s, 1.0, 1.0, ratio, mu, k, 1.0, 200.0).expect("sign changes on [-1, 1]");
        assert!((flow - lin).abs() < 0.01 * lin.abs(), "ratio {ratio}: flow {flow}, linearised {lin}");
    }
    // A fast head takes the samples' sign (Lambda grows like the ratio), a slow one keeps its own.
    assert!(selection_gain(100.0, 1.0, mu, k) > 20.0 && selection_gain(1e-4, 1.0, mu, k) < 0.02);
}

#[test]
fn aligned_starts_keep_the_sign_of_the_head() {
    // {w >= 0, a s >= 0} and its mirror are forward invariant: from an aligned
    // start the root has the sign of w0 at every head rate.
    for ratio in [0.1, 1.0, 10.0] {
        for (a0, w0) in [(0.5, 0.3), (-0.5, -0.3), (0.05, 0.9), (-0.05, -0.9)] {
            let z = mode_flow([a0, 1.0, w0], 1.0, 1.0, ratio, 2.0 / 3.0, 4, 300.0, 0.02);
            // The sign is kept; the end is a root unless the mode collapsed (a slow
            // head with |w0| > sqrt(mu) sits on the stable part of the collapsed line).
            assert!(z[2] * w0 > 0.0, "ratio {ratio}, start ({a0}, {w0}): end {z:?}");
            assert!(z[1].abs() < 1e-3 || (z[2] * z[2] - 2.0 / 3.0).abs() < 1e-3, "ratio {ratio}, start ({a0}, {w0}): end {z:?}");
        }
    }
}

#[test]
fn classifier_counts_the_negative_roots_of_an_exact_root() {
    let sets: Vec<String> = ["variant=symmetric", "classes=4", "per_class=6", "frustrated=0.5", "rho=0.5", "dim=6"].iter().map(|s| s.to_string()).collect();
    let cfg = HeadConfig::from_sets(&sets).unwrap();
    let a = cfg.base.label_weights().unwrap();
    let b = mode_basis(&a).unwrap();
    let (k, d) = (4, 6);
    for negatives in 0..k {
        let mut y = vec![0.0; k * d];
        let mut w = vec![0.0; d * d];
        for c in 0..k {
            for m in 1..k {
                y[c * d + m] = (0.5 + m as f64) * b.u[m][c];
            }
        }
        for r in 0..d {
            w[r * d + r] = if (1..k).contains(&r) { if r <= negatives { -b.mu[r].sqrt() } else { b.mu[r].sqrt() } } else { 1.0 };
        }
        let st = HeadState { x: vec![0.0; a.samples() * d], y, w, dim: d };
        let c = classify_root(&a, &st, false, 1e-6).unwrap();
        assert_eq!((c.status, c.negatives), (RootStatus::Root, negatives), "{c:?}");
        // A head that is not a square root there is not called one.
        let mut off = st.clone();
        off.w[d + 1] *= 0.8;
        assert_eq!(classify_root(&a, &off, false, 1e-3).unwrap().status, RootStatus::Unresolved);
    }
}

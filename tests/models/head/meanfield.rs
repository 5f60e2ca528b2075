//! Mean-field self-consistency for heterogeneous frustration against an
//! analytic moment formula and against the direct (finite-n) solution.
use repcollapse::models::common::frustration::FrustrationOperator;
use repcollapse::models::head::config::Variant;
use repcollapse::models::head::theory::meanfield::{heterogeneous_weights, self_consistent_head, RhoDistribution};

/// `E[rho (1-rho)]` from closed-form moments.
fn moment(d: &RhoDistribution) -> f64 {
    match *d {
        RhoDistribution::TwoPoint { a, b, prob } => prob * a * (1.0 - a) + (1.0 - prob) * b * (1.0 - b),
        RhoDistribution::Uniform { lo, hi } => 0.5 * (lo + hi) - (lo * lo + lo * hi + hi * hi) / 3.0,
        RhoDistribution::Beta { alpha, beta } => {
            let s = alpha + beta;
            alpha / (2.0 * s) - alpha * (alpha + 1.0) / (4.0 * s * (s + 1.0))
        }
    }
}

fn dists() -> Vec<RhoDistribution> {
    ["two-point:0.1,0.5,0.5", "uniform:0.05,0.5", "beta:2,4"].iter().map(|s| RhoDistribution::parse(s).unwrap()).collect()
}

#[test]
fn self_consistency_matches_the_moment_closed_form() {
    let (f, k) = (0.6, 3usize);
    for d in dists() {
        let phi = 2.0 * f * moment(&d) * k as f64 / (k as f64 - 1.0);
        for lam in [0.0, 0.05] {
            let r = (1.0 - phi).sqrt();
            let sym = 0.5 * (r + (r * r - 4.0 * lam).sqrt());
            let asym = ((1.0 - phi) + ((1.0 - phi).powi(2) - 4.0 * lam * (1.0 + lam).powi(2)).sqrt()) / (2.0 * (1.0 + lam));
            let ws = self_consistent_head(Variant::Symmetric, f, k, lam, &d).unwrap().unwrap();
            let wa = self_consistent_head(Variant::Asymmetric, f, k, lam, &d).unwrap().unwrap();
            // Simpson with 4000 intervals on smooth integrands: error << 1e-10.
            assert!((ws - sym).abs() < 1e-10, "{d:?} lam {lam}: {ws} vs {sym}");
            assert!((wa - asym).abs() < 1e-10, "{d:?} lam {lam}: {wa} vs {asym}");
        }
    }
    assert!(self_consistent_head(Variant::Head, 0.3, 3, 0.0, &dists()[0]).unwrap().is_none());
}

#[test]
fn direct_finite_n_solution_approaches_mean_field() {
    // Direct solve: at the symmetric fixed point W^2 = M on the label
    // subspace, so the head eigenvalues are sqrt(mu_k) of the empirical M.
    // Their deviation from the mean-field value must shrink like 1/sqrt(n).
    let (f, k) = (0.6, 3usize);
    for d in dists() {
        let w_mf = self_consistent_head(Variant::Symmetric, f, k, 0.0, &d).unwrap().unwrap();
        let dev = |n: usize| -> f64 {
            let seeds = 12;
            (0..seeds)
                .map(|s| {
                    let a = heterogeneous_weights(k, n, f, &d, s).unwrap();
                    let mu = FrustrationOperator::new(&a).unwrap().spectrum;
                    let w = mu[1..].iter().map(|m| m.sqrt()).sum::<f64>() / (k - 1) as f64;
                    (w - w_mf).abs()
                })
                .sum::<f64>()
                / seeds as f64
        };
        let (small, large) = (dev(40), dev(2560));
        // sqrt(2560/40) = 8: demand at least a factor 3 and an absolute 0.01.
        assert!(large < small / 3.0 && large < 0.01, "{d:?}: deviation {small} at n = 40, {large} at n = 2560");
    }
}

#[test]
fn bad_distributions_are_rejected() {
    for s in ["gauss:0.1", "uniform:0.4,0.2", "two-point:0.1,0.7,0.5", "beta:0.5,2", "uniform:a,b"] {
        let e = RhoDistribution::parse(s).unwrap_err().to_string();
        assert!(e.contains("rho_distribution") && e.contains("uniform:lo,hi"), "{s}: {e}");
    }
}

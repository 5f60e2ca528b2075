//! Model T with a head and weight decay (issue 10): the channel reduction
//! is exact, the non-collapsed fixed point is stable in the full head ODE,
//! `f_c` agrees between fixed-point existence, the engine's fold
//! continuation and the closed form, and online SGD keeps (below `f_c`) or
//! loses (above) the separation the theory predicts. Also the fast-phase
//! fix of the head-free theory.
use repcollapse::engine::{classify, StabilityOptions, VectorField};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::experiment::HeadExperiment;
use repcollapse::models::teacher::head::theory::head_ode_from_config;
use repcollapse::models::teacher::head::reduced::channel::{channel_fixed_points, critical_frustration, engine_boundary, engine_fold, lift, Channel, HeadChannel, NoBranch};
use repcollapse::models::teacher::online::theory::TeacherTheory;

use crate::support::jacobian::{central_jacobian, central_param_derivative};

fn cfg(sets: &[&str]) -> TeacherConfig {
    TeacherConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

/// Closed-form `f_c` of the symmetric head, mixture teacher (`docs/teacher.md` section 5):
/// `phi_c = 1 - sqrt(lambda) (1 + 1/sqrt(c0))`, `c0 = a^2/K + sigma^2`, `f = phi (K-1)/K`.
/// The code never evaluates this formula; it solves the head quadratic or continues the field.
fn fc_symmetric(k: f64, a: f64, sigma: f64, lam: f64) -> f64 {
    // Mixture: separating eigenvalue of M is (a/K)(1 - phi); fold at sqrt(K) m = sqrt(lambda) (1 + sqrt(c0)).
    let c0 = a * a / k + sigma * sigma;
    let one_minus_phi = lam.sqrt() * (1.0 + c0.sqrt()) * k.sqrt() / a;
    (1.0 - one_minus_phi) * (k - 1.0) / k
}

/// Asymmetric head: `K m^2 = 2 (1 + lambda) sqrt(c0 lambda)`.
fn fc_asymmetric(k: f64, a: f64, sigma: f64, lam: f64) -> f64 {
    let c0 = a * a / k + sigma * sigma;
    let km2 = 2.0 * (1.0 + lam) * (c0 * lam).sqrt();
    let one_minus_phi = (km2 / k).sqrt() / (a / k);
    (1.0 - one_minus_phi) * (k - 1.0) / k
}

#[test]
fn channel_field_lifts_exactly_to_the_head_ode() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for (head, k, d) in [("symmetric", 3, 3), ("asymmetric", 4, 5), ("symmetric", 4, 3)] {
        let c = cfg(&[&format!("head=\"{head}\""), &format!("classes={k}"), &format!("dim={d}"), "sigma=0.3", "weight_decay=0.07", "eta_x=0.7", "eta_w=0.4", "teacher=\"argmax\""]);
        let ode = head_ode_from_config(&c).unwrap();
        let sep = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
        let com = HeadChannel::new(&c, Channel::Common, [0.0; 4]).unwrap();
        for _ in 0..3 {
            let mut s = [0.0; 4];
            let mut m = [0.0; 4];
            s.iter_mut().chain(m.iter_mut()).for_each(|v| *v = rng.random_range(-1.0..1.0));
            // `d = K - 1` has no common axis: the common channel must be zero there.
            if d < k {
                m = [0.0; 4];
            }
            let (mut fs, mut fm) = ([0.0; 4], [0.0; 4]);
            sep.rhs(&s, &sep.params, &mut fs);
            com.rhs(&m, &com.params, &mut fm);
            let x = lift(&ode, s, m);
            let mut f = vec![0.0; ode.dim()];
            ode.rhs(&x, &ode.params, &mut f);
            let expect = lift(&ode, fs, if d < k { [0.0; 4] } else { fm });
            for i in 0..f.len() {
                // Both are sums of O(1) products: agreement to round-off.
                assert!((f[i] - expect[i]).abs() < 1e-12, "{head} K={k} d={d}: component {i}: {} vs {}", f[i], expect[i]);
            }
        }
    }
}

#[test]
fn channel_jacobian_and_parameter_derivatives_are_exact() {
    for head in ["symmetric", "asymmetric"] {
        let c = cfg(&[&format!("head=\"{head}\""), "sigma=0.3", "weight_decay=0.07", "eta_x=0.7", "eta_w=0.4"]);
        for ch in [Channel::Separating, Channel::Common] {
            let sys = HeadChannel::new(&c, ch, [0.0; 4]).unwrap();
            let p = sys.params.clone();
            let x = [0.7, -0.4, 0.9, 0.3];
            let mut jac = faer::Mat::<f64>::zeros(4, 4);
            sys.jacobian(&x, &p, jac.as_mut());
            // Central differences of a polynomial of degree 4: error h^2 * O(1) = 1e-10.
            let central = central_jacobian(&sys, &x, &p, |_| 1e-5);
            for j in 0..4 {
                for i in 0..4 {
                    let fd = central[i][j];
                    assert!((jac[(i, j)] - fd).abs() < 1e-7, "{head} {ch:?}: J[{i},{j}] = {} vs {fd}", jac[(i, j)]);
                }
            }
            let mut dp = [0.0; 4];
            for kk in 0..p.len() {
                sys.param_derivative(&x, &p, kk, &mut dp);
                let central = central_param_derivative(&sys, &x, &p, kk, |v| 1e-5 * (1.0 + v.abs()));
                for i in 0..4 {
                    let fd = central[i];
                    assert!((dp[i] - fd).abs() < 1e-7 * (1.0 + fd.abs()), "{head} {ch:?}: dF[{i}]/dp[{kk}] = {} vs {fd}", dp[i]);
                }
            }
        }
    }
}

#[test]
fn regularised_fixed_point_is_stable_in_the_full_head_ode_and_reached() {
    for (head, lam, f) in [("symmetric", 0.05, 0.1), ("symmetric", 0.1, 0.18), ("asymmetric", 0.05, 0.1)] {
        let c = cfg(&[&format!("head=\"{head}\""), &format!("weight_decay={lam}"), &format!("label_noise={f}")]);
        let sep = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
        let com = HeadChannel::new(&c, Channel::Common, [0.0; 4]).unwrap();
        let s = channel_fixed_points(&sep, &sep.params).unwrap()[0];
        let m = channel_fixed_points(&com, &com.params).unwrap()[0];
        assert_eq!(s.branch, "w+");
        let ode = head_ode_from_config(&c).unwrap();
        let x = lift(&ode, s.state, m.state);
        let mut fx = vec![0.0; x.len()];
        ode.rhs(&x, &ode.params, &mut fx);
        let res = fx.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(res < 1e-12, "{head}: closed-form point is not a fixed point of the full ODE: |F| = {res}");
        let rep = classify(&ode, &x, &ode.params, &StabilityOptions::default()).unwrap();
        assert!(matches!(rep.stability, repcollapse::engine::Stability::StableNode | repcollapse::engine::Stability::StableFocus), "{head}: {:?}", rep.stability);
        // d = 3: three rotation generators, all attributed.
        assert_eq!((rep.zero_modes, rep.unexplained_zero_modes), (3, 0), "{head}");
        // Without the common channel the lift is a saddle: the common w+ is part of the attractor.
        let x0 = lift(&ode, s.state, [0.0; 4]);
        let rep0 = classify(&ode, &x0, &ode.params, &StabilityOptions::default()).unwrap();
        assert_eq!(rep0.stability, repcollapse::engine::Stability::Saddle, "{head}: common channel off");
    }
    // The trajectory from the config's random initial state reaches it.
    let c = cfg(&["head=\"symmetric\"", "weight_decay=0.05", "t_max=600"]);
    let v = repcollapse::models::teacher::head::theory::head_theory_json(&c, 4).unwrap();
    let reached = v["fixed_points"].as_array().unwrap().iter().find(|p| p["reached_from_initial_state"] == true).expect("trajectory settles");
    assert_eq!(reached["kind"], "non-collapsed");
    let sep = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
    let y = channel_fixed_points(&sep, &sep.params).unwrap()[0].state[1];
    let ode_sep = v["trajectory"].as_array().unwrap().last().unwrap()["min_label_distance"].as_f64().unwrap();
    assert!((ode_sep - std::f64::consts::SQRT_2 * y).abs() < 1e-6, "{ode_sep} vs sqrt(2) y = {}", std::f64::consts::SQRT_2 * y);
}

#[test]
fn without_weight_decay_there_is_no_non_collapsed_fixed_point() {
    let c = cfg(&["head=\"symmetric\""]);
    let sep = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
    assert_eq!(channel_fixed_points(&sep, &sep.params).unwrap_err(), NoBranch::Runaway);
    // Weak decay: the runaway survives at f = 0.1 (lambda = 0.02), strong enough decay stops it.
    let c = cfg(&["head=\"symmetric\"", "weight_decay=0.02"]);
    let sep = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
    assert_eq!(channel_fixed_points(&sep, &sep.params).unwrap_err(), NoBranch::Runaway);
    let c = cfg(&["head=\"symmetric\"", "weight_decay=0.03"]);
    let sep = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
    assert!(channel_fixed_points(&sep, &sep.params).is_ok());
}

#[test]
fn critical_frustration_from_existence_fold_continuation_and_closed_form_agree() {
    for (head, k, a, sigma, lam) in [("symmetric", 3, 1.5, 0.0, 0.05), ("symmetric", 4, 2.0, 0.3, 0.08), ("asymmetric", 3, 1.5, 0.0, 0.05), ("asymmetric", 4, 2.0, 0.0, 0.1)] {
        let c = cfg(&[&format!("head=\"{head}\""), &format!("classes={k}"), &format!("dim={k}"), &format!("a={a}"), &format!("sigma={sigma}"), &format!("weight_decay={lam}")]);
        let sys = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
        let (fe, why) = critical_frustration(&sys, &sys.params).unwrap().expect("branch ends");
        assert_eq!(why, NoBranch::Fold, "{head} K={k}");
        let ff = engine_fold(&sys, &sys.params).unwrap().expect("engine finds the fold").param;
        let closed = if head == "symmetric" { fc_symmetric(k as f64, a, sigma, lam) } else { fc_asymmetric(k as f64, a, sigma, lam) };
        // Bisection to 1e-12 and Newton-located fold: both essentially exact.
        assert!((fe - closed).abs() < 1e-9, "{head} K={k}: existence {fe} vs closed form {closed}");
        assert!((ff - closed).abs() < 1e-8, "{head} K={k}: engine fold {ff} vs closed form {closed}");
    }
    let c = cfg(&["head=\"symmetric\"", "weight_decay=0.05"]);
    let sys = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
    let curve = engine_boundary(&sys, &sys.params, 0.01, 0.15, 0.02).unwrap();
    assert!(curve.points.len() > 10);
    for pt in &curve.points {
        let closed = fc_symmetric(3.0, 1.5, 0.0, pt.p2);
        assert!((pt.p1 - closed).abs() < 1e-6, "fold curve at lambda = {}: {} vs {closed}", pt.p2, pt.p1);
    }
}

#[test]
fn sgd_keeps_the_regularised_fixed_point_below_fc_and_collapses_above() {
    // Below f_c = 0.3455 (lambda = 0.05): SGD at D = 400 settles at the
    // theory's label distance. Tolerance 4%: the measured finite-D offset is
    // 1-2% at D = 400-500 (1.599 [1.574, 1.623] vs 1.613) plus the seed scatter.
    let c = cfg(&["head=\"symmetric\"", "weight_decay=0.05", "label_noise=0.1", "input_dim=400", "t_max=400", "points=10", "seeds=4"]);
    let sep = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
    let theory = std::f64::consts::SQRT_2 * channel_fixed_points(&sep, &sep.params).unwrap()[0].state[1];
    let e = HeadExperiment::run(&c).unwrap();
    let last = e.runs[0].times.len() - 1;
    let sim = e.metric_at(last, false, |m| m.base.min_label_distance);
    assert!((sim.mean - theory).abs() < 0.04 * theory, "SGD {} vs fixed point {theory}", sim.mean);
    assert_eq!(e.collapsed_fraction(), 0.0);
    // Above f_c: the labels contract towards the (stable) origin.
    let c = cfg(&["head=\"symmetric\"", "weight_decay=0.05", "label_noise=0.45", "input_dim=200", "t_max=600", "points=10", "seeds=4"]);
    let e = HeadExperiment::run(&c).unwrap();
    let last = e.runs[0].times.len() - 1;
    let peak = (0..=last).map(|k| e.metric_at(k, false, |m| m.base.min_label_distance).mean).fold(0.0, f64::max);
    let end = e.metric_at(last, false, |m| m.base.min_label_distance).mean;
    assert!(end < 0.02 * peak, "above f_c: final {end} vs peak {peak}");
}

#[test]
fn fast_phase_is_defined_by_the_separating_modes() {
    // The example: the common block's slow rate (0.052) is far
    // below the separating fast rate (1.61); it used to end the fast phase
    // at t = 96 > t_max, leaving no fit window.
    let c = cfg(&["a=1.8", "sigma=0.4", "label_noise=0.05", "eta_x=0.9", "eta_y=0.6"]);
    let th = TeacherTheory::from_config(&c).unwrap();
    assert!(th.rates.common.0 < th.rates.separating.0, "the example has a slow common mode");
    assert_eq!(th.fast_rate(), th.rates.separating.1);
    let v = th.to_json().unwrap();
    let t_fast = v["fast_phase_end"].as_f64().unwrap();
    assert!(t_fast < 5.0, "fast phase ends at {t_fast}");
    let fitted = v["fitted_slow_rate_ode"].as_f64().expect("a fit window exists");
    // The separation decays at the separating slow rate (0.106); the fit
    // starts after 5 fast e-folds, leaving a ~e^-5 admixture of fast modes.
    assert!((fitted - th.slow_rate()).abs() < 0.02 * th.slow_rate(), "fitted {fitted} vs slow rate {}", th.slow_rate());
    let ratio = v["separation_ratio_final"].as_f64().unwrap();
    assert!(ratio < 0.1, "separation ratio {ratio}: the separation falls ~40-fold after the fast phase");
}

use crate::support::bin::json as run_cli;

#[test]
fn cli_reports_stability_critical_frustration_and_collapse() {
    let v = run_cli(&["theory", "teacher-student", "--set", "head=\"symmetric\"", "--set", "weight_decay=0.05", "--set", "t_max=400", "--json"]);
    let fps = v["fixed_points"].as_array().unwrap();
    assert!(fps.iter().all(|p| p["stability"].is_string()));
    assert!(fps.iter().any(|p| p["kind"] == "non-collapsed" && p["stability"].as_str().unwrap().starts_with("stable")));
    let c = &v["critical_frustration"];
    let (fe, ff) = (c["existence"].as_f64().unwrap(), c["engine_fold"].as_f64().unwrap());
    assert!((fe - ff).abs() < 1e-8 && (fe - fc_symmetric(3.0, 1.5, 0.0, 0.05)).abs() < 1e-8, "{c}");
    assert_eq!(c["branch_ends_by"], "fold");
    // Without weight decay: no critical frustration (there is no branch to end).
    let v = run_cli(&["theory", "teacher-student", "--set", "head=\"symmetric\"", "--set", "t_max=50", "--json"]);
    assert!(v["critical_frustration"].is_null());
    assert_eq!(v["channel_fixed_point"]["separating"]["none_because"], "runaway");
    // simulate: a collapsed verdict for the head-free student (f = 0.3 collapses by t = 200) and the head.
    let v = run_cli(&["simulate", "teacher-student", "--set", "label_noise=0.3", "--set", "t_max=200", "--set", "input_dim=100", "--set", "seeds=2", "--json"]);
    assert_eq!(v["collapsed"], true, "{}", v["collapsed_fraction"]);
    let v = run_cli(&["simulate", "teacher-student", "--set", "head=\"symmetric\"", "--set", "weight_decay=0.05", "--set", "t_max=100", "--set", "input_dim=100", "--set", "seeds=2", "--json"]);
    assert_eq!(v["collapsed"], false);
}

//! Model E: closed forms of the frustration operator, the class-level
//! spectrum, and agreement of slow rates from independent routes.
use repcollapse::engine::{integrate, Grid, IntegrateOptions, Method};
use repcollapse::engine::jacobian_eigenvalues;
use repcollapse::engine::VectorField;
use repcollapse::models::embedding::config::EmbeddingConfig;
use repcollapse::models::common::frustration::{Design, FrustrationOperator, LabelWeights, Pairing};
use repcollapse::stats::fit_decay_rate;
use repcollapse::models::embedding::experiment::EmbeddingExperiment;
use repcollapse::models::embedding::studies::slow_rate::gd_rate;
use repcollapse::models::embedding::reduced::class_level::ClassLevelSystem;
use repcollapse::models::embedding::reduced::simplex::SimplexSystem;

fn design(k: usize, n: usize, f: f64, rho: f64, pairing: Pairing) -> LabelWeights {
    LabelWeights::from_design(&Design { classes: k, per_class: n, frustrated: f, rho, pairing, seed: 3 }).unwrap()
}

fn cfg(sets: &[&str]) -> EmbeddingConfig {
    EmbeddingConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn balanced_m_matches_closed_form() {
    // f n = 15 frustrated per class, divisible by K-1 = 3: exactly balanced.
    let (k, f, rho) = (4usize, 0.25, 0.3);
    let m = FrustrationOperator::new(&design(k, 60, f, rho, Pairing::Balanced)).unwrap();
    let g = 2.0 * f * rho * (1.0 - rho);
    for a in 0..k {
        for b in 0..k {
            let want = if a == b { 1.0 - g } else { g / (k as f64 - 1.0) };
            assert!((m.matrix[a][b] - want).abs() < 1e-13, "M[{a}][{b}] = {} vs {want}", m.matrix[a][b]);
        }
    }
    let phi = g * k as f64 / (k as f64 - 1.0);
    assert!((m.frustration_index - phi).abs() < 1e-13);
    for mu in &m.spectrum[1..] {
        assert!((mu - (1.0 - phi)).abs() < 1e-12, "degenerate non-unit eigenvalue expected");
    }
}

#[test]
fn ring_m_spectrum_matches_fourier_modes() {
    let (k, f, rho) = (6usize, 0.2, 0.4);
    let m = FrustrationOperator::new(&design(k, 50, f, rho, Pairing::Ring)).unwrap();
    let g = f * rho * (1.0 - rho);
    // M = (1 - 2g) I + g (P + P^T): eigenvalues 1 - 2g (1 - cos(2 pi j / K)).
    let mut want: Vec<f64> =
        (0..k).map(|j| 1.0 - 2.0 * g * (1.0 - (2.0 * std::f64::consts::PI * j as f64 / k as f64).cos())).collect();
    want.sort_by(|a, b| b.total_cmp(a));
    for (got, w) in m.spectrum.iter().zip(&want) {
        assert!((got - w).abs() < 1e-12, "{got} vs {w}");
    }
    let phi = 2.0 * g * (1.0 - (2.0 * std::f64::consts::PI / k as f64).cos());
    assert!((m.frustration_index - phi).abs() < 1e-12);
}

#[test]
fn simplex_spectrum_is_part_of_class_level_spectrum() {
    let (k, f, rho, ex, ey) = (4usize, 0.25, 0.35, 1.3, 0.7);
    let sys = ClassLevelSystem::new(&design(k, 60, f, rho, Pairing::Balanced), ex, ey, 1).unwrap();
    let spec = sys.spectrum().unwrap();
    let simplex = SimplexSystem::new(f, rho, k, ex, ey);
    let ev = jacobian_eigenvalues(&simplex, &simplex.initial_state(), &simplex.default_params()).unwrap();
    for e in ev {
        assert!(e.im.abs() < 1e-12);
        let rate = -e.re;
        assert!(
            spec.modes.iter().any(|m| (m.rate - rate).abs() < 1e-10),
            "simplex rate {rate} missing from class-level spectrum {:?}",
            spec.modes
        );
    }
    // The simplex system's slowest rate is the separating slow rate.
    let slowest = simplex_slowest(&simplex);
    assert!((slowest - spec.slow_rate).abs() < 1e-10);
}

fn simplex_slowest(s: &SimplexSystem) -> f64 {
    let ev = jacobian_eigenvalues(s, &s.initial_state(), &s.default_params()).unwrap();
    ev.iter().map(|e| -e.re).fold(f64::INFINITY, f64::min)
}

#[test]
fn slow_rate_first_order_in_phi() {
    // slow = phi eta_x eta_y / (eta_x + eta_y) + O(phi^2): the ratio error must shrink linearly in phi.
    let (ex, ey) = (1.0, 2.0);
    let mut prev = f64::INFINITY;
    for f in [0.2, 0.1, 0.05, 0.025] {
        let s = SimplexSystem::new(f, 0.5, 5, ex, ey);
        let phi = 2.0 * f * 0.25 * 5.0 / 4.0;
        let rel = simplex_slowest(&s) / (phi * ex * ey / (ex + ey)) - 1.0;
        assert!(rel.abs() < prev, "relative error must shrink with phi");
        assert!(rel.abs() < 0.6 * phi, "O(phi) correction: {rel} at phi {phi}");
        prev = rel.abs();
    }
}

#[test]
fn no_frustration_means_no_collapse() {
    let sys = ClassLevelSystem::new(&design(5, 20, 0.0, 0.5, Pairing::Balanced), 1.0, 3.0, 1).unwrap();
    let spec = sys.spectrum().unwrap();
    assert_eq!(spec.slow_rate, 0.0);
    assert!(!spec.collapses() && spec.collapse_time().is_none());
    // K conserved centres of mass: zero eigenvalue with multiplicity K.
    assert_eq!(spec.modes[0].rate, 0.0);
    assert_eq!(spec.modes[0].multiplicity, 5);
    assert_eq!(sys.components().len(), 5);
}

#[test]
fn ode_solver_matches_closed_form_solution() {
    let a = design(3, 20, 0.3, 0.4, Pairing::Uniform);
    let sys = ClassLevelSystem::new(&a, 1.0, 0.5, 2).unwrap();
    let z0: Vec<f64> = (0..sys.dim()).map(|i| ((i * 7 + 3) as f64).sin()).collect();
    let times = vec![0.0, 0.3, 3.0, 30.0, 120.0];
    let opts = IntegrateOptions { method: Method::Dop853, rtol: 1e-11, atol: 1e-13, t_max: 120.0, grid: Grid::Times(times.clone()), max_steps: 1_000_000, max_seconds: f64::INFINITY };
    let traj = integrate(&sys, &z0, &sys.default_params_vec(), &opts).unwrap();
    for (t, z) in traj.t.iter().zip(&traj.states) {
        let exact = sys.evolve_exact(&z0, *t).unwrap();
        let scale = exact.iter().map(|v| v.abs()).fold(1e-300, f64::max);
        let err = z.iter().zip(&exact).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        assert!(err < 1e-8 * scale.max(1.0), "t = {t}: error {err}");
    }
}

/// Slow rate by three independent routes: (1) the smallest separating
/// eigenvalue of the class-level operator, (2) a log-linear fit to the
/// integrated class-level ODE, (3) a log-linear fit to the simulated
/// microscopic gradient descent. Route 3 decays at the discrete-time rate
/// `-ln(1 - dt lambda)/dt`, which differs from lambda by `dt lambda^2 / 2`;
/// the remaining tolerance (0.3%) covers fast-mode contamination in the fit
/// window (exp(-5) of a fast mode at its start, decaying thereafter).
#[test]
fn slow_rate_three_routes_agree() {
    let c = cfg(&["classes=4", "per_class=30", "dim=4", "frustrated=0.2", "rho=0.4", "eta_y=0.5", "seeds=3", "dt=0.02", "t_max=250", "points=40"]);
    let exp = EmbeddingExperiment::run(&c, false).unwrap();
    let eig = exp.spectrum.slow_rate;
    assert!(eig > 0.0);
    let ode = exp.fitted_rate_theory().unwrap().mean;
    let sim = exp.fitted_rate().unwrap();
    assert!((ode / eig - 1.0).abs() < 3e-3, "ODE fit {ode} vs eigenvalue {eig}");
    let discrete = gd_rate(eig, c.dt);
    assert!((sim.mean / discrete - 1.0).abs() < 3e-3, "simulation fit {} vs discrete-time theory {discrete}", sim.mean);
    // And the raw fit is within the O(dt) bias of the flow rate.
    assert!((sim.mean / eig - 1.0).abs() < 3e-3 + c.dt * eig);
    // Theory curve and simulation agree pointwise to O(dt).
    assert!(exp.max_relative_error() < 0.05, "max relative error {}", exp.max_relative_error());
}

#[test]
fn gd_converges_to_theory_linearly_in_dt() {
    let err = |dt: f64| {
        let c = cfg(&["classes=3", "per_class=12", "dim=3", "frustrated=0.25", "seeds=2", "t_max=60", "points=30", &format!("dt={dt}")]);
        EmbeddingExperiment::run(&c, false).unwrap().max_relative_error()
    };
    let (e1, e2) = (err(0.1), err(0.05));
    let order = (e1 / e2).log2();
    assert!((order - 1.0).abs() < 0.15, "expected first order, got {order} ({e1} -> {e2})");
}

#[test]
fn fit_recovers_rate_of_closed_form_curve() {
    let sys = ClassLevelSystem::new(&design(3, 24, 0.25, 0.5, Pairing::Balanced), 1.0, 1.0, 1).unwrap();
    let lam = sys.spectrum().unwrap().slow_rate;
    let z0 = sys.initial_state();
    let t: Vec<f64> = (0..60).map(|k| k as f64).collect();
    let sep: Vec<f64> = t.iter().map(|&tt| sys.label_distances(&sys.evolve_exact(&z0, tt).unwrap()).0).collect();
    let fit = fit_decay_rate(&t, &sep, 10.0, 59.0).unwrap();
    assert!((fit / lam - 1.0).abs() < 1e-3);
}

/// The 4-variable reduction, integrated on its own, against the exact
/// class-level system integrated from the lifted (simplex-symmetric) state.
#[test]
fn simplex_reduction_reproduces_class_level_dynamics() {
    let (k, f, rho, ex, ey) = (4usize, 0.25, 0.3, 1.0, 0.6);
    let sys = ClassLevelSystem::new(&design(k, 60, f, rho, Pairing::Balanced), ex, ey, k).unwrap();
    let simplex = SimplexSystem::new(f, rho, k, ex, ey);
    let z4 = [0.2, -0.1, 0.3, 1.0];
    let times = vec![0.0, 0.5, 2.0, 10.0, 40.0];
    let opts = IntegrateOptions { method: Method::Dop853, rtol: 1e-11, atol: 1e-14, t_max: 40.0, grid: Grid::Times(times), max_steps: 1_000_000, max_seconds: f64::INFINITY };
    let small = integrate(&simplex, &z4, &simplex.default_params(), &opts).unwrap();
    let big = integrate(&sys, &repcollapse::models::embedding::reduced::simplex::lift(&z4, &sys), &sys.default_params_vec(), &opts).unwrap();
    for ((t, s4), zc) in small.t.iter().zip(&small.states).zip(&big.states) {
        let want = s4[3].abs() * SimplexSystem::vertex_distance(k as f64);
        let got = sys.label_distances(zc).0;
        assert!((got / want - 1.0).abs() < 1e-8, "t = {t}: class-level {got} vs simplex {want}");
        let lifted = repcollapse::models::embedding::reduced::simplex::lift(s4, &sys);
        let err = lifted.iter().zip(zc).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        assert!(err < 1e-8, "t = {t}: full state differs by {err}");
    }
}

/// Fixed points of the class-level system: with frustration, one collapsed
/// family (the global centre of mass), stable, its single zero mode
/// attributed to the conserved centre; without frustration a K-dimensional
/// family of separated states, stable (not marginal), K zero modes.
#[test]
fn fixed_points_are_classified_and_zero_modes_attributed() {
    use repcollapse::engine::{find_fixed_points, FixedPointOptions, InvariantKind, Stability};
    for (f, k) in [(0.25, 3usize), (0.0, 4)] {
        let sys = ClassLevelSystem::new(&design(k, 12, f, 0.5, Pairing::Balanced), 1.0, 0.7, 1).unwrap();
        let fps = find_fixed_points(&sys, &sys.default_params_vec(), &FixedPointOptions { starts: 8, seed: 1, ..Default::default() }).unwrap();
        assert_eq!(fps.len(), 1, "one family expected, got {}", fps.len());
        let r = &fps[0].report;
        assert_eq!(r.stability, Stability::StableNode);
        assert_eq!(r.unexplained_zero_modes, 0);
        let expected_zero = if f > 0.0 { 1 } else { k };
        assert_eq!(r.zero_modes, expected_zero);
        assert_eq!(r.family_dimension, expected_zero);
        assert!(r.attributed.iter().all(|a| a.kind == InvariantKind::Conservation || a.kind == InvariantKind::Symmetry));
        assert_eq!(r.attributed.len(), expected_zero);
        // Non-zero eigenvalues are minus the non-zero rates of L.
        let spec = sys.spectrum().unwrap();
        let slowest_nonzero = r.eigenvalues.iter().map(|e| -e.re).filter(|x| *x > 1e-9).fold(f64::INFINITY, f64::min);
        let want = spec.modes.iter().map(|m| m.rate).filter(|x| *x > 0.0).fold(f64::INFINITY, f64::min);
        assert!((slowest_nonzero - want).abs() < 1e-9);
        let (min_dist, _) = sys.label_distances(&fps[0].state);
        if f > 0.0 {
            assert!(min_dist < 1e-8, "frustrated fixed point must be collapsed");
        }
    }
}

/// `repcollapse export embedding` writes the 4-variable system as a model
/// file; parsed back by the symbolic engine it must have the native
/// system's right-hand side, Jacobian spectrum and parameter derivatives.
#[test]
fn exported_model_file_reproduces_native_simplex_system() {
    use repcollapse::symbolic::SymbolicModel;
    let c = cfg(&["classes=5", "frustrated=0.3", "rho=0.35", "eta_x=1.2", "eta_y=0.8"]);
    let text = repcollapse::models::embedding::export::model_file(&c);
    let sym = SymbolicModel::from_toml_str(&text, "exported.toml").unwrap();
    let native = SimplexSystem::new(0.3, 0.35, 5, 1.2, 0.8);
    let p = native.default_params();
    assert_eq!(sym.default_params(), p);
    assert_eq!(sym.state_names(), native.state_names());
    let z = [0.3, -0.2, 0.7, 1.1];
    let (mut a, mut b) = ([0.0; 4], [0.0; 4]);
    sym.rhs(&z, &p, &mut a);
    native.rhs(&z, &p, &mut b);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-14);
    }
    for k in 0..5 {
        sym.param_derivative(&z, &p, k, &mut a);
        native.param_derivative(&z, &p, k, &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-12, "d/d{}: {x} vs {y}", native.param_names()[k]);
        }
    }
    let es = jacobian_eigenvalues(&sym, &z, &p).unwrap();
    let en = jacobian_eigenvalues(&native, &z, &p).unwrap();
    for (x, y) in es.iter().zip(&en) {
        assert!((x.re - y.re).abs() < 1e-12 && (x.im - y.im).abs() < 1e-12);
    }
}

//! Floquet multipliers by the periodic QR over the condensed interval
//! transition matrices (`engine::cycles::periodic_qr`), on cycles whose
//! small multipliers lie far below the round-off `eps |M|` of the formed
//! monodromy matrix, against an independent computation: Liouville's
//! formula `prod mu_i = det M = exp(int_0^T tr J(u(t)) dt)`, with the
//! integral of the trace from the project's DOP853 at rtol 1e-13 along the
//! cycle (and, in 3D, the other multipliers from the variational equations).
use repcollapse::engine::cycles::collocation::CollocationSystem;
use repcollapse::engine::{
    integrate, orbit_from_trajectory, solve_orbit, sorted_eigenvalues, Grid, IntegrateOptions, Method, Multipliers, OrbitOptions, PeriodicOrbit,
};
use repcollapse::symbolic::SymbolicModel;

/// `int_0^T tr J dt` along `orbit` from its node 0: the model `augmented`
/// is the field with one more state `s' = tr J`, integrated by DOP853.
fn trace_integral(augmented: &SymbolicModel, orbit: &PeriodicOrbit, extra_init: &[f64]) -> (f64, Vec<f64>) {
    let mut x0 = orbit.node(0).to_vec();
    x0.extend_from_slice(extra_init);
    let t = orbit.period;
    let opts = IntegrateOptions { method: Method::Dop853, rtol: 1e-13, atol: 1e-15, t_max: t, grid: Grid::Times(vec![t]), ..IntegrateOptions::default() };
    let end = integrate(augmented, &x0, &orbit.params, &opts).unwrap().states.pop().unwrap();
    (end[orbit.dim], end)
}

/// The multipliers of the formed product `M = Phi_{N-1} ... Phi_0`, as
/// computed before the periodic QR.
fn formed_product_multipliers(field: &SymbolicModel, orbit: &PeriodicOrbit) -> Multipliers {
    let mut sys = CollocationSystem::new(field, orbit, None);
    let z = sys.pack(orbit);
    Multipliers::from_monodromy(&sys.monodromy(&z)).unwrap()
}

/// Van der Pol at mu = 10: the non-trivial multiplier is
/// `exp(int mu (1 - x^2) dt) ~ 3.7e-136`. The formed product gives
/// round-off (~1e-18); the periodic QR gives the multiplier of the
/// discrete system, which on this mesh is NOT the flow's: Gauss collocation
/// is A-stable but not L-stable (its stability function, the (m, m) Padé
/// approximant of `e^z`, tends to `(-1)^m` as `z -> -inf`), so on the
/// coarse intervals of the slow branches, where `h T |tr J|` reaches ~10,
/// the discrete flow contracts far less than `e^{h T tr J}`. Observed with
/// N = 120, m = 5: 1.7e-49 against 3.7e-136. So this test checks only what
/// the periodic QR fixes (a value far below round-off, and positive); the
/// comparison with Liouville's formula is made on the Rössler cycle below,
/// whose intervals are not stiff.
#[test]
fn van_der_pol_mu_10_tiny_multiplier() {
    let vdp = SymbolicModel::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/van-der-pol.toml")).unwrap();
    let augmented = SymbolicModel::from_toml_str(
        "name = \"vdp-trace\"\n[parameters]\nmu = 10.0\n[state]\nx = 2.0\ny = 0.0\ns = 0.0\n[equations]\nx = \"y\"\ny = \"mu*(1 - x^2)*y - x\"\ns = \"mu*(1 - x^2)\"\n",
        "test",
    )
    .unwrap();
    let p = [10.0];
    let opts = OrbitOptions { ntst: 120, ncol: 5, adapt: 3, ..OrbitOptions::default() };
    let guess = orbit_from_trajectory(&vdp, &[2.0, 0.0], &p, 120.0, 1100.0, &opts).unwrap();
    let cycle = solve_orbit(&vdp, &guess, &opts).unwrap();
    let (integral, _) = trace_integral(&augmented, &cycle.orbit, &[0.0]);
    let liouville = integral.exp();
    let mu = cycle.multipliers.nontrivial().next().unwrap();
    let plain = formed_product_multipliers(&vdp, &cycle.orbit);
    let mu_plain = plain.nontrivial().next().unwrap();
    eprintln!("int tr J = {integral}, Liouville {liouville:e}, periodic QR {mu}, formed product {mu_plain}, trivial {}", cycle.multipliers.trivial_error());
    assert!(mu.im == 0.0 && mu.re > 0.0 && mu.re < 1e-40, "periodic QR {mu}");
    // Liouville's value is below the discrete one (less contraction), never above.
    assert!(mu.re > liouville);
    // The formed product cannot resolve it: its second eigenvalue is
    // round-off of size eps |M|.
    assert!(mu_plain.norm() > 1e-25, "formed product {mu_plain}");
}

/// Rössler at a = b = 0.2, c = 5.7 (the period-1 cycle of ChaosBook's
/// Rössler page, cns.physics.gatech.edu/ChaosBook/extras/simon/Roessler.html,
/// which prints the multipliers 1.000000003, -2.403953527, -0.1836169064e-10):
/// the small multiplier from Liouville, `mu_3 = exp(int (a + x - c) dt) / (mu_1 mu_2)`,
/// with `mu_1 mu_2` from the variational equations integrated by DOP853.
#[test]
fn rossler_small_multiplier() {
    let m = SymbolicModel::from_toml_str(
        "name = \"rossler\"\n[parameters]\na = 0.2\nb = 0.2\nc = 5.7\n[state]\nx = 1.0\ny = 1.0\nz = 0.0\n[equations]\nx = \"-y - z\"\ny = \"x + a*y\"\nz = \"b + z*(x - c)\"\n",
        "test",
    )
    .unwrap();
    let mut s = String::from("name = \"rossler-var\"\n[parameters]\na = 0.2\nb = 0.2\nc = 5.7\n[state]\nx = 1.0\ny = 1.0\nz = 0.0\ns = 0.0\n");
    for i in 1..=3 {
        for j in 1..=3 {
            s += &format!("p{i}{j} = 0.0\n");
        }
    }
    s += "[equations]\nx = \"-y - z\"\ny = \"x + a*y\"\nz = \"b + z*(x - c)\"\ns = \"a + x - c\"\n";
    for j in 1..=3 {
        s += &format!("p1{j} = \"-p2{j} - p3{j}\"\np2{j} = \"p1{j} + a*p2{j}\"\np3{j} = \"z*p1{j} + (x - c)*p3{j}\"\n");
    }
    let augmented = SymbolicModel::from_toml_str(&s, "test").unwrap();
    let opts = OrbitOptions { ntst: 100, ncol: 4, adapt: 3, ..OrbitOptions::default() };
    // The period-1 cycle is unstable at c = 5.7: guess from the stable one
    // at c = 2.5, then continue the parameter by solves in small steps.
    let mut orbit = orbit_from_trajectory(&m, &[1.0, 1.0, 0.0], &[0.2, 0.2, 2.5], 300.0, 100.0, &opts).unwrap();
    let mut cycle = None;
    for k in 0..=32 {
        orbit.params[2] = 2.5 + (5.7 - 2.5) * k as f64 / 32.0;
        let c = solve_orbit(&m, &orbit, &opts).unwrap();
        orbit = c.orbit.clone();
        cycle = Some(c);
    }
    let cycle = cycle.unwrap();
    let (integral, end) = trace_integral(&augmented, &cycle.orbit, &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    let mono = faer::Mat::<f64>::from_fn(3, 3, |i, j| end[4 + 3 * i + j]);
    let var = sorted_eigenvalues(&mono).unwrap();
    let mut big: Vec<f64> = var.iter().filter(|z| z.norm() > 1e-3).map(|z| z.re).collect();
    big.sort_by(f64::total_cmp);
    let small_liouville = integral.exp() / (big[0] * big[1]);
    let small = cycle.multipliers.all.iter().min_by(|a, b| a.norm().total_cmp(&b.norm())).unwrap();
    let plain = formed_product_multipliers(&m, &cycle.orbit);
    let small_plain = plain.all.iter().min_by(|a, b| a.norm().total_cmp(&b.norm())).unwrap();
    eprintln!("Rössler c = 5.7: int tr J = {integral}, big {big:?}, Liouville small {small_liouville:e}, periodic QR {small}, formed product {small_plain}");
    // ChaosBook's printed -0.18e-10 is round-off of its own monodromy
    // matrix: Liouville gives -1.2821e-14. The periodic QR agrees to
    // 1.7e-5 relative (observed; N = 100, m = 4: the collocation error of
    // the contraction, about 2e-19 absolute), the formed product only to
    // 1.7e-3 (its round-off eps |M| ~ 5e-16 is 4% of the multiplier).
    assert!(small.im == 0.0 && small.re < 0.0);
    let err = (small.re / small_liouville - 1.0).abs();
    let err_plain = (small_plain.re / small_liouville - 1.0).abs();
    assert!(err < 1e-4, "periodic QR {} vs Liouville {small_liouville:e}", small.re);
    assert!(err < 0.1 * err_plain, "periodic QR error {err:e}, formed product {err_plain:e}");
    // The other two: the trivial multiplier, and ChaosBook's -2.403953527
    // (to its accuracy, see tests/engine/period_doubling.rs).
    let mut others: Vec<f64> = cycle.multipliers.all.iter().filter(|z| z.norm() > 1e-3).map(|z| z.re).collect();
    others.sort_by(f64::total_cmp);
    assert!((others[0] + 2.403953527).abs() < 1e-8 && (others[1] - 1.0).abs() < 1e-9, "{others:?}");
}

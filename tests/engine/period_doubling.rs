//! The period-doubling cascade of the Rössler system
//! `x' = -y - z, y' = x + a y, z' = b + z (x - c)` at `a = b = 0.2`,
//! continued in `c` (`engine::cycles`): PD points located on the period-1
//! branch, branch switching to the period-2 and period-4 branches, and their
//! PD points.
//!
//! Published references used:
//! * S. H. Strogatz, *Nonlinear Dynamics and Chaos* (2nd ed., 2015),
//!   sec. 12.3 (Rössler system, a = b = 0.2): the attractor is a period-1
//!   cycle at c = 2.5, period-2 at c = 3.5, period-4 at c = 4 and chaotic
//!   at c = 5. So the first three PD points satisfy
//!   `2.5 < c_1 < 3.5 < c_2 < 4 < c_3 < 5`.
//! * ChaosBook's Rössler page (cns.physics.gatech.edu/ChaosBook/extras/simon/Roessler.html,
//!   a = b = 0.2, c = 5.7): the period-1 cycle has period
//!   `T = 5.88108845586` and multipliers `1.000000003, -2.403953527, -0.1836169064e-10`
//!   (a Newton routine on a Runge-Kutta return map).
//!
//! No table of the PD values themselves to more digits was at hand, so each
//! located PD point is checked independently: the monodromy matrix of the
//! located cycle from the variational equations integrated by DOP853 at
//! rtol 1e-13 must have the multiplier -1.
use repcollapse::engine::{
    continue_cycles, continue_cycles_from_period_doubling, integrate, orbit_from_trajectory, solve_orbit, sorted_eigenvalues, CycleBifurcationKind,
    CycleBranch, CycleContinuationParams, Grid, IntegrateOptions, Method, OrbitOptions, PeriodicOrbit,
};
use repcollapse::symbolic::SymbolicModel;

const ROSSLER: &str = r#"
name = "rossler"
[parameters]
a = 0.2
b = 0.2
c = 2.5
[state]
x = 1.0
y = 1.0
z = 0.0
[equations]
x = "-y - z"
y = "x + a*y"
z = "b + z*(x - c)"
"#;

/// The Rössler system with its variational equation `Phi' = J Phi`
/// (`J = [[0, -1, -1], [1, a, 0], [z, 0, x - c]]`), 12 states.
fn variational_model() -> SymbolicModel {
    let mut s = String::from("name = \"rossler-variational\"\n[parameters]\na = 0.2\nb = 0.2\nc = 2.5\n[state]\nx = 1.0\ny = 1.0\nz = 0.0\n");
    for i in 1..=3 {
        for j in 1..=3 {
            s += &format!("p{i}{j} = {}\n", if i == j { 1.0 } else { 0.0 });
        }
    }
    s += "[equations]\nx = \"-y - z\"\ny = \"x + a*y\"\nz = \"b + z*(x - c)\"\n";
    for j in 1..=3 {
        s += &format!("p1{j} = \"-p2{j} - p3{j}\"\np2{j} = \"p1{j} + a*p2{j}\"\np3{j} = \"z*p1{j} + (x - c)*p3{j}\"\n");
    }
    SymbolicModel::from_toml_str(&s, "test").unwrap()
}

/// Multipliers of the cycle through `orbit.node(0)` with period `orbit.period`
/// from the variational equations integrated by DOP853 at rtol 1e-13.
fn multipliers_by_integration(orbit: &PeriodicOrbit) -> Vec<faer::c64> {
    let var = variational_model();
    let mut x0 = orbit.node(0).to_vec();
    for i in 0..3 {
        for j in 0..3 {
            x0.push(if i == j { 1.0 } else { 0.0 });
        }
    }
    let t = orbit.period;
    let opts = IntegrateOptions { method: Method::Dop853, rtol: 1e-13, atol: 1e-15, t_max: t, grid: Grid::Times(vec![t]), ..IntegrateOptions::default() };
    let end = integrate(&var, &x0, &orbit.params, &opts).unwrap().states.pop().unwrap();
    let m = faer::Mat::<f64>::from_fn(3, 3, |i, j| end[3 + 3 * i + j]);
    sorted_eigenvalues(&m).unwrap()
}

/// The first PD point on a branch, with a check of its multiplier.
fn first_pd(br: &CycleBranch) -> &repcollapse::engine::CycleBifurcation {
    let pds: Vec<_> = br.bifurcations.iter().filter(|b| b.kind == CycleBifurcationKind::Pd).collect();
    assert_eq!(pds.len(), 1, "PD points {:?}", br.bifurcations.iter().map(|b| (b.kind, b.point.param)).collect::<Vec<_>>());
    assert!(pds[0].located, "PD at c = {} not located: {:?}", pds[0].point.param, pds[0].note);
    pds[0]
}

/// |mu + 1| for the multiplier of `ms` nearest -1.
fn distance_from_minus_one(ms: &[faer::c64]) -> f64 {
    ms.iter().map(|m| (m + 1.0).norm()).fold(f64::INFINITY, f64::min)
}

#[test]
fn rossler_period_doubling_cascade() {
    let m = SymbolicModel::from_toml_str(ROSSLER, "test").unwrap();
    let p = [0.2, 0.2, 2.5];
    let opts = OrbitOptions { ntst: 60, ncol: 4, adapt: 2, ..OrbitOptions::default() };
    let guess = orbit_from_trajectory(&m, &[1.0, 1.0, 0.0], &p, 300.0, 100.0, &opts).unwrap();
    let cycle = solve_orbit(&m, &guess, &opts).unwrap();
    // The stable period-1 cycle at c = 2.5 (Strogatz): multipliers 1, -0.77, -5e-6.
    assert!(cycle.multipliers.stable());
    let mut cp = CycleContinuationParams::new(2, 2.5, 6.0);
    cp.orbit = opts.clone();
    cp.arclength.ds = 0.05;
    let period1 = continue_cycles(&m, &cycle.orbit, &cp).unwrap();
    assert!((period1.points.last().unwrap().param - 6.0).abs() < 1e-12, "period-1 branch stopped at {:?}", period1.stop);

    // ChaosBook's cycle at c = 5.7 (corrected from the branch point nearest
    // 5.7). Our collocation values at N = 60 and N = 100 agree with each
    // other to 1e-11 in T and 1e-10 in the multiplier, and the variational
    // integration agrees to 3e-11 (multiplier -2.40395353185); the published
    // values differ from them by 3.1e-10 in T and 4.8e-9 in the multiplier,
    // the accuracy of the published computation (its own trivial multiplier
    // is off by 3e-9). Tolerances: 5e-10 and 1e-8.
    let near = period1.points.iter().min_by(|a, b| (a.param - 5.7).abs().total_cmp(&(b.param - 5.7).abs())).unwrap();
    let mut g = near.orbit.clone();
    g.params[2] = 5.7;
    let c57 = solve_orbit(&m, &g, &OrbitOptions { ntst: 100, ncol: 4, adapt: 3, ..OrbitOptions::default() }).unwrap();
    assert!((c57.orbit.period - 5.88108845586).abs() < 5e-10, "T = {}", c57.orbit.period);
    let mu = c57.multipliers.nontrivial().min_by(|a, b| (a.re + 2.4).abs().total_cmp(&(b.re + 2.4).abs())).unwrap();
    assert!((mu.re + 2.403953527).abs() < 1e-8 && mu.im == 0.0, "multiplier {mu}");

    // PD 1 on the period-1 branch.
    let pd1 = first_pd(&period1);
    let c1 = pd1.point.param;
    // The located multiplier is -1 to the locator's tolerance (observed
    // |mu + 1| = 3e-15), and the independent integration gives -1 to its
    // own accuracy (observed 4e-13): with d mu / d c = -0.7 here, c_1 is
    // accurate to ~1e-12 for this discretisation.
    assert!(distance_from_minus_one(&pd1.point.multipliers.all) < 1e-9);
    assert!(distance_from_minus_one(&multipliers_by_integration(&pd1.point.orbit)) < 1e-8);
    assert!(c1 > 2.5 && c1 < 3.5, "c_1 = {c1}");

    // Switch to the period-2 branch: it starts at twice the period and is
    // stable just past c_1 (a supercritical flip, as the cascade needs).
    let mut cp2 = CycleContinuationParams::new(2, 2.5, 6.0);
    cp2.arclength.ds = 0.02;
    let period2 = continue_cycles_from_period_doubling(&m, &pd1.point.orbit, &cp2).unwrap();
    let first = &period2.points[0];
    assert!((first.period - 2.0 * pd1.point.period).abs() < 1e-3 * first.period, "T = {} vs 2 T_pd = {}", first.period, 2.0 * pd1.point.period);
    assert!(first.param > c1 && first.stable, "doubled cycle at c = {} stable {}", first.param, first.stable);
    let pd2 = first_pd(&period2);
    let c2 = pd2.point.param;
    // Integration over the doubled period (11.6): observed |mu + 1| = 1.2e-10.
    assert!(distance_from_minus_one(&pd2.point.multipliers.all) < 1e-9);
    assert!(distance_from_minus_one(&multipliers_by_integration(&pd2.point.orbit)) < 1e-8);
    assert!(c2 > 3.5 && c2 < 4.0, "c_2 = {c2}");

    // And once more: period 4 (period 23.2; observed |mu + 1| = 1.4e-9 by integration).
    let period4 = continue_cycles_from_period_doubling(&m, &pd2.point.orbit, &cp2).unwrap();
    assert!((period4.points[0].period - 2.0 * pd2.point.period).abs() < 1e-3 * period4.points[0].period);
    let pd3 = first_pd(&period4);
    let c3 = pd3.point.param;
    assert!(distance_from_minus_one(&pd3.point.multipliers.all) < 1e-8);
    assert!(distance_from_minus_one(&multipliers_by_integration(&pd3.point.orbit)) < 1e-8);
    assert!(c3 > 4.0 && c3 < 5.0, "c_3 = {c3}");
    // The intervals shrink as the cascade accumulates (their ratio tends to
    // Feigenbaum's 4.669; this early it is ~3.5).
    let ratio = (c2 - c1) / (c3 - c2);
    eprintln!("Rössler a = b = 0.2: PD at c = {c1:.10}, {c2:.10}, {c3:.10}; ratio {ratio:.4}");
    assert!(ratio > 2.0 && ratio < 6.0, "ratio {ratio}");
}

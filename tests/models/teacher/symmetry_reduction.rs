//! The slice-reduced head ODE (`docs/teacher.md` section 9.1,
//! `src/models/teacher/head/reduced/slice.rs`): it reproduces the full head
//! ODE's group invariants, its reduction term is a group velocity, and on it
//! the engine finds the Hopf point that starts the oscillation, its
//! criticality and the stable cycle born there.
use faer::linalg::solvers::Solve;
use faer::Mat;
use repcollapse::engine::{
    continue_cycles_from_hopf, continue_equilibria, integrate, BifurcationKind, ContinuationParams, CycleContinuationParams, Grid, IntegrateOptions, Method,
    VectorField,
};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::oscillation::{class_separation, oscillation, spread, trajectory};
use repcollapse::models::teacher::head::reduced::channel::helmert;
use repcollapse::models::teacher::head::reduced::order_params::HeadOde;
use repcollapse::models::teacher::head::reduced::slice::{from_slice, reduced_field, reduced_model_text, relative_equilibrium, to_slice, REDUCED_DIM};
use repcollapse::models::teacher::head::theory::head_ode_from_config;
use repcollapse::symbolic::SymbolicModel;

fn cfg(lam: f64) -> TeacherConfig {
    TeacherConfig::from_sets(&["head=\"symmetric\"".to_string(), "label_noise=0.1".to_string(), format!("weight_decay={lam}")]).unwrap()
}

fn eig_sym(m: &Mat<f64>) -> Vec<f64> {
    let mut v: Vec<f64> = repcollapse::engine::sorted_eigenvalues(m).unwrap().iter().map(|z| z.re).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

/// Invariants of `SO(3) x O(2)` (student rotations, rotations and
/// reflections of the centred class plane), computed from the full state
/// only: eigenvalues of the Gram matrix of the six columns of `[R H^T, Y^T H^T]`
/// (the group acts on it by an orthogonal conjugation), the spread, the
/// class separation, `tr W`, `tr W^2`, `tr W^T W`, `tr Sigma W`,
/// `tr R^T W R`.
fn group_invariants(ode: &HeadOde, x: &[f64]) -> Vec<f64> {
    let (op, w) = ode.unpack(x);
    let (d, k) = (3, 3);
    let h = helmert(k);
    let col = |j: usize, i: usize| -> f64 {
        if j < k {
            (0..k).map(|c| op.r[i * k + c] * h[j][c]).sum()
        } else {
            (0..k).map(|c| op.y[c * d + i] * h[j - k][c]).sum()
        }
    };
    let gram = Mat::from_fn(2 * k, 2 * k, |a, b| (0..d).map(|i| col(a, i) * col(b, i)).sum::<f64>());
    let mut out = eig_sym(&gram);
    out.push(spread(&op.s, d));
    out.push(class_separation(&op.y, k, d));
    let wm = |i: usize, j: usize| w[i * d + j];
    let sm = |i: usize, j: usize| op.s[i * d + j];
    let tr = |f: &dyn Fn(usize, usize) -> f64| (0..d).map(|i| f(i, i)).sum::<f64>();
    out.push(tr(&wm));
    out.push(tr(&|i, j| (0..d).map(|l| wm(i, l) * wm(l, j)).sum()));
    out.push(tr(&|i, j| (0..d).map(|l| wm(l, i) * wm(l, j)).sum()));
    out.push(tr(&|i, j| (0..d).map(|l| sm(i, l) * wm(l, j)).sum()));
    out.push((0..k).map(|c| (0..d).map(|i| (0..d).map(|j| op.r[i * k + c] * wm(i, j) * op.r[j * k + c]).sum::<f64>()).sum::<f64>()).sum());
    out
}

fn reduced(lam: f64) -> (SymbolicModel, HeadOde) {
    let c = cfg(lam);
    (SymbolicModel::from_toml_str(&reduced_model_text(&c, None).unwrap(), "reduced head").unwrap(), head_ode_from_config(&c).unwrap())
}

fn integrate_on_grid(field: &dyn VectorField, x0: &[f64], t_max: f64, rtol: f64) -> Vec<Vec<f64>> {
    let n = t_max.round() as usize;
    let opts = IntegrateOptions {
        method: Method::Auto,
        rtol,
        atol: rtol * 1e-2,
        t_max,
        grid: Grid::Times((0..=n).map(|i| i as f64).collect()),
        max_steps: 10_000_000,
        max_seconds: f64::INFINITY,
    };
    integrate(field, x0, &field.default_params(), &opts).unwrap().states
}

#[test]
fn reduced_ode_reproduces_the_invariants_of_the_full_head_ode() {
    // Two computations of one trajectory (lambda = 0.0196, from the config's
    // initial state, t <= 3000: the transient and the first swings): the full
    // 33-variable head ODE (`HeadOde`, Rust) and the 29-variable reduced
    // model file (parsed text), compared on invariants computed from full
    // states only. Tolerance: the full ODE's own integration error, measured
    // as the distance between its rtol = 1e-8 and rtol = 1e-10 runs; the two
    // computations at rtol = 1e-10 must agree better than that (their own
    // errors are ~100 times smaller), with a floor of 1e-9 relative.
    let (m, ode) = reduced(0.0196);
    assert_eq!(m.dim(), REDUCED_DIM);
    let t_max = 3000.0;
    let fine = integrate_on_grid(&ode, &ode.initial, t_max, 1e-10);
    let coarse = integrate_on_grid(&ode, &ode.initial, t_max, 1e-8);
    let z0 = to_slice(&ode, &ode.initial).unwrap();
    assert!(m.initial_state().iter().zip(&z0).all(|(a, b)| a == b), "model file's initial state is the slice point of the config's");
    let red = integrate_on_grid(&m, &z0, t_max, 1e-10);
    let (mut worst, mut budget) = (0.0_f64, 0.0_f64);
    for i in 0..fine.len() {
        let a = group_invariants(&ode, &fine[i]);
        let b = group_invariants(&ode, &from_slice(&ode, &red[i]));
        let c = group_invariants(&ode, &coarse[i]);
        for j in 0..a.len() {
            let scale = a[j].abs().max(1.0);
            worst = worst.max((a[j] - b[j]).abs() / scale);
            budget = budget.max((a[j] - c[j]).abs() / scale);
        }
    }
    assert!(budget > 0.0 && worst < budget.max(1e-9), "reduced vs full {worst:e}, full ODE rtol 1e-8 vs 1e-10 {budget:e}");
    // The invariants move: the comparison is not between constants.
    let first = group_invariants(&ode, &fine[0]);
    let last = group_invariants(&ode, &fine[fine.len() - 1]);
    assert!(first.iter().zip(&last).any(|(a, b)| (a - b).abs() > 0.1 * a.abs().max(1.0)));
}

#[test]
fn reduction_term_is_a_group_velocity() {
    // At slice points, the full field minus the lifted reduced field lies in
    // the span of the four generators (three student rotations from
    // `HeadOde::invariants`, the class-plane rotation built here), and the
    // lifted reduced field keeps the slice (it is a full state's velocity
    // with zeros at the four fixed entries, by construction of `from_slice`).
    let (_, ode) = reduced(0.0196);
    let h = helmert(3);
    let p = ode.params.clone();
    let zs = integrate_on_grid(&ode, &ode.initial, 900.0, 1e-10);
    for x in zs.iter().step_by(300) {
        let z = to_slice(&ode, x).unwrap();
        let xs = from_slice(&ode, &z);
        let mut full = vec![0.0; ode.dim()];
        ode.rhs(&xs, &p, &mut full);
        let fr = reduced_field(&z, &p);
        let lifted = from_slice(&ode, &fr);
        let diff: Vec<f64> = full.iter().zip(&lifted).map(|(a, b)| a - b).collect();
        // Generators: student rotations, and the class rotation
        // R -> R H^T J^T H, Y^T -> Y^T H^T J^T H with J the (0, 1) plane.
        let mut gens: Vec<Vec<f64>> = ode.invariants(&xs, &p).into_iter().map(|v| v.vector).collect();
        let jt = |b: usize, c: usize| -> f64 { h[1][c] * if b == 0 { 1.0 } else { 0.0 } - h[0][c] * if b == 1 { 1.0 } else { 0.0 } };
        let (op, _) = ode.unpack(&xs);
        let mut g = vec![0.0; ode.dim()];
        for i in 0..3 {
            for c in 0..3 {
                let rot = |m: &dyn Fn(usize) -> f64| (0..3).map(|b| (0..3).map(|e| m(e) * h[b][e]).sum::<f64>() * jt(b, c)).sum::<f64>();
                g[i * 3 + c] = rot(&|e| op.r[i * 3 + e]);
                g[9 + c * 3 + i] = rot(&|e| op.y[e * 3 + i]);
            }
        }
        gens.push(g);
        // Least squares residual of diff on the generators.
        let a = Mat::from_fn(ode.dim(), gens.len(), |i, j| gens[j][i]);
        let ata = Mat::from_fn(gens.len(), gens.len(), |i, j| (0..ode.dim()).map(|r| a[(r, i)] * a[(r, j)]).sum::<f64>());
        let atb: Vec<f64> = (0..gens.len()).map(|i| (0..ode.dim()).map(|r| a[(r, i)] * diff[r]).sum()).collect();
        let lu = ata.partial_piv_lu();
        let rhs = Mat::from_fn(gens.len(), 1, |i, _| atb[i]);
        let coef = lu.solve(&rhs);
        let resid = (0..ode.dim()).map(|r| (diff[r] - (0..gens.len()).map(|j| a[(r, j)] * coef[(j, 0)]).sum::<f64>()).powi(2)).sum::<f64>().sqrt();
        let nf = full.iter().map(|v| v * v).sum::<f64>().sqrt();
        let nd = diff.iter().map(|v| v * v).sum::<f64>().sqrt();
        // Round-off of a degree-5 field with entries up to ~10: 1e-12 of |F|.
        assert!(resid < 1e-12 * nf.max(1.0), "residual {resid:e} of |diff| {nd:e}, |F| {nf:e}");
        assert!(nd > 1e-6 * nf, "the state drifts: the group velocity is not zero ({nd:e})");
    }
}

#[test]
fn hopf_point_of_the_reduced_ode_starts_a_stable_supercritical_cycle() {
    // The relative equilibrium (drifting state) at lambda = 0.02 is an
    // equilibrium of the reduced ODE; continuing it down in the weight decay
    // the engine's Hopf detector finds where it loses stability. Last
    // session's integration estimate of the birth (swing rates, section 9):
    // 0.01966-0.01973, with period ~595 at birth.
    let (m, _ode) = reduced(0.02);
    let p = m.default_params();
    let z = relative_equilibrium(&m, &p).unwrap();
    let mut cp = ContinuationParams::new(6, 0.019, 0.02);
    cp.direction = -1.0;
    cp.arclength.ds = 1e-3;
    cp.arclength.ds_max = 2e-2;
    let res = continue_equilibria(&m, &z, &p, &cp).unwrap();
    assert!(res.branches[0].points[0].stable, "the drifting state is stable at 0.02");
    let hopf: Vec<_> = res.bifurcations.iter().filter(|b| b.kind == BifurcationKind::Hopf).collect();
    assert_eq!(hopf.len(), 1, "{:?}", res.bifurcations.iter().map(|b| (b.kind, b.param)).collect::<Vec<_>>());
    let h = hopf[0];
    assert!(h.param > 0.0196 && h.param < 0.0199, "lambda_H = {}", h.param);
    let omega = h.frequency.unwrap();
    let period_h = 2.0 * std::f64::consts::PI / omega;
    assert!((period_h - 595.0).abs() < 0.05 * 595.0, "period at the Hopf point {period_h}");
    let l1 = h.lyapunov.unwrap();
    assert!(l1 < 0.0, "supercritical: l1 = {l1}");

    // The cycle from the Hopf point, continued down to 0.0196.
    let mut ph = p.clone();
    ph[6] = h.param;
    let mut cc = CycleContinuationParams::new(6, 0.01959, 0.0200);
    cc.arclength.ds = 0.3;
    cc.arclength.ds_max = 5.0;
    cc.arclength.max_steps = 40;
    cc.orbit.ntst = 20;
    let br = continue_cycles_from_hopf(&m, &h.state, &ph, omega, &cc).unwrap();
    assert!(br.hopf_l1.is_some_and(|v| v < 0.0));
    assert!(br.points.iter().all(|c| c.param < h.param + 1e-7), "cycles exist below lambda_H only (supercritical)");
    // Stable: all non-trivial multipliers inside the unit circle. The
    // trivial multiplier's distance from 1 measures the discretisation
    // (ntst = 20: 1e-12 at the small cycles, ~1e-6 at 0.0196 where the
    // orbit is large); 1e-5 keeps a margin and still rejects a wrong
    // monodromy, whose trivial multiplier would be O(1) off.
    for c in &br.points {
        assert!(c.stable && c.multipliers.trivial_error() < 1e-5, "lambda {} multipliers {:?}", c.param, c.multipliers.all);
    }
    // Near the Hopf point the leading non-trivial multiplier tends to 1
    // (the cycle's attraction vanishes with its amplitude) and falls as
    // lambda decreases.
    let lead = |c: &repcollapse::engine::CyclePoint| c.multipliers.nontrivial().map(|z| z.norm()).fold(0.0, f64::max);
    assert!(lead(&br.points[0]) > 0.99 && lead(br.points.last().unwrap()) < lead(&br.points[0]) - 0.05);
    let last = br.points.last().unwrap();
    assert!(last.param < 0.01961, "branch reached {}", last.param);
    // Period at 0.0196 (linear interpolation between the bracketing cycles)
    // against the full head ODE integrated at 0.0196 (up-crossings of the
    // spread on t in [24000, 30000], interpolated to 1e-3 of a period; the
    // orbit converges slowly, so 1% tolerance).
    let i = br.points.iter().position(|c| c.param <= 0.0196).unwrap();
    let (a, b) = (&br.points[i - 1], &br.points[i]);
    let period = a.period + (b.period - a.period) * (0.0196 - a.param) / (b.param - a.param);
    let c = cfg(0.0196);
    let ode = head_ode_from_config(&c).unwrap();
    let (t, xs) = trajectory(&ode, &ode.initial, 30000.0, 1.0).unwrap();
    let sp: Vec<f64> = xs.iter().map(|x| spread(&ode.unpack(x).0.s, 3)).collect();
    let measured = oscillation(&t, &sp, 24000.0, 0.2).unwrap();
    assert!((period - measured.period).abs() < 0.01 * measured.period, "collocation {period}, integration {measured:?}");
}

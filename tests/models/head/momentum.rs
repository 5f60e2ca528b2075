//! Model H under heavy-ball and Nesterov momentum (`docs/optimisers.md`
//! section 4): the exact simplex map against microscopic steps, the
//! exported heavy-ball model's fold against the closed-form `f_c` at every
//! `beta`, and the slow rate of microscopic heavy-ball GD against the map's
//! closed form as `dt -> 0`.
use repcollapse::engine::{continue_equilibria, jacobian_eigenvalues, BifurcationKind, ContinuationParams, VectorField as _};
use repcollapse::models::common::frustration::{Design, LabelWeights, Pairing};
use repcollapse::models::embedding::optimizer::{Optimizer, OptimizerState};
use repcollapse::models::head::config::{HeadConfig, Variant};
use repcollapse::models::head::export::momentum_model_file;
use repcollapse::models::head::reduced::momentum::{self, MomentumState};
use repcollapse::models::head::reduced::simplex::HeadSimplex;
use repcollapse::models::head::simulation::{gd_step, HeadRates, HeadState, HeadWorkspace};
use repcollapse::models::head::theory::fixed_points::closed_form_branches;
use repcollapse::symbolic::SymbolicModel;

/// Orthonormal simplex vertices in R^K.
fn simplex(k: usize) -> Vec<Vec<f64>> {
    let norm = ((k - 1) as f64 / k as f64).sqrt();
    (0..k).map(|a| (0..k).map(|j| (f64::from(u8::from(a == j)) - 1.0 / k as f64) / norm).collect()).collect()
}

/// A simplex-symmetric microscopic state `[s_u, p, q, s, w]` (dim = K,
/// `W = w I`); in each class 2K consistent samples get deviations
/// `+- sigma e_b` (b = 1..K), so the pooled covariance is isotropic on the label span.
fn symmetric_state(a: &LabelWeights, k: usize, z: [f64; 5], sigma: f64) -> HeadState {
    let e = simplex(k);
    let mut st = HeadState { x: vec![0.0; a.samples() * k], y: vec![0.0; k * k], w: vec![0.0; k * k], dim: k };
    for c in 0..k {
        for j in 0..k {
            st.y[c * k + j] = z[3] * e[c][j];
            st.w[c * k + j] = if c == j { z[4] } else { 0.0 };
        }
    }
    let mut consistent_seen = vec![0usize; k];
    for i in 0..a.samples() {
        let row: Vec<(usize, f64)> = a.row(i).collect();
        let c = a.primary(i);
        for j in 0..k {
            st.x[i * k + j] = if row.len() == 1 { z[0] * e[c][j] } else { z[1] * e[c][j] + z[2] * e[row.iter().find(|r| r.0 != c).unwrap().0][j] };
        }
        if row.len() == 1 {
            let m = consistent_seen[c];
            consistent_seen[c] += 1;
            if m < 2 * k {
                let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
                for j in 0..k {
                    st.x[i * k + j] += sign * sigma * e[m / 2][j];
                }
            }
        }
    }
    st
}

/// `(s, w, c)` read off a microscopic state: label scale, head on the label
/// span, pooled within-group variance per label-span dimension.
fn observe(a: &LabelWeights, st: &HeadState, k: usize, consistent_mean: f64) -> (f64, f64, f64) {
    let e = simplex(k);
    let s: f64 = (0..k).map(|j| st.y[j] * e[0][j]).sum();
    let w: f64 = (0..k).map(|j| (0..k).map(|l| e[0][j] * st.w[j * k + l] * e[0][l]).sum::<f64>()).sum();
    // Deviations live only in the consistent groups (group mean s_u e_c).
    let mut var = 0.0;
    for i in 0..a.samples() {
        if a.row(i).count() == 1 {
            let c = a.primary(i);
            var += (0..k).map(|j| (st.x[i * k + j] - consistent_mean * e[c][j]).powi(2)).sum::<f64>();
        }
    }
    (s, w, var / a.samples() as f64 / (k - 1) as f64)
}

fn design(k: usize, n: usize) -> LabelWeights {
    LabelWeights::from_design(&Design { classes: k, per_class: n, frustrated: 0.25, rho: 0.3, pairing: Pairing::Balanced, seed: 0 }).unwrap()
}

/// One microscopic step wrapped by the optimiser, as the driver does.
fn micro_step(a: &LabelWeights, st: &mut HeadState, o: &mut OptimizerState, r: HeadRates, dt: f64, ws: &mut HeadWorkspace) {
    let (nx, ny) = (st.x.len(), st.y.len());
    o.next_step();
    o.begin(0, &mut st.x);
    o.begin(nx, &mut st.y);
    o.begin(nx + ny, &mut st.w);
    gd_step(a, st, r, dt, ws);
    o.finish(0, &mut st.x, dt * r.eta_x, 0.0);
    o.finish(nx, &mut st.y, dt * r.eta_y, 0.0);
    o.finish(nx + ny, &mut st.w, dt * r.eta_w, 0.0);
}

#[test]
fn exact_momentum_map_matches_microscopic_heavy_ball_and_nesterov() {
    let (k, n) = (4usize, 12usize); // 3 frustrated per class: one per partner; 9 consistent.
    let a = design(k, n);
    let z0 = [0.2, 0.4, -0.1, 1.3, 0.9];
    let sigma = 0.5;
    for v in [Variant::Symmetric, Variant::Asymmetric, Variant::Head] {
        for opt in [Optimizer::Momentum { beta: 0.5 }, Optimizer::Nesterov { beta: 0.9 }, Optimizer::Momentum { beta: 0.0 }] {
            let lam = 0.05;
            let rates = HeadRates { variant: v, eta_x: 1.0, eta_y: 0.8, eta_w: 1.5, weight_decay: lam };
            let sys = HeadSimplex::new(v, [0.25, 0.3, k as f64, 1.0, 0.8, 1.5, lam]);
            let mut st = symmetric_state(&a, k, z0, sigma);
            let (_, _, c0) = observe(&a, &st, k, z0[0]);
            assert!(c0 > 0.01, "the start must carry a covariance");
            let dt = 0.02;
            let steps = 300u64;
            let reduced = momentum::simplex_map(&sys, opt, dt, MomentumState::at_rest([z0[0], z0[1], z0[2], z0[3], z0[4], c0]), &[steps]).unwrap()[0];
            let mut o = OptimizerState::new(opt, st.x.len() + st.y.len() + st.w.len());
            let mut ws = HeadWorkspace::new(&a, k, 0);
            for _ in 0..steps {
                micro_step(&a, &mut st, &mut o, rates, dt, &mut ws);
            }
            let (s, w, c) = observe(&a, &st, k, reduced.z[0]);
            let dev = [(s - reduced.z[3]).abs(), (w - reduced.z[4]).abs(), (c - reduced.moments[0]).abs()];
            assert!(dev.iter().all(|d| *d < 1e-10), "{v:?} {opt:?}: micro (s, w, c) = ({s}, {w}, {c}) vs map {:?}", reduced);
            // The comparison can fail: the covariance moved and the state is not at rest.
            assert!((c - c0).abs() > 1e-3 && (s - z0[3]).abs() > 1e-3, "{v:?} {opt:?}: nothing moved");
        }
    }
}

fn phi_c_closed(v: Variant, lam: f64) -> f64 {
    if v == Variant::Symmetric { 1.0 - 4.0 * lam } else { 1.0 - 2.0 * lam.sqrt() * (1.0 + lam) }
}

#[test]
fn exported_heavy_ball_model_folds_at_the_gradient_flow_f_c_for_every_beta() {
    let (k, rho) = (3.0, 0.5);
    let f_of = |phi: f64| phi * (k - 1.0) / (2.0 * k * rho * (1.0 - rho));
    for (v, lam) in [(Variant::Symmetric, 0.1), (Variant::Asymmetric, 0.05)] {
        for beta in [0.0, 0.5, 0.9] {
            let sets: Vec<String> = [
                format!("variant={}", v.name()),
                "classes=3".into(),
                "rho=0.5".into(),
                "frustrated=0".into(),
                format!("weight_decay={lam}"),
                "eta_y=0.7".into(),
                "eta_w=2".into(),
                "dt=0.05".into(),
                "optimizer=momentum".into(),
                format!("momentum={beta}"),
            ]
            .into();
            let cfg = HeadConfig::from_sets(&sets).unwrap();
            let sym = SymbolicModel::from_toml_str(&momentum_model_file(&cfg), "head-heavy-ball.toml").unwrap();
            assert_eq!(sym.dim(), 13);
            let p = sym.default_params();
            let (_, z6) = closed_form_branches(v, &p[..7], 1.0).into_iter().find(|(n, _)| n.starts_with("non-collapsed (w+)")).unwrap();
            let mut z0 = vec![0.0; 13];
            z0[..6].copy_from_slice(&z6);
            let mut fz = vec![1.0; 13];
            sym.rhs(&z0, &p, &mut fz);
            assert!(fz.iter().all(|x| x.abs() < 1e-12), "{v:?} beta {beta}: w+ with zero velocities is a fixed point: {fz:?}");
            let f_max = (k - 1.0) / (2.0 * k * rho * (1.0 - rho));
            let res = continue_equilibria(&sym, &z0, &p, &ContinuationParams::new(0, 0.0, f_max)).unwrap();
            let fold = res.bifurcations.iter().find(|b| b.kind == BifurcationKind::Fold && b.branch == 0).expect("a fold");
            let want = f_of(phi_c_closed(v, lam));
            assert!((fold.param - want).abs() < 1e-6, "{v:?} beta {beta}: exported model folds at f = {} vs closed form {want}", fold.param);
            // Velocities and covariance moments vanish at the fold.
            assert!(fold.state[5..].iter().all(|x| x.abs() < 1e-8), "{v:?} beta {beta}: {:?}", fold.state);
        }
    }
}

/// Least-squares slope of ln y against t.
fn log_slope(t: &[f64], y: &[f64]) -> f64 {
    repcollapse::stats::fit_decay_rate(t, y, f64::NEG_INFINITY, f64::INFINITY).unwrap()
}

#[test]
fn microscopic_heavy_ball_approaches_w_plus_at_the_map_rate_and_converges_to_mu_over_one_minus_beta() {
    // Asymmetric head near its fold (phi = 0.14, phi_c = 0.1468 at
    // lambda = 0.14): the slow eigenvalue of the flow at w+ is small.
    let (k, n, lam) = (4usize, 12usize, 0.14);
    let a = design(k, n);
    let v = Variant::Asymmetric;
    let p = [0.25, 0.3, k as f64, 1.0, 1.0, 1.0, lam];
    let sys = HeadSimplex::new(v, p);
    let (_, zs) = closed_form_branches(v, &p, 1.0).into_iter().find(|(n, _)| n.starts_with("non-collapsed (w+)")).unwrap();
    let mu = momentum::slow_flow_eigenvalue(&sys, &zs, 1e-9).unwrap();
    eprintln!("eigenvalues at w+: {:?}", jacobian_eigenvalues(&sys, &zs, &p).unwrap());
    assert!(mu.im == 0.0 && mu.re < 0.0, "slow eigenvalue {mu:?}");
    // The overdamped slow mode needs dt |mu| < (1 - sqrt(beta))^2 at beta = 0.9.
    let rates = HeadRates { variant: v, eta_x: 1.0, eta_y: 1.0, eta_w: 1.0, weight_decay: lam };
    let mut lines = Vec::new();
    for beta in [0.0, 0.5, 0.9] {
        let opt = Optimizer::Momentum { beta };
        let mut prev_gap: Option<f64> = None;
        // beta = 0.9 needs dt |mu| < (1 - sqrt(0.9))^2 = 0.0026 (overdamped slow mode).
        let dts = if beta > 0.8 { [0.04, 0.02, 0.01] } else { [0.1, 0.05, 0.025] };
        for dt in dts {
            let theory = momentum::discrete_rate(opt, mu, dt).unwrap();
            let mut fits = Vec::new();
            for seed in 0..4u64 {
                // Seeded perturbation of w+ inside the symmetric subspace.
                let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut rnd = || {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
                };
                let z0 = [zs[0] + 1e-3 * rnd(), zs[1] + 1e-3 * rnd(), zs[2] + 1e-3 * rnd(), zs[3] + 1e-3 * rnd(), zs[4] + 1e-3 * rnd()];
                let mut st = symmetric_state(&a, k, z0, 0.0);
                let mut o = OptimizerState::new(opt, st.x.len() + st.y.len() + st.w.len());
                let mut ws = HeadWorkspace::new(&a, k, 0);
                let t_end = 7.0 / theory;
                let steps = (t_end / dt) as usize;
                let (mut ts, mut ys) = (Vec::new(), Vec::new());
                for i in 1..=steps {
                    micro_step(&a, &mut st, &mut o, rates, dt, &mut ws);
                    let t = i as f64 * dt;
                    if t > 0.5 * t_end && i % 4 == 0 {
                        let (s, _, _) = observe(&a, &st, k, 0.0);
                        ts.push(t);
                        ys.push((s - zs[3]).abs());
                    }
                }
                fits.push(log_slope(&ts, &ys));
                if seed == 0 {
                    let start = MomentumState::at_rest([z0[0], z0[1], z0[2], z0[3], z0[4], 0.0]);
                    let rec: Vec<u64> = (1..=steps as u64).filter(|i| *i as f64 * dt > 0.5 * t_end && i % 4 == 0).collect();
                    let zs_map = momentum::simplex_map(&sys, opt, dt, start, &rec).unwrap();
                    let ym: Vec<f64> = zs_map.iter().map(|m| (m.z[3] - zs[3]).abs()).collect();
                    eprintln!("beta {beta} dt {dt}: micro fit {} map-iterate fit {} closed form {theory}", fits[0], log_slope(&ts, &ym));
                }
            }
            let m = fits.iter().sum::<f64>() / 4.0;
            let sd = (fits.iter().map(|f| (f - m).powi(2)).sum::<f64>() / 3.0).sqrt();
            let half = 3.182 * sd / 2.0; // 95% Student-t, 3 degrees of freedom
            let cont = momentum::continuum_rate(beta, mu);
            lines.push(format!("beta {beta} dt {dt}: |mu|/(1-beta) {cont:.6} map {theory:.6} fitted {m:.6} [{:.6}, {:.6}]", m - half, m + half));
            assert!((m / theory - 1.0).abs() < 2e-3, "beta {beta} dt {dt}: fitted {m} vs map {theory}");
            // dt -> 0: the gap to |mu|/(1-beta) halves with dt (first order).
            let gap = theory - cont;
            if let Some(g) = prev_gap {
                // First order in dt; the O(dt^2) term is large at beta = 0.9 (ratio 2.36 at dt = 0.04/0.02).
                assert!((g / gap - 2.0).abs() < 0.4, "beta {beta}: gap ratio {}", g / gap);
            }
            prev_gap = Some(gap);
        }
    }
    println!("slow eigenvalue mu = {:.6}\n{}", mu.re, lines.join("\n"));
}

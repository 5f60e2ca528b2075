//! Model E with normalised embeddings and the cosine loss
//! (`docs/embedding.md` section 8): the key's checks, the step on the
//! sphere (norms, thread independence, no allocation), the reduced flow's
//! fixed points classified by the engine, and the simulation's approach to
//! the large-N, large-d reduced flow.
use repcollapse::engine::{classify, integrate, jacobian_eigenvalues, Grid, IntegrateOptions, Method, Stability, StabilityOptions, VectorField};
use repcollapse::models::embedding::config::EmbeddingConfig;
use repcollapse::models::embedding::reduced::simplex::SimplexSystem;
use repcollapse::models::embedding::reduced::sphere::SphereSimplex;
use repcollapse::models::embedding::simulation::{label_cosine_trajectory, simulate, Embeddings};
use repcollapse::models::embedding::sphere;
use repcollapse::stats::estimate;

use crate::support::counting_alloc::allocations_in;

fn cfg(sets: &[&str]) -> EmbeddingConfig {
    EmbeddingConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

fn err(sets: &[&str]) -> String {
    EmbeddingConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_err().to_string()
}

#[test]
fn cosine_loss_refuses_the_keys_it_would_ignore() {
    let e = err(&["loss=cosin"]);
    assert!(e.contains("`loss`") && e.contains("cosine"), "{e}");
    let e = err(&["loss=cosine", "batch=10"]);
    assert!(e.contains("`batch`") && e.contains("10") && e.contains("full-batch"), "{e}");
    let e = err(&["loss=cosine", "noise=0.1"]);
    assert!(e.contains("`noise`") && e.contains("0.1"), "{e}");
    let e = err(&["loss=cosine", "optimizer=momentum", "momentum=0.5"]);
    assert!(e.contains("`optimizer`") && e.contains("momentum"), "{e}");
    // The default loss is not recorded (result files unchanged); cosine is.
    assert!(cfg(&[]).to_json().get("loss").is_none());
    assert_eq!(cfg(&["loss=cosine"]).to_json()["loss"], "cosine");
}

fn run_bits(c: &EmbeddingConfig, seed: u64) -> Vec<u64> {
    let a = c.label_weights().unwrap();
    let run = simulate(c, &a, 1.0, seed).unwrap();
    run.metrics.iter().flat_map(|m| [m.min_label_distance.to_bits(), m.loss.to_bits(), m.spread.to_bits()]).collect()
}

#[test]
fn sphere_runs_stay_on_the_sphere_and_are_bit_identical_across_thread_counts() {
    // N = 2400 > sphere::CHUNK: the step runs in two chunks.
    let c = cfg(&["loss=cosine", "per_class=600", "dim=4", "t_max=2", "points=4", "seeds=1"]);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| run_bits(&c, 5));
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| run_bits(&c, 5));
    assert_eq!(one, two, "sphere results depend on the thread count");
    assert_ne!(one, run_bits(&c, 6));
    // Every row stays a unit vector.
    let a = c.label_weights().unwrap();
    let mut e = Embeddings::random(&a, 4, 1.0, 2);
    sphere::normalize_rows(&mut e.x, 4);
    sphere::normalize_rows(&mut e.y, 4);
    let mut scratch = Vec::new();
    for _ in 0..50 {
        sphere::gd_step(&a, &mut e.x, &mut e.y, 4, 0.1, 0.1 / 600.0, &mut scratch);
    }
    for row in e.x.chunks(4).chain(e.y.chunks(4)) {
        let n: f64 = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((n - 1.0).abs() < 1e-14, "norm {n}");
    }
}

#[test]
fn sphere_step_allocates_nothing() {
    let c = cfg(&["loss=cosine", "classes=4", "per_class=30", "dim=6", "frustrated=0.2"]);
    let a = c.label_weights().unwrap();
    let mut e = Embeddings::random(&a, 6, 1.0, 2);
    sphere::normalize_rows(&mut e.x, 6);
    sphere::normalize_rows(&mut e.y, 6);
    let mut scratch = Vec::new();
    sphere::gd_step(&a, &mut e.x, &mut e.y, 6, 0.05, 0.05 / 30.0, &mut scratch);
    let n = allocations_in(|| {
        for _ in 0..200 {
            sphere::gd_step(&a, &mut e.x, &mut e.y, 6, 0.05, 0.05 / 30.0, &mut scratch);
        }
    });
    assert_eq!(n, 0, "sphere step allocated {n} times in 200 steps");
}

/// Slowest rate of Model E's 4-variable simplex reduction (the slow rate).
fn simplex_slow_rate(f: f64, rho: f64, k: usize, ex: f64, ey: f64) -> f64 {
    let sys = SimplexSystem::new(f, rho, k, ex, ey);
    jacobian_eigenvalues(&sys, &[0.0; 4], &sys.default_params()).unwrap().iter().map(|l| -l.re).fold(f64::INFINITY, f64::min)
}

#[test]
fn collapse_is_the_stable_state_at_model_e_slow_rate_and_the_centred_simplex_a_saddle() {
    for (f, rho, k, ex, ey) in [(0.1, 0.5, 4usize, 1.0, 1.0), (0.25, 0.3, 5, 1.0, 0.5), (0.2, 0.5, 3, 0.7, 1.3)] {
        let sys = SphereSimplex::new(f, rho, k, ex, ey, true);
        let p = sys.default_params();
        let mut res = vec![0.0; 7];
        let opts = StabilityOptions { zero_tol: 1e-8 };
        // Collapse: a stable node whose slowest rate is Model E's slow rate.
        let z = SphereSimplex::collapsed();
        sys.rhs(&z, &p, &mut res);
        assert!(res.iter().all(|v| v.abs() < 1e-15), "collapse is not a fixed point: {res:?}");
        let cls = classify(&sys, &z, &p, &opts).unwrap();
        assert_eq!(cls.stability, Stability::StableNode, "{cls:?}");
        let slowest = cls.eigenvalues.iter().map(|l| -l.re).fold(f64::INFINITY, f64::min);
        let lambda = simplex_slow_rate(f, rho, k, ex, ey);
        assert!((slowest / lambda - 1.0).abs() < 1e-7, "slowest {slowest} vs Model E slow rate {lambda}");
        // The centred simplex: a fixed point of the sphere flow, a saddle.
        let z = SphereSimplex::centred(rho, k);
        sys.rhs(&z, &p, &mut res);
        assert!(res.iter().all(|v| v.abs() < 1e-14), "centred point is not a fixed point: {res:?}");
        let cls = classify(&sys, &z, &p, &opts).unwrap();
        assert_eq!(cls.stability, Stability::Saddle, "{cls:?}");
        let unstable: Vec<f64> = cls.eigenvalues.iter().filter(|l| l.re > 0.0).map(|l| l.re).collect();
        eprintln!("f={f} rho={rho} K={k}: slow {lambda:.6}, centred unstable {unstable:?}");
    }
}

/// The reduced flow's label cosine at `times` from the `d -> infinity` start.
fn theory_cosine(f: f64, k: usize, normalized: bool, times: &[f64]) -> Vec<f64> {
    let sys = SphereSimplex::new(f, 0.5, k, 1.0, 1.0, normalized);
    let opts = IntegrateOptions {
        method: Method::Dop853,
        rtol: 1e-10,
        atol: 1e-13,
        t_max: *times.last().unwrap(),
        grid: Grid::Times(times.to_vec()),
        ..Default::default()
    };
    let traj = integrate(&sys, &SphereSimplex::random_start(k), &sys.default_params(), &opts).unwrap();
    traj.states.iter().map(|z| SphereSimplex::label_cosine(z, k as f64)).collect()
}

#[test]
fn simulation_approaches_the_reduced_sphere_flow_as_d_and_n_grow() {
    let times: Vec<f64> = (0..=10).map(|i| 4.0 * i as f64).collect();
    for loss in ["cosine", "squared"] {
        let th = theory_cosine(0.2, 4, loss == "cosine", &times);
        let mut gaps = Vec::new();
        for size in [16usize, 64, 256] {
            let c = cfg(&[&format!("loss={loss}"), "frustrated=0.2", &format!("per_class={size}"), &format!("dim={size}"), "dt=0.02"]);
            let a = c.label_weights().unwrap();
            let per_seed: Vec<f64> = (0..6u64)
                .map(|s| {
                    let sim = label_cosine_trajectory(&c, &a, s, &times);
                    sim.iter().zip(&th).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
                })
                .collect();
            let e = estimate(&per_seed);
            eprintln!("{loss} size {size}: max |cos_sim - cos_th| = {:.4} [{:.4}, {:.4}]", e.mean, e.ci95[0], e.ci95[1]);
            gaps.push(e);
        }
        // Finite d and n: initial label cosines scatter by 1/sqrt(d) and the class sums carry the private parts of
        // n samples (relative 1/sqrt(n)); the largest gap must fall with the size (measured 0.114 -> 0.030 for the
        // cosine loss, 0.114 -> 0.034 for the squared) and lie within 1/sqrt(size) at size 256.
        assert!(gaps[2].mean < 0.5 * gaps[0].mean, "{loss}: gap {:.4} at size 256 vs {:.4} at 16", gaps[2].mean, gaps[0].mean);
        assert!(gaps[1].mean < gaps[0].mean && gaps[2].ci95[1] < 1.0 / 16.0 + 0.02, "{loss}: {gaps:?}");
        // The theory's late decay of 1 - cos is twice Model E's slow rate (1 - cos ~ s^2), for both losses.
        let (t1, t2) = (times[7], times[10]);
        let rate = ((1.0 - th[7]).ln() - (1.0 - th[10]).ln()) / (t2 - t1);
        let lambda = simplex_slow_rate(0.2, 0.5, 4, 1.0, 1.0);
        eprintln!("{loss}: late decay of 1 - cos over [{t1}, {t2}] = {rate:.5}, 2 lambda = {:.5}", 2.0 * lambda);
        assert!((rate / (2.0 * lambda) - 1.0).abs() < 0.03, "{loss}: late rate {rate} vs 2 lambda {}", 2.0 * lambda);
    }
}

//! Model E microscopic simulation: conservation laws, SGD limits, stability
//! detection and determinism.
use repcollapse::models::embedding::simulation::{gd_step, simulate, Embeddings, Rates};
use repcollapse::models::embedding::config::EmbeddingConfig;
use repcollapse::models::embedding::experiment::EmbeddingExperiment;
use repcollapse::Error;

fn cfg(sets: &[&str]) -> EmbeddingConfig {
    EmbeddingConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

/// Per class c: C_c = sum_{i in c} x_i / eta_x + n y_c / eta_y is exactly
/// conserved by gradient descent when no sample is frustrated (the update of
/// each pair moves C by eta_x dt (y-x)/eta_x + eta_y dt (x-y)/eta_y ... = 0).
#[test]
fn class_centres_of_mass_are_conserved_without_frustration() {
    let c = cfg(&["classes=3", "per_class=10", "dim=2", "frustrated=0", "eta_x=1.5", "eta_y=0.5"]);
    let a = c.label_weights().unwrap();
    let mut e = Embeddings::random(&a, 2, 1.0, 11);
    let r = Rates { eta_x: 1.5, eta_y: 0.5, per_class: a.per_class() };
    let centre = |e: &Embeddings| -> Vec<f64> {
        let mut out = vec![0.0; 3 * 2];
        for i in 0..a.samples() {
            for j in 0..2 {
                out[a.primary(i) * 2 + j] += e.x[i * 2 + j] / 1.5;
            }
        }
        for cl in 0..3 {
            for j in 0..2 {
                out[cl * 2 + j] += a.per_class() * e.y[cl * 2 + j] / 0.5;
            }
        }
        out
    };
    let before = centre(&e);
    let sep0 = repcollapse::models::common::metrics::label_distances(&e.y, 3, 2).0;
    let mut buf = vec![0.0; 6];
    for _ in 0..4000 {
        gd_step(&a, &mut e, r, 0.05, &mut buf);
    }
    let after = centre(&e);
    for (b, a2) in before.iter().zip(&after) {
        assert!((b - a2).abs() < 1e-10 * b.abs().max(1.0), "{b} -> {a2}");
    }
    // Separation converges to a positive constant, not to zero.
    let sep = repcollapse::models::common::metrics::label_distances(&e.y, 3, 2).0;
    assert!(sep > 0.05 * sep0, "classes must stay apart: {sep0} -> {sep}");
}

#[test]
fn frustration_makes_separation_decay_but_not_without() {
    let run = |f: &str| {
        let c = cfg(&["classes=3", "per_class=12", "dim=3", f, "seeds=2", "t_max=150", "points=20"]);
        let exp = EmbeddingExperiment::run(&c, false).unwrap();
        (exp.collapsed(), exp.spectrum.slow_rate)
    };
    let (c0, r0) = run("frustrated=0");
    let (c1, r1) = run("frustrated=0.25");
    assert!(!c0 && r0 == 0.0);
    assert!(c1 && r1 > 0.0);
}

#[test]
fn full_batch_sgd_equals_gradient_descent() {
    let base = ["classes=3", "per_class=8", "dim=2", "frustrated=0.25", "rho=0.3", "t_max=20", "points=10", "dt=0.05"];
    let gd = cfg(&base);
    let a = gd.label_weights().unwrap();
    let mut sets: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    sets.push(format!("batch={}", a.pairs()));
    let sgd = EmbeddingConfig::from_sets(&sets).unwrap();
    let r1 = simulate(&gd, &a, 1.0, 4).unwrap();
    let r2 = simulate(&sgd, &a, 1.0, 4).unwrap();
    for (m1, m2) in r1.metrics.iter().zip(&r2.metrics) {
        assert_eq!(m1.t, m2.t);
        assert!((m1.min_label_distance / m2.min_label_distance - 1.0).abs() < 1e-10);
    }
}

#[test]
fn small_batches_add_noise_that_shrinks_with_batch() {
    let err = |b: usize| {
        let c = cfg(&["classes=3", "per_class=20", "dim=3", "frustrated=0.3", "seeds=4", "t_max=40", "points=20", &format!("batch={b}")]);
        EmbeddingExperiment::run(&c, false).unwrap().max_relative_error()
    };
    let (e_small, e_large) = (err(2), err(40));
    assert!(e_small > e_large, "SGD error must fall as the batch grows: {e_small} vs {e_large}");
}

#[test]
fn unstable_step_is_detected_and_names_largest_stable_dt() {
    // eta_x = eta_y = 1 with f = 0: rates {0, 2}, so GD is stable iff dt < 1.
    let c = cfg(&["classes=3", "per_class=5", "frustrated=0", "dt=1.2", "seeds=1", "t_max=50"]);
    let e = EmbeddingExperiment::run(&c, false).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Divergence { .. }), "{msg}");
    assert!(msg.contains("dt < 1.000000"), "{msg}");
}

#[test]
fn same_seed_same_numbers_different_seed_different() {
    let run = |seed: &str| {
        let c = cfg(&["classes=3", "per_class=10", "dim=3", "frustrated=0.2", "seeds=3", "batch=7", "t_max=30", "points=15", seed]);
        serde_json::to_string(&EmbeddingExperiment::run(&c, false).unwrap().summary_json()).unwrap()
    };
    let (a, b, c) = (run("seed=5"), run("seed=5"), run("seed=6"));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn result_json_records_config_and_version() {
    let c = cfg(&["classes=3", "per_class=6", "seeds=2", "t_max=100", "points=20"]);
    let v = EmbeddingExperiment::run(&c, false).unwrap().summary_json();
    assert_eq!(v["config"]["per_class"], 6);
    assert_eq!(v["crate_version"], env!("CARGO_PKG_VERSION"));
    assert!(v["fitted_slow_rate"]["ci95"].is_array());
    assert!(v["separation_trajectory"].as_array().unwrap().len() >= 8);
}

/// The serial step as first written (coordinates outer, row entries inner,
/// one running sum of class pulls over all samples in index order): the
/// reference the chunked parallel step is compared with.
fn reference_gd_step(a: &repcollapse::models::common::frustration::LabelWeights, e: &mut Embeddings, r: Rates, dt: f64) {
    let (d, k) = (e.dim, a.classes());
    let mut pull = vec![0.0; k * d];
    let cx = dt * r.eta_x;
    for i in 0..a.samples() {
        let (cols, vals) = a.row_slices(i);
        for (&c, &w) in cols.iter().zip(vals) {
            for j in 0..d {
                pull[c * d + j] += w * e.x[i * d + j];
            }
        }
        for j in 0..d {
            let mut target = 0.0;
            for (&c, &w) in cols.iter().zip(vals) {
                target += w * e.y[c * d + j];
            }
            e.x[i * d + j] -= cx * (e.x[i * d + j] - target);
        }
    }
    let cy = dt * r.eta_y / r.per_class;
    for c in 0..k {
        for j in 0..d {
            e.y[c * d + j] -= cy * (a.class_mass(c) * e.y[c * d + j] - pull[c * d + j]);
        }
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Up to `GD_CHUNK` samples the vectorised step is bit-identical to the
/// serial reference; beyond it the sample update still is, the class sums
/// differ only by the documented chunk-wise reduction order (relative 1e-13:
/// a reordered sum of ~1e4 terms of size O(1) moves by a few ulps of the sum),
/// and 1, 2 and 3 threads give the same bits.
#[test]
fn gd_step_matches_serial_reference_and_is_thread_count_independent() {
    use repcollapse::models::embedding::simulation::GD_CHUNK;
    for per_class in [50usize, 3 * GD_CHUNK / 2] {
        let c = cfg(&["classes=4", &format!("per_class={per_class}"), "dim=5", "frustrated=0.3", "pairing=uniform"]);
        let a = c.label_weights().unwrap();
        let r = Rates { eta_x: 1.0, eta_y: 0.7, per_class: a.per_class() };
        let start = Embeddings::random(&a, 5, 1.0, 3);
        let mut reference = start.clone();
        let mut runs = Vec::new();
        for threads in [1usize, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut e = start.clone();
            let mut buf = Vec::new();
            pool.install(|| {
                for _ in 0..5 {
                    gd_step(&a, &mut e, r, 0.05, &mut buf);
                }
            });
            runs.push(e);
        }
        for _ in 0..5 {
            reference_gd_step(&a, &mut reference, r, 0.05);
        }
        for e in &runs[1..] {
            assert_eq!(bits(&e.x), bits(&runs[0].x), "thread count changed x");
            assert_eq!(bits(&e.y), bits(&runs[0].y), "thread count changed y");
        }
        if a.samples() <= GD_CHUNK {
            assert_eq!(bits(&runs[0].x), bits(&reference.x), "one chunk: x must be bit-identical");
            assert_eq!(bits(&runs[0].y), bits(&reference.y), "one chunk: y must be bit-identical");
        } else {
            // x after the first step depends on y through later steps, so compare with tolerance.
            let err = runs[0].x.iter().chain(&runs[0].y).zip(reference.x.iter().chain(&reference.y)).map(|(p, q)| (p - q).abs() / q.abs().max(1.0)).fold(0.0, f64::max);
            assert!(err < 1e-13, "chunked reduction deviates by {err}");
            assert_ne!(bits(&runs[0].y), bits(&reference.y), "several chunks should reorder the class sums (else this test checks nothing)");
        }
    }
}

/// The chunk pass built for each instruction-set level this CPU has gives
/// the portable build's bits, for a compiled dimension (8, 32) and any
/// other (5), over several steps, with one chunk (then also the serial
/// reference's bits: the compiled dimensions hold a class sum in registers)
/// and with several.
#[test]
fn gd_step_is_bit_identical_on_every_simd_level() {
    use repcollapse::models::embedding::simulation::{gd_step_on, GD_CHUNK};
    use repcollapse::simd::{supported, Level};
    for (dim, per_class) in [(5usize, 50usize), (8, 50), (32, 50), (5, GD_CHUNK / 2 + 7), (8, GD_CHUNK / 2 + 7), (32, GD_CHUNK / 2 + 7)] {
        let c = cfg(&["classes=4", &format!("per_class={per_class}"), &format!("dim={dim}"), "frustrated=0.3", "pairing=uniform"]);
        let a = c.label_weights().unwrap();
        let r = Rates { eta_x: 1.0, eta_y: 0.7, per_class: a.per_class() };
        let start = Embeddings::random(&a, dim, 1.0, 11);
        let run = |level: Level| {
            let mut e = start.clone();
            let mut buf = Vec::new();
            for _ in 0..4 {
                gd_step_on(level, &a, &mut e, r, 0.05, &mut buf);
            }
            e
        };
        let portable = run(Level::Portable);
        assert_ne!(bits(&portable.x), bits(&start.x), "the steps must move x (else this test checks nothing)");
        if a.samples() <= GD_CHUNK {
            let mut reference = start.clone();
            for _ in 0..4 {
                reference_gd_step(&a, &mut reference, r, 0.05);
            }
            assert_eq!(bits(&portable.x), bits(&reference.x), "x differs from the serial reference at d = {dim}");
            assert_eq!(bits(&portable.y), bits(&reference.y), "y differs from the serial reference at d = {dim}");
        }
        for level in supported() {
            let e = run(level);
            assert_eq!(bits(&e.x), bits(&portable.x), "x differs on {level:?} at d = {dim}");
            assert_eq!(bits(&e.y), bits(&portable.y), "y differs on {level:?} at d = {dim}");
        }
    }
}

/// Additive Langevin noise against its exact stationary law. With `f = 0`
/// and full-batch GD every deviation from the class mean, `delta_i = x_i - m_c`,
/// follows the AR(1) recursion `delta <- (1 - eta_x dt) delta + sqrt(2 T dt) P xi`
/// (`P` removes the class average of the noise), so per coordinate its
/// stationary variance is `T (1 - 1/n) / (eta_x (1 - eta_x dt / 2))` and
/// `E[spread^2] = d` times that. This checks the noise generator and its
/// scaling in place, independently of how the normals are drawn.
#[test]
fn langevin_noise_has_the_exact_stationary_spread() {
    let (t_noise, eta_x, dt, n, d) = (1e-3, 1.0, 0.05, 50.0, 6.0);
    let c = cfg(&["classes=4", "per_class=50", "dim=6", "frustrated=0", "noise=1e-3", "dt=0.05", "eta_x=1", "eta_y=1", "t_min=10", "t_max=100", "points=30"]);
    let a = c.label_weights().unwrap();
    let want = d * t_noise * (1.0 - 1.0 / n) / (eta_x * (1.0 - eta_x * dt / 2.0));
    // The initial spread decays as (1 - eta_x dt)^(2 t / dt) ~ e^-2t: gone by t = 10.
    let samples: Vec<f64> = (0..8).flat_map(|seed| simulate(&c, &a, 1.0, seed).unwrap().metrics).filter(|m| m.t >= 10.0).map(|m| m.spread * m.spread).collect();
    let got = samples.iter().sum::<f64>() / samples.len() as f64;
    // Each spread^2 averages N d = 1200 squared deviations (relative sd
    // sqrt(2 / 1200) = 4.1%). 30 log-spaced times in [10, 100] are >= 0.79
    // apart, over 1.5 correlation times of delta^2 (1 / (2 eta_x)), so with
    // 8 seeds the mean of the 240 values has a relative standard error below
    // 0.35%. The tolerance, 1.5%, is over 4 of them, and below each of the
    // three factors it checks: 2 T (a factor 2), 1 - 1/n (2%) and the
    // discrete-time 1 / (1 - eta_x dt / 2) (2.5%).
    assert!((got / want - 1.0).abs() < 0.015, "stationary spread^2 {got:.6e}, exact {want:.6e} ({} samples)", samples.len());
    // And it is the noise that holds the spread up: without it the spread
    // decays to rounding level.
    let quiet = cfg(&["classes=4", "per_class=30", "dim=4", "frustrated=0", "dt=0.05", "eta_x=1", "eta_y=1", "t_max=100", "points=50"]);
    let last = simulate(&quiet, &a, 1.0, 0).unwrap().metrics.last().unwrap().spread;
    assert!(last * last < 1e-6 * want, "spread without noise: {last:e}");
}

/// Minibatch SGD adds the Langevin noise of the samples outside the batch
/// lazily (`k` pending kicks as one `sqrt(k)`-scaled kick when the sample is
/// next read). An optimiser with state forces the per-step noise, and
/// heavy ball with `beta = 0` is plain SGD to rounding (docs/optimisers.md
/// section 1), so the two runs below are the same dynamics with the noise
/// drawn in two independent ways: their stationary spreads must agree.
#[test]
fn lazy_minibatch_noise_has_the_law_of_per_step_noise() {
    let base = ["classes=4", "per_class=50", "dim=6", "frustrated=0", "noise=1e-3", "dt=0.05", "eta_x=1", "eta_y=1", "t_min=10", "t_max=100", "points=30", "batch=20"];
    let lazy = cfg(&base);
    let mut eager_sets = base.to_vec();
    eager_sets.extend(["optimizer=momentum", "momentum=0"]);
    let eager = cfg(&eager_sets);
    let a = lazy.label_weights().unwrap();
    let mean_spread2 = |c: &EmbeddingConfig, seeds: std::ops::Range<u64>| {
        let v: Vec<f64> = seeds.flat_map(|seed| simulate(c, &a, 1.0, seed).unwrap().metrics).filter(|m| m.t >= 10.0).map(|m| m.spread * m.spread).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (l, e) = (mean_spread2(&lazy, 0..8), mean_spread2(&eager, 100..108));
    // As in the full-batch test above, each mean has a relative standard
    // error below 0.35% (240 values of N d = 1200 squared deviations, >= 1.5
    // correlation times apart), so their ratio has one below 0.5%: 2% is over
    // 4 of them. A lazy kick with the wrong scale (k instead of sqrt(k), or a
    // lost kick) changes the spread by a factor, far outside.
    assert!((l / e - 1.0).abs() < 0.02, "stationary spread^2: lazy {l:.6e}, per-step {e:.6e}");
}

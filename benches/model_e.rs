//! Model E benchmarks: one gradient-descent step at scale, one reduced-ODE
//! solve, and one full study.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use repcollapse::engine::integrate::{integrate, Grid, IntegrateOptions, Method};
use repcollapse::models::embedding::simulation::{gd_step, Embeddings, Rates};
use repcollapse::models::common::frustration::{Design, LabelWeights, Pairing};
use repcollapse::models::embedding::class_level::ClassLevelSystem;

fn gd_step_large(c: &mut Criterion) {
    // N = 100000 samples (K = 10 classes x 10000), d = 32, 10% frustrated.
    let a = LabelWeights::from_design(&Design { classes: 10, per_class: 10_000, frustrated: 0.1, rho: 0.5, pairing: Pairing::Balanced, seed: 1 }).unwrap();
    let mut e = Embeddings::random(&a, 32, 1.0, 7);
    let r = Rates { eta_x: 1.0, eta_y: 1.0, per_class: a.per_class() };
    let mut buf = vec![0.0; 10 * 32];
    c.bench_function("gd_step N=100000 d=32 K=10", |b| b.iter(|| gd_step(&a, black_box(&mut e), r, 1e-3, &mut buf)));
}

fn reduced_ode_solve(c: &mut Criterion) {
    // Class-level ODE for K = 10 with uniform pairing (up to K^2 groups), d = 8, t in [0, 200].
    let a = LabelWeights::from_design(&Design { classes: 10, per_class: 100, frustrated: 0.2, rho: 0.5, pairing: Pairing::Uniform, seed: 1 }).unwrap();
    let sys = ClassLevelSystem::new(&a, 1.0, 1.0, 8).unwrap();
    let z0: Vec<f64> = (0..repcollapse::engine::VectorField::dim(&sys)).map(|i| (i as f64).sin()).collect();
    let grid: Vec<f64> = (0..=50).map(|k| 200.0 * k as f64 / 50.0).collect();
    let opts = IntegrateOptions { method: Method::Dop853, rtol: 1e-9, atol: 1e-12, t_max: 200.0, grid: Grid::Times(grid), max_steps: 1_000_000 };
    let p = sys.default_params_vec();
    let mut g = c.benchmark_group("reduced_ode");
    g.sample_size(20);
    g.bench_function(format!("class-level ODE solve, {} states, t=200", z0.len()), |b| b.iter(|| integrate(&sys, black_box(&z0), &p, &opts).unwrap()));
    g.finish();
}

fn full_study(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let study = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("analysis/b_slow_rate.toml");
    let mut g = c.benchmark_group("study");
    g.sample_size(10);
    g.bench_function("analysis/b_slow_rate.toml (18 ensembles + figure)", |b| {
        b.iter(|| repcollapse::study::runner::run_file(&study, dir.path(), false, repcollapse::registry::study_kinds()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, gd_step_large, reduced_ode_solve, full_study);
criterion_main!(benches);

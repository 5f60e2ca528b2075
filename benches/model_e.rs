//! Model E benchmarks: one gradient-descent step at scale (with the bytes it
//! moves, against a plain copy of the same size on the same machine), one
//! reduced-ODE solve, and one full study.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use repcollapse::engine::{integrate, Grid, IntegrateOptions, Method};
use repcollapse::models::common::frustration::{Design, LabelWeights, Pairing};
use repcollapse::models::embedding::reduced::class_level::ClassLevelSystem;
use repcollapse::models::embedding::simulation::{gd_step, Embeddings, Rates};

/// N = 100000 samples (K = 10 classes x 10000), d = 32, 10% frustrated: the
/// workload of the performance table in `docs/benchmarks.md` and of `benches/peers/gd_step.py`.
fn gd_problem() -> (LabelWeights, Embeddings) {
    let a = LabelWeights::from_design(&Design { classes: 10, per_class: 10_000, frustrated: 0.1, rho: 0.5, pairing: Pairing::Balanced, seed: 1 }).unwrap();
    let e = Embeddings::random(&a, 32, 1.0, 7);
    (a, e)
}

/// Bytes a step must move at least: the sample embeddings read and written
/// once, plus the sparse label weights read once (row pointers, columns,
/// values). The labels and class sums (K x d) stay in L1 and are not counted.
fn gd_bytes(a: &LabelWeights, d: usize) -> u64 {
    let f = std::mem::size_of::<f64>() as u64;
    2 * (a.samples() * d) as u64 * f + (a.samples() as u64 + 1) * 8 + a.pairs() as u64 * (8 + f)
}

fn gd_step_large(c: &mut Criterion) {
    let (a, mut e) = gd_problem();
    let r = Rates { eta_x: 1.0, eta_y: 1.0, per_class: a.per_class() };
    let mut g = c.benchmark_group("gd_step N=100000 d=32 K=10");
    // Copy bandwidth of this machine for the same array size: read + write of
    // N x d doubles, counted like the step (both directions).
    let n = a.samples() * 32;
    let src: Vec<f64> = e.x.clone();
    let mut dst = vec![0.0f64; n];
    g.throughput(Throughput::Bytes(2 * n as u64 * 8));
    g.bench_function("memcpy of x (copy bandwidth, 1 core)", |b| b.iter(|| dst.copy_from_slice(black_box(&src))));
    // The step works in place on 25.6 MB, which fits this machine's 32 MB L3,
    // while the copy above touches 51 MB: also copy one half of x onto the
    // other, the same working set as the step.
    g.throughput(Throughput::Bytes(n as u64 * 8));
    g.bench_function("copy half of x onto the other half (same working set, 1 core)", |b| {
        b.iter(|| {
            let (lo, hi) = dst.split_at_mut(n / 2);
            hi.copy_from_slice(black_box(lo));
        })
    });
    g.throughput(Throughput::Bytes(gd_bytes(&a, 32)));
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut threads = vec![1];
    if cores > 1 {
        threads.push(cores);
    }
    for t in threads {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
        let mut buf = Vec::new();
        g.bench_function(format!("gd_step, {t} thread(s)"), |b| pool.install(|| b.iter(|| gd_step(&a, black_box(&mut e), r, 1e-3, &mut buf))));
    }
    g.finish();
}

fn reduced_ode_solve(c: &mut Criterion) {
    // Class-level ODE for K = 10 with uniform pairing (up to K^2 groups), d = 8, t in [0, 200].
    let a = LabelWeights::from_design(&Design { classes: 10, per_class: 100, frustrated: 0.2, rho: 0.5, pairing: Pairing::Uniform, seed: 1 }).unwrap();
    let sys = ClassLevelSystem::new(&a, 1.0, 1.0, 8).unwrap();
    let z0: Vec<f64> = (0..repcollapse::engine::VectorField::dim(&sys)).map(|i| (i as f64).sin()).collect();
    let grid: Vec<f64> = (0..=50).map(|k| 200.0 * k as f64 / 50.0).collect();
    let opts = IntegrateOptions { method: Method::Dop853, rtol: 1e-9, atol: 1e-12, t_max: 200.0, grid: Grid::Times(grid), max_steps: 1_000_000, max_seconds: f64::INFINITY };
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

//! Model T benchmarks: one online SGD step (sampling + fused update) at
//! D = 1000 and D = 10000, the sampling alone, the pass over W and the block
//! normal generator on each instruction-set level, an ensemble of seeds on 1
//! and on all cores, and one solve of the order-parameter ODE. The D = 10000,
//! d = 8, K = 3 step is the workload of `benches/peers/teacher_sgd.py`.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::SeedableRng;
use rayon::prelude::*;
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::online::simulation::{SampleRng, StepWorkspace, Stream, Student};
use repcollapse::models::teacher::online::theory::TeacherTheory;
use repcollapse::models::teacher::online::wpass;

fn config(input_dim: usize, classes: usize) -> TeacherConfig {
    TeacherConfig::from_sets(&[format!("input_dim={input_dim}"), "dim=8".into(), format!("classes={classes}")]).unwrap()
}

fn sgd_steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("teacher_sgd_step");
    for d_in in [1000usize, 10_000] {
        let cfg = config(d_in, 3);
        let stream = Stream::from_config(&cfg);
        let mut student = Student::initial(&cfg, 1);
        let mut ws = StepWorkspace::new(cfg.dim, d_in);
        let mut rng = SampleRng::seed_from_u64(2);
        g.bench_function(format!("sample + SGD step, D = {d_in}, d = 8, K = 3"), |b| {
            b.iter(|| {
                let (_, l) = stream.sample(&mut rng, &mut ws.xi);
                student.deferred_step(black_box(l), 0.5, 0.5, &mut ws);
            })
        });
        student.flush(&mut ws);
        g.bench_function(format!("sample only, D = {d_in}"), |b| b.iter(|| stream.sample(&mut rng, black_box(&mut ws.xi))));
    }
    g.finish();
}

/// The fused pass over W alone (pending rank-1 update + forward pass,
/// d = 8, D = 10000, no decay), on every instruction-set level this CPU
/// has, side by side; and a plain read+write pass over the same 640 KB
/// (`w <- w - g`, one subtraction per entry) as the memory floor.
fn w_pass(c: &mut Criterion) {
    let (d, n) = (8usize, 10_000usize);
    let mut w: Vec<f64> = (0..d * n).map(|i| ((i * 7919) % 1000) as f64 * 1e-3 - 0.5).collect();
    let old: Vec<f64> = (0..n).map(|i| ((i * 104_729) % 1000) as f64 * 1e-3 - 0.5).collect();
    let new = old.iter().rev().copied().collect::<Vec<_>>();
    // Tiny updates keep W bounded over millions of iterations.
    let g = vec![1e-12; d];
    let mut out = vec![0.0; d];
    let mut grp = c.benchmark_group("teacher_w_pass");
    grp.throughput(Throughput::Bytes((2 * d * n * 8) as u64));
    for level in repcollapse::simd::supported() {
        grp.bench_function(format!("update + dot, d = {d}, D = {n}, {}", level.name()), |b| {
            b.iter(|| wpass::update_rows(level, black_box(&mut w), n, 1.0, &g, &old, Some((&new, &mut out))))
        });
    }
    grp.bench_function(format!("plain read+write pass over {} KB", d * n * 8 / 1000), |b| {
        b.iter(|| {
            for v in black_box(&mut w).iter_mut() {
                *v -= 1e-12;
            }
        })
    });
    grp.finish();
}

/// 10^4 standard normals: the block generator on every instruction-set
/// level this CPU has, and the previous sampler (rand_distr's ziggurat
/// `StandardNormal` on one xoshiro256++), side by side.
fn normal_block(c: &mut Criterion) {
    use rand_distr::{Distribution, StandardNormal};
    let n = 10_000usize;
    let mut out = vec![0.0; n];
    let mut grp = c.benchmark_group("normal_block");
    grp.throughput(Throughput::Elements(n as u64));
    let mut rng = SampleRng::seed_from_u64(3);
    for level in repcollapse::simd::supported() {
        grp.bench_function(format!("{n} normals, block ziggurat, {}", level.name()), |b| b.iter(|| rng.fill_standard_normal_on(level, black_box(&mut out))));
    }
    let mut x = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
    grp.bench_function(format!("{n} normals, rand_distr StandardNormal on xoshiro256++"), |b| {
        b.iter(|| {
            for v in black_box(&mut out).iter_mut() {
                *v = StandardNormal.sample(&mut x);
            }
        })
    });
    grp.finish();
}

/// `seeds` independent students, `steps` steps each, seeds in parallel on
/// the current rayon pool (as the experiments run them).
fn ensemble(cfg: &TeacherConfig, seeds: u64, steps: usize) -> f64 {
    let stream = Stream::from_config(cfg);
    (0..seeds)
        .into_par_iter()
        .map(|s| {
            let mut student = Student::initial(cfg, s);
            let mut ws = StepWorkspace::new(cfg.dim, cfg.input_dim);
            let mut rng = SampleRng::seed_from_u64(s);
            for _ in 0..steps {
                let (_, l) = stream.sample(&mut rng, &mut ws.xi);
                student.deferred_step(l, 0.5, 0.5, &mut ws);
            }
            student.flush(&mut ws);
            student.y[0]
        })
        .sum()
}

fn ensembles(c: &mut Criterion) {
    let cfg = config(10_000, 3);
    let (seeds, steps) = (4u64, 200usize);
    let mut g = c.benchmark_group("teacher_ensemble");
    g.sample_size(10);
    g.throughput(Throughput::Elements(seeds * steps as u64));
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    for t in [1, cores] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
        g.bench_function(format!("{seeds} seeds x {steps} steps, D = 10000, {t} thread(s)"), |b| pool.install(|| b.iter(|| ensemble(&cfg, seeds, steps))));
        if cores == 1 {
            break;
        }
    }
    g.finish();
}

fn ode_solve(c: &mut Criterion) {
    let cfg = TeacherConfig::from_sets(&["dim=8".into(), "classes=4".into(), "t_max=100".into(), "points=50".into()]).unwrap();
    let th = TeacherTheory::from_config(&cfg).unwrap();
    let times = cfg.time_grid();
    let mut g = c.benchmark_group("teacher_ode");
    g.sample_size(20);
    g.bench_function(format!("order-parameter ODE, {} states, t = 100", th.ode.initial.len()), |b| b.iter(|| th.trajectory(black_box(&times)).unwrap()));
    g.finish();
}

criterion_group!(benches, sgd_steps, w_pass, normal_block, ensembles, ode_solve);
criterion_main!(benches);

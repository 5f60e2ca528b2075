//! Model T benchmarks: one online SGD step (sampling + update) at D = 1000
//! and D = 10000, and one solve of the order-parameter ODE.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use repcollapse::models::teacher::simulation::{Stream, StepWorkspace, Student};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::theory::TeacherTheory;

fn config(input_dim: usize) -> TeacherConfig {
    TeacherConfig::from_sets(&[format!("input_dim={input_dim}"), "dim=8".into(), "classes=4".into()]).unwrap()
}

fn sgd_steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("teacher_sgd_step");
    for d_in in [1000usize, 10_000] {
        let cfg = config(d_in);
        let stream = Stream::from_config(&cfg);
        let mut student = Student::initial(&cfg, 1);
        let mut ws = StepWorkspace::new(cfg.dim, d_in);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        g.bench_function(format!("sample + SGD step, D = {d_in}, d = 8, K = 4"), |b| {
            b.iter(|| {
                let (_, l) = stream.sample(&mut rng, &mut ws.xi);
                student.sgd_step(black_box(l), 0.5, 0.5, &mut ws);
            })
        });
        g.bench_function(format!("SGD step only (fixed sample), D = {d_in}, d = 8"), |b| b.iter(|| student.sgd_step(black_box(0), 1e-3, 1e-3, &mut ws)));
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

criterion_group!(benches, sgd_steps, ode_solve);
criterion_main!(benches);

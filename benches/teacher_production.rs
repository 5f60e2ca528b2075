//! Rust side of the teacher-step row (benches/peers/teacher_step.sh): one
//! Model T online SGD step at D = 1e4, d = 8, K = 3 (the workload of
//! benches/peers/teacher_sgd.py), timed two ways in one process:
//!
//! - `production`: `simulate_online`, the path every study runs (the
//!   `SampleRng` stream, `deferred_step`, the deadline poll, and the
//!   order-parameter and accuracy measurements at the 40 grid times),
//!   whole seeds of t = T_MAX (T_MAX * D steps), time per step;
//! - `loop`: the bare `stream.sample` + `student.deferred_step` loop of
//!   benches/teacher.rs (what criterion's `teacher_sgd_step` times).
//!
//! ```text
//! cargo bench --bench teacher_production -- REPEATS T_MAX
//! ```
//! Prints one JSON line per way: the minimum and median over REPEATS of the
//! process CPU time and the wall time per step (the minimum is the one
//! least disturbed by other jobs on a shared machine).
use std::hint::black_box;
use std::time::Instant;

use rand::SeedableRng;
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::metrics::TeacherScorer;
use repcollapse::models::teacher::online::simulation::{simulate_online, SampleRng, StepWorkspace, Stream, Student};
use repcollapse::models::teacher::statistics::Teacher;
use serde_json::json;

#[path = "peers/cpu_time.rs"]
mod cpu_time;
use cpu_time::process_cpu_seconds;

fn summary(name: &str, steps: f64, mut cpu: Vec<f64>, mut wall: Vec<f64>) {
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    let us = |v: f64| 1e6 * v / steps;
    println!(
        "{}",
        json!({"way": name, "steps_per_repeat": steps, "repeats": cpu.len(),
               "cpu_us_min": us(cpu[0]), "cpu_us_median": us(cpu[cpu.len() / 2]),
               "wall_us_min": us(wall[0]), "wall_us_median": us(wall[wall.len() / 2])})
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let repeats: usize = args.first().map_or(5, |s| s.parse().expect("REPEATS"));
    let t_max: f64 = args.get(1).map_or(2.0, |s| s.parse().expect("T_MAX"));
    let d_in = 10_000usize;
    let cfg = TeacherConfig::from_sets(&[format!("input_dim={d_in}"), "dim=8".into(), "classes=3".into(), format!("t_max={t_max}")]).unwrap();
    let scorer = TeacherScorer::new(Teacher::new(cfg.teacher, cfg.classes), cfg.label_noise, cfg.sigma, cfg.a);
    let steps = (t_max * d_in as f64).round();

    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for seed in 0..repeats as u64 {
        let (c0, t0) = (process_cpu_seconds(), Instant::now());
        let run = simulate_online(&cfg, &scorer, seed).expect("the default configuration is stable");
        black_box(&run);
        wall.push(t0.elapsed().as_secs_f64());
        cpu.push(process_cpu_seconds() - c0);
    }
    summary("production (simulate_online)", steps, cpu, wall);

    let stream = Stream::from_config(&cfg);
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for seed in 0..repeats as u64 {
        let mut student = Student::initial(&cfg, seed);
        let mut ws = StepWorkspace::new(cfg.dim, d_in);
        let mut rng = SampleRng::seed_from_u64(seed);
        let (c0, t0) = (process_cpu_seconds(), Instant::now());
        for _ in 0..steps as u64 {
            let (_, l) = stream.sample(&mut rng, &mut ws.xi);
            student.deferred_step(black_box(l), cfg.eta_x, cfg.eta_y, &mut ws);
        }
        student.flush(&mut ws);
        black_box(&student);
        wall.push(t0.elapsed().as_secs_f64());
        cpu.push(process_cpu_seconds() - c0);
    }
    summary("loop (sample + deferred_step)", steps, cpu, wall);
}

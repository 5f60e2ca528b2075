//! The two memory-floor targets of the performance table, each against a
//! copy on the same number of threads measured in the same run, timed in
//! process CPU time (minimum over repeats: on a machine shared with other
//! jobs the wall clock of a 20 us kernel measures the scheduler, and the
//! minimum CPU time is the least disturbed run):
//!
//! - Model T online SGD step (sample + deferred step), D = 1e4, d = 8,
//!   K = 3, against a plain read+write pass over W (640 KB, `w <- w - g`);
//! - Model E full-batch GD step, N = 1e5, d = 32, K = 10 (the workload of
//!   benches/model_e.rs), on 1 and on all cores, against a copy of the same
//!   working set (one half of x onto the other, 25.6 MB moved) on the same
//!   number of threads; bandwidth counted as in benches/model_e.rs.
//!
//! ```text
//! cargo bench --bench floors -- [REPEATS] [teacher | model_e]
//! ```
//! Prints one JSON line per row.
use std::hint::black_box;

use rand::SeedableRng;
use rayon::prelude::*;
use repcollapse::models::common::frustration::{Design, LabelWeights, Pairing};
use repcollapse::models::embedding::simulation::{gd_step, Embeddings, Rates};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::online::simulation::{SampleRng, StepWorkspace, Stream, Student};
use serde_json::json;

#[path = "peers/cpu_time.rs"]
mod cpu_time;
use cpu_time::process_cpu_seconds;

/// Minimum over `repeats` of the process CPU seconds of `calls` calls of `f`, per call.
fn min_cpu(repeats: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..repeats)
        .map(|_| {
            let c0 = process_cpu_seconds();
            for _ in 0..calls {
                f();
            }
            (process_cpu_seconds() - c0) / calls as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn teacher(repeats: usize) {
    let d_in = 10_000usize;
    let cfg = TeacherConfig::from_sets(&[format!("input_dim={d_in}"), "dim=8".into(), "classes=3".into()]).unwrap();
    let stream = Stream::from_config(&cfg);
    let mut student = Student::initial(&cfg, 1);
    let mut ws = StepWorkspace::new(cfg.dim, d_in);
    let mut rng = SampleRng::seed_from_u64(2);
    let step = min_cpu(repeats, 2000, || {
        let (_, l) = stream.sample(&mut rng, &mut ws.xi);
        student.deferred_step(black_box(l), 0.5, 0.5, &mut ws);
    });
    let sample = min_cpu(repeats, 2000, || {
        black_box(stream.sample(&mut rng, &mut ws.xi));
    });
    let mut w: Vec<f64> = (0..8 * d_in).map(|i| ((i * 7919) % 1000) as f64 * 1e-3 - 0.5).collect();
    let pass = min_cpu(repeats, 2000, || {
        for v in black_box(&mut w).iter_mut() {
            *v -= 1e-12;
        }
    });
    println!(
        "{}",
        json!({"row": "Model T sample + SGD step, D = 1e4, d = 8, K = 3, 1 thread", "step_us": 1e6 * step, "sample_us": 1e6 * sample,
               "w_read_write_us": 1e6 * pass, "step_over_floor": step / pass, "target": "<= 1.5"})
    );
}

fn model_e(repeats: usize) {
    let a = LabelWeights::from_design(&Design { classes: 10, per_class: 10_000, frustrated: 0.1, rho: 0.5, pairing: Pairing::Balanced, seed: 1 }).unwrap();
    let mut e = Embeddings::random(&a, 32, 1.0, 7);
    let r = Rates { eta_x: 1.0, eta_y: 1.0, per_class: a.per_class() };
    let f = std::mem::size_of::<f64>() as f64;
    let step_bytes = 2.0 * (a.samples() * 32) as f64 * f + (a.samples() as f64 + 1.0) * 8.0 + a.pairs() as f64 * (8.0 + f);
    let n = a.samples() * 32;
    let mut buf: Vec<f64> = e.x.clone();
    let copy_bytes = n as f64 * f; // half read + half written
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut threads = vec![1];
    if cores > 1 {
        threads.push(cores);
    }
    for t in threads {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
        let mut scratch = Vec::new();
        // CPU time sums the threads: bytes per CPU-second, times t, is the
        // bandwidth the t threads reach together when none is preempted.
        let step = pool.install(|| min_cpu(repeats, 5, || gd_step(&a, black_box(&mut e), r, 1e-3, &mut scratch)));
        let copy = pool.install(|| {
            min_cpu(repeats, 5, || {
                let (lo, hi) = buf.split_at_mut(n / 2);
                let chunk = (n / 2).div_ceil(t);
                hi.par_chunks_mut(chunk).zip(lo.par_chunks(chunk)).for_each(|(h, l)| h.copy_from_slice(black_box(l)));
            })
        });
        let (step_gbs, copy_gbs) = (t as f64 * step_bytes / step / 1e9, t as f64 * copy_bytes / copy / 1e9);
        println!(
            "{}",
            json!({"row": format!("Model E GD step, N = 1e5, d = 32, K = 10, {t} thread(s)"), "threads": t,
                   "step_cpu_ms": 1e3 * step, "step_gb_per_s": step_gbs, "copy_cpu_ms": 1e3 * copy, "copy_gb_per_s": copy_gbs,
                   "step_over_copy_bandwidth": step_gbs / copy_gbs, "target": ">= 0.9 (1 thread)"})
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    // A number is the repeat count; any other word keeps the rows whose
    // kernel name (`teacher`, `model_e`) contains it.
    let (numbers, words): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| a.parse::<usize>().is_ok());
    let repeats: usize = numbers.first().map_or(7, |s| s.parse().expect("REPEATS"));
    let wanted = |name: &str| words.is_empty() || words.iter().any(|w| name.contains(w.as_str()));
    if wanted("teacher") {
        teacher(repeats);
    }
    if wanted("model_e") {
        model_e(repeats);
    }
}

//! The Rust side of the Python-overhead benchmark: `N` calls of a model's
//! `theory` entry point through the registry, exactly the call that
//! `repcollapse.theory(model)` makes from Python. Prints one line per model,
//! `theory <model> <N> calls <seconds> s <microseconds> us/call`, which
//! `python/benchmarks/theory_calls.py` reads to form the Python/Rust ratio.
//!
//! Usage: cargo bench --bench theory_calls -- [N] [MODEL...]
use std::hint::black_box;
use std::time::Instant;

use repcollapse::config::Overrides;
use repcollapse::registry::{self, RunOptions};

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let names: Vec<String> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        registry::models().iter().map(|m| m.name.to_string()).collect()
    };
    let opts = RunOptions { progress: false };
    let none = Overrides::default();
    for name in &names {
        let entry = registry::model(name).expect("known model");
        // Warm-up: page in code and data, as the Python side does.
        for _ in 0..n.div_ceil(10) {
            black_box((entry.theory)(&none, &opts).expect("theory runs"));
        }
        let t0 = Instant::now();
        for _ in 0..n {
            black_box((entry.theory)(black_box(&none), &opts).expect("theory runs"));
        }
        let s = t0.elapsed().as_secs_f64();
        println!("theory {name} {n} calls {s:.6} s {:.3} us/call", 1e6 * s / n as f64);
    }
}

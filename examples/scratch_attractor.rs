use rayon::prelude::*;
use repcollapse::model::head::{simulate, HeadRates};
use repcollapse::model::head_config::HeadConfig;
use repcollapse::theory::head_attractor::analyse;
fn main() {
    let sets: Vec<String> = std::env::args().skip(1).collect();
    let cfg = HeadConfig::from_sets(&sets).unwrap();
    let a = cfg.base.label_weights().unwrap();
    let rates = HeadRates::from_config(&cfg);
    let out: Vec<String> = (0..cfg.base.seeds as u64).into_par_iter().map(|s| {
        let run = simulate(&cfg, &a, s).unwrap();
        let r = analyse(&a, rates, &run.last, 1e-6).unwrap();
        format!("seed {s}: {}", serde_json::to_string(&r).unwrap())
    }).collect();
    for l in out { println!("{l}"); }
}

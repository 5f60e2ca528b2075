//! The finite-D plateau of the un-regularised symmetric head (docs/teacher.md
//! section 6): mean min label distance over t in [0.8 t_max, t_max], its ratio
//! to sqrt(D), and the head's effective step eta_w tr Q / D.
//! Usage: cargo run --release --example teacher_head_plateau -- 250,500,1000,2000 0.5 700 4
use rayon::prelude::*;
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::simulation::simulate_head;
use repcollapse::models::teacher::metrics::TeacherScorer;
use repcollapse::models::teacher::statistics::Teacher;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dims: Vec<usize> = args[0].split(',').map(|s| s.parse().unwrap()).collect();
    let eta_ws: Vec<f64> = args[1].split(',').map(|s| s.parse().unwrap()).collect();
    let t_max: f64 = args[2].parse().unwrap();
    let seeds: u64 = args[3].parse().unwrap();
    for &dd in &dims { for &ew in &eta_ws {
        let sets = vec!["head=\"symmetric\"".to_string(), format!("input_dim={dd}"), format!("eta_w={ew}"), format!("t_max={t_max}"), "t_min=1".into(), "points=60".into()];
        let cfg = TeacherConfig::from_sets(&sets).unwrap();
        let scorer = TeacherScorer::new(Teacher::new(cfg.teacher, cfg.classes), cfg.label_noise, cfg.sigma, cfg.a);
        let res: Vec<(f64, f64, f64)> = (0..seeds).into_par_iter().map(|s| {
            let run = simulate_head(&cfg, &scorer, s).unwrap();
            let (mut n, mut sep, mut x2, mut w) = (0.0, 0.0, 0.0, 0.0);
            for (k, t) in run.times.iter().enumerate() {
                if *t >= 0.8 * t_max {
                    n += 1.0;
                    sep += run.metrics[k].base.min_label_distance;
                    let q = &run.order[k].q; let d = cfg.dim;
                    x2 += (0..d).map(|i| q[i * d + i]).sum::<f64>();
                    let h = &run.heads[k]; w += repcollapse::models::teacher::head::theory::head_spectrum(h, d).iter().map(|z| z.0).sum::<f64>() / d as f64;
                }
            }
            (sep / n, x2 / n, w / n)
        }).collect();
        let m = |f: &dyn Fn(&(f64, f64, f64)) -> f64| res.iter().map(f).sum::<f64>() / res.len() as f64;
        let sd = |f: &dyn Fn(&(f64, f64, f64)) -> f64| { let mu = m(f); (res.iter().map(|r| (f(r) - mu).powi(2)).sum::<f64>() / (res.len() as f64 - 1.0)).sqrt() };
        let sep = m(&|r| r.0);
        println!("D={dd} eta_w={ew} sep={sep:.3} sd={:.3} sep/sqrtD={:.4} trQ={:.2} eta_w trQ/D={:.4} mean head eig={:.4}", sd(&|r| r.0), sep / (dd as f64).sqrt(), m(&|r| r.1), ew * m(&|r| r.1) / dd as f64, m(&|r| r.2));
    }}
}

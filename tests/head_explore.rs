use repcollapse::engine::integrate::*;
use repcollapse::model::head_config::{HeadConfig, Variant};
use repcollapse::model::head::simulate;
use repcollapse::theory::head_symmetric::HeadSymmetric;

#[test]
fn explore() {
    for v in Variant::ALL {
        let t = std::time::Instant::now();
        let cfg = HeadConfig::from_sets(&[format!("variant={}", v.name()), "frustrated=0.2".into(), "t_max=200".into(), "batch=16".into(), "dt=0.05".into()]).unwrap();
        let a = cfg.base.label_weights().unwrap();
        let run = simulate(&cfg, &a, 1).unwrap();
        let m = run.metrics.last().unwrap();
        println!("SGD {v:?}: sep {:.4e} sts {:.3e} acc {:.3} spec {:?} collapsed {} ({:?})", m.base.min_label_distance, m.base.separation_to_spread, m.base.accuracy, m.head_spectrum, run.collapsed(), t.elapsed());
    }
    for ratio in [0.25, 1.0, 4.0] {
        for f in [0.3, 0.5, 0.6, 0.7, 0.75, 0.78, 0.82] {
            let t = std::time::Instant::now();
            let cfg = HeadConfig::from_sets(&["variant=symmetric".into(), format!("frustrated={f}"), "t_max=600".into(), "classes=3".into(), "per_class=40".into(), "dim=3".into(), "weight_decay=0.1".into(), format!("eta_w={ratio}"), "dt=0.05".into()]).unwrap();
            let a = cfg.base.label_weights().unwrap();
            let mut outs = Vec::new();
            for seed in 0..3 {
                let run = simulate(&cfg, &a, seed).unwrap();
                let m = run.metrics.last().unwrap();
                outs.push(format!("{:.3}/{:.3}", m.base.min_label_distance, m.head_spectrum.first().map(|e| e[0]).unwrap_or(0.0)));
            }
            // reduced from matched init
            let p = [f, 0.5, 3.0, 1.0, 1.0, ratio, 0.1];
            let sys = HeadSymmetric::new(Variant::Symmetric, p);
            let z0 = [0.0, 0.0, 0.0, (3.0f64 * 2.0 / 3.0).sqrt(), 1.0, 1.0];
            let tr = integrate(&sys, &z0, &p, &IntegrateOptions { method: Method::Dop853, rtol: 1e-9, atol: 1e-12, t_max: 600.0, grid: Grid::Times(vec![0.0, 600.0]), max_steps: 1000000 }).unwrap();
            println!("ratio {ratio} f {f}: {:?} reduced s={:.3} w={:.3} ({:?})", outs, tr.states[1][3], tr.states[1][4], t.elapsed());
        }
    }
}

use repcollapse::engine::VectorField;
use repcollapse::model::head_config::{HeadConfig, Variant};
use repcollapse::model::head::simulate;
use repcollapse::theory::head_fixed_points::*;
use repcollapse::theory::head_symmetric::HeadSymmetric;

#[test]
fn explore() {
    for v in Variant::ALL {
        let p = [0.2, 0.5, 4.0, 1.0, 1.0, 1.0, 0.0];
        let fps = fixed_points(v, &p, 1e-9).unwrap();
        for fp in fps {
            println!("{:?} {} w={:.4} {:?} zero={} attr={:?} ev={:?}", v, fp.kind, fp.head_eigenvalue, fp.classification.stability, fp.classification.zero_modes, fp.classification.attributed, fp.classification.eigenvalues.iter().map(|e| (e[0]*1e4).round()/1e4).collect::<Vec<_>>());
        }
    }
    for v in [Variant::Symmetric, Variant::Asymmetric] {
        for lam in [0.05, 0.1, 0.15] {
            let p = [0.2, 0.5, 3.0, 1.0, 1.0, 1.0, lam];
            let t = std::time::Instant::now();
            let fc = critical_frustration(v, &p).unwrap();
            println!("{v:?} lam={lam} fold {:?} in {:?}", fc, t.elapsed());
            let fps = fixed_points(v, &p, 1e-9).unwrap();
            for fp in fps {
                println!("   {} w={:.4} {:?} ev={:?}", fp.kind, fp.head_eigenvalue, fp.classification.stability, fp.classification.eigenvalues.iter().map(|e| (e[0]*1e4).round()/1e4).collect::<Vec<_>>());
            }
        }
    }
    for v in Variant::ALL {
        let t = std::time::Instant::now();
        let cfg = HeadConfig::from_sets(&[format!("variant={}", v.name()), "frustrated=0.2".into(), "t_max=200".into(), "classes=4".into(), "per_class=30".into(), "dim=6".into()]).unwrap();
        let a = cfg.base.label_weights().unwrap();
        let run = simulate(&cfg, &a, 1).unwrap();
        let m = run.metrics.last().unwrap();
        println!("{v:?}: sep {:.4e} sts {:.3e} acc {:.3} spec {:?} collapsed {} ({:?})", m.base.min_label_distance, m.base.separation_to_spread, m.base.accuracy, m.head_spectrum, run.collapsed(), t.elapsed());
    }
    let _ = HeadSymmetric::phi(&[0.0; 7]);
}

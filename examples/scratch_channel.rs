use repcollapse::engine::VectorField;
use repcollapse::model::teacher_config::TeacherConfig;
use repcollapse::theory::teacher_head_channel::*;
use repcollapse::study::teacher_head::head_ode_from_config;
fn main() {
    let sets: Vec<String> = std::env::args().skip(1).collect();
    let cfg = TeacherConfig::from_sets(&sets).unwrap();
    let sep = HeadChannel::new(&cfg, Channel::Separating, [0.0; 4]).unwrap();
    let com = HeadChannel::new(&cfg, Channel::Common, [0.0; 4]).unwrap();
    let p = sep.params.clone();
    println!("sep fps {:?}", channel_fixed_points(&sep, &p));
    println!("com fps {:?}", channel_fixed_points(&com, &p));
    println!("fc existence {:?}", critical_frustration(&sep, &p));
    let fold = engine_fold(&sep, &p).unwrap();
    println!("engine fold {:?}", fold.map(|b| b.param));
    let k = cfg.classes as f64; let c0 = cfg.a * cfg.a / k + cfg.sigma * cfg.sigma;
    let lam = cfg.weight_decay;
    println!("closed form f_c (mixture sym, sigma=0) = {}", (k - 1.0) / k * (1.0 - lam.sqrt() * (1.0 + 1.0 / c0.sqrt())));
    if let (Ok(s), Ok(c)) = (channel_fixed_points(&sep, &p), channel_fixed_points(&com, &p)) {
        let ode = head_ode_from_config(&cfg).unwrap();
        let x = lift(&ode, s[0].state, c[0].state);
        let mut f = vec![0.0; x.len()];
        ode.rhs(&x, &ode.params, &mut f);
        println!("lift residual {:.3e}", f.iter().map(|v| v * v).sum::<f64>().sqrt());
        let rep = repcollapse::engine::classify(&ode, &x, &ode.params, &Default::default()).unwrap();
        println!("full: {:?} zero {} unexpl {} maxre {:.4e}", rep.stability, rep.zero_modes, rep.unexplained_zero_modes, rep.eigenvalues.iter().filter(|z| z.re.abs() > 1e-9).map(|z| z.re).fold(f64::NEG_INFINITY, f64::max));
        let xz = lift(&ode, s[0].state, [0.0; 4]);
        ode.rhs(&xz, &ode.params, &mut f);
        let rep = repcollapse::engine::classify(&ode, &xz, &ode.params, &Default::default()).unwrap();
        println!("common off: resid {:.2e} {:?} zero {} unexpl {}", f.iter().map(|v| v * v).sum::<f64>().sqrt(), rep.stability, rep.zero_modes, rep.unexplained_zero_modes);
    }
    if let Ok(b) = engine_boundary(&sep, &p, 0.01, 0.2, 0.02) { for pt in b.points.iter().step_by(5) { println!("  f={:.5} lam={:.5} closed={:.5}", pt.p1, pt.p2, (k - 1.0) / k * (1.0 - pt.p2.sqrt() * (1.0 + 1.0 / c0.sqrt()))); } }
}

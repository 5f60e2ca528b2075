//! Scratch: Model T head ODE with weight decay — trajectory end, fixed points, stability.
use repcollapse::engine::integrate::{integrate, Grid, IntegrateOptions, Method};
use repcollapse::engine::VectorField;
use repcollapse::model::teacher_config::TeacherConfig;
use repcollapse::study::teacher_head::{head_fixed_points, head_ode_from_config, head_spectrum};

fn main() {
    let sets: Vec<String> = std::env::args().skip(1).collect();
    let cfg = TeacherConfig::from_sets(&sets).unwrap();
    let ode = head_ode_from_config(&cfg).unwrap();
    let times: Vec<f64> = (0..=20).map(|i| cfg.t_max * i as f64 / 20.0).collect();
    let opts = IntegrateOptions { method: Method::Dop853, rtol: 1e-9, atol: 1e-12, t_max: cfg.t_max, grid: Grid::Times(times.clone()), max_steps: 10_000_000 };
    let traj = integrate(&ode, &ode.initial, &ode.params, &opts).unwrap();
    let (d, k) = (cfg.dim, cfg.classes);
    for (t, x) in traj.t.iter().zip(&traj.states) {
        let mut o = vec![0.0; 2];
        ode.observables(x, &ode.params, &mut o);
        let (_, h) = ode.unpack(x);
        println!("t={t:8.1} minlab={:10.5} spread={:10.5} head={:?}", o[0], o[1], head_spectrum(&h, d).iter().map(|z| (z.0 * 1e4).round() / 1e4).collect::<Vec<_>>());
    }
    let x_end = traj.states.last().unwrap().clone();
    let (fps, reached) = head_fixed_points(&ode, &x_end, 16).unwrap();
    println!("reached = {reached:?}");
    for (i, fp) in fps.iter().enumerate() {
        let (op, h) = ode.unpack(&fp.state);
        let sep = repcollapse::model::metrics::label_distances(&op.y, k, d).0;
        let r = &fp.report;
        let maxre = r.eigenvalues.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max);
        let pos = r.eigenvalues.iter().filter(|z| z.re > 1e-7).count();
        println!("fp {i}: sep={sep:.5} stab={:?} zero={} unexpl={} npos={pos} maxre={maxre:.3e} head={:?} resid={:.1e}", r.stability, r.zero_modes, r.unexplained_zero_modes, head_spectrum(&h, d), fp.residual);
    }
}

#[allow(dead_code)]
fn unused() {}

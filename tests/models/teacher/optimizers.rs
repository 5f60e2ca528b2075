//! Model T (online SGD) with momentum, Nesterov and Adam
//! (`docs/optimisers.md` sections 1 and 8): the keys' checks, the wrapper
//! against plain SGD, thread independence, allocation-free steps, and the
//! online momentum theory (SGD at rates `eta/(1-beta)`) against simulation
//! at several `beta`, converging as `D` grows.
use rand::SeedableRng;
use repcollapse::models::common::optimizer::{Optimizer, OptimizerState};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::online::experiment::TeacherExperiment;
use repcollapse::models::teacher::online::momentum::{critical_momentum, effective_rates, mean_map_slow_rate, online_slow_rate, spread_factor};
use repcollapse::models::teacher::online::reduced::row_rates;
use repcollapse::models::teacher::online::simulation::{SampleRng, StepWorkspace, Stream, Student};
use repcollapse::models::teacher::statistics::Teacher;

use crate::support::counting_alloc::allocations_in;

fn cfg(sets: &[&str]) -> TeacherConfig {
    TeacherConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

fn err(sets: &[&str]) -> String {
    TeacherConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_err().to_string()
}

#[test]
fn optimizer_keys_are_range_checked_and_refused_where_they_do_not_run() {
    let e = err(&["optimizer=momentum", "momentum=1"]);
    assert!(e.contains("`momentum`") && e.contains("[0, 1)"), "{e}");
    let e = err(&["optimizer=adam", "beta2=1.5"]);
    assert!(e.contains("`beta2`") && e.contains("1.5"), "{e}");
    let e = err(&["optimizer=adam", "eps=0"]);
    assert!(e.contains("`eps`"), "{e}");
    let e = err(&["momentum=0.5"]);
    assert!(e.contains("`momentum`") && e.contains("does not use"), "{e}");
    // Not implemented with a head or a finite training set: refused, not ignored.
    let e = err(&["optimizer=momentum", "momentum=0.5", "head=symmetric"]);
    assert!(e.contains("`optimizer`") && e.contains("head"), "{e}");
    let e = err(&["optimizer=adam", "samples=100"]);
    assert!(e.contains("`optimizer`") && e.contains("finite training set"), "{e}");
    // Online momentum is SGD at eta_x/(1-beta): stable below 2.
    let e = err(&["optimizer=momentum", "momentum=0.75", "eta_x=0.5"]);
    assert!(e.contains("`eta_x`") && e.contains("0.5"), "{e}");
    assert!(TeacherConfig::from_sets(&["optimizer=momentum".into(), "momentum=0.74".into(), "eta_x=0.5".into()]).is_ok());
    assert!((critical_momentum(0.5) - 0.75).abs() < 1e-15);
    assert_eq!(cfg(&["optimizer=nesterov", "momentum=0.3"]).optimizer, Optimizer::Nesterov { beta: 0.3 });
    // Plain SGD records no optimiser keys (result files unchanged); a choice is recorded.
    let plain = cfg(&[]).to_json();
    assert!(plain.get("optimizer").is_none() && plain.get("momentum").is_none() && plain.get("eta_x").is_some());
    assert_eq!(cfg(&["optimizer=momentum", "momentum=0.5"]).to_json()["momentum"], 0.5);
}

/// `steps` online steps of a config's rule from its initial student (seed 1).
fn steps(c: &TeacherConfig, n: usize) -> Student {
    let stream = Stream::from_config(c);
    let mut rng = SampleRng::seed_from_u64(7);
    let mut s = Student::initial(c, 1);
    let mut ws = StepWorkspace::new(c.dim, c.input_dim);
    let mut opt = OptimizerState::new(c.optimizer, s.w.len() + s.y.len());
    for _ in 0..n {
        let (_, l) = stream.sample(&mut rng, &mut ws.xi);
        if c.optimizer.is_plain_gd() {
            s.deferred_step(l, c.eta_x, c.eta_y, &mut ws);
        } else {
            s.optimizer_step(l, c.eta_x, c.eta_y, &mut opt, &mut ws);
        }
    }
    s.flush(&mut ws);
    s
}

#[test]
fn beta_zero_reproduces_plain_sgd_and_beta_changes_the_path() {
    let base = ["input_dim=300"];
    let sgd = steps(&cfg(&base), 2000);
    for rule in ["momentum", "nesterov"] {
        let c = cfg(&[base[0], &format!("optimizer={rule}")]);
        let s = steps(&c, 2000);
        let dev = sgd.w.iter().chain(&sgd.y).zip(s.w.iter().chain(&s.y)).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(dev < 1e-11, "{rule} at beta = 0 differs from SGD by {dev:e}");
        let c = cfg(&[base[0], &format!("optimizer={rule}"), "momentum=0.5"]);
        let s = steps(&c, 2000);
        let dev = sgd.y.iter().zip(&s.y).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(dev > 1e-3, "{rule} at beta = 0.5 left the labels where SGD has them ({dev:e})");
    }
}

#[test]
fn every_rule_is_bit_identical_for_one_and_two_threads_and_allocates_nothing_per_step() {
    for sets in [vec!["optimizer=momentum", "momentum=0.5"], vec!["optimizer=nesterov", "momentum=0.5"], vec!["optimizer=adam", "beta2=0.99"]] {
        let mut s = vec!["input_dim=200", "seeds=3", "t_max=3", "points=6"];
        s.extend(&sets);
        let c = cfg(&s);
        let bits = |threads: usize| {
            let e = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| TeacherExperiment::run(&c).unwrap());
            e.seeds.iter().flat_map(|sd| sd.run.order.iter().flat_map(|o| o.r.iter().chain(&o.y).chain(&o.s).map(|v| v.to_bits()).collect::<Vec<_>>())).collect::<Vec<u64>>()
        };
        assert_eq!(bits(1), bits(2), "{sets:?}: 1 and 2 threads differ");

        let stream = Stream::from_config(&c);
        let mut rng = SampleRng::seed_from_u64(3);
        let mut warm = [0.0; 8];
        rng.fill_standard_normal(&mut warm);
        let mut st = Student::initial(&c, 1);
        let mut ws = StepWorkspace::new(c.dim, c.input_dim);
        let mut opt = OptimizerState::new(c.optimizer, st.w.len() + st.y.len());
        let n = allocations_in(|| {
            for _ in 0..200 {
                let (_, l) = stream.sample(&mut rng, &mut ws.xi);
                st.optimizer_step(l, c.eta_x, c.eta_y, &mut opt, &mut ws);
            }
        });
        assert_eq!(n, 0, "{sets:?}: 200 steps allocated {n} times");
    }
}

#[test]
fn closed_forms_of_the_online_limit() {
    let c = cfg(&["eta_x=0.25", "eta_y=0.25", "label_noise=0.2"]);
    let t = Teacher::new(c.teacher, c.classes);
    let p = c.ode_params();
    let lambda = row_rates(&t, &p).separating.0;
    for beta in [0.0, 0.3, 0.5, 0.75, 0.85] {
        // The separating block is homogeneous in the rates: exactly lambda/(1-beta).
        let r = online_slow_rate(&t, &p, beta);
        assert!((r * (1.0 - beta) / lambda - 1.0).abs() < 1e-12, "beta = {beta}: {r} vs {}", lambda / (1.0 - beta));
        // The mean map at finite D converges to it like 1/D.
        let opt = Optimizer::Momentum { beta };
        let e1 = mean_map_slow_rate(opt, &t, &p, 500).unwrap() - r;
        let e2 = mean_map_slow_rate(opt, &t, &p, 1000).unwrap() - r;
        let c1 = lambda * lambda * (1.0 + beta) / (2.0 * (1.0 - beta).powi(3));
        assert!((e1 * 500.0 / c1 - 1.0).abs() < 0.02 && (e2 * 1000.0 / c1 - 1.0).abs() < 0.01, "beta = {beta}: {e1:e}, {e2:e}");
    }
    let (ex, ey) = effective_rates(0.25, 0.5, 0.75);
    assert!((ex - 1.0).abs() < 1e-15 && (ey - 2.0).abs() < 1e-15);
    assert!((spread_factor(0.25, 0.75) - 1.0).abs() < 1e-15 && spread_factor(0.5, 0.75).is_infinite());
    // The config hands the ODE the effective rates.
    let m = cfg(&["eta_x=0.25", "eta_y=0.25", "optimizer=nesterov", "momentum=0.5"]).ode_params();
    assert!((m[0] - 0.5).abs() < 1e-15 && (m[1] - 0.5).abs() < 1e-15);
}

/// Fitted slow rate (mean, CI half-width), theory, and the mean max
/// deviation of the order parameters from the ODE.
fn measured(rule: &str, beta: f64, d: usize) -> (f64, f64, f64, f64) {
    let sets = ["eta_x=0.25".to_string(), "eta_y=0.25".into(), "label_noise=0.2".into(), "seeds=6".into(), format!("input_dim={d}"), format!("optimizer={rule}"), format!("momentum={beta}"), format!("t_max={}", 5.0 * (1.0 - beta) / 0.064)];
    let c = TeacherConfig::from_sets(&sets).unwrap();
    let e = TeacherExperiment::run(&c).unwrap();
    let f = e.fitted_rate().unwrap();
    (f.mean, 0.5 * (f.ci95[1] - f.ci95[0]), e.theory.slow_rate(), e.deviation().mean)
}

#[test]
fn sgd_with_momentum_collapses_at_the_online_rate_over_one_minus_beta_converging_in_d() {
    let c = cfg(&["eta_x=0.25", "eta_y=0.25", "label_noise=0.2"]);
    let sgd_rate = row_rates(&Teacher::new(c.teacher, c.classes), &c.ode_params()).separating.0;
    for (rule, beta) in [("momentum", 0.5), ("momentum", 0.75), ("nesterov", 0.75)] {
        let small = measured(rule, beta, 200);
        let large = measured(rule, beta, 800);
        eprintln!("{rule} beta = {beta}: theory {:.5}; D = 200 fit {:.5} +- {:.5}, ODE deviation {:.4}; D = 800 fit {:.5} +- {:.5}, deviation {:.4}", small.2, small.0, small.1, small.3, large.0, large.1, large.3);
        assert!((small.2 * (1.0 - beta) / sgd_rate - 1.0).abs() < 1e-12);
        for (d, m) in [(200, small), (800, large)] {
            assert!((m.0 - m.2).abs() <= m.1, "{rule} beta = {beta}, D = {d}: fitted {} +- {} misses the theory {}", m.0, m.1, m.2);
            // Momentum did change the rate: plain SGD's is far outside.
            assert!((m.0 - sgd_rate).abs() > 5.0 * m.1, "{rule} beta = {beta}, D = {d}: fitted {} is not distinguishable from SGD's {sgd_rate}", m.0);
        }
        // Convergence as D grows: the interval and the distance of the whole
        // trajectory (R, Y, Q) from the ODE shrink (~ D^-1/2: expected ratio 0.5).
        assert!(large.1 < 0.8 * small.1, "{rule} beta = {beta}: CI half-width {} at D = 800 vs {} at D = 200", large.1, small.1);
        assert!(large.3 < 0.7 * small.3, "{rule} beta = {beta}: ODE deviation {} at D = 800 vs {} at D = 200", large.3, small.3);
    }
}

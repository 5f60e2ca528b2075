//! Model T with a finite training set: the alpha -> 0 reduction to Model E
//! (against Model E's own gradient-descent code and class-level theory),
//! gradient descent against the exact spectral flow, and the hat-matrix
//! frustration operator on both sides of alpha = 1.
use repcollapse::models::embedding::simulation::{gd_step as model_e_step, Embeddings, Rates};
use repcollapse::models::teacher::online::simulation::Student;
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::finite::simulation::{embed_all, gd_step, FiniteWorkspace, TrainingSet};
use repcollapse::stats::fit_decay_rate;
use repcollapse::models::teacher::finite::experiment::{gd_metrics, FiniteExperiment};
use repcollapse::models::embedding::reduced::class_level::ClassLevelSystem;
use repcollapse::models::teacher::finite::reduced::FiniteFlow;

fn cfg(sets: &[String]) -> TeacherConfig {
    TeacherConfig::from_sets(sets).unwrap()
}

/// Largest difference between the teacher-student GD trajectory and Model
/// E's GD trajectory (one-hot weights A_mu = e_{l_mu}) over 100 steps.
fn deviation_from_model_e(d_in: usize) -> (f64, ClassLevelSystem) {
    let c = cfg(&[format!("input_dim={d_in}"), "samples=30".into(), "label_noise=0.2".into(), "dim=2".into(), "dt=0.05".into()]);
    let data = TrainingSet::draw(&c, 30, 4);
    let a = data.label_weights().unwrap();
    let mut s = Student::initial(&c, 4);
    let mut ws = FiniteWorkspace::new(30, c.dim, d_in, c.classes);
    embed_all(&s, &data, &mut ws.x);
    let mut e = Embeddings { x: ws.x.clone(), y: s.y.clone(), dim: c.dim };
    let r = Rates { eta_x: c.eta_x, eta_y: c.eta_y, per_class: a.per_class() };
    let mut pull = vec![0.0; c.classes * c.dim];
    let mut worst: f64 = 0.0;
    for _ in 0..100 {
        gd_step(&mut s, &data, c.eta_x, c.eta_y, c.dt, &mut ws);
        model_e_step(&a, &mut e, r, c.dt, &mut pull);
        embed_all(&s, &data, &mut ws.x);
        let dx = ws.x.iter().zip(&e.x).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        let dy = s.y.iter().zip(&e.y).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        worst = worst.max(dx).max(dy);
    }
    (worst, ClassLevelSystem::new(&a, c.eta_x, c.eta_y, 1).unwrap())
}

#[test]
fn small_alpha_reduces_to_model_e() {
    let (e_small, sys) = deviation_from_model_e(2_000);
    let (e_large, _) = deviation_from_model_e(32_000);
    eprintln!("model E reduction: D = 2000: {e_small:.3e}, D = 32000: {e_large:.3e}");
    // K = Xi Xi^T / D - I has entries O(D^-1/2): a 16x larger D gives ~4x less.
    assert!(e_large < e_small / 2.5, "{e_small} -> {e_large}");
    assert!(e_large < 0.05, "deviation {e_large} at D = 32000");
    // One-hot label weights are unfrustrated: Model E's class-level theory
    // conserves the separation, and so does the finite-data flow at alpha < 1.
    assert_eq!(sys.spectrum().unwrap().slow_rate, 0.0);
    let c = cfg(&["input_dim=200".into(), "samples=30".into(), "label_noise=0.2".into(), "dim=2".into()]);
    let data = TrainingSet::draw(&c, 30, 4);
    let flow = FiniteFlow::new(&data, c.eta_x, c.eta_y).unwrap();
    let sp = flow.spectrum(&data, c.eta_y).unwrap();
    assert!(sp.conserved_separation && sp.slow_rate.is_none());
    assert!(sp.hat_operator_spectrum.iter().all(|m| (m - 1.0).abs() < 1e-8), "{:?}", sp.hat_operator_spectrum);
}

#[test]
fn gradient_descent_converges_to_exact_flow_and_its_slow_rate() {
    let sets = |dt: f64| vec!["input_dim=40".to_string(), "samples=100".into(), "label_noise=0.2".into(), format!("dt={dt}"), "t_max=150".into(), "seeds=1".into()];
    let dev = |dt: f64| FiniteExperiment::run(&cfg(&sets(dt)), true).unwrap().gd_deviation().unwrap();
    let (e1, e2) = (dev(0.1), dev(0.025));
    // Euler is first order: 4x smaller step, ~4x smaller error.
    assert!(e2 < e1 / 3.0 && e2 < 0.01, "{e1} -> {e2}");
    // The GD separation decays at the exact flow's slow rate (alpha = 2.5 > 1).
    let c = cfg(&sets(0.025));
    let data = TrainingSet::draw(&c, 100, c.seed);
    let flow = FiniteFlow::new(&data, c.eta_x, c.eta_y).unwrap();
    let slow = flow.spectrum(&data, c.eta_y).unwrap().slow_rate.expect("alpha > 1 with label noise collapses");
    let student = Student::initial(&c, c.seed);
    let times: Vec<f64> = (0..=60).map(|k| 2.5 * k as f64).collect();
    let m = gd_metrics(&c, &student, &data, &times).unwrap();
    let sep: Vec<f64> = m.iter().map(|x| x.min_label_distance).collect();
    let fit = fit_decay_rate(&times, &sep, 75.0, 150.0).unwrap();
    assert!((fit - slow).abs() < 0.03 * slow, "GD fit {fit} vs exact slow rate {slow}");
}

#[test]
fn realizable_labels_never_collapse_noisy_labels_collapse_beyond_alpha_one() {
    let spec = |alpha_n: usize, f: f64| {
        let c = cfg(&["input_dim=40".into(), format!("samples={alpha_n}"), format!("label_noise={f}")]);
        let data = TrainingSet::draw(&c, alpha_n, 1);
        FiniteFlow::new(&data, c.eta_x, c.eta_y).unwrap().spectrum(&data, c.eta_y).unwrap()
    };
    let clean = spec(160, 0.0);
    assert!(clean.conserved_separation && clean.induced_frustration.abs() < 1e-8, "{clean:?}");
    let noisy = spec(160, 0.2);
    assert!(!noisy.conserved_separation && noisy.induced_frustration > 0.05, "{noisy:?}");
    assert!(noisy.slow_rate.unwrap() > 0.0);
    let under = spec(30, 0.2);
    assert!(under.conserved_separation, "{under:?}");
}

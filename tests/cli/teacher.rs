//! `repcollapse theory|simulate teacher-student`: documented JSON keys,
//! exit codes for bad input, and the model-file strings.

use repcollapse::engine::VectorField;
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::export::model_file_strings;
use repcollapse::models::teacher::online::theory::TeacherTheory;

use crate::support::bin::run;

#[test]
fn theory_json_reports_rates_and_fixed_points() {
    let (code, out, err) = run(&["theory", "teacher-student", "--set", "label_noise=0.1", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let slow = v["slow_rate"].as_f64().unwrap();
    assert!(slow > 0.0 && v["collapses"].as_bool().unwrap());
    let fp = &v["fixed_points"][0];
    assert!(fp["stability"].as_str().unwrap().starts_with("stable"));
    assert!(fp["kind"].as_str().unwrap().starts_with("collapsed family"));
    // The ODE's own late-time decay matches its slow rate.
    let fit = v["fitted_slow_rate_ode"].as_f64().unwrap();
    assert!((fit - slow).abs() < 0.01 * slow, "{fit} vs {slow}");
}

#[test]
fn simulate_json_reports_measured_order_parameters() {
    let (code, out, err) = run(&["simulate", "teacher-student", "--set", "input_dim=100", "--set", "t_max=3", "--set", "seeds=2", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["final_accuracy", "final_accuracy_empirical", "final_separation_to_spread", "max_deviation_from_ode", "final_order_parameters_seed0", "trajectory"] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    let (code, out, err) = run(&["simulate", "teacher-student", "--set", "samples=80", "--set", "input_dim=40", "--set", "seeds=1", "--set", "t_max=20", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["alpha"].as_f64().unwrap() - 2.0).abs() < 1e-12);
    assert!(v["gd_max_relative_deviation"].as_f64().unwrap() < 0.05);
}

#[test]
fn bad_teacher_input_exits_with_code_2() {
    let (code, _, err) = run(&["theory", "teacher-student", "--set", "teacher=perceptron"]);
    assert_eq!(code, 2);
    assert!(err.contains("`teacher`") && err.contains("mixture | argmax"), "{err}");
    let (code, _, err) = run(&["simulate", "teacher-student", "--set", "sigma=-1"]);
    assert_eq!(code, 2);
    assert!(err.contains("`sigma`"), "{err}");
}

#[test]
fn model_file_strings_cover_every_state() {
    let cfg = TeacherConfig::from_sets(&["dim=2".into(), "classes=3".into()]).unwrap();
    let th = TeacherTheory::from_config(&cfg).unwrap();
    let m = model_file_strings(&th.ode).unwrap();
    assert_eq!(m.equations.len(), th.ode.dim());
    assert_eq!(m.states.len(), th.ode.dim());
    assert_eq!(m.params.len(), 5);
    assert!(m.equations.iter().all(|(_, e)| e.contains("eta_")));
}

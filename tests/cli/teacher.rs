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

/// `repcollapse export teacher-student --reduced-slice` (`docs/teacher.md`
/// 9.1): the written file is the library's slice-reduced model text for the
/// same `--set`s, it loads, and the engine's one-parameter Hopf detection
/// on it (at f = 0.15, just above the Hopf curve) lands on the Hopf curve
/// traced in two parameters from f = 0.1 (`cycle_region`), whose end point
/// lies on f = 0.15. Tolerance as in `tests/models/teacher/cycle_region.rs`:
/// both solve the critical-pair condition by Newton to 1e-10; 1e-6 allows
/// for the one-parameter detector's location. Bad input: another model, or
/// a head the slice is not written for, exits 2 naming the setting.
#[test]
fn exported_reduced_slice_loads_and_its_hopf_point_lies_on_the_traced_curve() {
    use repcollapse::engine::{continue_equilibria, BifurcationKind, ContinuationParams};
    use repcollapse::models::teacher::head::reduced::cycle_region::{cycle_region, RegionOptions};
    use repcollapse::models::teacher::head::reduced::slice::{reduced_model_text, relative_equilibrium, REDUCED_DIM};
    use repcollapse::symbolic::SymbolicModel;

    let curve = cycle_region(
        &TeacherConfig::from_sets(&["head=\"symmetric\"".into(), "label_noise=0.1".into(), "weight_decay=0.02".into()]).unwrap(),
        &RegionOptions { f_range: [0.05, 0.15], runoff_fs: vec![], ..RegionOptions::default() },
    )
    .unwrap()
    .hopf_curve;
    let end = curve.last().unwrap();
    assert_eq!(end.f, 0.15, "the curve ends on its f bound");
    let lam0 = 1.02 * end.weight_decay;
    let sets = ["head=\"symmetric\"".to_string(), "label_noise=0.15".to_string(), format!("weight_decay={lam0}")];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slice.toml");
    let mut args = vec!["export", "teacher-student", "--reduced-slice", "--out", file.to_str().unwrap()];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text, reduced_model_text(&TeacherConfig::from_sets(&sets).unwrap(), None).unwrap(), "the file is the library's text for the same settings");
    let m = SymbolicModel::from_toml_str(&text, "exported slice").unwrap();
    assert_eq!(m.dim(), REDUCED_DIM);
    let p = m.default_params();
    let z = relative_equilibrium(&m, &p).unwrap();
    let mut cp = ContinuationParams::new(6, 0.9 * lam0, lam0);
    cp.direction = -1.0;
    cp.arclength.ds = 1e-3;
    let res = continue_equilibria(&m, &z, &p, &cp).unwrap();
    let h = res.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).expect("a Hopf point below 1.02 lambda_H");
    assert!((h.param - end.weight_decay).abs() < 1e-6, "file {} vs curve {}", h.param, end.weight_decay);
    assert!((h.frequency.unwrap() - end.omega).abs() < 1e-4 * end.omega);
    assert!(h.lyapunov.is_some_and(|l| l < 0.0), "supercritical at f = 0.15 too");

    let (code, _, err) = run(&["export", "head", "--reduced-slice"]);
    assert!(code == 2 && err.contains("--reduced-slice"), "{code} {err}");
    let (code, _, err) = run(&["export", "teacher-student", "--reduced-slice", "--set", "head=\"asymmetric\""]);
    assert!(code == 2 && err.contains("head"), "{code} {err}");
}

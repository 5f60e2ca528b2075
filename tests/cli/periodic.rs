//! `repcollapse analyze MODEL.toml periodic`: the cycle branch of the Hopf
//! normal form model file from its Hopf point and from an orbit, its JSON
//! and CSV outputs, and bad input rejected by flag name.
use serde_json::Value;

use crate::support::bin::run;

fn model() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/hopf.toml").to_string()
}

#[test]
fn periodic_from_hopf_and_from_orbit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    // From the Hopf point at mu = 0 (omega = 1, b = 0: circles of radius
    // sqrt(mu), period 2 pi, supercritical with l1 = -2).
    let (code, stdout, stderr) = run(&["analyze", &model(), "periodic", "--param", "mu", "--from", "-0.5", "--to", "0.5", "--json", "--out", out]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["start"]["from"], "hopf");
    assert!(v["start"]["param"].as_f64().unwrap().abs() < 1e-8);
    assert!((v["start"]["lyapunov"].as_f64().unwrap() + 2.0).abs() < 1e-8);
    assert_eq!(v["stop"], "parameter-bound");
    let pts = v["points"].as_array().unwrap();
    assert!(pts.len() > 3);
    for p in pts {
        let mu = p["param"].as_f64().unwrap();
        assert!((p["period"].as_f64().unwrap() - std::f64::consts::TAU).abs() < 1e-8);
        assert!((p["max"]["x"].as_f64().unwrap() - mu.sqrt()).abs() < 1e-4 * mu.sqrt());
        assert_eq!(p["stable"], true);
    }
    let csv = std::fs::read_to_string(dir.path().join("periodic.csv")).unwrap();
    assert!(csv.starts_with("kind,index,mu,period,min_x,min_y,max_x,max_y,stable,n_unstable,"));
    assert_eq!(csv.lines().count(), pts.len() + 1);
    assert!(dir.path().join("periodic.json").exists());

    // From the orbit at mu = 0.3 towards smaller mu.
    let (code, stdout, stderr) = run(&["analyze", &model(), "periodic", "--param", "mu", "--from", "0.3", "--to", "0.05", "--from-orbit", "--json", "--out", out]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["start"]["from"], "orbit");
    assert!((v["start"]["period"].as_f64().unwrap() - std::f64::consts::TAU).abs() < 1e-8);
    let last = v["points"].as_array().unwrap().last().unwrap().clone();
    assert!((last["param"].as_f64().unwrap() - 0.05).abs() < 1e-12, "{last}");
}

#[test]
fn periodic_rejects_bad_input_by_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    for (args, flag) in [
        (vec!["--param", "mu", "--from", "0.1", "--to", "0.1"], "--to"),
        (vec!["--param", "mu", "--from", "-0.5", "--to", "0.5", "--ncol", "9"], "--ncol"),
        (vec!["--param", "nu", "--from", "-0.5", "--to", "0.5"], "--param"),
        (vec!["--param", "mu", "--from", "0.3", "--to", "0.5", "--from-orbit", "--transient", "-1"], "--transient"),
    ] {
        let m = model();
        let mut a = vec!["analyze", m.as_str(), "periodic", "--out", out];
        a.extend(args.iter().copied());
        let (code, _, stderr) = run(&a);
        assert_ne!(code, 0);
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
}

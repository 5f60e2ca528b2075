//! The command line: every bad input names the field, the value and the
//! valid range, and exits non-zero; good input gives the documented JSON.

use crate::support::bin::run as repcollapse;

fn assert_rejected(sets: &[&str], must_contain: &[&str]) {
    let mut args = vec!["theory", "embedding"];
    for s in sets {
        args.push("--set");
        args.push(s);
    }
    let (code, _, err) = repcollapse(&args);
    assert_ne!(code, 0, "{sets:?} must fail");
    for m in must_contain {
        assert!(err.contains(m), "{sets:?}: stderr {err:?} lacks {m:?}");
    }
}

#[test]
fn invalid_parameters_name_field_value_and_range() {
    assert_rejected(&["classes=1"], &["`classes`", "1", "[2, 10000]"]);
    assert_rejected(&["frustrated=1.5"], &["`frustrated`", "1.5", "[0, 1]"]);
    assert_rejected(&["frustrated=-0.1"], &["`frustrated`", "-0.1", "[0, 1]"]);
    assert_rejected(&["rho=0"], &["`rho`", "0", "(0, 0.5]"]);
    assert_rejected(&["rho=0.7"], &["`rho`", "0.7", "(0, 0.5]"]);
    assert_rejected(&["eta_x=0"], &["`eta_x`", "(0, 1e100]"]);
    assert_rejected(&["eta_x=1e308"], &["`eta_x`", "1e308", "(0, 1e100]"]);
    assert_rejected(&["eta_y=-2"], &["`eta_y`", "-2", "(0, 1e100]"]);
    assert_rejected(&["dt=-0.1"], &["`dt`", "-0.1"]);
    assert_rejected(&["classes=6", "dim=3"], &["`dim`", "3", ">= classes - 1 = 5"]);
    assert_rejected(&["pairing=spiral"], &["`pairing`", "spiral", "balanced | uniform | ring"]);
}

#[test]
fn unknown_key_is_rejected_with_suggestion() {
    assert_rejected(&["frustated=0.1"], &["unknown key `frustated`", "did you mean `frustrated`", "valid keys"]);
    assert_rejected(&["frustrated"], &["--set", "key=value"]);
}

#[test]
fn unreadable_or_malformed_a_file_is_rejected() {
    assert_rejected(&["a_file=/nonexistent/A.csv"], &["/nonexistent/A.csv"]);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("A.csv");
    std::fs::write(&bad, "0.5,0.5\n0.2,0.3\n").unwrap();
    assert_rejected(&[&format!("a_file={}", bad.display())], &["line 2", "sum to 0.5"]);
}

#[test]
fn a_file_is_accepted_and_matches_the_design() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("A.csv");
    // Ring design by hand: 2 consistent + 1 frustrated (rho = 0.5) per class, K = 3.
    let mut text = String::from("class,y0,y1,y2\n");
    for c in 0..3 {
        let mut row = [0.0; 3];
        row[c] = 1.0;
        text += &format!("{c},{},{},{}\n{c},{},{},{}\n", row[0], row[1], row[2], row[0], row[1], row[2]);
        let mut fr = [0.0; 3];
        fr[c] = 0.5;
        fr[(c + 1) % 3] = 0.5;
        text += &format!("{c},{},{},{}\n", fr[0], fr[1], fr[2]);
    }
    std::fs::write(&path, text).unwrap();
    let a = format!("a_file={}", path.display());
    let (code, out, err) = repcollapse(&["theory", "embedding", "--set", &a, "--set", "dim=2", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (code2, out2, _) = repcollapse(&["theory", "embedding", "--set", "classes=3", "--set", "per_class=3", "--set", "frustrated=0.34", "--set", "pairing=ring", "--set", "dim=2", "--json"]);
    assert_eq!(code2, 0);
    let w: serde_json::Value = serde_json::from_str(&out2).unwrap();
    let (p, q) = (v["slow_rate"].as_f64().unwrap(), w["slow_rate"].as_f64().unwrap());
    assert!((p - q).abs() < 1e-12, "file {p} vs design {q}");
}

#[test]
fn theory_json_has_documented_fields() {
    let (code, out, err) = repcollapse(&["theory", "embedding", "--set", "frustrated=0.25", "--set", "per_class=12", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["frustration_index", "m_spectrum", "slow_rate", "fast_rates", "collapse_time", "fixed_points", "config", "crate_version"] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    assert!(v["slow_rate"].as_f64().unwrap() > 0.0);
    let (_, out0, _) = repcollapse(&["theory", "embedding", "--set", "frustrated=0", "--json"]);
    let v0: serde_json::Value = serde_json::from_str(&out0).unwrap();
    assert_eq!(v0["slow_rate"].as_f64(), Some(0.0));
    assert!(v0["collapse_time"].is_null());
    assert_eq!(v0["collapse"]["collapses"], false);
    assert!(v0["collapse"]["message"].as_str().unwrap().contains("no collapse"));
}

#[test]
fn simulate_json_is_deterministic_and_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sim.json");
    let args = ["simulate", "embedding", "--set", "per_class=10", "--set", "seeds=3", "--set", "t_max=80", "--set", "batch=5", "--json"];
    let (c1, o1, e1) = repcollapse(&args);
    let mut with_out = args.to_vec();
    with_out.extend(["--out", file.to_str().unwrap()]);
    let (c2, o2, _) = repcollapse(&with_out);
    assert_eq!((c1, c2), (0, 0), "{e1}");
    assert_eq!(o1, o2, "same seed and config must give identical JSON");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for key in ["fitted_slow_rate", "final_accuracy", "separation_trajectory", "collapsed", "config"] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    assert!(v["fitted_slow_rate"]["ci95"].as_array().unwrap().len() == 2);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name() != "sim.json").collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
}

#[test]
fn unstable_dt_fails_with_advice() {
    let (code, _, err) = repcollapse(&["simulate", "embedding", "--set", "dt=1.5", "--set", "seeds=1"]);
    assert_ne!(code, 0);
    assert!(err.contains("use dt <"), "{err}");
}

#[test]
fn unknown_study_key_and_kind_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.toml");
    std::fs::write(&f, "study = \"slow-rat\"\n").unwrap();
    let (code, _, err) = repcollapse(&["run", f.to_str().unwrap(), "--out", dir.path().join("o").to_str().unwrap(), "--quiet"]);
    assert_ne!(code, 0);
    assert!(err.contains("did you mean `slow-rate`"), "{err}");
    std::fs::write(&f, "study = \"slow-rate\"\nfrustratd = [0.1]\n").unwrap();
    let (code, _, err) = repcollapse(&["run", f.to_str().unwrap(), "--out", dir.path().join("o").to_str().unwrap(), "--quiet"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown key `frustratd`") && err.contains("did you mean `frustrated`"), "{err}");
    std::fs::write(&f, "study = \"slow-rate\"\n[params]\nclases = 3\n").unwrap();
    let (code, _, err) = repcollapse(&["run", f.to_str().unwrap(), "--out", dir.path().join("o").to_str().unwrap(), "--quiet"]);
    assert_ne!(code, 0);
    assert!(err.contains("did you mean `classes`"), "{err}");
}

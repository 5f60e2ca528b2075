//! `repcollapse analyze MODEL.toml periodic`: the cycle branch of the Hopf
//! normal form model file from its Hopf point and from an orbit, the
//! Brusselator's cycles against an independent integration, the JSON, CSV
//! and figure files, bad input rejected by field, value and range (exit 2),
//! the step and return-time bounds, and one request through the CLI and a
//! study file giving the same numbers (python/tests/test_model_file.py adds
//! the Python syntax).
use std::path::Path;

use serde_json::Value;

use crate::support::bin::{json, repo_root, run};

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
fn periodic_rejects_bad_input_by_field_value_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let range = ["--param", "mu", "--from", "-0.5", "--to", "0.5"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { range.iter().copied().chain(extra.iter().copied()).collect() };
    for (args, expected) in [
        (vec!["--param", "mu", "--from", "0.1", "--to", "0.1"], &["`--to`", "0.1", "a value different from --from = 0.1"][..]),
        (with(&["--ncol", "9"]), &["`--ncol`", ": 9", "[1, 7]"]),
        (with(&["--ntst", "1"]), &["`--ntst`", ": 1", ">= 2"]),
        (vec!["--param", "nu", "--from", "-0.5", "--to", "0.5"], &["`--param`", "nu (did you mean `mu`?)", "one of mu, omega, b"]),
        (vec!["--param", "mu", "--from", "0.3", "--to", "0.5", "--from-orbit", "--transient", "-1"], &["`--transient`", ": -1", "[0, inf)"]),
        (with(&["--from-orbit", "--max-period", "0"]), &["`--max-period`", ": 0", "(0, inf)"]),
        (with(&["--ds", "0"]), &["`--ds`", ": 0", "(0, --ds-max = 0.5]"]),
        (with(&["--ds-max", "inf"]), &["`--ds-max`", "inf", "(0, inf)"]),
        (with(&["--max-steps", "0"]), &["`--max-steps`", ": 0", ">= 1"]),
        (with(&["--var", "z"]), &["`--var`", ": z", "one of x, y"]),
        (vec!["--param", "mu", "--from", "nan", "--to", "0.5"], &["`--from`", "NaN", "a finite number"]),
        // 16 ntst ((ncol + 1) n)^2 bytes: 1.6e12 B, far above any limit.
        (with(&["--ntst", "1000000000"]), &["`--ntst`", "1000000000", "--max-memory"]),
    ] {
        let m = model();
        let mut a = vec!["analyze", m.as_str(), "periodic", "--out", out];
        a.extend(args.iter().copied());
        let (code, _, stderr) = run(&a);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        for e in expected {
            assert!(stderr.contains(e), "{args:?}: `{e}` missing from {stderr}");
        }
    }
}

fn brusselator() -> String {
    repo_root().join("examples/models/brusselator.toml").display().to_string()
}

/// The period of the cycle the Brusselator settles on at `b`, from an
/// independent integration (`analyze integrate`, DOP853 at rtol 1e-10):
/// the mean spacing of the upward crossings of `x = 1` (the equilibrium's
/// `x`) over the last 300 time units, each crossing time linearly
/// interpolated between output times 0.005 apart. The interpolation error
/// is the same at every crossing of the same limit cycle and cancels in
/// the spacing; what remains is the integration error (~1e-9).
fn integrated_period(b: f64, dir: &Path) -> f64 {
    let out = dir.join(format!("integrate-{b}"));
    let set = format!("b={b}");
    let v = json(&[
        "analyze", &brusselator(), "--set", &set, "integrate", "--t-max", "600", "--points", "120001", "--rtol", "1e-10", "--atol", "1e-12",
        "--method", "dop853", "--json", "--out", out.to_str().unwrap(),
    ]);
    let t: Vec<f64> = v["t"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let x: Vec<f64> = v["states"].as_array().unwrap().iter().map(|s| s["x"].as_f64().unwrap() - 1.0).collect();
    let crossings: Vec<f64> =
        (1..t.len()).filter(|&i| t[i] > 300.0 && x[i - 1] < 0.0 && x[i] >= 0.0).map(|i| t[i - 1] + (t[i] - t[i - 1]) * x[i - 1] / (x[i - 1] - x[i])).collect();
    assert!(crossings.len() > 20, "{} crossings", crossings.len());
    (crossings.last().unwrap() - crossings[0]) / (crossings.len() - 1) as f64
}

/// Paths of `null`s without a sibling `*_note` field.
fn unexplained_nulls(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let explained = m.keys().any(|k| k.ends_with("_note"));
            for (k, x) in m {
                if x.is_null() && !explained {
                    out.push(format!("{path}.{k}"));
                }
                unexplained_nulls(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| unexplained_nulls(x, &format!("{path}[{i}]"), out)),
        _ => {}
    }
}

#[test]
fn brusselator_cycles_match_an_independent_integration_and_fill_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("periodic");
    // a = 1: Hopf at b = 1 + a^2 = 2 with omega = a = 1, supercritical.
    let v = json(&["analyze", &brusselator(), "periodic", "--param", "b", "--from", "1", "--to", "2.6", "--json", "--out", out.to_str().unwrap()]);
    assert_eq!(v["start"]["from"], "hopf");
    assert!((v["start"]["param"].as_f64().unwrap() - 2.0).abs() < 1e-8, "{}", v["start"]);
    assert!((v["start"]["frequency"].as_f64().unwrap() - 1.0).abs() < 1e-8);
    assert_eq!(v["start"]["criticality"], "supercritical");
    assert_eq!(v["stop"], "parameter-bound");
    assert_eq!(v["crate_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["config"]["param"], "b");
    assert_eq!(v["config"]["max_steps"], 200, "max(200, 4 ceil(1.6 / 0.5))");
    assert!(v["equilibria"]["bifurcations"].as_array().unwrap().iter().any(|b| b["kind"] == "hopf"));
    let mut nulls = Vec::new();
    unexplained_nulls(&v, "", &mut nulls);
    assert!(nulls.is_empty(), "unexplained nulls: {nulls:?}");

    let pts = v["points"].as_array().unwrap();
    let last = pts.last().unwrap();
    assert!((last["param"].as_f64().unwrap() - 2.6).abs() < 1e-12, "{last}");
    // The first cycle is small, with the Hopf period 2 pi / omega.
    assert!((pts[0]["period"].as_f64().unwrap() - std::f64::consts::TAU).abs() < 1e-2, "{}", pts[0]);
    // Collocation (NTST 40, NCOL 4, error O(h^8) at the mesh points) against
    // the integration (error ~1e-9): they agree to 1.5e-8 relative (measured),
    // 1e-7 leaves a margin for both.
    let t_int = integrated_period(2.6, dir.path());
    let t_col = last["period"].as_f64().unwrap();
    assert!(((t_col - t_int) / t_int).abs() < 1e-7, "collocation {t_col} vs integration {t_int}");
    for p in pts {
        // Past a supercritical Hopf point the cycles are stable: one trivial
        // multiplier 1 and one inside the unit circle.
        assert_eq!(p["stable"], true, "{p}");
        assert_eq!(p["n_unstable"], 0);
        let moduli: Vec<f64> = p["multiplier_moduli"].as_array().unwrap().iter().map(|m| m.as_f64().unwrap()).collect();
        assert_eq!(moduli.len(), 2);
        let trivial = p["trivial_multiplier"].as_u64().unwrap() as usize;
        assert!((moduli[trivial] - 1.0).abs() < 1e-6, "{p}");
        assert!(moduli[1 - trivial] < 1.0, "{p}");
        assert!(p["max"]["x"].as_f64().unwrap() > 1.0 && p["min"]["x"].as_f64().unwrap() < 1.0, "{p}");
    }

    // periodic.csv: one row per cycle, the JSON's numbers.
    let csv = std::fs::read_to_string(out.join("periodic.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), "kind,index,b,period,min_x,min_y,max_x,max_y,stable,n_unstable,max_abs_nontrivial_multiplier");
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), pts.len() + v["bifurcations"].as_array().unwrap().len());
    for (row, p) in rows.iter().filter(|r| r[0] == "point").zip(pts) {
        assert_eq!(row[2].parse::<f64>().unwrap(), p["param"].as_f64().unwrap());
        assert_eq!(row[3].parse::<f64>().unwrap(), p["period"].as_f64().unwrap());
        assert_eq!(row[6].parse::<f64>().unwrap(), p["max"]["x"].as_f64().unwrap());
    }
    // periodic_multipliers.csv: two rows per cycle, the JSON's moduli.
    let m = std::fs::read_to_string(out.join("periodic_multipliers.csv")).unwrap();
    let mut lines = m.lines();
    assert_eq!(lines.next().unwrap(), "kind,index,b,multiplier,re,im,modulus,trivial");
    let mrows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(mrows.len(), 2 * rows.len());
    for r in mrows.iter().filter(|r| r[0] == "point") {
        let (i, j): (usize, usize) = (r[1].parse().unwrap(), r[3].parse().unwrap());
        assert_eq!(r[6].parse::<f64>().unwrap(), pts[i]["multiplier_moduli"][j].as_f64().unwrap());
        assert_eq!(r[7] == "true", pts[i]["trivial_multiplier"].as_u64().unwrap() as usize == j);
    }
    for f in ["periodic.json", "periodic.png", "periodic.svg"] {
        assert!(std::fs::metadata(out.join(f)).is_ok_and(|m| m.len() > 0), "{f} missing");
    }
    let svg = std::fs::read_to_string(out.join("periodic.svg")).unwrap();
    for label in ["stable equilibria", "unstable equilibria", "stable cycles (max/min)", "Hopf"] {
        assert!(svg.contains(label), "legend entry `{label}` missing from the figure");
    }
}

#[test]
fn periodic_bounds_say_which_option_raises_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    // Three steps cannot reach b = 3: a result with the bound named, exit 0.
    let (code, stdout, stderr) = run(&["analyze", &brusselator(), "periodic", "--param", "b", "--from", "1", "--to", "3", "--max-steps", "3", "--out", o]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("warning: the cycle branch stopped after 3 accepted steps (--max-steps = 3)") && stderr.contains("raise --max-steps"), "{stderr}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(out.join("periodic.json")).unwrap()).unwrap();
    assert_eq!(v["stop"], "max-steps");
    assert_eq!(v["points"].as_array().unwrap().len(), 4, "the first cycle and three steps");
    assert!(v["stop_note"].as_str().unwrap().contains("raise --max-steps"));
    // The return-time search of --from-orbit: the Brusselator's period at b = 3
    // is about 7.2, so a search of 0.5 time units finds no return.
    let (code, _, stderr) = run(&["analyze", &brusselator(), "periodic", "--param", "b", "--from", "3", "--to", "2.5", "--from-orbit", "--max-period", "0.5", "--out", o]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--max-period = 0.5 bounds the search: raise it"), "{stderr}");
}

#[test]
fn default_step_bound_scales_with_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    // 4 ceil(|2.05 - 1| / 0.005) = 840 > 200.
    let v = json(&["analyze", &brusselator(), "periodic", "--param", "b", "--from", "1", "--to", "2.05", "--ds-max", "0.005", "--ds", "0.005", "--json", "--out", out.to_str().unwrap()]);
    assert_eq!(v["config"]["max_steps"], 840);
    assert_eq!(v["stop"], "parameter-bound", "{}", v["stop_note"]);
}

#[test]
fn cli_and_study_file_give_the_same_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let cli = dir.path().join("cli");
    let study_out = dir.path().join("study");
    let v = json(&[
        "analyze", &brusselator(), "periodic", "--param", "b", "--from", "1", "--to", "2.5", "--ntst", "30", "--var", "y", "--json", "--out",
        cli.to_str().unwrap(),
    ]);
    let file = dir.path().join("cyc.toml");
    std::fs::write(
        &file,
        format!(
            "study = \"model-analysis\"\ntitle = \"cycles\"\nmodel = \"{}\"\nperiodic = {{ param = \"b\", from = 1, to = 2.5, ntst = 30, var = \"y\" }}\n",
            brusselator()
        ),
    )
    .unwrap();
    let (code, _, err) = run(&["run", file.to_str().unwrap(), "--out", study_out.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(study_out.join("cyc/periodic.json")).unwrap()).unwrap();
    assert!(v["points"].as_array().unwrap().len() > 3);
    assert_eq!(s, v, "the study and the CLI computed different cycles");
    for f in ["periodic.csv", "periodic_multipliers.csv"] {
        assert!(std::fs::read(cli.join(f)).unwrap() == std::fs::read(study_out.join("cyc").join(f)).unwrap(), "{f} differs");
    }
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(study_out.join("cyc/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["periodic"]["config"], v["config"]);
    // A study's errors name the field as the study file spells it.
    std::fs::write(&file, format!("study = \"model-analysis\"\ntitle = \"cycles\"\nmodel = \"{}\"\nperiodic = {{ param = \"b\", from = 1, to = 2.5, ncol = 8 }}\n", brusselator())).unwrap();
    let (code, _, err) = run(&["run", file.to_str().unwrap(), "--out", study_out.to_str().unwrap(), "--quiet"]);
    assert!(code == 2 && err.contains("`periodic.ncol`") && err.contains("[1, 7]"), "{err}");
}

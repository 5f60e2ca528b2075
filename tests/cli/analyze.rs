//! End-to-end tests of `repcollapse analyze MODEL.toml <verb>`: the binary
//! runs on model files and its JSON is compared against closed forms that
//! are derived here, independently of the engine (normal forms, Lorenz,
//! Brusselator, cusp, exponential and logistic growth, Model E).
use std::path::{Path, PathBuf};

use repcollapse::engine::jacobian_eigenvalues;
use repcollapse::engine::VectorField;
use repcollapse::models::embedding::reduced::simplex::SimplexSystem;
use serde_json::Value;

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path).display().to_string()
}

use crate::support::bin::run;

/// `analyze MODEL --out DIR ARGS... --json`, which must succeed.
fn analyze(model: &str, out: &Path, args: &[&str]) -> Value {
    let out_s = out.display().to_string();
    let mut all = vec!["analyze", model, "--out", &out_s];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, 0, "{all:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{all:?}: stdout is not JSON ({e}): {stdout}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The located special points of one kind, as (param, state object).
fn special(v: &Value, kind: &str) -> Vec<(f64, Value)> {
    v["bifurcations"]
        .as_array()
        .expect("bifurcations array")
        .iter()
        .filter(|b| b["kind"] == kind)
        .map(|b| (f(&b["param"]), b["state"].clone()))
        .collect()
}

fn write_model(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

// ---------------------------------------------------------------- normal forms

#[test]
fn saddle_node_fold_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let v = analyze(&repo("examples/models/saddle-node.toml"), dir.path(), &["continue", "--param", "mu", "--from", "-1", "--to", "1"]);
    let folds = special(&v, "fold");
    assert_eq!(folds.len(), 1, "exactly one fold: {}", v["bifurcations"]);
    // x' = mu - x^2: the equilibria x = ±sqrt(mu) meet at (mu, x) = (0, 0).
    assert!(folds[0].0.abs() < 1e-6, "fold at mu = {}", folds[0].0);
    assert!(f(&folds[0].1["x"]).abs() < 1e-3);
    assert!(special(&v, "hopf").is_empty() && special(&v, "branch").is_empty());
}

#[test]
fn pitchfork_branch_point_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let v = analyze(&repo("examples/models/pitchfork.toml"), dir.path(), &["continue", "--param", "mu", "--from", "-1", "--to", "1"]);
    let bps = special(&v, "branch");
    assert!(!bps.is_empty(), "no branch point: {}", v["bifurcations"]);
    for (mu, state) in &bps {
        assert!(mu.abs() < 1e-6, "branch point at mu = {mu}");
        assert!(f(&state["x"]).abs() < 1e-6);
    }
    // The pitchfork is not a saddle-node: no fold may be reported.
    assert!(special(&v, "fold").is_empty(), "spurious fold: {}", v["bifurcations"]);
    // x = ±sqrt(mu) on the bifurcating branch, stable; x = 0 unstable for mu > 0.
    for b in v["branches"].as_array().unwrap() {
        for q in b["points"].as_array().unwrap() {
            let (mu, x) = (f(&q["param"]), f(&q["state"]["x"]));
            assert!((mu * x - x.powi(3)).abs() < 1e-8, "not an equilibrium: mu = {mu}, x = {x}");
            if mu.abs() > 1e-3 {
                let stable = mu - 3.0 * x * x < 0.0;
                assert_eq!(q["stable"].as_bool().unwrap(), stable, "stability at mu = {mu}, x = {x}");
            }
        }
    }
}

#[test]
fn hopf_normal_form_hopf_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let v = analyze(&repo("examples/models/hopf.toml"), dir.path(), &["continue", "--param", "mu", "--from", "-1", "--to", "1"]);
    let hopfs: Vec<&Value> = v["bifurcations"].as_array().unwrap().iter().filter(|b| b["kind"] == "hopf").collect();
    assert_eq!(hopfs.len(), 1, "{}", v["bifurcations"]);
    assert!(f(&hopfs[0]["param"]).abs() < 1e-6);
    // Eigenvalues mu ± i omega: frequency omega = 1 at the Hopf point.
    assert!((f(&hopfs[0]["frequency"]) - 1.0).abs() < 1e-6);
}

// ---------------------------------------------------------------- Lorenz

fn lorenz_hopf(sigma: f64, beta: f64) -> f64 {
    sigma * (sigma + beta + 3.0) / (sigma - beta - 1.0)
}

#[test]
fn lorenz_hopf_at_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let model = repo("examples/models/lorenz.toml");
    for (sigma, beta, to) in [(10.0, 8.0 / 3.0, 30.0), (16.0, 4.0, 40.0)] {
        let (ss, sb) = (format!("sigma={sigma}"), format!("beta={beta}"));
        let to_s = to.to_string();
        let v = analyze(&model, dir.path(), &["--set", &ss, "--set", &sb, "continue", "--param", "rho", "--from", "0.5", "--to", &to_s]);
        let want = lorenz_hopf(sigma, beta);
        let hopfs = special(&v, "hopf");
        assert_eq!(hopfs.len(), 2, "one Hopf point on each of C+ and C-: {}", v["bifurcations"]);
        for (rho, state) in hopfs {
            assert!((rho / want - 1.0).abs() < 1e-6, "Hopf at rho = {rho}, closed form {want}");
            // On C±: x = y = ±sqrt(beta (rho - 1)), z = rho - 1.
            let x = f(&state["x"]);
            assert!((x.abs() - (beta * (rho - 1.0)).sqrt()).abs() < 1e-6 && (f(&state["z"]) - (rho - 1.0)).abs() < 1e-6);
        }
        // The pitchfork at rho = 1 is a branch point, not a fold.
        let bps = special(&v, "branch");
        assert!(!bps.is_empty() && bps.iter().all(|(rho, _)| (rho - 1.0).abs() < 1e-6), "{}", v["bifurcations"]);
        assert!(special(&v, "fold").is_empty(), "spurious fold: {}", v["bifurcations"]);
    }
}

/// Characteristic polynomial of the Lorenz Jacobian at C±:
/// `l^3 + (s + b + 1) l^2 + b (s + r) l + 2 s b (r - 1)`, evaluated at a complex `l`.
fn lorenz_c_char(s: f64, r: f64, b: f64, re: f64, im: f64) -> f64 {
    let mul = |a: (f64, f64), c: (f64, f64)| (a.0 * c.0 - a.1 * c.1, a.0 * c.1 + a.1 * c.0);
    let l = (re, im);
    let l2 = mul(l, l);
    let l3 = mul(l2, l);
    let c = (s + b + 1.0, b * (s + r), 2.0 * s * b * (r - 1.0));
    let v = (l3.0 + c.0 * l2.0 + c.1 * l.0 + c.2, l3.1 + c.0 * l2.1 + c.1 * l.1);
    v.0.hypot(v.1) / (1.0 + c.2.abs())
}

#[test]
fn lorenz_fixed_points_and_stability() {
    let dir = tempfile::tempdir().unwrap();
    let model = repo("examples/models/lorenz.toml");
    let (s, b) = (10.0, 8.0 / 3.0);
    let hopf = lorenz_hopf(s, b);
    for rho in [10.0, 20.0, 28.0] {
        let set = format!("rho={rho}");
        let v = analyze(&model, dir.path(), &["--set", &set, "fixed-points"]);
        let fps = v["fixed_points"].as_array().unwrap();
        assert_eq!(fps.len(), 3, "rho = {rho}: {fps:?}");
        let c = (b * (rho - 1.0)).sqrt();
        let mut seen = [false; 3];
        for fp in fps {
            let (x, y, z) = (f(&fp["state"]["x"]), f(&fp["state"]["y"]), f(&fp["state"]["z"]));
            let ev: Vec<(f64, f64)> = fp["eigenvalues"].as_array().unwrap().iter().map(|e| (f(&e["re"]), f(&e["im"]))).collect();
            assert_eq!(ev.len(), 3);
            assert_eq!(fp["zero_modes"], 0);
            let stability = fp["stability"].as_str().unwrap();
            if x.abs() < 1e-8 {
                assert!(y.abs() < 1e-8 && z.abs() < 1e-8);
                seen[0] = true;
                // Origin: -beta and the roots of l^2 + (s+1) l + s (1 - rho).
                let disc = ((s + 1.0).powi(2) - 4.0 * s * (1.0 - rho)).sqrt();
                let mut want = [(-(s + 1.0) + disc) / 2.0, -b, (-(s + 1.0) - disc) / 2.0];
                want.sort_by(|p, q| q.partial_cmp(p).unwrap());
                for (e, w) in ev.iter().zip(want) {
                    assert!((e.0 - w).abs() < 1e-9 * (1.0 + w.abs()) && e.1.abs() < 1e-12, "origin eigenvalue {e:?} vs {w}");
                }
                assert_eq!(stability, "saddle", "origin for rho = {rho} > 1");
            } else {
                let i = if x > 0.0 { 1 } else { 2 };
                seen[i] = true;
                assert!((x.abs() - c).abs() < 1e-9 * c && (y - x).abs() < 1e-9 * c && (z - (rho - 1.0)).abs() < 1e-9 * rho);
                for e in &ev {
                    assert!(lorenz_c_char(s, rho, b, e.0, e.1) < 1e-9, "rho = {rho}: {e:?} is no root");
                }
                if rho < hopf {
                    assert!(stability.starts_with("stable"), "C± at rho = {rho} < {hopf}: {stability}");
                    assert!(ev[0].0 < 0.0);
                } else {
                    assert!(ev[0].0 > 0.0 && ev[0].1 != 0.0, "complex pair crossed: {ev:?}");
                    assert!(!stability.starts_with("stable"), "C± at rho = {rho} > {hopf}: {stability}");
                }
            }
        }
        assert_eq!(seen, [true; 3], "rho = {rho}: origin, C+ and C- must all be found");
    }
}

// ---------------------------------------------------------------- Brusselator

#[test]
fn brusselator_hopf_and_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let model = repo("examples/models/brusselator.toml");
    for a in [1.0f64, 1.5] {
        let set = format!("a={a}");
        let v = analyze(&model, dir.path(), &["--set", &set, "continue", "--param", "b", "--from", "0.5", "--to", "4"]);
        let hopfs = special(&v, "hopf");
        assert_eq!(hopfs.len(), 1, "{}", v["bifurcations"]);
        let (b, state) = &hopfs[0];
        assert!((b - (1.0 + a * a)).abs() < 1e-6, "a = {a}: Hopf at b = {b}");
        // At the fixed point (a, b/a) the frequency is a.
        assert!((f(&state["x"]) - a).abs() < 1e-6 && (f(&state["y"]) - b / a).abs() < 1e-6);
    }
    let v = analyze(&model, dir.path(), &["boundary", "--param", "b", "--from", "0.5", "--to", "4", "--param2", "a", "--from2", "0.3", "--to2", "1.5", "--grid-check"]);
    let curves = v["curves"].as_array().unwrap();
    assert_eq!(curves.len(), 1);
    assert_eq!(curves[0]["kind"], "hopf");
    let pts = curves[0]["points"].as_array().unwrap();
    assert!(pts.len() > 10);
    let (mut a_min, mut a_max, mut worst) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for q in pts {
        let (a, b) = (f(&q["a"]), f(&q["b"]));
        worst = worst.max((b / (1.0 + a * a) - 1.0).abs());
        a_min = a_min.min(a);
        a_max = a_max.max(a);
    }
    assert!(worst < 1e-6, "max relative error from b = 1 + a^2: {worst}");
    // The curve spans the whole a-range of the grid.
    assert!(a_min < 0.31 && a_max > 1.49, "a in [{a_min}, {a_max}]");
    let agreement = f(&v["grid_check"]["agreement"]);
    assert!(agreement >= 0.9, "grid agreement {agreement}: {}", v["grid_check"]);
    assert!(v["grid_check"]["transition_cells"].as_u64().unwrap() > 0);
    for file in ["boundary.csv", "boundary_grid.csv", "boundary.json", "boundary.png", "boundary.svg"] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
}

// ---------------------------------------------------------------- cusp

#[test]
fn cusp_fold_curves_satisfy_27h2_eq_4r3() {
    let dir = tempfile::tempdir().unwrap();
    let v = analyze(
        &repo("examples/models/cusp.toml"),
        dir.path(),
        &["boundary", "--param", "h", "--from", "-1", "--to", "1", "--param2", "r", "--from2", "0.05", "--to2", "2", "--grid-check"],
    );
    let curves = v["curves"].as_array().unwrap();
    assert_eq!(curves.len(), 2, "two fold lines h = ±2 (r/3)^(3/2)");
    let mut signs = Vec::new();
    for c in curves {
        assert_eq!(c["kind"], "fold");
        let pts = c["points"].as_array().unwrap();
        let mut checked = 0;
        let mut r_max = 0.0f64;
        for q in pts {
            let (h, r, x) = (f(&q["h"]), f(&q["r"]), f(&q["state"]["x"]));
            r_max = r_max.max(r);
            if r > 1e-2 {
                let rel = (27.0 * h * h / (4.0 * r.powi(3)) - 1.0).abs();
                assert!(rel < 1e-6, "27 h^2 vs 4 r^3 at (h, r) = ({h}, {r}): relative error {rel}");
                // The double root: r = 3 x^2.
                assert!((3.0 * x * x / r - 1.0).abs() < 1e-6);
                checked += 1;
            }
        }
        // Each curve runs until it leaves the box: |h| = 1 at r = 3 (1/2)^(2/3).
        let r_exit = 3.0 * 0.5f64.powf(2.0 / 3.0);
        assert!(checked > 10 && (r_max - r_exit).abs() < 1e-6, "{checked} points, r up to {r_max}, exit at {r_exit}");
        signs.push(f(&pts[pts.len() / 2]["h"]).signum());
    }
    assert_eq!(signs[0] * signs[1], -1.0, "one curve for each sign of h");
    let agreement = f(&v["grid_check"]["agreement"]);
    assert!(agreement >= 0.9, "grid agreement {agreement}: {}", v["grid_check"]);
    // Between the fold lines three equilibria, outside one: the grid must see both.
    let grid = std::fs::read_to_string(dir.path().join("boundary_grid.csv")).unwrap();
    let counts: Vec<u32> = grid.lines().skip(1).map(|l| l.split(',').nth(2).unwrap().trim().parse::<f64>().unwrap() as u32).collect();
    assert!(counts.contains(&1) && counts.contains(&3), "{counts:?}");
}

// ---------------------------------------------------------------- integrate

fn integrate_check(text: &str, closed: impl Fn(f64) -> f64, t_max: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "m.toml", text);
    let out = dir.path().join("out");
    let v = analyze(&model, &out, &["integrate", "--t-max", t_max, "--points", "50"]);
    let t = v["t"].as_array().unwrap();
    let states = v["states"].as_array().unwrap();
    assert_eq!(t.len(), 50);
    assert_eq!(states.len(), 50);
    assert!((f(&t[49]) - t_max.parse::<f64>().unwrap()).abs() < 1e-12);
    for (ti, s) in t.iter().zip(states) {
        let (ti, x) = (f(ti), f(&s["x"]));
        let want = closed(ti);
        assert!((x - want).abs() < 1e-7 * (1.0 + want.abs()), "t = {ti}: {x} vs {want}");
    }
    for file in ["trajectory.csv", "trajectory.json", "trajectory.png", "trajectory.svg"] {
        let p = out.join(file);
        assert!(p.is_file() && std::fs::metadata(&p).unwrap().len() > 0, "{file} missing or empty");
    }
    let csv = std::fs::read_to_string(out.join("trajectory.csv")).unwrap();
    assert_eq!(csv.lines().count(), 51, "header + 50 rows");
}

#[test]
fn integrate_exponential_decay() {
    let text = "name = \"decay\"\n[parameters]\nk = 0.7\n[state]\nx = 2.0\n[equations]\nx = \"-k*x\"\n";
    integrate_check(text, |t| 2.0 * (-0.7 * t).exp(), "10");
}

#[test]
fn integrate_logistic() {
    let text = "name = \"logistic\"\n[parameters]\nr = 1.3\nK = 2.0\n[state]\nx = 0.1\n[equations]\nx = \"r*x*(1 - x/K)\"\n";
    // x(t) = K / (1 + (K/x0 - 1) e^{-r t}).
    integrate_check(text, |t| 2.0 / (1.0 + 19.0 * (-1.3 * t).exp()), "12");
}

// ---------------------------------------------------------------- JSON shapes

#[test]
fn json_shapes_are_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let model = repo("examples/models/pitchfork.toml");
    let v = analyze(&model, dir.path(), &["fixed-points"]);
    let fps = v["fixed_points"].as_array().expect("fixed_points array");
    // mu = 0.5: x = 0 and x = ±sqrt(0.5).
    assert_eq!(fps.len(), 3);
    for fp in fps {
        assert!(fp["state"].is_object() && fp["state"]["x"].is_number());
        for e in fp["eigenvalues"].as_array().unwrap() {
            assert!(e["re"].is_number() && e["im"].is_number());
        }
        assert!(fp["stability"].is_string());
        assert!(fp["zero_modes"].is_u64());
        let x = f(&fp["state"]["x"]);
        // f'(x) = mu - 3 x^2.
        assert!((f(&fp["eigenvalues"][0]["re"]) - (0.5 - 3.0 * x * x)).abs() < 1e-9);
    }
    let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("fixed_points.json")).unwrap()).unwrap();
    assert_eq!(on_disk, v, "stdout and fixed_points.json agree");

    let v = analyze(&model, dir.path(), &["continue", "--param", "mu", "--from", "-1", "--to", "1"]);
    let branches = v["branches"].as_array().expect("branches array");
    assert!(!branches.is_empty());
    for b in branches {
        for q in b["points"].as_array().unwrap() {
            assert!(q["param"].is_number() && q["state"]["x"].is_number() && q["stable"].is_boolean());
        }
    }
    for b in v["bifurcations"].as_array().expect("bifurcations array") {
        assert!(["fold", "hopf", "branch"].contains(&b["kind"].as_str().unwrap()));
        assert!(b["param"].is_number() && b["state"].is_object());
    }
    for file in ["continuation.csv", "continuation.json", "continuation.png", "continuation.svg"] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
}

#[test]
fn family_of_fixed_points_is_reported_as_a_family() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"exchange\"\n[parameters]\nk = 1.0\n[state]\nx = 0.3\ny = 0.1\n[equations]\nx = \"k*(y - x)\"\ny = \"k*(x - y)\"\n";
    let model = write_model(dir.path(), "fam.toml", text);
    let v = analyze(&model, &dir.path().join("out"), &["fixed-points"]);
    let fps = v["fixed_points"].as_array().unwrap();
    assert_eq!(fps.len(), 1, "the line x = y is one family, not many points: {fps:?}");
    let fp = &fps[0];
    assert!((f(&fp["state"]["x"]) - f(&fp["state"]["y"])).abs() < 1e-9);
    assert_eq!(fp["zero_modes"], 1);
    assert_eq!(fp["family_dimension"], 1);
    // Transverse eigenvalue -2k: the family attracts.
    let stability = fp["stability"].as_str().unwrap();
    assert!(!stability.contains("unstable") && stability != "saddle" && stability != "marginal", "{stability}");
    let ev: Vec<f64> = fp["eigenvalues"].as_array().unwrap().iter().map(|e| f(&e["re"])).collect();
    assert!(ev[0].abs() < 1e-12 && (ev[1] + 2.0).abs() < 1e-12, "{ev:?}");
}

// ---------------------------------------------------------------- errors

fn assert_fails(args: &[&str], must_contain: &[&str]) {
    let (code, _, err) = run(args);
    assert_ne!(code, 0, "{args:?} must fail");
    for m in must_contain {
        assert!(err.contains(m), "{args:?}: stderr {err:?} lacks {m:?}");
    }
}

#[test]
fn parse_errors_have_line_column_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let head = "name = \"e\"\n[parameters]\nk = 1.0\n[state]\nx = 1.0\n";
    let cases: [(&str, String, &[&str]); 4] = [
        ("undefined.toml", format!("{head}[equations]\nx = \"-kk*x\"\n"), &["line 7, column 7", "undefined symbol `kk`", "did you mean `k`"]),
        (
            "no_initial.toml",
            format!("{head}[equations]\nx = \"-k*x\"\ny = \"x\"\n"),
            &["line 8, column 1", "`y`", "no initial value", "[state]"],
        ),
        (
            "no_equation.toml",
            "name = \"e\"\n[parameters]\nk = 1.0\n[state]\nx = 1.0\ny = 2.0\n[equations]\nx = \"-k*x\"\n".to_string(),
            &["line 6, column 1", "`y` has no equation"],
        ),
        ("syntax.toml", format!("{head}[equations]\nx = \"-k*(x + )\"\n"), &["line 7, column 14", "unexpected `)`"]),
    ];
    for (name, text, needles) in cases {
        let model = write_model(dir.path(), name, &text);
        let out = dir.path().join("out").display().to_string();
        assert_fails(&["analyze", &model, "--out", &out, "fixed-points"], needles);
    }
}

#[test]
fn unknown_set_and_param_names_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let cusp = repo("examples/models/cusp.toml");
    assert_fails(&["analyze", &cusp, "--out", &out, "--set", "hh=1", "fixed-points"], &["unknown key `hh`", "did you mean `h`"]);
    assert_fails(&["analyze", &cusp, "--out", &out, "--set", "h=abc", "fixed-points"], &["`h`", "abc"]);
    assert_fails(&["analyze", &cusp, "--out", &out, "continue", "--param", "rr", "--from", "0", "--to", "1"], &["--param", "rr", "did you mean `r`", "one of h, r"]);
    assert_fails(
        &["analyze", &cusp, "--out", &out, "boundary", "--param", "h", "--from", "-1", "--to", "1", "--param2", "q", "--from2", "0", "--to2", "1"],
        &["--param", "q", "one of h, r"],
    );
}

// ---------------------------------------------------------------- Model E

#[test]
fn exported_model_e_reproduces_native_theory() {
    let dir = tempfile::tempdir().unwrap();
    let (fr, rho, k, ex, ey) = (0.3, 0.35, 5usize, 1.4, 0.6);
    let sets: Vec<String> =
        vec![format!("frustrated={fr}"), format!("rho={rho}"), format!("classes={k}"), format!("eta_x={ex}"), format!("eta_y={ey}")];
    let mut set_args: Vec<&str> = Vec::new();
    for s in &sets {
        set_args.push("--set");
        set_args.push(s);
    }
    let file: PathBuf = dir.path().join("model_e.toml");
    let file_s = file.display().to_string();
    let mut args = vec!["export", "embedding"];
    args.extend_from_slice(&set_args);
    args.extend_from_slice(&["--out", &file_s]);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "export failed: {err}");

    let mut args = vec!["theory", "embedding"];
    args.extend_from_slice(&set_args);
    args.push("--json");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "theory failed: {err}");
    let theory: Value = serde_json::from_str(&out).unwrap();
    let rates: Vec<f64> = theory["modes"].as_array().unwrap().iter().map(|m| f(&m["rate"])).collect();

    let native = SimplexSystem::new(fr, rho, k, ex, ey);
    let mut want = jacobian_eigenvalues(&native, &native.initial_state(), &native.default_params()).unwrap();
    want.sort_by(|a, b| b.re.partial_cmp(&a.re).unwrap());

    let v = analyze(&file_s, &dir.path().join("fp"), &["fixed-points"]);
    let fps = v["fixed_points"].as_array().unwrap();
    assert_eq!(fps.len(), 1, "a linear system with invertible Jacobian has one equilibrium");
    let fp = &fps[0];
    for name in ["s_u", "p", "q", "s"] {
        assert!(f(&fp["state"][name]).abs() < 1e-10, "{name} = {}", fp["state"][name]);
    }
    assert_eq!(fp["zero_modes"], 0);
    assert!(fp["stability"].as_str().unwrap().starts_with("stable"));
    let got: Vec<(f64, f64)> = fp["eigenvalues"].as_array().unwrap().iter().map(|e| (f(&e["re"]), f(&e["im"]))).collect();
    assert_eq!(got.len(), 4);
    for (g, w) in got.iter().zip(&want) {
        assert!((g.0 - w.re).abs() < 1e-9 && (g.1 - w.im).abs() < 1e-9, "file {g:?} vs native {w:?}");
        assert!(rates.iter().any(|r| (-r - g.0).abs() < 1e-9), "{g:?} not in the class-level spectrum {rates:?}");
    }
    // The slowest rate of the file is the theory's separating slow rate.
    assert!((-got[0].0 - f(&theory["slow_rate"])).abs() < 1e-9);

    // Continuation in the frustration: the collapsed state stays the unique,
    // stable equilibrium (the theory's collapse for every f > 0), no bifurcation.
    let v = analyze(&file_s, &dir.path().join("cont"), &["continue", "--param", "frustrated", "--from", "0.05", "--to", "1"]);
    assert!(v["bifurcations"].as_array().unwrap().is_empty(), "{}", v["bifurcations"]);
    let branches = v["branches"].as_array().unwrap();
    assert_eq!(branches.len(), 1);
    let pts = branches[0]["points"].as_array().unwrap();
    let (lo, hi) = (f(&pts[0]["param"]).min(f(&pts[pts.len() - 1]["param"])), f(&pts[0]["param"]).max(f(&pts[pts.len() - 1]["param"])));
    assert!((lo - 0.05).abs() < 1e-9 && (hi - 1.0).abs() < 1e-9, "covers [{lo}, {hi}]");
    for q in pts {
        assert_eq!(q["stable"], true);
        for name in ["s_u", "p", "q", "s"] {
            assert!(f(&q["state"][name]).abs() < 1e-10);
        }
    }
    assert_eq!(theory["collapse"]["collapses"], true);
}

// ---------------------------------------------------------------- study kind

fn run_study(file: &str, out: &Path) -> (Value, String) {
    let out_s = out.display().to_string();
    let (code, _, err) = run(&["run", &repo(file), "--out", &out_s, "--quiet"]);
    assert_eq!(code, 0, "{file}: {err}");
    let stem = Path::new(file).file_stem().unwrap().to_string_lossy().into_owned();
    let dir = out.join(&stem);
    for f in ["continuation.csv", "continuation.png", "continuation.svg", "boundary.csv", "boundary_grid.csv", "boundary.png", "boundary.svg"] {
        assert!(dir.join(f).is_file(), "{stem}/{f} missing");
    }
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    (summary, std::fs::read_to_string(out.join("report.md")).unwrap())
}

#[test]
fn model_analysis_study_cusp() {
    let dir = tempfile::tempdir().unwrap();
    let (s, md) = run_study("analysis/m_engine_cusp.toml", dir.path());
    // r = 1: folds where h = ±2 (r/3)^(3/2) = ±2/(3 sqrt 3), at x = ∓sqrt(r/3).
    let want = 2.0 / (3.0 * 3f64.sqrt());
    let bifs = s["continuation"]["bifurcations"].as_array().unwrap();
    assert_eq!(bifs.len(), 2);
    for b in bifs {
        assert_eq!(b["kind"], "fold");
        let (h, x) = (f(&b["param"]), f(&b["state"]["x"]));
        assert!((h.abs() - want).abs() < 1e-9 && (x.abs() - (1.0f64 / 3.0).sqrt()).abs() < 1e-6 && h * x < 0.0, "fold at h = {h}, x = {x}");
    }
    assert_eq!(s["boundary"]["curves"].as_array().unwrap().len(), 2);
    assert!(f(&s["boundary"]["grid_check"]["agreement"]) >= 0.9);
    assert!(md.contains("| fold | 0.38490017") && md.contains("| fold | -0.38490017"), "{md}");
    assert!(md.contains("agreement **"));
    // One CSV table for both fold lines: a single header.
    let csv = std::fs::read_to_string(dir.path().join("m_engine_cusp/boundary.csv")).unwrap();
    assert_eq!(csv.lines().filter(|l| l.starts_with("curve,")).count(), 1);
    assert_eq!(csv.lines().count(), 1 + s["boundary"]["curves"].as_array().unwrap().iter().map(|c| c["points"].as_u64().unwrap()).sum::<u64>() as usize);
}

#[test]
fn model_analysis_study_brusselator() {
    let dir = tempfile::tempdir().unwrap();
    let (s, md) = run_study("analysis/n_engine_brusselator.toml", dir.path());
    let bifs = s["continuation"]["bifurcations"].as_array().unwrap();
    assert_eq!(bifs.len(), 1);
    // a = 1: Hopf at b = 1 + a^2 = 2 with frequency a = 1.
    assert_eq!(bifs[0]["kind"], "hopf");
    assert!((f(&bifs[0]["param"]) - 2.0).abs() < 1e-9 && (f(&bifs[0]["frequency"]) - 1.0).abs() < 1e-9);
    let curves = s["boundary"]["curves"].as_array().unwrap();
    assert_eq!(curves.len(), 1);
    // The curve spans a in [0.3, 1.5], i.e. b = 1 + a^2 in [1.09, 3.25].
    let (r, r2) = (&curves[0]["range"], &curves[0]["range2"]);
    assert!((f(&r[0]) - 1.09).abs() < 1e-6 && (f(&r[1]) - 3.25).abs() < 1e-6, "{r}");
    assert!((f(&r2[0]) - 0.3).abs() < 1e-9 && (f(&r2[1]) - 1.5).abs() < 1e-9, "{r2}");
    assert!(f(&s["boundary"]["grid_check"]["agreement"]) >= 0.9);
    assert!(md.contains("| hopf | 2.00000000"), "{md}");
}

#[test]
fn model_analysis_study_rejects_bad_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let model = repo("examples/models/cusp.toml");
    for (text, needles) in [
        (format!("study = \"model-analysis\"\nmodel = \"{model}\"\ncontinue = {{ parm = \"h\", from = 0, to = 1 }}\n"), vec!["continue.parm", "did you mean `param`"]),
        (format!("study = \"model-analysis\"\nmodel = \"{model}\"\ncontinue = {{ param = \"hh\", from = 0, to = 1 }}\n"), vec!["continue.param", "hh", "did you mean `h`"]),
        (format!("study = \"model-analysis\"\nmodel = \"{model}\"\n"), vec!["continue", "boundary"]),
        ("study = \"model-analysis\"\nmodel = \"/nonexistent/m.toml\"\ncontinue = { param = \"h\", from = 0, to = 1 }\n".to_string(), vec!["/nonexistent/m.toml"]),
    ] {
        let path = write_model(dir.path(), "s.toml", &text);
        assert_fails(&["run", &path, "--out", &out, "--quiet"], &needles);
    }
}

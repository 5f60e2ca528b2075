//! Large models with default options (issue 24): a 1,000-state copy of the
//! Brusselator and a 5,000-state Lorenz-96 ring (one parameter), generated
//! here as the fuzzer generates its model files. Each run must end, with the
//! right answer or a located bound message; the time is printed, and only a
//! hang guard (60 s) is asserted, the target being well under 10 s.
use std::time::{Duration, Instant};

use crate::support::bin::run_limited;

const HANG_GUARD: Duration = Duration::from_secs(60);

/// `copies` uncoupled Brusselators `x_i' = a - (b + 1) x_i + x_i^2 y_i`,
/// `y_i' = b x_i - x_i^2 y_i`: the fixed point is `(a, b/a)` in every pair.
fn brusselator_copies(copies: usize) -> String {
    let mut s = format!("name = \"brusselator-{}\"\n\n[parameters]\na = 1.0\nb = 3.0\n\n[state]\n", 2 * copies);
    for i in 0..copies {
        s += &format!("x{i} = 1.0\ny{i} = 1.0\n");
    }
    s += "\n[equations]\n";
    for i in 0..copies {
        s += &format!("x{i} = \"a - (b + 1)*x{i} + x{i}^2*y{i}\"\ny{i} = \"b*x{i} - x{i}^2*y{i}\"\n");
    }
    s
}

/// The Lorenz-96 ring `x_i' = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F` on `n`
/// sites: one strongly coupled block, homogeneous fixed point `x_i = F`.
fn lorenz96(n: usize) -> String {
    let mut s = format!("name = \"lorenz96-{n}\"\n\n[parameters]\nF = 0.5\n\n[state]\n");
    for i in 0..n {
        s += &format!("x{i} = 0.5\n");
    }
    s += "\n[equations]\n";
    for i in 0..n {
        s += &format!("x{i} = \"(x{} - x{})*x{} - x{i} + F\"\n", (i + 1) % n, (i + n - 2) % n, (i + n - 1) % n);
    }
    s
}

/// Runs `analyze FILE --json VERB...` on `model` with no budget flag.
fn analyze(model: &str, verb: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, model).unwrap();
    let out = dir.path().join("out");
    let mut args = vec!["analyze", file.to_str().unwrap(), "--json", "--out", out.to_str().unwrap()];
    args.extend_from_slice(verb);
    let t = Instant::now();
    let (code, stdout, stderr) = run_limited(&args, &[], None, HANG_GUARD);
    eprintln!("{verb:?}: {:.2} s", t.elapsed().as_secs_f64());
    assert_eq!(code, Some(0), "{verb:?} did not end cleanly within {HANG_GUARD:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout:.300}"))
}

fn state_value(state: &serde_json::Value, name: &str) -> f64 {
    state[name].as_f64().unwrap_or_else(|| panic!("no state `{name}`"))
}

#[test]
fn brusselator_1000_states_fixed_point_and_continuation_match_the_closed_form() {
    let copies = 500;
    let model = brusselator_copies(copies);
    let fp = analyze(&model, &["fixed-points"]);
    let points = fp["fixed_points"].as_array().unwrap();
    assert_eq!(points.len(), 1, "one fixed point (a, b/a) in every pair: {:.400}", fp.to_string());
    let p = &points[0];
    for i in 0..copies {
        assert!((state_value(&p["state"], &format!("x{i}")) - 1.0).abs() < 1e-9);
        assert!((state_value(&p["state"], &format!("y{i}")) - 3.0).abs() < 1e-9);
    }
    // trace b - 1 - a^2 = 1 > 0 with a complex pair in every 2 x 2 block.
    assert_eq!(p["stability"], "unstable-focus");
    assert_eq!(p["eigenvalues"].as_array().unwrap().len(), 2 * copies);
    assert!(p["spectrum_note"].as_str().unwrap().contains("block triangular form"));

    let c = analyze(&model, &["continue", "--param", "a", "--from", "0.5", "--to", "1"]);
    let branches = c["branches"].as_array().unwrap();
    assert!(!branches.is_empty());
    let mut seen = 0;
    for b in branches {
        for pt in b["points"].as_array().unwrap() {
            let a = pt["param"].as_f64().unwrap();
            for i in [0, copies / 2, copies - 1] {
                assert!((state_value(&pt["state"], &format!("x{i}")) - a).abs() < 1e-7 * a.max(1.0), "x{i} at a = {a}");
                assert!((state_value(&pt["state"], &format!("y{i}")) - 3.0 / a).abs() < 1e-7 * (3.0 / a), "y{i} at a = {a}");
            }
            // 1 + a^2 < b = 3 on [0.5, 1]: unstable everywhere.
            assert_eq!(pt["stable"], false);
            seen += 1;
        }
    }
    assert!(seen >= 2);
    let params: Vec<f64> = branches.iter().flat_map(|b| b["points"].as_array().unwrap().iter().map(|p| p["param"].as_f64().unwrap())).collect();
    assert!(params.iter().any(|&a| (a - 0.5).abs() < 1e-12) && params.iter().any(|&a| (a - 1.0).abs() < 1e-12), "the branch spans [0.5, 1]");
}

#[test]
fn lorenz96_5000_states_fixed_points_and_continuation_end_with_the_answer_or_a_located_bound() {
    let n = 5000;
    let model = lorenz96(n);
    let fp = analyze(&model, &["fixed-points"]);
    let points = fp["fixed_points"].as_array().unwrap();
    let homogeneous = points.iter().find(|p| (0..n).all(|i| (state_value(&p["state"], &format!("x{i}")) - 0.5).abs() < 1e-9));
    let p = homogeneous.unwrap_or_else(|| panic!("the fixed point x_i = F is found: {:.400}", fp.to_string()));
    // One coupled block of 5000 states: the spectrum is not computed, and the JSON says why.
    assert_eq!(p["stability"], "not-computed");
    assert!(p["eigenvalues"].as_array().unwrap().is_empty());
    let note = p["spectrum_note"].as_str().unwrap();
    assert!(note.contains("block of 5000 states") && note.contains("limit of 400"), "{note}");
    // The default bound on the starts is stated, with the option that lifts it.
    assert!(fp["starts_note"].as_str().unwrap().contains("--starts"));

    let c = analyze(&model, &["continue", "--param", "F", "--from", "0", "--to", "1"]);
    let branches = c["branches"].as_array().unwrap();
    let mut seen = 0;
    for b in branches {
        for pt in b["points"].as_array().unwrap() {
            let f = pt["param"].as_f64().unwrap();
            if (0..n).all(|i| (state_value(&pt["state"], &format!("x{i}")) - f).abs() < 1e-8 * f.abs().max(1.0)) {
                seen += 1;
            }
            assert!(pt["stable"].is_null() && pt["n_unstable"].is_null());
        }
    }
    assert!(seen >= 2, "the homogeneous branch x_i = F is continued");
    assert!(c["spectrum_note"].as_str().unwrap().contains("Hopf points are not detected"));
}

//! Hardening of the engine (issue 15, engine side): no panic on extreme
//! options, one bad candidate skipped rather than fatal, spurious fixed
//! points rejected, degenerate continuation options rejected by name, and
//! budgets that stop with partial results.

use repcollapse::engine::{continue_equilibria, ContinuationParams, StopReason};
use repcollapse::engine::{find_fixed_points_report, FixedPointOptions, VectorField};
use repcollapse::symbolic::SymbolicModel;

fn model(equations: &[(&str, &str, f64)]) -> SymbolicModel {
    let mut text = String::from("name = \"t\"\n[parameters]\n[state]\n");
    for (v, _, x0) in equations {
        text.push_str(&format!("{v} = {x0}\n"));
    }
    text.push_str("[equations]\n");
    for (v, e, _) in equations {
        text.push_str(&format!("{v} = \"{e}\"\n"));
    }
    SymbolicModel::from_toml_str(&text, "test.toml").unwrap()
}

#[test]
fn one_bad_candidate_is_skipped_and_the_valid_point_kept() {
    // The Jacobian is infinite at x = 0 (d sqrt|x| / dx): that candidate is
    // skipped with its reason; x = 1 is still reported.
    let m = model(&[("x", "sqrt(abs(x))*(1 - x)", 0.5)]);
    let r = find_fixed_points_report(&m, &[], &FixedPointOptions::default()).unwrap();
    assert_eq!(r.points.len(), 1, "{:?}", r.points.iter().map(|p| &p.state).collect::<Vec<_>>());
    assert!((r.points[0].state[0] - 1.0).abs() < 1e-10);
    assert!(r.skipped.iter().any(|s| s.state[0].abs() < 1e-6 && s.reason.contains("Jacobian")), "{:?}", r.skipped);
}

#[test]
fn spurious_near_zeros_are_not_fixed_points() {
    // No equilibrium: F = (3 - x/y, x) = 0 needs x = 0 and 3 = 0.
    let m = model(&[("x", "3 - x/y", 1.0), ("y", "x", 1.0)]);
    let r = find_fixed_points_report(&m, &[], &FixedPointOptions::default()).unwrap();
    assert!(r.points.is_empty(), "{:?}", r.points.iter().map(|p| (&p.state, &p.report.eigenvalues)).collect::<Vec<_>>());
    // F = 17.6 x^1025 is 3e-11 at x = 0.974 but vanishes only at 0.
    let m = model(&[("x", "17.6*x^1025", 0.5)]);
    let r = find_fixed_points_report(&m, &[], &FixedPointOptions::default()).unwrap();
    assert!(r.points.iter().all(|p| p.state[0].abs() < 1e-3), "{:?}", r.points.iter().map(|p| &p.state).collect::<Vec<_>>());
}

#[test]
fn a_huge_search_box_does_not_panic() {
    let m = SymbolicModel::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/hopf.toml")).unwrap();
    let p = m.default_params();
    let opts = FixedPointOptions { bounds: vec![(-1e308, 1e308); m.dim()], ..Default::default() };
    let r = find_fixed_points_report(&m, &p, &opts).unwrap();
    // The origin (the model's only equilibrium) is always a start.
    assert_eq!(r.points.len(), 1);
    assert!(r.points[0].state.iter().all(|v| v.abs() < 1e-12));
}

#[test]
fn budgets_stop_fixed_points_and_continuation_with_partial_results() {
    let m = SymbolicModel::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/lorenz.toml")).unwrap();
    let p = m.default_params();
    let opts = FixedPointOptions { starts: 100_000, max_seconds: 0.05, ..Default::default() };
    let t0 = std::time::Instant::now();
    let r = find_fixed_points_report(&m, &p, &opts).unwrap();
    assert!(t0.elapsed().as_secs_f64() < 10.0);
    assert_eq!(r.stopped.as_deref(), Some("budget"));
    assert!(r.starts_not_run > 0);
    // Continuation with a tiny wall-time budget keeps its first point.
    let k = m.param_index("rho").unwrap();
    let mut cp = ContinuationParams::new(k, 0.5, 30.0);
    cp.max_seconds = 1e-9;
    let mut p2 = p.clone();
    p2[k] = 0.5;
    let res = continue_equilibria(&m, &[0.0, 0.0, 0.0], &p2, &cp).unwrap();
    assert!(res.branches.iter().all(|b| b.stop == StopReason::Budget && !b.points.is_empty()));
}

fn analyze(args: &[&str]) -> (i32, String) {
    let out = crate::support::bin::command()
        .arg("analyze")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/hopf.toml"))
        .args(args)
        .args(["--out", &std::env::temp_dir().join("repcollapse-hardening").to_string_lossy()])
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn degenerate_continuation_options_are_rejected_by_name() {
    for (flag, value) in [("--from", "nan"), ("--ds", "0"), ("--ds", "nan"), ("--ds-max", "0"), ("--to", "inf")] {
        let mut args = vec!["continue", "--param", "mu", "--from", "-1", "--to", "1"];
        if flag == "--from" || flag == "--to" {
            let i = args.iter().position(|a| *a == flag).unwrap();
            args[i + 1] = value;
        } else {
            args.extend([flag, value]);
        }
        let (code, err) = analyze(&args);
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(err.contains(flag), "{flag} {value}: {err}");
    }
    let (code, err) = analyze(&["fixed-points", "--search-box", "1e308"]);
    assert_eq!(code, 0, "{err}");
}

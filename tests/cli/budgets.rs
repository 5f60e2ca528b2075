//! Budgets (issue 15, part 3) and `simulate` keeping its results when the
//! companion theory ODE fails (issue 9, part 1), through the command line:
//!
//! - `--max-seconds` reaches every engine call and every simulation loop: a
//!   run that exhausts it says where, keeps what it found and marks it
//!   `"stopped": "budget"` (or, for a simulation, fails with exit 1 naming
//!   the seed, step and time);
//! - a simulation whose step count exceeds `--max-sim-steps` is rejected
//!   before the first step (exit 2) with dt, t_max, the count and the limit;
//! - a theory ODE that fails (here: forced by `--max-ode-steps 2`) leaves the
//!   simulation results intact, bit for bit, and flags the comparison.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support;

/// Runs the binary (from the repository root) with a wall-clock limit;
/// returns (exit code, stdout, stderr); a run past the limit fails the test.
fn run(args: &[&str], limit: Duration) -> (i32, String, String) {
    let (code, out, err) = support::bin::run_limited(args, &[], Some(&support::bin::repo_root()), limit);
    let code = code.unwrap_or_else(|| panic!("`repcollapse {}` ran past {limit:?} (a budget was not honoured) or was killed by a signal", args.join(" ")));
    assert!(!err.contains("panicked"), "panic: {err}");
    (code, out, err)
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!("repcollapse-budgets-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn json_file(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Runs `simulate MODEL --set ...` twice, with the default ODE budget and
/// with `--max-ode-steps 2` (the theory ODE then fails), and checks:
/// exit 0 both times; the second result is written (`--out`) and flags the
/// comparison with a reason, on stderr and in the text summary too; every
/// `theory_fields` entry is null there with the reason beside it; and the
/// simulation fields `sim_fields` are identical in both (the simulation does
/// not depend on the ODE, and the same seed gives the same bits).
fn keeps_simulation(model: &str, sets: &[&str], sim_fields: &[&str], theory_fields: &[&str]) {
    let mut base: Vec<&str> = vec!["simulate", model];
    for s in sets {
        base.extend(["--set", s]);
    }
    let dir = tempdir();
    let (ok_path, failed_path) = (dir.join("ok.json"), dir.join("failed.json"));
    let ok_out = ok_path.to_str().unwrap().to_string();
    let failed_out = failed_path.to_str().unwrap().to_string();
    let limit = Duration::from_secs(120);

    let (code, _, err) = run(&[&base[..], &["--json", "--out", &ok_out]].concat(), limit);
    assert_eq!(code, 0, "{model}: reference run failed: {err}");
    let ok = json_file(&ok_path);
    assert_eq!(ok["theory_comparison"]["available"], true, "{model}: {}", ok["theory_comparison"]);
    for f in theory_fields {
        assert!(!ok[*f].is_null(), "{model}: `{f}` is null although the ODE ran");
    }

    let (code, _, err) = run(&[&base[..], &["--json", "--out", &failed_out, "--max-ode-steps", "2"]].concat(), limit);
    assert_eq!(code, 0, "{model}: a failed theory ODE must not fail the simulation: {err}");
    assert!(err.contains("warning: theory comparison unavailable") && err.contains("simulation results above are complete"), "{model}: stderr {err}");
    let failed = json_file(&failed_path);
    let cmp = &failed["theory_comparison"];
    assert_eq!(cmp["available"], false, "{model}: {cmp}");
    let reason = cmp["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("ODE of seed") && reason.contains("step"), "{model}: reason {reason:?}");
    for f in theory_fields {
        assert!(failed[*f].is_null(), "{model}: `{f}` = {} although the ODE failed", failed[*f]);
    }
    for f in sim_fields {
        assert!(!ok[*f].is_null(), "{model}: `{f}` missing from the reference run");
        assert_eq!(ok[*f], failed[*f], "{model}: simulation field `{f}` changed when the ODE failed");
    }

    // The text summary says it too.
    let (code, text, _) = run(&[&base[..], &["--max-ode-steps", "2"]].concat(), limit);
    assert_eq!(code, 0);
    assert!(text.contains("theory comparison unavailable: the"), "{model}: text summary lacks the line:\n{text}");
}

#[test]
fn simulate_embedding_keeps_its_results_when_the_class_level_ode_fails() {
    keeps_simulation(
        "embedding",
        &["seeds=3", "t_max=40", "per_class=8"],
        &["fitted_slow_rate", "fitted_slow_rate_per_seed", "final_accuracy", "final_loss", "final_separation_ratio", "collapsed"],
        &["theory_fitted_slow_rate", "max_relative_error_separation"],
    );
}

#[test]
fn simulate_teacher_keeps_its_results_when_the_order_parameter_ode_fails() {
    keeps_simulation(
        "teacher-student",
        &["seeds=2", "t_max=4", "input_dim=60"],
        &["fitted_slow_rate", "final_accuracy", "final_accuracy_empirical", "final_min_label_distance", "collapsed_fraction"],
        &["max_deviation_from_ode"],
    );
}

#[test]
fn simulate_teacher_with_head_keeps_its_results_when_the_head_ode_fails() {
    keeps_simulation(
        "teacher-student",
        &["seeds=2", "t_max=4", "input_dim=60", "head=symmetric"],
        &["final_accuracy", "final_separation_to_spread", "final_head_eigenvalues_seed0", "collapsed_fraction"],
        &["final_head_eigenvalues_ode"],
    );
}

#[test]
fn too_many_simulation_steps_are_rejected_before_the_first_step() {
    // 5 / 1e-9 = 5e9 steps: this ran for hours before.
    let (code, _, err) = run(&["simulate", "embedding", "--set", "t_max=5", "--set", "dt=1e-9"], Duration::from_secs(20));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`dt`") && err.contains("t_max = 5") && err.contains("5.000e9 steps") && err.contains("100000000") && err.contains("--max-sim-steps"), "{err}");
    // The limit is the documented override: the same run fits under a raised one
    // (checked here with a run small enough to finish: 4000 steps vs a limit of 3999, then 4000).
    let (code, _, err) = run(&["simulate", "embedding", "--set", "t_max=200", "--set", "seeds=1", "--max-sim-steps", "3999"], Duration::from_secs(60));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("4.000e3 steps"), "{err}");
    let (code, _, err) = run(&["simulate", "embedding", "--set", "t_max=200", "--set", "seeds=1", "--max-sim-steps", "4000"], Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn max_seconds_stops_a_simulation_saying_where() {
    // 2e7 GD steps per seed, far beyond 1 s.
    let t0 = Instant::now();
    let (code, _, err) = run(&["simulate", "embedding", "--set", "t_max=1e6", "--set", "seeds=1", "--max-seconds", "1"], Duration::from_secs(30));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("wall-time budget exhausted in Model E simulation (seed") && err.contains("step ") && err.contains("--max-seconds 1 exhausted"), "{err}");
    // Polled every 1024 steps: it stops soon after the budget (generous
    // bound for a loaded 2-core machine).
    assert!(t0.elapsed() < Duration::from_secs(15), "took {:?}", t0.elapsed());
}

#[test]
fn max_seconds_reaches_the_engine_and_keeps_partial_results() {
    let dir = tempdir();
    let out = dir.join("integrate");
    // Lorenz to t = 1e308 never ends on its own: stopped by the budget,
    // the output times reached are written, exit 1.
    let (code, _, err) = run(
        &["analyze", "examples/models/lorenz.toml", "integrate", "--t-max", "1e308", "--out", out.to_str().unwrap(), "--max-seconds", "1"],
        Duration::from_secs(30),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("budget") && err.contains("written to"), "{err}");
    let v = json_file(&out.join("integrate.json"));
    assert_eq!(v["stopped"], "budget", "{}", v["stop"]);
    assert_eq!(v["options"]["max_seconds"], 1.0, "the budget as given, not what was left of it");
    assert!(!v["t"].as_array().unwrap().is_empty());

    // Fixed points: far more starts than fit in 0.5 s; what was found is
    // kept, the starts not run are counted, exit 0 with a warning.
    let out = dir.join("fp");
    let (code, _, err) = run(
        &["analyze", "examples/models/lorenz.toml", "fixed-points", "--starts", "2000000", "--out", out.to_str().unwrap(), "--max-seconds", "0.5"],
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wall-time budget (--max-seconds 0.5) ran out during fixed_points"), "{err}");
    let v = json_file(&out.join("fixed_points.json"));
    assert_eq!(v["stopped"], "budget");
    assert!(v["starts_not_run"].as_u64().unwrap() > 0);

    // Without a budget the JSON records "none", not null.
    let out = dir.join("short");
    let (code, _, err) = run(&["analyze", "examples/models/lorenz.toml", "integrate", "--t-max", "1", "--points", "5", "--out", out.to_str().unwrap()], Duration::from_secs(30));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_file(&out.join("trajectory.json"))["options"]["max_seconds"], "none");
}

#[test]
fn budget_options_are_validated() {
    for (flag, bad) in [("--max-seconds", "0"), ("--max-seconds", "nan"), ("--max-sim-steps", "0"), ("--max-sim-steps", "1.5"), ("--max-ode-steps", "0"), ("--max-ode-steps", "1e10")] {
        let (code, _, err) = run(&["simulate", "embedding", flag, bad], Duration::from_secs(20));
        assert_eq!(code, 2, "{flag} {bad}: {err}");
        assert!(err.contains(&format!("`{flag}`")), "{flag} {bad}: {err}");
    }
}

#[test]
fn results_have_no_unexplained_nulls() {
    // Small configurations of every model, plus the ones that used to give
    // 0/0 (a collapsed teacher attractor, a head without a fold).
    let cases: &[&[&str]] = &[
        &["theory", "embedding"],
        &["simulate", "embedding", "--set", "seeds=2", "--set", "t_max=40"],
        &["theory", "head"],
        &["simulate", "head", "--set", "seeds=2"],
        &["theory", "teacher-student"],
        &["simulate", "teacher-student", "--set", "seeds=2", "--set", "t_max=4", "--set", "input_dim=60"],
        &["theory", "real-data"],
        &["simulate", "real-data", "--set", "seeds=2"],
    ];
    let mut bad = Vec::new();
    for args in cases {
        let (code, out, err) = run(&[*args, &["--json"]].concat(), Duration::from_secs(120));
        assert_eq!(code, 0, "{args:?}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let off = v["theory_comparison"]["available"] == false;
        let found = support::nulls::unexplained_nulls(&v, off);
        bad.extend(found.into_iter().map(|p| format!("{} {}: {p}", args[0], args[1])));
    }
    assert!(bad.is_empty(), "unexplained nulls:\n{}", bad.join("\n"));
}

#[test]
fn a_budget_stop_of_simulate_keeps_the_seeds_that_finished() {
    // 2000 short seeds (t_max = 200: 4000 GD steps, ~0.03 s each), far more than fit in
    // 2 s on two threads: the budget stops the run part-way. The seeds that
    // finished are kept and written, marked partial, and the exit status is
    // still the budget's.
    let dir = tempdir();
    let path = dir.join("partial.json");
    let (code, out, err) = run(
        &["simulate", "embedding", "--set", "seeds=2000", "--set", "t_max=200", "--max-seconds", "2", "--json", "--out", path.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("wall-time budget exhausted in simulate embedding") && err.contains("of 2000 seeds finished") && err.contains("\"partial\": true"), "{err}");
    let v = json_file(&path);
    let stdout: Value = serde_json::from_str(&out).expect("the partial result is printed as JSON too");
    assert_eq!(v, stdout);
    assert_eq!(v["partial"], true);
    assert_eq!(v["seeds_requested"], 2000);
    assert_eq!(v["theory_comparison"]["available"], true, "a seed whose ODE the budget stopped is dropped, not a failed comparison");
    let k = v["seeds_completed"].as_u64().unwrap();
    assert!(k >= 1 && k < 2000, "{k} seeds completed");
    assert_eq!(v["seeds_kept"].as_array().unwrap().len() as u64, k);
    assert_eq!(v["fitted_slow_rate_per_seed"].as_array().unwrap().len() as u64, k);
    assert!(v["partial_reason"].as_str().unwrap().contains("--max-seconds 2"), "{}", v["partial_reason"]);
    // The kept seeds are the same numbers as in a run without a budget: seed
    // s's fitted rate is bit-identical to the full run's.
    let first = v["seeds_kept"][0].as_u64().unwrap();
    let (code, out, err) = run(&["simulate", "embedding", "--set", &format!("seed={first}"), "--set", "seeds=1", "--set", "t_max=200", "--json"], Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    let one: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(one["fitted_slow_rate_per_seed"][0], v["fitted_slow_rate_per_seed"][0]);
    assert!(one.get("partial").is_none(), "a run the budget did not stop is not marked");
}

#[test]
fn a_budget_stop_keeps_finished_seeds_in_every_model() {
    // As for Model E above: 2000 short seeds, far more than fit in 2 s; the
    // budget stops the run part-way, the finished seeds are kept and marked.
    // (model, --set values, the per-seed array whose length is the seed count)
    let cases: [(&str, &[&str], Option<&str>); 5] = [
        ("head", &["seeds=2000", "t_max=50"], Some("head_spectrum_per_seed")),
        ("teacher-student", &["seeds=2000", "t_max=2"], None),
        ("teacher-student", &["seeds=2000", "t_max=2", "head=\"symmetric\""], None),
        ("teacher-student", &["seeds=2000", "t_max=2", "samples=50"], Some("fitted_rate_exact")),
        ("real-data", &["seeds=2000", "t_max=20"], Some("fitted_slow_rate_per_seed")),
    ];
    let dir = tempdir();
    for (i, (model, sets, per_seed)) in cases.iter().enumerate() {
        let path = dir.join(format!("partial-{i}.json"));
        let mut args = vec!["simulate", model, "--max-seconds", "2", "--out", path.to_str().unwrap()];
        for s in *sets {
            args.extend(["--set", s]);
        }
        let t0 = Instant::now();
        let (code, out, err) = run(&args, Duration::from_secs(60));
        let took = t0.elapsed();
        assert_eq!(code, 1, "{model} {sets:?}: {err}");
        assert!(err.contains(&format!("wall-time budget exhausted in simulate {model}")) && err.contains("of 2000 seeds finished"), "{model} {sets:?}: {err}");
        assert!(out.contains("PARTIAL:") && out.contains("of 2000 seeds finished"), "{model} {sets:?}: the text summary says so: {out}");
        assert!(took < Duration::from_secs(20), "{model} {sets:?}: the seeds not started stop at once, not after their set-up ({took:?})");
        let v = json_file(&path);
        assert_eq!(v["partial"], true, "{model} {sets:?}");
        assert_eq!(v["seeds_requested"], 2000);
        let k = v["seeds_completed"].as_u64().unwrap();
        assert!(k >= 1 && k < 2000, "{model} {sets:?}: {k} seeds completed");
        assert_eq!(v["seeds_kept"].as_array().unwrap().len() as u64, k);
        if let Some(key) = per_seed {
            assert_eq!(v[*key].as_array().unwrap().len() as u64, k, "{model} {sets:?}: {key}");
        }
        assert!(v["partial_reason"].as_str().unwrap().contains("--max-seconds 2"), "{}", v["partial_reason"]);
        if v.get("theory_comparison").is_some() {
            assert_eq!(v["theory_comparison"]["available"], true, "{model} {sets:?}: a seed the budget stopped is dropped, not a failed comparison");
        }
    }
    // A run the budget did not stop is not marked.
    let (code, out, err) = run(&["simulate", "head", "--set", "seeds=2", "--set", "t_max=20", "--json"], Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    assert!(serde_json::from_str::<Value>(&out).unwrap().get("partial").is_none());
}

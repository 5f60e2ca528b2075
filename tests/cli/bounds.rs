//! Default bounds of the `analyze` verbs (issue 24, table in docs/cli.md):
//! a run that meets a bound says which bound, what it found so far, and the
//! option that raises it. One test per verb; `periodic` has its own in
//! `periodic.rs` (`periodic_bounds_say_which_option_raises_them`).
use std::time::Duration;

use serde_json::Value;

use crate::support::bin::{repo_root, run, run_limited};

fn example(name: &str) -> String {
    repo_root().join("examples/models").join(name).display().to_string()
}

fn json_file(p: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn integrate_step_bound_names_the_bound_the_times_reached_and_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (code, _, stderr) = run(&["analyze", &example("lorenz.toml"), "integrate", "--max-steps", "50", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("max_steps = 50"), "the bound: {stderr}");
    assert!(stderr.contains("output times up to t ="), "what was reached: {stderr}");
    assert!(stderr.contains("raise the budget (max_steps"), "the option: {stderr}");
    // What was reached is on disk, with the reason.
    let v = json_file(&out.join("integrate.json"));
    assert_eq!(v["stopped"], "budget");
    assert!(v["t"].as_array().unwrap().len() > 1);
}

#[test]
fn continue_step_bound_names_the_bound_the_branch_and_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (code, stdout, stderr) = run(&[
        "analyze", &example("brusselator.toml"), "continue", "--param", "b", "--from", "1", "--to", "3", "--max-steps", "3", "--json", "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "a branch cut by its bound is a result: {stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let b = v["branches"].as_array().unwrap().iter().find(|b| b["stop"] == "max-steps").expect("a branch on the step bound");
    let points = b["points"].as_array().unwrap();
    assert_eq!(points.len(), 4, "the start and three steps");
    let note = b["stop_note"].as_str().unwrap();
    let last = points.last().unwrap()["param"].to_string();
    for part in ["(--max-steps 3)", "after 4 points", &format!("b = {last}"), "[1, 3]", "raise --max-steps"] {
        assert!(note.contains(part), "`{part}` in: {note}");
    }
    assert!(stderr.contains(&format!("warning: {note}")), "{stderr}");
}

#[test]
fn boundary_step_bound_names_the_bound_the_curve_and_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (code, stdout, stderr) = run(&[
        "analyze", &example("cusp.toml"), "boundary", "--param", "h", "--from", "-1", "--to", "1", "--param2", "r", "--from2", "0.05", "--to2", "2",
        "--max-steps", "2", "--json", "--out", out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let curve = &v["curves"][0];
    assert_eq!(curve["stop_forward"], "max-steps");
    let note = curve["stop_note_forward"].as_str().unwrap();
    let traced = curve["points"].as_array().unwrap().len();
    for part in ["(--max-steps 2 per direction)", &format!("{traced} points traced"), "fold", "raise --max-steps"] {
        assert!(note.contains(part), "`{part}` in: {note}");
    }
    assert!(stderr.contains(note), "{stderr}");
    // The new option is validated by its name.
    let (code, _, stderr) = run(&[
        "analyze", &example("cusp.toml"), "boundary", "--param", "h", "--from", "-1", "--to", "1", "--param2", "r", "--from2", "0.05", "--to2", "2",
        "--max-steps", "0", "--out", out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("`--max-steps`") && stderr.contains(">= 1"), "{stderr}");
}

/// `n` sites, each coupled to three random others: the LU of its Jacobian
/// fills in (no band or block structure), see docs/sparse-scaling.md.
fn random_sparse(n: usize) -> String {
    let mut s = format!("name = \"random{n}\"\n\n[parameters]\na = 0.5\nD = 1.0\n\n[state]\n");
    for i in 0..n {
        s += &format!("u{i} = 0.0\n");
    }
    s += "\n[equations]\n";
    let mut r = 0x2545f4914f6cdd1du64;
    let mut next = move || {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        (r % n as u64) as usize
    };
    for i in 0..n {
        let (j, k, l) = (next(), next(), next());
        s += &format!("u{i} = \"0.1*D*(u{j} + u{k} - 2*u{l}) + a - u{i} - u{i}^3\"\n");
    }
    s
}

#[test]
fn fixed_points_work_bound_refuses_up_front_with_the_estimate_and_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("random.toml");
    std::fs::write(&file, random_sparse(1000)).unwrap();
    let out = dir.path().join("o");
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    // 20,000 starts: far above the default work bound, refused at once.
    let (code, stdout, stderr) = run_limited(&["analyze", f, "--out", o, "fixed-points", "--starts", "20000"], &[], None, Duration::from_secs(60));
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    for part in ["fixed-points: not started", "default work bound of 60 s", "nothing was computed", "20002 starts", "--starts N", "--max-seconds S"] {
        assert!(stderr.contains(part), "`{part}` in: {stderr}");
    }
    // With a budget it runs, keeps what it found, and records the estimate.
    let (code, stdout, stderr) =
        run_limited(&["--max-seconds", "2", "analyze", f, "--json", "--out", o, "fixed-points", "--starts", "20000"], &[], None, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["stopped"], "budget");
    assert!(v["starts_not_run"].as_u64().unwrap() > 0);
    let cost = &v["cost_estimate"];
    assert_eq!(cost["n"], 1000);
    assert!(cost["seconds_floor"].as_f64().unwrap() > 60.0);
    assert!(cost["lu_fill"].as_u64().unwrap() > cost["nnz"].as_u64().unwrap(), "a random pattern fills in: {cost}");
    // The default search states its start bound and the option.
    let (code, stdout, stderr) = run_limited(&["analyze", f, "--json", "--out", o, "fixed-points"], &[], None, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let note = v["starts_note"].as_str().unwrap();
    assert!(note.contains("8 of the 32 random starts") && note.contains("--starts N"), "{note}");
    assert_eq!(v["cost_estimate"]["factorisations_floor"], 10, "8 random starts, the initial state and the origin");
}

#[test]
fn continue_work_bound_refuses_a_fill_heavy_model_up_front_with_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("random.toml");
    std::fs::write(&file, random_sparse(3000)).unwrap();
    let out = dir.path().join("o");
    let (code, stdout, stderr) = run_limited(
        &["analyze", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "continue", "--param", "a", "--from", "0", "--to", "1"],
        &[],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    for part in ["continue: not started", "default work bound of 60 s", "nothing was computed", "continue on 3000 states", "bordered Jacobian", "--max-seconds S"]
    {
        assert!(stderr.contains(part), "`{part}` in: {stderr}");
    }
    // boundary starts from the same diagram and says the same (periodic
    // does too, but at this size its collocation memory bound refuses it first).
    for verb in [vec!["boundary", "--param", "a", "--from", "0", "--to", "1", "--param2", "D", "--from2", "0.5", "--to2", "1.5"]] {
        let mut args = vec!["analyze", file.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend(&verb);
        let (code, _, stderr) = run_limited(&args, &[], None, Duration::from_secs(60));
        assert_eq!(code, Some(1), "{verb:?}: {stderr}");
        assert!(stderr.contains(&format!("{}: not started", verb[0])) && stderr.contains("--max-seconds S"), "{stderr}");
    }
}

//! Every null in every JSON the tool writes has a sibling explanation
//! (issue 24; the rule is in tests/support/nulls.rs): all the studies of
//! `cargo run --release` (`repcollapse run analysis`), and every `analyze`
//! verb's printed JSON and written files. `theory`/`simulate` are checked in
//! budgets.rs (`results_have_no_unexplained_nulls`).
use std::time::Duration;

use serde_json::Value;

use crate::support::bin::{repo_root, run_limited};
use crate::support::nulls::{unexplained_nulls, unexplained_nulls_in_dir};

#[test]
fn every_study_of_the_default_run_explains_its_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = run_limited(&["run", "analysis", "--out", out.to_str().unwrap(), "--quiet"], &[], Some(&repo_root()), Duration::from_secs(1200));
    assert_eq!(code, Some(0), "{err}");
    let mut files = 0;
    let bad = unexplained_nulls_in_dir(&out, &mut files);
    let studies = std::fs::read_dir(repo_root().join("analysis")).unwrap().flatten().filter(|e| e.path().extension().is_some_and(|x| x == "toml")).count();
    assert!(files >= studies, "{files} JSON files for {studies} studies");
    assert!(bad.is_empty(), "{} unexplained nulls:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn every_analyze_verb_explains_its_nulls() {
    let m = |f: &str| repo_root().join("examples/models").join(f).display().to_string();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("fixed-points", vec![m("lorenz.toml"), "fixed-points".into()]),
        ("fixed-points", vec![m("ab.toml"), "fixed-points".into()]),
        ("integrate", vec![m("van-der-pol.toml"), "integrate".into()]),
        ("integrate", vec![m("robertson.toml"), "integrate".into()]),
        ("continue", vec![m("brusselator.toml"), "continue".into(), "--param".into(), "b".into(), "--from".into(), "1".into(), "--to".into(), "3".into()]),
        ("boundary", vec![m("cusp.toml"), "boundary".into(), "--param".into(), "h".into(), "--from".into(), "-1".into(), "--to".into(), "1".into(), "--param2".into(), "r".into(), "--from2".into(), "0.05".into(), "--to2".into(), "2".into(), "--grid-check".into()]),
        ("boundary", vec![m("ab.toml"), "--set".into(), "beta=2.3".into(), "boundary".into(), "--param".into(), "D".into(), "--from".into(), "0.1".into(), "--to".into(), "0.2".into(), "--param2".into(), "beta".into(), "--from2".into(), "1.5".into(), "--to2".into(), "3".into(), "--kind".into(), "hopf".into()]),
        ("periodic", vec![m("hopf.toml"), "periodic".into(), "--param".into(), "mu".into(), "--from".into(), "-0.5".into(), "--to".into(), "0.5".into()]),
    ];
    let mut bad = Vec::new();
    let mut files = 0;
    for (i, (verb, args)) in cases.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(format!("{verb}-{i}"));
        let mut a: Vec<&str> = vec!["analyze"];
        a.extend(args.iter().map(String::as_str));
        a.extend(["--json", "--out", out.to_str().unwrap()]);
        let (code, stdout, err) = run_limited(&a, &[], Some(&repo_root()), Duration::from_secs(300));
        assert_eq!(code, Some(0), "{a:?}: {err}");
        let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{a:?}: {e}"));
        bad.extend(unexplained_nulls(&v, false).into_iter().map(|n| format!("{verb} {i} (stdout): {n}")));
        bad.extend(unexplained_nulls_in_dir(&out, &mut files).into_iter().map(|n| format!("{verb} {i}: {n}")));
    }
    assert!(files >= cases.len(), "only {files} JSON files written");
    assert!(bad.is_empty(), "{} unexplained nulls:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn the_walker_finds_unexplained_nulls_and_accepts_explained_ones() {
    let v = serde_json::json!({"a": null, "b": {"c": null, "c_note": "why"}, "d": [1, null], "e": {"f": [null], "reason": "why"}});
    assert_eq!(unexplained_nulls(&v, false), vec![".a".to_string(), ".d[1]".to_string()]);
    assert!(unexplained_nulls(&v, true).is_empty(), "an unavailable theory comparison explains the theory nulls");
}

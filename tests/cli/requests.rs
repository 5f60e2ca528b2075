//! One request layer (src/request/) behind the CLI's `analyze` and the
//! `model-analysis` study kind: the same continuation and boundary written
//! as flags and as a study file give byte-identical CSV files, the same
//! special points, and errors that name the field in each syntax.
//! (python/tests/test_model_file.py adds the Python syntax.)
use std::path::Path;

use crate::support::bin::{json, repo_root, run};

fn cusp() -> String {
    repo_root().join("examples/models/cusp.toml").display().to_string()
}

fn study(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("study = \"model-analysis\"\ntitle = \"{name}\"\nmodel = \"{}\"\n{body}\n", cusp())).unwrap();
    path.display().to_string()
}

#[test]
fn flags_and_study_file_reach_the_engine_as_one_request() {
    let dir = tempfile::tempdir().unwrap();
    let (c, b, s) = (dir.path().join("cli-c"), dir.path().join("cli-b"), dir.path().join("study"));
    let js = json(&["analyze", &cusp(), "continue", "--param", "h", "--from", "-1", "--to", "1", "--json", "--out", c.to_str().unwrap()]);
    let jb = json(&[
        "analyze", &cusp(), "boundary", "--param", "h", "--from", "-1", "--to", "1", "--param2", "r", "--from2", "0.05", "--to2", "2",
        "--grid-check", "--json", "--out", b.to_str().unwrap(),
    ]);
    let file = study(
        dir.path(),
        "req",
        "continue = { param = \"h\", from = -1, to = 1 }\nboundary = { param = \"h\", from = -1, to = 1, param2 = \"r\", from2 = 0.05, to2 = 2 }",
    );
    let (code, _, err) = run(&["run", &file, "--out", s.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(s.join("req/summary.json")).unwrap()).unwrap();
    assert!(js["bifurcations"].as_array().is_some_and(|b| !b.is_empty()), "the cusp has folds on [-1, 1]");
    assert_eq!(summary["continuation"]["bifurcations"], js["bifurcations"]);
    assert_eq!(summary["boundary"]["grid_check"], jb["grid_check"]);
    for (cli_dir, files) in [(&c, &["continuation.csv"][..]), (&b, &["boundary.csv", "boundary_points.csv", "boundary_grid.csv"][..])] {
        for f in files {
            let (a, z) = (std::fs::read(cli_dir.join(f)).unwrap(), std::fs::read(s.join("req").join(f)).unwrap());
            assert!(a == z, "{f}: the CLI and the study file wrote different bytes");
        }
    }
}

#[test]
fn request_errors_name_the_field_as_each_front_end_spells_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (code, _, err) = run(&["analyze", &cusp(), "continue", "--param", "h", "--from", "0", "--to", "1", "--ds-max", "0", "--out", out.to_str().unwrap()]);
    assert!(code == 2 && err.contains("`--ds-max`"), "{err}");
    let (code, _, err) = run(&["analyze", &cusp(), "boundary", "--param", "h", "--from", "0", "--to", "1", "--param2", "h", "--from2", "0", "--to2", "1", "--out", out.to_str().unwrap()]);
    assert!(code == 2 && err.contains("`--param2`") && err.contains("other than `h`"), "{err}");
    let file = study(dir.path(), "bad", "boundary = { param = \"h\", from = -1, to = 1, param2 = \"r\", from2 = 0.05, to2 = 2, grid = 1 }");
    let (code, _, err) = run(&["run", &file, "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(code == 2 && err.contains("`boundary.grid`") && err.contains("[2, 400]"), "{err}");
}

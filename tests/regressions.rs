//! Replays every case in `tests/regressions/` (see its README): inputs
//! that once crashed, hung or gave a wrong result, each with its expected
//! exit code and message. A case marked `pending` belongs to an open part
//! owned elsewhere; it is replayed only with `REPCOLLAPSE_REPLAY_PENDING=1`
//! and then reported without failing the suite.
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

mod support;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    args: Vec<String>,
    file: Option<String>,
    file_from: Option<String>,
    expect_exit: Vec<i32>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    timeout: Option<f64>,
    pending: Option<String>,
}

fn run(case: &Case, dir: &std::path::Path, regress: &std::path::Path) -> Result<(), String> {
    let file = dir.join("case.toml");
    if let Some(text) = &case.file {
        std::fs::write(&file, text).unwrap();
    }
    if let Some(from) = &case.file_from {
        std::fs::copy(regress.join(from), &file).unwrap();
    }
    let out = dir.join("out");
    let args: Vec<String> = case.args.iter().map(|a| a.replace("{file}", file.to_str().unwrap()).replace("{out}", out.to_str().unwrap())).collect();
    let err_path = dir.join("stderr");
    let mut child = support::bin::command()
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let limit = Duration::from_secs_f64(case.timeout.unwrap_or(60.0));
    let Some(status) = support::bin::wait_with_limit(&mut child, limit) else {
        return Err(format!("hang: no exit within {limit:?}"));
    };
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    let code = status.code().ok_or_else(|| format!("killed by a signal ({status:?}); stderr {err:?}"))?;
    if !case.expect_exit.contains(&code) || err.contains("panicked") {
        return Err(format!("exit {code}, expected one of {:?}; stderr {err:?}", case.expect_exit));
    }
    for s in &case.stderr_contains {
        if !err.contains(s.as_str()) {
            return Err(format!("stderr lacks {s:?}: {err:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_regression_input_has_its_expected_outcome() {
    let regress = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&regress).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    files.sort();
    assert!(files.len() >= 15, "regression corpus missing ({} cases)", files.len());
    let with_pending = std::env::var("REPCOLLAPSE_REPLAY_PENDING").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let case: Case = toml::from_str(&std::fs::read_to_string(f).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if case.pending.is_some() && !with_pending {
            continue;
        }
        let dir = std::env::temp_dir().join(format!("repcollapse-regress-{}-{i}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let r = run(&case, &dir, &regress);
        let _ = std::fs::remove_dir_all(&dir);
        match (r, &case.pending) {
            (Ok(()), Some(p)) => eprintln!("pending case now passes (remove `pending`): {} [{p}]", f.display()),
            (Ok(()), None) => {}
            (Err(e), Some(p)) => eprintln!("pending case still fails: {} [{p}]: {e}", f.display()),
            (Err(e), None) => failures.push(format!("{} ({}): {e}", f.display(), case.description)),
        }
    }
    assert!(failures.is_empty(), "{} regression(s):\n{}", failures.len(), failures.join("\n"));
}

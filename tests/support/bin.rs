//! Running the release binary from a test: to completion, or under a
//! wall-clock limit (a run past the limit is killed and reported as a hang
//! by the caller, in its own terms).
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The binary cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_repcollapse");

/// The repository root (where `examples/`, `analysis/` and `tests/` live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A command for the binary, to add arguments and environment to.
pub fn command() -> Command {
    Command::new(BIN)
}

/// Runs `repcollapse ARGS` to completion; returns (exit code, stdout,
/// stderr), with exit code -1 when a signal ended it.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = command().args(args).output().expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The stdout of a run that must succeed, parsed as JSON.
pub fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {out}"))
}

/// Waits for `child` at most `limit`; on timeout kills it, reaps it and
/// returns `None` (the caller reports the hang in its own terms).
pub fn wait_with_limit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("child status") {
            return Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `repcollapse ARGS` with extra environment, from `cwd` (the test's
/// own working directory if `None`), for at most `limit`. Output goes to
/// files, so a large output cannot block the child. Returns
/// `(None, ..)` for a run that was killed at the limit or by a signal.
pub fn run_limited(args: &[&str], envs: &[(&str, &str)], cwd: Option<&Path>, limit: Duration) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut cmd = command();
    cmd.args(args)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .stdin(Stdio::null());
    if let Some(c) = cwd {
        cmd.current_dir(c);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("binary runs");
    let code = wait_with_limit(&mut child, limit).and_then(|s| s.code());
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (code, read(&out_path), read(&err_path))
}

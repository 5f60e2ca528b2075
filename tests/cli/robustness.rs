//! Hardening (issue 15) through the command line: every study key is
//! validated at the boundary, sizes are checked before allocating, result
//! files follow the umask and killed runs' temporaries are cleaned up,
//! outputs do not depend on the number of threads, and divergence is an
//! error whatever `t_max` is.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support;
use crate::support::bin::BIN;

/// Runs the binary with a wall-clock limit; `None` exit code = killed (hang).
fn run_limited(args: &[&str], envs: &[(&str, &str)], limit: Duration) -> (Option<i32>, String, String) {
    support::bin::run_limited(args, envs, None, limit)
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!("repcollapse-hardening-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn root() -> PathBuf {
    support::bin::repo_root()
}

/// The example study file of every registered kind (the test fails if a
/// kind has none, so a new kind cannot escape this test).
fn example_of_each_kind() -> Vec<(String, PathBuf, toml::Table)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("analysis")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    files.sort();
    repcollapse::registry::study_kinds()
        .iter()
        .map(|k| {
            let (path, table) = files
                .iter()
                .find_map(|p| {
                    let t: toml::Table = toml::from_str(&std::fs::read_to_string(p).unwrap()).ok()?;
                    (t.get("study").and_then(|v| v.as_str()) == Some(k.name)).then(|| (p.clone(), t))
                })
                .unwrap_or_else(|| panic!("study kind `{}` has no example in analysis/; add one", k.name));
            (k.name.to_string(), path, table)
        })
        .collect()
}

/// One mutation of a study file: the key path the message must name and the new table.
fn mutations(table: &toml::Table) -> Vec<(String, toml::Table)> {
    let mut out = Vec::new();
    for (k, v) in table {
        let mut put = |name: String, nv: toml::Value| {
            let mut t = table.clone();
            t.insert(k.clone(), nv);
            out.push((name, t));
        };
        match v {
            toml::Value::Array(a) => {
                put(k.clone(), toml::Value::Array(vec![]));
                if a.iter().any(|x| x.is_float() || x.is_integer()) {
                    put(k.clone(), toml::Value::Array(vec![toml::Value::Float(f64::NAN)]));
                }
            }
            toml::Value::Float(_) | toml::Value::Integer(_) => put(k.clone(), toml::Value::Float(f64::NAN)),
            toml::Value::Table(sub) => {
                for (sk, sv) in sub {
                    if sv.is_float() || sv.is_integer() {
                        let mut s2 = sub.clone();
                        s2.insert(sk.clone(), toml::Value::Float(f64::NAN));
                        // `[params]` entries are named as the model names them; inline
                        // tables as `table.key`.
                        let name = if k == "params" { sk.clone() } else { format!("{k}.{sk}") };
                        put(name, toml::Value::Table(s2));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Every study kind (the registry's table), with each list key empty and
/// each numeric key NaN (top level, inside lists, in `[params]` and in
/// inline tables): a clean error naming the key, exit code 2, quickly.
#[test]
fn every_study_kind_rejects_empty_lists_and_nan_naming_the_key() {
    let dir = tempdir();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (kind, path, table) in example_of_each_kind() {
        for (key, t) in mutations(&table) {
            // Keep relative model paths working: write next to the original.
            let file = path.parent().unwrap().join(format!(".hardening-{}-{checked}.toml", std::process::id()));
            std::fs::write(&file, toml::to_string(&t).unwrap()).unwrap();
            let (code, _, err) = run_limited(&["run", file.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--quiet"], &[], Duration::from_secs(120));
            let _ = std::fs::remove_file(&file);
            let named = err.contains(&format!("`{key}`"));
            if code != Some(2) || !named || err.contains("panicked") {
                failures.push(format!("{kind} ({}) with {key} mutated: exit {code:?}, stderr {err:?}", path.display()));
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} mutations generated");
    assert!(failures.is_empty(), "{} of {checked} mutations not rejected cleanly:\n{}", failures.len(), failures.join("\n"));
}

/// The reliability tester's cases, one by one.
#[test]
fn study_values_are_never_silently_replaced() {
    let dir = tempdir();
    let cases: &[(&str, &str)] = &[
        ("study = \"teacher-convergence\"\ndims = []\n", "`dims`"),
        ("study = \"teacher-collapse\"\nt_cap = nan\n", "`t_cap`"),
        ("study = \"teacher-convergence\"\nfull = \"str\"\n", "`full`"),
        ("study = \"head-phase\"\ntitle = 5\n", "`title`"),
        ("study = \"head-phase\"\nparams = 5\n", "`params`"),
        ("study = \"teacher-finite-data\"\nalphas = [-1.0]\n", "`alphas`"),
        ("study = \"two-timescales\"\nsgd_batch = nan\n", "`sgd_batch`"),
        ("study = \"two-timescales\"\nsgd_batch = 2.5\n", "`sgd_batch`"),
        ("study = \"head-spectrum\"\nweight_decays = []\n", "`weight_decays`"),
        ("study = \"head-phase\"\nweight_decays = [-0.1]\n", "`weight_decays`"),
        ("study = \"head-meanfield\"\ndistributions = [1]\n", "`distributions`"),
        ("study = \"teacher-head\"\ncases = 5\n", "`cases`"),
        ("study = \"head-phase\"\nvariants = 5\n", "`variants`"),
        ("study = 5\n", "`study`"),
    ];
    for (text, key) in cases {
        let file = dir.join("s.toml");
        std::fs::write(&file, text).unwrap();
        let (code, _, err) = run_limited(&["run", file.to_str().unwrap(), "--out", dir.join("out").to_str().unwrap(), "--quiet"], &[], Duration::from_secs(60));
        assert_eq!(code, Some(2), "{text:?}: {err}");
        assert!(err.contains(key), "{text:?}: stderr {err:?} lacks {key}");
    }
}

/// Sizes that would abort on allocation are rejected first, with the
/// estimate and the limit; `--max-memory` moves the limit both ways.
#[test]
fn memory_is_estimated_before_allocating() {
    for (args, key) in [
        (vec!["theory", "embedding", "--set", "per_class=100000000"], "`per_class`"),
        (vec!["theory", "head", "--set", "dim=100000"], "`dim`"),
        (vec!["simulate", "teacher-student", "--set", "input_dim=1000000", "--set", "samples=100000"], "`samples`"),
        (vec!["simulate", "teacher-student", "--set", "input_dim=40000", "--set", "samples=30"], "`input_dim`"),
        (vec!["--max-memory", "10K", "theory", "embedding"], "`per_class`"),
    ] {
        let (code, _, err) = run_limited(&args, &[], Duration::from_secs(60));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(key) && err.contains("needs about") && err.contains("--max-memory"), "{args:?}: {err}");
    }
    let (code, _, err) = run_limited(&["--max-memory", "lots", "theory", "embedding"], &[], Duration::from_secs(60));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--max-memory"), "{err}");
    // The default configuration fits a small explicit limit.
    let (code, _, err) = run_limited(&["--max-memory", "64M", "theory", "embedding"], &[], Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
}

/// Divergence in `simulate` is an error whatever `t_max` is: the run of
/// the report diverged to a loss of 6.7e200 by t = 5 and exited 0.
#[test]
fn divergence_is_an_error_at_any_horizon() {
    for t_max in ["5", "40"] {
        let t = format!("t_max={t_max}");
        let (code, out, err) = run_limited(&["simulate", "teacher-student", "--set", "sigma=16", "--set", "input_dim=50", "--set", &t], &[], Duration::from_secs(120));
        assert_eq!(code, Some(1), "t_max = {t_max}: {out} {err}");
        assert!(err.contains("divergence"), "{err}");
    }
}

/// A default search box that overflows names the value that made it
/// overflow, not an option that was never given.
#[test]
fn overflowing_default_search_box_names_the_state_value() {
    let dir = tempdir();
    let model = dir.join("big.toml");
    std::fs::write(&model, "[parameters]\nk = 1.0\n[state]\nx = 1e308\n[equations]\nx = \"-k*x\"\n").unwrap();
    let (code, _, err) = run_limited(&["analyze", model.to_str().unwrap(), "fixed-points", "--out", dir.join("o").to_str().unwrap()], &[], Duration::from_secs(60));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`x`") && !err.contains("--search-box`"), "{err}");
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every output (CSV, SVG, JSON, PNG, report.md) gets `0666 & !umask`.
#[cfg(unix)]
#[test]
fn outputs_follow_the_umask() {
    let dir = tempdir();
    let cusp = root().join("examples/models/cusp.toml");
    let study = dir.join("m.toml");
    std::fs::write(&study, format!("study = \"model-analysis\"\nmodel = \"{}\"\ncontinue = {{ param = \"h\", from = -1.0, to = 1.0 }}\n", cusp.display())).unwrap();
    for (umask, want) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let out = dir.join(format!("out{umask}"));
        let script = format!(
            "umask {umask} && '{BIN}' analyze '{}' integrate --out '{}/a' >/dev/null && '{BIN}' run '{}' --out '{}/r' --quiet && '{BIN}' simulate embedding --set seeds=2 --set t_max=5 --out '{}/sim.json' >/dev/null",
            cusp.display(),
            out.display(),
            study.display(),
            out.display(),
            out.display()
        );
        let st = Command::new("sh").arg("-c").arg(&script).status().unwrap();
        assert!(st.success(), "{script}");
        let mut files = Vec::new();
        let mut stack = vec![out.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() { stack.push(p) } else { files.push(p) }
            }
        }
        let exts: std::collections::BTreeSet<String> = files.iter().filter_map(|p| p.extension().map(|e| e.to_string_lossy().into_owned())).collect();
        for e in ["csv", "svg", "json", "png", "md"] {
            assert!(exts.contains(e), "no .{e} output among {files:?}");
        }
        for f in &files {
            assert_eq!(mode(f), want, "{} under umask {umask}", f.display());
            let name = f.file_name().unwrap().to_string_lossy();
            assert!(!name.starts_with('.'), "temporary left behind: {}", f.display());
        }
    }
}

/// Temporaries of a killed run (process gone) are removed by the next run
/// that writes into the folder; a live process's temporary is left alone.
#[cfg(target_os = "linux")]
#[test]
fn killed_runs_temporaries_are_cleaned_up() {
    let dir = tempdir();
    let out = dir.join("a");
    std::fs::create_dir_all(&out).unwrap();
    // pid_max is at most 2^22 on Linux, so this pid never runs.
    let dead = 4_194_999u32;
    let stale = [
        format!(".trajectory.csv.repcollapse.{dead}.0.tmp"),
        format!(".trajectory.png.repcollapse.{dead}.3.tmp.png"),
        format!(".trajectory.{dead}.tmp.png"), // the earlier figure scheme
        ".tmpAb12Z9".to_string(),              // the earlier `tempfile` scheme
    ];
    for s in &stale {
        std::fs::write(out.join(s), b"partial").unwrap();
    }
    // The legacy `.tmpXXXXXX` name carries no pid: it counts as stale once a minute old.
    let st = Command::new("touch").args(["-d", "2 hours ago"]).arg(out.join(".tmpAb12Z9")).status().unwrap();
    assert!(st.success());
    let live = format!(".trajectory.json.repcollapse.{}.0.tmp", std::process::id());
    std::fs::write(out.join(&live), b"in progress").unwrap();
    let unrelated = ".tmpfresh1"; // not six characters: not ours
    std::fs::write(out.join(unrelated), b"x").unwrap();
    let (code, _, err) = run_limited(&["analyze", root().join("examples/models/cusp.toml").to_str().unwrap(), "integrate", "--out", out.to_str().unwrap()], &[], Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
    for s in &stale {
        assert!(!out.join(s).exists(), "{s} not cleaned up");
    }
    assert!(out.join(&live).exists(), "a live process's temporary was removed");
    assert!(out.join(unrelated).exists(), "an unrelated file was removed");
    assert!(out.join("trajectory.csv").exists() && out.join("trajectory.png").exists());
}

/// Same outputs with 1 and 2 rayon threads (the report's case differed in
/// the 14th digit): whole stdout compared byte for byte.
#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    let cases: &[&[&str]] = &[
        &["simulate", "teacher-student", "--set", "samples=200", "--set", "input_dim=100", "--json"],
        &["simulate", "teacher-student", "--set", "input_dim=100", "--set", "seeds=3", "--set", "t_max=10", "--json"],
        &["simulate", "embedding", "--set", "seeds=3", "--set", "t_max=20", "--json"],
        &["simulate", "head", "--set", "variant=symmetric", "--set", "seeds=3", "--set", "t_max=20", "--json"],
        &["theory", "embedding", "--set", "classes=12", "--set", "dim=16", "--set", "pairing=uniform", "--json"],
    ];
    for args in cases {
        let one = run_limited(args, &[("RAYON_NUM_THREADS", "1")], Duration::from_secs(300));
        let two = run_limited(args, &[("RAYON_NUM_THREADS", "2")], Duration::from_secs(300));
        assert_eq!(one.0, Some(0), "{args:?}: {}", one.2);
        assert_eq!(two.0, Some(0), "{args:?}: {}", two.2);
        assert!(one.1 == two.1, "{args:?}: outputs differ between 1 and 2 threads");
    }
}

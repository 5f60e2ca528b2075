//! Sweeps split into cells: `run --shard I/N` + `merge` writes exactly the
//! bytes of an unsharded `run` (figures, CSV, summary.json, report), resume
//! recomputes only what is missing, and cell seeds do not depend on N.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

fn repcollapse(args: &[&str], threads: Option<usize>) -> Output {
    let mut c = crate::support::bin::command();
    c.args(args);
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t.to_string());
    }
    let out = c.output().expect("binary runs");
    assert!(out.status.success(), "repcollapse {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A small slow-rate study (9 cells, a second or two in all).
const SLOW_RATE: &str = r#"
study = "slow-rate"
title = "slow rate (test)"
frustrated = [0.1, 0.3, 0.5]
rho = [0.2, 0.4]
classes = [2, 3]
rate_ratio = [0.5, 2.0]

[params]
classes = 3
per_class = 12
dim = 3
frustrated = 0.2
seeds = 3
points = 20
"#;

/// A small head-phase study: 2 boundary, 2 basin and 4 simulation cells.
const HEAD_PHASE: &str = r#"
study = "head-phase"
title = "head phase (test)"
weight_decays = [0.12]
asymmetric_weight_decays = [0.05]
frustrated = [0.2, 0.8]
rate_ratios = [1.0]

[params]
classes = 3
per_class = 10
dim = 3
rho = 0.5
seeds = 2
t_max = 60.0
points = 12
dt = 0.05
"#;

fn write_study(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Every file under `root` (relative path -> bytes), leaving out the cell
/// files and SLURM scripts, which only the sharded workflow writes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, acc: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "cells" && name != "slurm" {
                    walk(root, &p, acc);
                }
            } else {
                acc.insert(p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut acc = BTreeMap::new();
    walk(root, root, &mut acc);
    acc
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>(), "different file sets");
    for (k, v) in &ta {
        assert!(v == &tb[k], "{k} differs between {} and {}", a.display(), b.display());
    }
    // The comparison must cover the study's real outputs.
    assert!(ta.keys().any(|k| k.ends_with("summary.json")) && ta.keys().any(|k| k.ends_with(".csv")) && ta.keys().any(|k| k.ends_with(".png")));
    assert!(ta.contains_key("report.md"));
}

fn sharded(study: &Path, out: &Path, n: usize, threads: usize) {
    let o = out.to_str().unwrap();
    for i in 0..n {
        repcollapse(&["run", study.to_str().unwrap(), "--out", o, "--quiet", "--shard", &format!("{i}/{n}")], Some(threads));
    }
    repcollapse(&["merge", study.to_str().unwrap(), "--out", o, "--quiet"], None);
}

fn status(study: &Path, out: &Path) -> serde_json::Value {
    let o = repcollapse(&["status", study.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status --json prints JSON");
    v[0].clone()
}

fn count(v: &serde_json::Value, key: &str) -> usize {
    v[key].as_array().map_or(0, |a| a.len())
}

/// The "computed X cells, skipped Y complete" line of a shard run.
fn computed_skipped(stderr: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().find(|l| l.contains("computed") && l.contains("skipped")).unwrap_or_else(|| panic!("no summary line in {text}"));
    let num = |word: &str| -> usize {
        let rest = &line[line.find(word).unwrap() + word.len()..];
        rest.trim_start().split(' ').next().unwrap().parse().unwrap()
    };
    (num("computed"), num("skipped"))
}

#[test]
fn sharded_and_merged_equals_unsharded_for_1_3_7_shards() {
    let tmp = tempfile::tempdir().unwrap();
    // A kind that is not split is one cell: shard 0 runs it whole.
    let spectrum = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/analysis/c_spectrum.toml")).unwrap();
    for (name, text, cells) in [("slow", SLOW_RATE, 9), ("phase", HEAD_PHASE, 8), ("spectrum", spectrum.as_str(), 1)] {
        let study = write_study(tmp.path(), name, text);
        let whole = tmp.path().join(format!("{name}-whole"));
        repcollapse(&["run", study.to_str().unwrap(), "--out", whole.to_str().unwrap(), "--quiet"], None);
        for n in [1, 3, 7] {
            // One thread per shard, as in a SLURM task with one CPU, against the
            // unsharded run on every core: the results must not depend on it.
            let out = tmp.path().join(format!("{name}-{n}"));
            sharded(&study, &out, n, 1);
            assert_same_tree(&whole, &out);
            let s = status(&study, &out);
            assert_eq!(s["total"], cells, "{name}: number of cells");
            assert_eq!(count(&s, "done"), cells);
        }
    }
}

#[test]
fn merge_refuses_missing_cells_and_names_them() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), "slow", SLOW_RATE);
    let out = tmp.path().join("out");
    repcollapse(&["run", study.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--shard", "1/3"], None);
    let o = crate::support::bin::command().args(["merge", study.to_str().unwrap(), "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    // Shard 1/3 of 9 cells computed 1, 4, 7: the other six are missing.
    assert!(err.contains("6 of 9 cells are not complete") && err.contains("missing: 0, 2-3, 5-6, 8"), "{err}");
}

#[test]
fn resume_recomputes_only_deleted_corrupt_and_stale_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), "slow", SLOW_RATE);
    let whole = tmp.path().join("whole");
    repcollapse(&["run", study.to_str().unwrap(), "--out", whole.to_str().unwrap(), "--quiet"], None);
    let out = tmp.path().join("out");
    let (s, o) = (study.to_str().unwrap(), out.to_str().unwrap());
    let first = repcollapse(&["run", s, "--out", o, "--shard", "0/1"], None);
    assert_eq!(computed_skipped(&first.stderr), (9, 0));
    let cells = out.join("slow").join("cells");
    // Damage: one file deleted, one truncated (as a crash without atomic
    // writes would leave it), one from another config (hash mismatch), and
    // a marker from a killed process that never finished.
    std::fs::remove_file(cells.join("00002.json")).unwrap();
    let text = std::fs::read_to_string(cells.join("00005.json")).unwrap();
    std::fs::write(cells.join("00005.json"), &text[..text.len() / 2]).unwrap();
    let text = std::fs::read_to_string(cells.join("00007.json")).unwrap();
    let hash = text.lines().find(|l| l.contains("\"config_hash\"")).unwrap().to_string();
    std::fs::write(cells.join("00007.json"), text.replace(&hash, "  \"config_hash\": \"0000000000000000\",")).unwrap();
    std::fs::write(cells.join("00008.running"), "{\"pid\": 4000000000, \"host\": \"elsewhere\", \"started\": 0, \"slurm_job\": \"7_3\"}\n").unwrap();
    let st = status(&study, &out);
    assert_eq!(count(&st, "done"), 6);
    assert_eq!(count(&st, "outdated"), 2);
    assert_eq!(st["missing"], serde_json::json!([2, 5, 7]));
    // Cell 8 is done; its leftover marker does not make it "in flight".
    assert_eq!(count(&st, "in_flight"), 0);
    let again = repcollapse(&["run", s, "--out", o, "--shard", "0/1"], None);
    assert_eq!(computed_skipped(&again.stderr), (3, 6), "only the three damaged cells are recomputed");
    repcollapse(&["merge", s, "--out", o, "--quiet"], None);
    assert_same_tree(&whole, &out);
    // --force recomputes everything, to the same bytes.
    let before = std::fs::read(cells.join("00000.json")).unwrap();
    let forced = repcollapse(&["run", s, "--out", o, "--shard", "0/1", "--force"], None);
    assert_eq!(computed_skipped(&forced.stderr), (9, 0));
    assert_eq!(before, std::fs::read(cells.join("00000.json")).unwrap());
}

#[test]
fn a_killed_run_loses_only_cells_in_flight() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), "phase", HEAD_PHASE);
    let out = tmp.path().join("out");
    let (s, o) = (study.to_str().unwrap(), out.to_str().unwrap());
    // One thread: cells run one after another, so the kill lands mid-sweep.
    let mut child = crate::support::bin::command()
        .args(["run", s, "--out", o, "--quiet", "--shard", "0/1"])
        .env("RAYON_NUM_THREADS", "1")
        .spawn()
        .unwrap();
    let cells = out.join("phase").join("cells");
    let n_json = || std::fs::read_dir(&cells).map_or(0, |d| d.filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json")).count());
    let started = std::time::Instant::now();
    while n_json() == 0 {
        assert!(started.elapsed().as_secs() < 300, "no cell finished in 300 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let st = status(&study, &out);
    let (done, total) = (count(&st, "done"), st["total"].as_u64().unwrap() as usize);
    assert!(done >= 1 && done < total, "the kill must land mid-sweep (done {done} of {total})");
    // Every cell file present is complete; the killed cell's marker is stale.
    assert_eq!(count(&st, "outdated"), 0);
    assert_eq!(count(&st, "in_flight"), 0, "the killed process is gone: {st}");
    assert!(count(&st, "stale") <= 1);
    let again = repcollapse(&["run", s, "--out", o, "--shard", "0/1"], None);
    assert_eq!(computed_skipped(&again.stderr), (total - done, done));
    repcollapse(&["merge", s, "--out", o, "--quiet"], None);
    let whole = tmp.path().join("whole");
    repcollapse(&["run", s, "--out", whole.to_str().unwrap(), "--quiet"], None);
    assert_same_tree(&whole, &out);
}

#[test]
fn independent_cell_seeds_do_not_depend_on_the_shard_count() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SLOW_RATE.replace("[params]", "cell_seeds = \"independent\"\n\n[params]\nseed = 11");
    let study = write_study(tmp.path(), "slow", &text);
    let (a, b) = (tmp.path().join("n3"), tmp.path().join("n7"));
    sharded(&study, &a, 3, 1);
    sharded(&study, &b, 7, 2);
    // Cell files (config, seed, result) are the same bytes for N = 3 and N = 7.
    for i in 0..9 {
        let f = format!("slow/cells/{i:05}.json");
        assert_eq!(std::fs::read(a.join(&f)).unwrap(), std::fs::read(b.join(&f)).unwrap(), "{f}");
    }
    assert_same_tree(&a, &b);
    // Each cell's seed is the documented function of (study seed, index), and they differ.
    let seeds: Vec<u64> = (0..9)
        .map(|i| {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join(format!("slow/cells/{i:05}.json"))).unwrap()).unwrap();
            v["config"]["seed"].as_u64().unwrap()
        })
        .collect();
    for (i, s) in seeds.iter().enumerate() {
        assert_eq!(*s, repcollapse::study::sweep::cell_seed(11, i));
        assert_eq!(seeds.iter().filter(|x| *x == s).count(), 1, "seed of cell {i} repeated");
    }
    // The common policy (default) gives another result: the seeds are used.
    let common = tmp.path().join("common");
    let study_c = write_study(tmp.path(), "slow", &SLOW_RATE.replace("[params]", "[params]\nseed = 11"));
    repcollapse(&["run", study_c.to_str().unwrap(), "--out", common.to_str().unwrap(), "--quiet"], None);
    assert_ne!(std::fs::read(a.join("slow/slow_rate.csv")).unwrap(), std::fs::read(common.join("slow/slow_rate.csv")).unwrap());
}

#[test]
fn shard_and_slurm_arguments_are_validated() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), "slow", SLOW_RATE);
    let s = study.to_str().unwrap();
    for (args, want) in [
        (vec!["run", s, "--shard", "3/3"], "0 <= I < N"),
        (vec!["run", s, "--shard", "x"], "I/N"),
        (vec!["slurm", s, "--array", "0"], "--array"),
        (vec!["slurm", s, "--array", "2", "--time", "1h"], "--time"),
    ] {
        let o = crate::support::bin::command().args(&args).output().unwrap();
        assert!(!o.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // The scripts: an array of N tasks, each one shard with rayon bound to its CPUs,
    // and a merge job.
    let out = tmp.path().join("out");
    let o = repcollapse(&["slurm", s, "--array", "4", "--cpus", "3", "--time", "0-02:00:00", "--partition", "short", "--out", out.to_str().unwrap()], None);
    assert!(String::from_utf8_lossy(&o.stdout).contains("9 cells over 4 array tasks"));
    let array = std::fs::read_to_string(out.join("slow/slurm/array.sbatch")).unwrap();
    for want in ["#SBATCH --array=0-3", "#SBATCH --cpus-per-task=3", "#SBATCH --time=0-02:00:00", "#SBATCH --partition=short", "RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"", "--shard \"${SLURM_ARRAY_TASK_ID}/4\""] {
        assert!(array.contains(want), "array script lacks {want}:\n{array}");
    }
    let merge = std::fs::read_to_string(out.join("slow/slurm/merge.sbatch")).unwrap();
    assert!(merge.contains(" merge ") && !merge.contains("--array"), "{merge}");
}

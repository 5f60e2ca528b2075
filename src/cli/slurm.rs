//! `repcollapse slurm`: a SLURM job array over a study's cells plus a
//! dependent merge job. Task `i` of `N` runs `run STUDY --shard i/N` with
//! rayon bound to the CPUs SLURM gave it; the merge job starts only when
//! every task succeeded (`--dependency=afterok`) and is cancelled if one
//! fails (`--kill-on-invalid-dep=yes`). Resubmitting recomputes only the
//! cells that are not complete.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::emit;
use crate::error::{Error, Result};
use crate::report::atomic::write_atomic;
use crate::registry::study_kinds;
use crate::study::runner::{find_kind, study_files, StudyFile};
use crate::study::sweep::plan;

#[derive(clap::Args, Debug)]
pub struct SlurmArgs {
    /// Study file or study name (analysis/NAME.toml).
    pub path: PathBuf,
    /// Number of array tasks N (task i computes the cells with index % N == i).
    #[arg(long, value_name = "N")]
    pub array: usize,
    /// Wall-time limit per task and for the merge job (SLURM format: MM, HH:MM:SS, D-HH:MM, ...).
    #[arg(long, default_value = "01:00:00")]
    pub time: String,
    /// CPUs per task (RAYON_NUM_THREADS is set to SLURM_CPUS_PER_TASK).
    #[arg(long, default_value_t = 1)]
    pub cpus: usize,
    /// Partition (default: the cluster's default partition).
    #[arg(long)]
    pub partition: Option<String>,
    /// Memory per task (SLURM format, e.g. 4G; default: the cluster's default).
    #[arg(long)]
    pub mem: Option<String>,
    /// Output folder (as for `run`).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Submit both jobs with sbatch (otherwise only write the scripts).
    #[arg(long)]
    pub submit: bool,
}

/// Whether `t` is a SLURM time limit: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`.
pub fn valid_time(t: &str) -> bool {
    let num = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    let (days, rest) = match t.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, t),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    days.is_none_or(num) && parts.iter().all(|p| num(p)) && (1..=3).contains(&parts.len())
}

fn check_args(a: &SlurmArgs) -> Result<()> {
    if a.array == 0 {
        return Err(Error::invalid("--array", a.array, "integer >= 1 (number of array tasks)"));
    }
    if a.cpus == 0 {
        return Err(Error::invalid("--cpus", a.cpus, "integer >= 1"));
    }
    if !valid_time(&a.time) {
        return Err(Error::invalid("--time", &a.time, "SLURM time: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS"));
    }
    let name_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.,-".contains(&b));
    if let Some(p) = a.partition.as_deref().filter(|p| !name_ok(p)) {
        return Err(Error::invalid("--partition", p, "a partition name (letters, digits, _ . , -)"));
    }
    if let Some(m) = a.mem.as_deref().filter(|m| !name_ok(m)) {
        return Err(Error::invalid("--mem", m, "SLURM memory, e.g. 4G or 500M"));
    }
    Ok(())
}

/// `'…'` with embedded single quotes escaped, for the shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn absolute(p: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| Error::Read { path: ".".into(), reason: e.to_string() })?;
    Ok(if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) })
}

/// The two sbatch scripts: (array, merge).
pub fn scripts(a: &SlurmArgs, study: &StudyFile, cells: usize, exe: &Path, cwd: &Path, out: &Path) -> (String, String) {
    let log_dir = out.join(&study.name).join("slurm");
    let study_path = absolute(&study.path).unwrap_or_else(|_| study.path.clone());
    let mut common = format!("#SBATCH --time={}\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task={}\n#SBATCH --chdir={}\n", a.time, a.cpus, cwd.display());
    if let Some(p) = &a.partition {
        common += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(m) = &a.mem {
        common += &format!("#SBATCH --mem={m}\n");
    }
    let head = |what: &str| format!("#!/bin/bash\n# Written by `repcollapse slurm` (repcollapse {}): {what}\n", env!("CARGO_PKG_VERSION"));
    let array = format!(
        "{}#SBATCH --job-name=rc-{name}\n#SBATCH --array=0-{last}\n{common}#SBATCH --output={log}/%x-%A_%a.out\n\
         set -euo pipefail\n\
         # rayon uses the CPUs SLURM gave this task, not every core of the node.\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\"\n\
         exec {exe} run {study} --out {outq} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\"\n",
        head(&format!("{} cells of `{}` over {} array tasks (task i computes the cells with index % {} == i).", cells, study.name, a.array, a.array)),
        name = study.name,
        last = a.array - 1,
        log = log_dir.display(),
        exe = sh_quote(&exe.display().to_string()),
        study = sh_quote(&study_path.display().to_string()),
        outq = sh_quote(&out.display().to_string()),
        n = a.array,
    );
    let merge = format!(
        "{}#SBATCH --job-name=rc-{name}-merge\n{common}#SBATCH --output={log}/%x-%j.out\n\
         set -euo pipefail\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\"\n\
         exec {exe} merge {study} --out {outq}\n",
        head(&format!("merge of `{}` (submit with --dependency=afterok:<array job id>).", study.name)),
        name = study.name,
        log = log_dir.display(),
        exe = sh_quote(&exe.display().to_string()),
        study = sh_quote(&study_path.display().to_string()),
        outq = sh_quote(&out.display().to_string()),
    );
    (array, merge)
}

/// Runs `sbatch --parsable ARGS...` and returns the job id.
fn sbatch(args: &[String]) -> Result<String> {
    let out = Command::new("sbatch").arg("--parsable").args(args).output().map_err(|e| Error::Read {
        path: "sbatch".into(),
        reason: format!("cannot run sbatch ({e}); is SLURM installed here? Submit the scripts by hand instead"),
    })?;
    if !out.status.success() {
        return Err(Error::Read { path: "sbatch".into(), reason: format!("sbatch {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()) });
    }
    // --parsable prints `jobid` or `jobid;cluster`.
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Read { path: "sbatch".into(), reason: format!("unexpected output `{}`", text.trim()) });
    }
    Ok(id)
}

pub fn run(a: &SlurmArgs) -> Result<()> {
    check_args(a)?;
    let files = study_files(&a.path)?;
    if files.len() != 1 {
        return Err(Error::invalid("PATH", a.path.display(), "one study file (a folder holds several studies; submit each)"));
    }
    let study = StudyFile::read(&files[0], study_kinds())?;
    let kind = find_kind(study_kinds(), &study.kind)?;
    let cells = plan(&study, kind.sweep.as_ref())?.len();
    if a.array > cells {
        eprintln!("warning: {} array tasks for {} cells: tasks {}..{} have nothing to do", a.array, cells, cells, a.array - 1);
    }
    let exe = std::env::current_exe().map_err(|e| Error::Read { path: "current executable".into(), reason: e.to_string() })?;
    let cwd = absolute(Path::new("."))?;
    let out = absolute(&a.out)?;
    let dir = out.join(&study.name).join("slurm");
    let (array, merge) = scripts(a, &study, cells, &exe, &cwd, &out);
    let (array_path, merge_path) = (dir.join("array.sbatch"), dir.join("merge.sbatch"));
    // SLURM does not create the folder of --output: write the scripts there first.
    write_atomic(&array_path, array.as_bytes())?;
    write_atomic(&merge_path, merge.as_bytes())?;
    emit(&format!("{}: {cells} cells over {} array tasks\n  array: {}\n  merge: {}", study.name, a.array, array_path.display(), merge_path.display()));
    if !a.submit {
        emit(&format!(
            "submit with:\n  id=$(sbatch --parsable {})\n  sbatch --dependency=afterok:$id --kill-on-invalid-dep=yes {}",
            sh_quote(&array_path.display().to_string()),
            sh_quote(&merge_path.display().to_string())
        ));
        return Ok(());
    }
    let array_id = sbatch(&[array_path.display().to_string()])?;
    let merge_id = sbatch(&[format!("--dependency=afterok:{array_id}"), "--kill-on-invalid-dep=yes".into(), merge_path.display().to_string()])?;
    emit(&format!(
        "submitted array job {array_id} and merge job {merge_id}\n  watch:  squeue -j {array_id},{merge_id}\n  cells:  repcollapse status {} --out {}\n  \
         if a task fails the merge job is cancelled; run this command again: complete cells are skipped",
        sh_quote(&files[0].display().to_string()),
        sh_quote(&a.out.display().to_string())
    ));
    Ok(())
}

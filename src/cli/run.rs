//! `repcollapse run` (whole or one shard), `merge` and `status`: studies
//! into an output folder.
use std::path::Path;

use crate::cli::emit;
use crate::error::Result;
use crate::registry::study_kinds;
use crate::study::runner::{find_kind, merge_file, open, run_path, study_files, write_report, StudyFile};
use crate::study::sweep::{self, Shard};

pub fn run(path: &Path, out: &Path, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let outputs = run_path(path, out, !quiet, study_kinds())?;
    if !quiet {
        eprintln!(
            "{} studies written to {} in {:.1} s; report: {}",
            outputs.len(),
            out.display(),
            started.elapsed().as_secs_f64(),
            out.join("report.md").display()
        );
    }
    Ok(())
}

/// `run PATH --shard I/N [--force]`: this shard's cells of every study at `PATH`.
pub fn run_shard(path: &Path, out: &Path, shard: Shard, force: bool, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let mut errors = Vec::new();
    for f in study_files(path)? {
        let (study, kind, dir) = open(&f, out, study_kinds())?;
        // One failing study does not stop the others: each shard does all the work it can.
        match sweep::run_shard(kind, &study, &dir, shard, force, !quiet) {
            Ok(r) => {
                if !quiet {
                    eprintln!(
                        "{}: shard {}/{}: computed {} cells, skipped {} complete{}",
                        study.name,
                        shard.index,
                        shard.count,
                        r.computed.len(),
                        r.skipped.len(),
                        if r.outdated.is_empty() { String::new() } else { format!(", recomputed {} outdated", r.outdated.len()) }
                    );
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if !quiet {
        eprintln!("shard {}/{} finished in {:.1} s", shard.index, shard.count, started.elapsed().as_secs_f64());
    }
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `merge PATH`: assemble every study at `PATH` from its cells, then write
/// `<out>/report.md` for them (as `run PATH` does).
pub fn merge(path: &Path, out: &Path, quiet: bool) -> Result<()> {
    let mut outputs = Vec::new();
    for f in study_files(path)? {
        let o = merge_file(&f, out, !quiet, study_kinds())?;
        if !quiet {
            eprintln!("{}: merged into {}", o.name, out.join(&o.name).display());
        }
        outputs.push(o);
    }
    write_report(out, &outputs)
}

/// `status PATH [--json]`.
pub fn status(path: &Path, out: &Path, json: bool) -> Result<()> {
    let mut all = Vec::new();
    for f in study_files(path)? {
        // Read-only: no output folder is created.
        let study = StudyFile::read(&f, study_kinds())?;
        let kind = find_kind(study_kinds(), &study.kind)?;
        all.push(sweep::status(kind, &study, &out.join(&study.name))?);
    }
    if json {
        let v: Vec<serde_json::Value> = all.iter().map(|s| s.json()).collect();
        emit(&serde_json::to_string_pretty(&v).expect("JSON values serialise"));
    } else {
        for s in &all {
            emit(&s.text());
        }
    }
    Ok(())
}

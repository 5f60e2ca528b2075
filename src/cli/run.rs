//! `repcollapse run`: studies into an output folder.
use std::path::Path;

use crate::error::Result;
use crate::study::runner::run_path;

pub fn run(path: &Path, out: &Path, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let outputs = run_path(path, out, !quiet, crate::registry::study_kinds())?;
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

//! `repcollapse simulate <model>`: an ensemble against its theory.
use std::path::Path;

use crate::config::Overrides;
use crate::error::Result;
use crate::registry::{self, RunOptions};
use crate::report::atomic::write_json;

pub fn run(model: &str, sets: &[String], json: bool, out: Option<&Path>) -> Result<()> {
    let entry = registry::model(model)?;
    let output = (entry.simulate)(&Overrides::from_sets(sets)?, &RunOptions { progress: !json })?;
    if let Some(path) = out {
        write_json(path, &output.json)?;
    }
    crate::cli::emit_output(&output, json);
    // The simulation is complete and written; only the comparison with the
    // theory is missing. Say so on stderr, and exit 0 (docs/cli.md, "simulate: exit codes").
    if let Some(reason) = output.json["theory_comparison"]["reason"].as_str() {
        eprintln!("warning: theory comparison unavailable ({reason}); the simulation results above are complete");
    }
    Ok(())
}

//! `repcollapse simulate <model>`: an ensemble against its theory.
use std::path::Path;

use crate::config::Overrides;
use crate::error::{Error, Result};
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
    // A budget stop that kept the seeds which finished: the result is out
    // (marked "partial": true), and the exit status is still the budget's (1).
    if output.json["partial"] == true {
        return Err(Error::Budget {
            what: format!("simulate {model}"),
            detail: format!(
                "{} of {} seeds finished (the others were cut short); the result{} keeps the finished seeds and is marked \"partial\": true ({})",
                output.json["seeds_completed"],
                output.json["seeds_requested"],
                out.map_or(String::new(), |p| format!(" written to {}", p.display())),
                output.json["partial_reason"].as_str().unwrap_or("")
            ),
        });
    }
    Ok(())
}

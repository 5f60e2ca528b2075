//! `repcollapse theory <model>`: the reduced theory of one configuration.
use crate::config::Overrides;
use crate::error::Result;
use crate::registry::{self, RunOptions};

pub fn run(model: &str, sets: &[String], json: bool) -> Result<()> {
    let entry = registry::model(model)?;
    let output = (entry.theory)(&Overrides::from_sets(sets)?, &RunOptions { progress: !json })?;
    crate::cli::emit_output(&output, json);
    Ok(())
}

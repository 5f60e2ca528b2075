//! `repcollapse export <model>`: the reduced ODE as a symbolic model file,
//! so every engine analysis can run on it (and check the native model).
use std::path::Path;

use crate::config::Overrides;
use crate::error::Result;
use crate::registry;
use crate::report::atomic::write_atomic;

pub fn run(model: &str, sets: &[String], out: Option<&Path>) -> Result<()> {
    let text = (registry::model(model)?.export)(&Overrides::from_sets(sets)?)?;
    match out {
        Some(path) => write_atomic(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

//! `repcollapse export <model>`: the reduced ODE as a symbolic model file,
//! so every engine analysis can run on it (and check the native model).
//! `--reduced-slice` (teacher-student only) writes the symmetric head's
//! symmetry-reduced ODE instead (`slice::export_reduced`).
use std::path::Path;

use crate::config::Overrides;
use crate::error::{Error, Result};
use crate::registry;
use crate::report::atomic::write_atomic;

pub fn run(model: &str, sets: &[String], out: Option<&Path>, reduced_slice: bool) -> Result<()> {
    let overrides = Overrides::from_sets(sets)?;
    let text = if reduced_slice {
        if model != "teacher-student" {
            return Err(Error::invalid("--reduced-slice", model, "teacher-student (the symmetric head's slice-reduced ODE)"));
        }
        crate::models::teacher::head::reduced::slice::export_reduced(&overrides)?
    } else {
        (registry::model(model)?.export)(&overrides)?
    };
    match out {
        Some(path) => write_atomic(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

//! `repcollapse analyze MODEL.toml periodic`: the branch of limit cycles in
//! one parameter ([`PeriodicRequest`], shared with the `model-analysis`
//! study and Python), started at the first Hopf point of the equilibrium
//! diagram (`--from-hopf`, the default) or from the cycle the trajectory
//! from the model's initial state settles on (`--from-orbit`). Writes
//! `periodic.csv`, `periodic_multipliers.csv` and the diagram
//! `periodic.{png,svg}` ([`save_periodic`]) and returns the JSON of
//! [`PeriodicRun::to_json`](crate::request::PeriodicRun::to_json).
use std::path::Path;

use serde_json::Value;

use crate::engine::{StopReason, VectorField};
use crate::error::Result;
use crate::report::periodic::save_periodic;
use crate::request::{PeriodicRequest, Syntax};

pub fn run(model: &dyn VectorField, p: &[f64], request: &PeriodicRequest, out: &Path, json: bool) -> Result<Value> {
    let run = request.run(model, p, Syntax::Cli)?;
    let names = model.state_names();
    let v = request.var_index(model, Syntax::Cli)?;
    let title = format!("{}: equilibria and cycles", model.name());
    save_periodic(out, &run, &names, v, &title)?;
    // A branch cut short by its step bound is a result, not an error; say
    // which bound and how to raise it.
    if run.branch.stop == StopReason::MaxSteps && !json {
        eprintln!("warning: the cycle branch {}", run.stop_note(Syntax::Cli));
    }
    Ok(run.to_json(model, request, Syntax::Cli))
}

//! The request layer: one parsed, validated description of an analysis of a
//! model file, built by every front end from its own syntax (the CLI's
//! `analyze` flags in `src/cli/analyze.rs`, the `model-analysis` study kind
//! in `src/study/model_analysis.rs`, the Python `Model` methods in
//! `python/src/model_file.rs`) and handed to the engine here. The defaults
//! and the validation live once, in these files, so the three front ends
//! cannot drift; `tests/cli/requests.rs` and `python/tests` run one request
//! through all three and compare the JSON.
//!
//! Field names in errors are the request's own (`ds`, `search_box`,
//! `from2`); each front end renames them to its syntax with
//! [`Syntax::rename`] (`--ds`, `continue.ds`, `ds`).
//!
//! Imports run one way: front ends -> `request` -> `engine`.
mod boundary;
mod continuation;
mod cost;
mod fixed_points;
mod integrate;
mod periodic;
mod syntax;

pub use boundary::{BoundaryRequest, MAX_GRID};
pub use continuation::ContinueRequest;
pub use cost::{CostEstimate, DEFAULT_WORK_SECONDS};
pub use fixed_points::{fixed_points_report_json, FixedPointsRequest};
pub use integrate::IntegrateRequest;
pub use periodic::{periodic_columns, PeriodicRequest, PeriodicRun, PeriodicStart, MAX_NCOL};
pub use syntax::Syntax;

use serde_json::{json, Value};

use crate::engine::VectorField;
use crate::error::{suggest, Error, Result};

/// Index of the parameter `name` of `model`, or an error naming `field`,
/// the name (with a "did you mean" hint) and the valid names.
pub fn param_index(model: &dyn VectorField, field: &str, name: &str) -> Result<usize> {
    model.param_index(name).ok_or_else(|| {
        let names = model.param_names();
        let hint = suggest(name, names.iter().map(String::as_str)).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
        Error::invalid(field, format!("{name}{hint}"), format!("one of {}", names.join(", ")))
    })
}

/// Index of the state variable `var` on a diagram's vertical axis (`None`:
/// the first), or an error naming the field as `syntax` spells it.
pub(crate) fn var_index(var: Option<&str>, model: &dyn VectorField, syntax: Syntax) -> Result<usize> {
    let names = model.state_names();
    match var {
        None => Ok(0),
        Some(v) => names.iter().position(|n| n == v).ok_or_else(|| Error::invalid(syntax.field("var"), v, format!("one of {}", names.join(", ")))),
    }
}

/// The checks shared by the one-parameter verbs (`continue`, `periodic`):
/// the parameter's index, a finite range with `from != to`,
/// `ds_max` in `(0, inf)`, `ds` in `(0, ds_max]` and `max_steps >= 1`,
/// each error naming the field as `syntax` spells it. Returns the index
/// and the range.
pub(crate) fn check_arclength_request(
    model: &dyn VectorField,
    syntax: Syntax,
    param: &str,
    (from, to): (f64, f64),
    (ds, ds_max): (f64, f64),
    max_steps: Option<usize>,
) -> Result<(usize, f64, f64)> {
    let name = |f: &str| syntax.field(f);
    let k = param_index(model, &name("param"), param)?;
    // Degenerate options are rejected by their field name (NaN would
    // otherwise vanish in min/max and give an empty diagram).
    let (from, to) = (finite(&name("from"), from)?, finite(&name("to"), to)?);
    if from == to {
        return Err(Error::invalid(name("to"), to, format!("a value different from {} = {from}", name("from"))));
    }
    if !(ds_max > 0.0 && ds_max.is_finite()) {
        return Err(Error::invalid(name("ds_max"), ds_max, "(0, inf)"));
    }
    if !(ds > 0.0 && ds <= ds_max) {
        return Err(Error::invalid(name("ds"), ds, format!("(0, {} = {ds_max}]", name("ds_max"))));
    }
    if max_steps == Some(0) {
        return Err(Error::invalid(name("max_steps"), 0, ">= 1"));
    }
    Ok((k, from, to))
}

/// Continuation and boundary tracing start from the model's parameters with
/// the continued ones moved inside their ranges: `p_k <- clamp(p_k, a, b)`
/// (a default value outside `[a, b]` moves to the nearer end).
pub(crate) fn start_inside(p: &[f64], k: usize, a: f64, b: f64) -> Vec<f64> {
    let mut q = p.to_vec();
    q[k] = q[k].clamp(a.min(b), a.max(b));
    q
}

/// Rejects a non-finite end of a parameter range by its field name.
pub(crate) fn finite(field: &str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::invalid(field, v, "a finite number"))
    }
}

/// Tells the user up front what a large run will cost (stderr, when the
/// predicted floor is above a few seconds), then applies the default work
/// bound ([`CostEstimate::check_bound`]) against the process-wide budget.
pub(crate) fn announce_cost(estimate: Option<&CostEstimate>) -> Result<()> {
    let Some(e) = estimate else { return Ok(()) };
    e.check_bound(crate::limits::max_seconds())?;
    if e.worth_reporting() {
        eprintln!("note: cost estimate: {}", e.text);
    }
    Ok(())
}

/// `{name: value}` for a state vector, in the model's order.
pub fn state_object(names: &[String], x: &[f64]) -> Value {
    Value::Object(names.iter().cloned().zip(x.iter().map(|v| json!(v))).collect())
}

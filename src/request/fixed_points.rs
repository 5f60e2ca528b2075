//! `fixed-points`: every equilibrium found by deflated multistart Newton.
use serde_json::{json, Value};

use crate::engine::{default_box, find_fixed_points_report, fixed_points_json, FixedPointOptions, FixedPointSearch, VectorField};
use crate::error::{Error, Result};

use super::CostEstimate;

/// A fixed-point search; defaults are the CLI's and Python's.
#[derive(Clone, Debug)]
pub struct FixedPointsRequest {
    /// Random starts besides the initial state and the origin (`None`: 32,
    /// cut to `8000 / n` on a large sparse system; a number given is run).
    pub starts: Option<usize>,
    /// Seed of the random starts.
    pub seed: u64,
    /// Half-width `H` of the start box `|x_i| <= H` (`None`: the
    /// scale-aware default `2 max(1, |x0|, |p|, min(1/|p|, 1e4))`).
    pub search_box: Option<f64>,
}

impl Default for FixedPointsRequest {
    fn default() -> Self {
        FixedPointsRequest { starts: None, seed: 0, search_box: None }
    }
}

impl FixedPointsRequest {
    /// The start box's half-width, validated: a given box must be in
    /// `(0, inf)`; the default box overflows only for a huge initial value
    /// or parameter, and the error then names that value.
    pub fn half_width(&self, model: &dyn VectorField, p: &[f64]) -> Result<f64> {
        match self.search_box {
            Some(h) if h.is_finite() && h > 0.0 => Ok(h),
            Some(h) => Err(Error::invalid("search_box", h, "(0, inf)")),
            None => {
                let x0 = model.initial_state();
                let half = default_box(&x0, p);
                if half.is_finite() {
                    return Ok(half);
                }
                let names = model.state_names().into_iter().chain(model.param_names());
                let values = x0.into_iter().chain(p.iter().copied());
                let (name, v) = names.zip(values).max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap_or(("?".into(), half));
                Err(Error::invalid(
                    name,
                    format!("{v:e}"),
                    "a magnitude below 8.9e307 for the default search box 2 max(1, |x0|, |p|, 1/|p|); or give --search-box",
                ))
            }
        }
    }

    /// Runs the search at parameters `p`; the result JSON of `fixed-points`
    /// (points, skipped starts with reasons, budget stop).
    pub fn run(&self, model: &dyn VectorField, p: &[f64]) -> Result<Value> {
        let half = self.half_width(model, p)?;
        let cost = self.cost(model);
        super::announce_cost(cost.as_ref())?;
        let bounds = vec![(-half, half); model.dim()];
        let search = find_fixed_points_report(model, p, &FixedPointOptions {
                starts: self.starts.unwrap_or(FixedPointOptions::default().starts),
                starts_explicit: self.starts.is_some(),
                seed: self.seed,
                bounds,
                ..Default::default()
            })?;
        let mut v = fixed_points_report_json(model, &search);
        if let Some(cost) = cost {
            v["cost_estimate"] = json!(cost);
        }
        Ok(v)
    }

    /// The predicted cost of the search on a large model (`None` below
    /// 200 states), see [`CostEstimate`].
    pub fn cost(&self, model: &dyn VectorField) -> Option<CostEstimate> {
        CostEstimate::fixed_points(model, self.starts)
    }
}

/// The `fixed-points` result: every accepted point, the skipped starts with
/// their reasons, and where a budget stopped the search.
pub fn fixed_points_report_json(model: &dyn VectorField, search: &FixedPointSearch) -> Value {
    let mut v = fixed_points_json(model, &search.points);
    v["model"] = json!(model.name());
    let names = model.state_names();
    v["skipped"] = json!(search
        .skipped
        .iter()
        .map(|s| json!({"state": super::state_object(&names, &s.state), "reason": s.reason}))
        .collect::<Vec<_>>());
    if let Some(note) = &search.starts_note {
        v["starts_note"] = json!(note);
    }
    if let Some(stopped) = &search.stopped {
        v["stopped"] = json!(stopped);
        v["starts_not_run"] = json!(search.starts_not_run);
    }
    v
}

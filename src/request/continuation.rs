//! `continue`: pseudo-arclength continuation of every branch of equilibria
//! in one parameter.
use crate::engine::{full_diagram, ArclengthParams, ContinuationParams, ContinuationResult, VectorField};
use crate::error::Result;

use super::{check_arclength_request, start_inside, CostEstimate, Syntax};

/// A continuation request: parameter `param` over `[from, to]` (either
/// order), with the arclength step `ds` in `(0, ds_max]` and at most
/// `max_steps` accepted steps per branch. Defaults are the engine's
/// ([`ArclengthParams::default`]).
#[derive(Clone, Debug)]
pub struct ContinueRequest {
    /// Name of the continued parameter.
    pub param: String,
    /// One end of the parameter range.
    pub from: f64,
    /// The other end.
    pub to: f64,
    /// Initial arclength step.
    pub ds: f64,
    /// Largest arclength step.
    pub ds_max: f64,
    /// Accepted steps per branch.
    pub max_steps: usize,
    /// State variable on the diagram's vertical axis (`None`: the first).
    pub var: Option<String>,
}

impl ContinueRequest {
    /// `param` over `[from, to]`, every other setting at its default.
    pub fn new(param: impl Into<String>, from: f64, to: f64) -> Self {
        let a = ArclengthParams::default();
        ContinueRequest { param: param.into(), from, to, ds: a.ds, ds_max: a.ds_max, max_steps: a.max_steps, var: None }
    }

    /// The engine's settings, every field checked and named in `syntax`.
    /// The smallest step `ds_min` is the engine's default or `ds`,
    /// whichever is smaller, so that a small `ds` is honoured.
    pub fn params(&self, model: &dyn VectorField, syntax: Syntax) -> Result<ContinuationParams> {
        let (k, from, to) =
            check_arclength_request(model, syntax, &self.param, (self.from, self.to), (self.ds, self.ds_max), Some(self.max_steps))?;
        let mut cp = ContinuationParams::new(k, from.min(to), from.max(to));
        cp.arclength.take_steps(self.ds, self.ds_max, self.max_steps);
        cp.validate(model.param_names().len()).map_err(|e| syntax.rename(e))?;
        Ok(cp)
    }

    /// The predicted cost of the continuation on a large model (`None`
    /// below 200 states), see [`CostEstimate`].
    pub fn cost(&self, model: &dyn VectorField) -> Option<CostEstimate> {
        CostEstimate::continuation("continue", model, self.max_steps, ArclengthParams::default().newton_max_iter)
    }

    /// Index of the state variable on the diagram's vertical axis.
    pub fn var_index(&self, model: &dyn VectorField, syntax: Syntax) -> Result<usize> {
        super::var_index(self.var.as_deref(), model, syntax)
    }

    /// Validates the request and continues every branch found at either end
    /// of the range, starting from the parameters `p` with the continued one
    /// moved inside the range.
    pub fn run(&self, model: &dyn VectorField, p: &[f64], syntax: Syntax) -> Result<ContinuationResult> {
        let cp = self.params(model, syntax)?;
        self.var_index(model, syntax)?;
        super::announce_cost(self.cost(model).as_ref())?;
        full_diagram(model, &start_inside(p, cp.param, cp.p_min, cp.p_max), &cp)
    }
}

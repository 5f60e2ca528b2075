//! Settings of one-parameter continuation of equilibria, with their
//! defaults and valid ranges.
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub(crate) fn default_ds() -> f64 {
    1e-2
}
pub(crate) fn default_ds_min() -> f64 {
    1e-8
}
pub(crate) fn default_ds_max() -> f64 {
    0.1
}
pub(crate) fn default_max_steps() -> usize {
    2000
}
/// What is left of the process-wide `--max-seconds` (infinite if unset).
pub(crate) fn default_max_seconds() -> f64 {
    crate::limits::remaining_seconds()
}
pub(crate) fn default_newton_tol() -> f64 {
    1e-10
}
pub(crate) fn default_newton_max_iter() -> usize {
    10
}
pub(crate) fn default_true() -> bool {
    true
}
fn default_direction() -> f64 {
    1.0
}

/// Step and corrector settings shared by every pseudo-arclength
/// continuation (one struct, as BifurcationKit's `ContinuationPar`),
/// embedded in [`ContinuationParams`],
/// [`BoundaryParams`](crate::engine::continuation::boundary::BoundaryParams),
/// [`CycleContinuationParams`](crate::engine::cycles::CycleContinuationParams)
/// and [`LpcCurveParams`](crate::engine::cycles::LpcCurveParams) (each
/// with its own defaults).
/// Flattened into its owner in serialised form, so the field names are the
/// owner's own (`ds`, `ds_min`, ...). On equilibrium branches the step
/// bounds are relative to `max(1, ||(x, p)||)`
/// ([`StepControl::relative_to`](crate::engine::continuation::arclength::StepControl::relative_to));
/// on two-parameter boundaries they are absolute.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArclengthParams {
    /// Initial arclength step.
    #[serde(default = "default_ds")]
    pub ds: f64,
    /// Smallest step before giving up.
    #[serde(default = "default_ds_min")]
    pub ds_min: f64,
    /// Largest step.
    #[serde(default = "default_ds_max")]
    pub ds_max: f64,
    /// Maximum number of accepted steps (per direction on boundaries).
    #[serde(default = "default_max_steps")]
    pub max_steps: usize,
    /// Newton convergence tolerance (max-norm of the residual).
    #[serde(default = "default_newton_tol")]
    pub newton_tol: f64,
    /// Newton iterations per corrector call.
    #[serde(default = "default_newton_max_iter")]
    pub newton_max_iter: usize,
}

impl Default for ArclengthParams {
    /// `ds = 1e-2`, `ds_min = 1e-8`, `ds_max = 0.1`, 2000 steps, Newton
    /// `1e-10` / 10 iterations.
    fn default() -> Self {
        ArclengthParams {
            ds: default_ds(),
            ds_min: default_ds_min(),
            ds_max: default_ds_max(),
            max_steps: default_max_steps(),
            newton_tol: default_newton_tol(),
            newton_max_iter: default_newton_max_iter(),
        }
    }
}

impl ArclengthParams {
    /// A request's step settings: `ds`, `ds_max` and `max_steps` as given,
    /// and `ds_min = min(ds_min, ds)` so that a small `ds` is honoured.
    pub fn take_steps(&mut self, ds: f64, ds_max: f64, max_steps: usize) {
        self.ds = ds;
        self.ds_max = ds_max;
        self.ds_min = self.ds_min.min(ds);
        self.max_steps = max_steps;
    }
}

/// Settings of one-parameter continuation (one struct, as in
/// BifurcationKit's `ContinuationPar`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContinuationParams {
    /// Index of the continued parameter in the field's parameter vector.
    pub param: usize,
    /// Lower bound of the continued parameter; the branch stops on it.
    pub p_min: f64,
    /// Upper bound of the continued parameter; the branch stops on it.
    pub p_max: f64,
    /// Step and Newton settings (`ds`, `ds_min`, `ds_max`, `max_steps`,
    /// `newton_tol`, `newton_max_iter`; steps relative to
    /// `max(1, ||(x, p)||)`).
    #[serde(flatten)]
    pub arclength: ArclengthParams,
    /// Wall-time budget in seconds for one call (`f64::INFINITY`: none); a
    /// branch that runs out stops with
    /// [`StopReason::Budget`](crate::engine::continuation::results::StopReason::Budget),
    /// keeping its points.
    #[serde(default = "default_max_seconds")]
    pub max_seconds: f64,
    /// Monitor test functions and locate fold, branch and Hopf points.
    #[serde(default = "default_true")]
    pub detect_bifurcations: bool,
    /// +1 to start towards increasing parameter, -1 towards decreasing.
    #[serde(default = "default_direction")]
    pub direction: f64,
    /// At every branch point of the first branch, also continue the second
    /// branch through it (both sides), without further switching.
    #[serde(default)]
    pub branch_switching: bool,
}

impl ContinuationParams {
    /// Parameter `param` on `[p_min, p_max]`, every other setting at its
    /// default (`ds = 1e-2`, `ds_min = 1e-8`, `ds_max = 0.1`, 2000 steps,
    /// Newton `1e-10` / 10 iterations, detection on, increasing direction,
    /// no branch switching).
    pub fn new(param: usize, p_min: f64, p_max: f64) -> Self {
        ContinuationParams {
            param,
            p_min,
            p_max,
            arclength: ArclengthParams::default(),
            max_seconds: default_max_seconds(),
            detect_bifurcations: true,
            direction: 1.0,
            branch_switching: false,
        }
    }

    /// Check every setting against its valid range for a field with
    /// `n_params` parameters.
    pub fn validate(&self, n_params: usize) -> Result<()> {
        let a = &self.arclength;
        if self.param >= n_params {
            return Err(Error::invalid("param", self.param, format!("0..{n_params} (parameter index)")));
        }
        if !(self.p_min.is_finite() && self.p_max.is_finite() && self.p_min < self.p_max) {
            return Err(Error::invalid(
                "p_min/p_max",
                format!("[{}, {}]", self.p_min, self.p_max),
                "finite with p_min < p_max",
            ));
        }
        if !(a.ds_min > 0.0 && a.ds_min.is_finite()) {
            return Err(Error::invalid("ds_min", a.ds_min, "> 0"));
        }
        if !(a.ds_max >= a.ds_min && a.ds_max.is_finite()) {
            return Err(Error::invalid("ds_max", a.ds_max, format!(">= ds_min = {}", a.ds_min)));
        }
        if !(a.ds >= a.ds_min && a.ds <= a.ds_max) {
            return Err(Error::invalid("ds", a.ds, format!("[ds_min, ds_max] = [{}, {}]", a.ds_min, a.ds_max)));
        }
        if !(a.newton_tol > 0.0 && a.newton_tol < 1.0) {
            return Err(Error::invalid("newton_tol", a.newton_tol, "(0, 1)"));
        }
        if a.newton_max_iter == 0 {
            return Err(Error::invalid("newton_max_iter", 0, ">= 1"));
        }
        if a.max_steps == 0 {
            return Err(Error::invalid("max_steps", 0, ">= 1"));
        }
        if !(self.max_seconds > 0.0) {
            return Err(Error::invalid("max_seconds", self.max_seconds, "> 0 (or infinite for no limit)"));
        }
        if !(self.direction == 1.0 || self.direction == -1.0) {
            return Err(Error::invalid("direction", self.direction, "+1 or -1"));
        }
        Ok(())
    }
}

//! `integrate`: adaptive integration of a model from its initial state.
use crate::engine::{Grid, IntegrateOptions, Method};

/// An integration request; its defaults are the CLI's and Python's.
#[derive(Clone, Debug)]
pub struct IntegrateRequest {
    /// Final time.
    pub t_max: f64,
    /// Relative tolerance of the local error.
    pub rtol: f64,
    /// Absolute tolerance of the local error.
    pub atol: f64,
    /// Number of output times.
    pub points: usize,
    /// First output time of a log-spaced grid (`None`: linear on `[0, t_max]`).
    pub log_from: Option<f64>,
    /// Integration method (`Auto`: DOP853, switching to Radau IIA when stiff).
    pub method: Method,
    /// Budget of attempted steps; `None`: [`default_max_steps`] of the
    /// model's right-hand side.
    pub max_steps: Option<u32>,
}

/// Work of one default integration, in right-hand-side tape operations:
/// about 0.2-4 s of evaluation on one core (1-20 ns an operation), so that
/// `analyze integrate` with no budget flag ends in seconds on any model,
/// also on a loaded machine (the no-budget fuzz campaign runs each case
/// under a 30 s timeout beside other jobs).
pub const DEFAULT_INTEGRATION_WORK: f64 = 2e8;

/// The default step budget, scaled by the cost of the model:
/// `max_steps = clamp(W / (13 ops), 2e4, 1e7)` with `W` =
/// [`DEFAULT_INTEGRATION_WORK`] and `ops` the length of the right-hand
/// side's tape (13: DOP853's 12 stages plus the error estimate, the most
/// evaluations per attempted step). Lorenz (about 15 operations) gets 1e6
/// steps; a 100-deep `tan(tan(...))` (fuzz hang, `tests/regressions/`)
/// 1.5e5 steps, about 3 s, where the old fixed 1e7 ran for minutes.
pub fn default_max_steps(rhs_ops: usize) -> u32 {
    (DEFAULT_INTEGRATION_WORK / (13.0 * rhs_ops.max(1) as f64)).clamp(2e4, 1e7) as u32
}

impl Default for IntegrateRequest {
    /// `t_max = 50`, `rtol = 1e-8`, `atol = 1e-10`, 400 linear output
    /// times, `auto`, a step budget scaled by the model ([`default_max_steps`]).
    fn default() -> Self {
        IntegrateRequest { t_max: 50.0, rtol: 1e-8, atol: 1e-10, points: 400, log_from: None, method: Method::Auto, max_steps: None }
    }
}

impl IntegrateRequest {
    /// The engine's options: output grid `Grid::Log { t_min, points }` or
    /// `Grid::Linear { points }`, and what is left of the process-wide
    /// wall-time budget. `rhs_ops` is the length of the model's right-hand
    /// side tape (`Model::tape_sizes().0`), which sets the default step
    /// budget. The engine validates every value by name.
    pub fn options(&self, rhs_ops: usize) -> IntegrateOptions {
        let grid = match self.log_from {
            Some(t_min) => Grid::Log { t_min, points: self.points },
            None => Grid::Linear { points: self.points },
        };
        IntegrateOptions {
            method: self.method,
            rtol: self.rtol,
            atol: self.atol,
            t_max: self.t_max,
            grid,
            max_steps: self.max_steps.unwrap_or_else(|| default_max_steps(rhs_ops)),
            max_seconds: crate::limits::remaining_seconds(),
        }
    }

    /// A method by its name on the command line and in Python.
    pub fn method_named(name: &str) -> Option<Method> {
        match name {
            "dop853" => Some(Method::Dop853),
            "dopri5" => Some(Method::Dopri5),
            "radau5" => Some(Method::Radau5),
            "auto" => Some(Method::Auto),
            _ => None,
        }
    }
}

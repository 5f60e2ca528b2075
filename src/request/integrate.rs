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
    /// Budget of attempted steps.
    pub max_steps: u32,
}

impl Default for IntegrateRequest {
    /// `t_max = 50`, `rtol = 1e-8`, `atol = 1e-10`, 400 linear output
    /// times, `auto`, at most 1e7 attempted steps.
    fn default() -> Self {
        IntegrateRequest { t_max: 50.0, rtol: 1e-8, atol: 1e-10, points: 400, log_from: None, method: Method::Auto, max_steps: 10_000_000 }
    }
}

impl IntegrateRequest {
    /// The engine's options: output grid `Grid::Log { t_min, points }` or
    /// `Grid::Linear { points }`, and what is left of the process-wide
    /// wall-time budget. The engine validates every value by name.
    pub fn options(&self) -> IntegrateOptions {
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
            max_steps: self.max_steps,
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

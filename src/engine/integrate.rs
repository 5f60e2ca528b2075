//! Adaptive time integration of `dx/dt = F(x; p)` from `t = 0` with the
//! embedded Runge-Kutta pairs of the `ode_solvers` crate (Dormand-Prince
//! 5(4) and 8(5,3), Hairer-Norsett-Wanner step-size control with the mixed
//! error norm `sqrt(mean_i (err_i / (atol + rtol |x_i|))^2) <= 1`).
//!
//! # Output on the requested grid
//!
//! Output times are reached by integrating *segment by segment*: each grid
//! interval `[t_k, t_{k+1}]` is one solver run whose last step is shortened to
//! land exactly on `t_{k+1}`, and the next run is warm-started with the
//! largest step accepted so far in the previous one (so no step-size
//! re-initialisation is paid, and a too-large guess costs one rejected step).
//! This was chosen over the crate's dense output because
//!
//! * the crate's `Dense` mode only supports a uniform grid from `t = 0` and
//!   advances its output time by repeated `xd += dx`, which drifts off the
//!   grid by round-off and cannot express log-spaced or arbitrary times;
//! * its `Continuous` model exists only for Dopri5 (4th-order interpolant) and
//!   stores every step's coefficients;
//! * grid values obtained by segments carry the integrator's own local
//!   accuracy (order 5 or 8) at exactly the requested times.
//!
//! The cost is at least one step per grid interval (plus one `F` evaluation
//! to restart the FSAL stage), which is negligible for the low-dimensional
//! order-parameter systems integrated here unless the grid is much finer
//! than the natural step.
//!
//! Stiffness detection (Hairer's `h |lambda| > 3.25` test) runs every 1000
//! accepted steps *within a segment*; on fine grids a stiff problem instead
//! exhausts `max_steps`, which is reported with the same advice.
use std::cell::Cell;

use ode_solvers::dop_shared::IntegrationError;
use ode_solvers::{DVector, Dop853, Dopri5, OutputType, System};
use serde::{Deserialize, Serialize};

use crate::engine::VectorField;
use crate::error::{Error, Result};

/// Runge-Kutta pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Dormand-Prince 5(4): the default for moderate tolerances.
    Dopri5,
    /// Dormand-Prince 8(5,3): cheaper per unit accuracy below ~1e-7.
    Dop853,
}

/// Output times. All times must lie in `[0, t_max]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grid {
    /// `points` equally spaced times `t_k = t_max k / (points - 1)`,
    /// `k = 0..points` (includes `t = 0` and `t = t_max`); `points >= 2`.
    Linear { points: usize },
    /// `t = 0` followed by `points` log-spaced times from `t_min` to `t_max`,
    /// `t_k = t_min (t_max / t_min)^(k / (points - 1))`; `points >= 2`,
    /// `0 < t_min < t_max`.
    Log { t_min: f64, points: usize },
    /// Exactly these times (non-decreasing, finite, in `[0, t_max]`; include
    /// `0` to get the initial state).
    Times(Vec<f64>),
}

/// Controls of [`integrate`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntegrateOptions {
    pub method: Method,
    /// Relative tolerance of the local error, `> 0`.
    pub rtol: f64,
    /// Absolute tolerance of the local error, `> 0`.
    pub atol: f64,
    /// Final time, `> 0`.
    pub t_max: f64,
    pub grid: Grid,
    /// Budget of attempted steps over the whole integration, `>= 1`.
    pub max_steps: u32,
}

impl Default for IntegrateOptions {
    fn default() -> Self {
        IntegrateOptions {
            method: Method::Dopri5,
            rtol: 1e-8,
            atol: 1e-10,
            t_max: 100.0,
            grid: Grid::Linear { points: 201 },
            max_steps: 1_000_000,
        }
    }
}

/// A sampled solution: `states[k]` is `x(t[k])`, in the order of `names`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trajectory {
    pub names: Vec<String>,
    pub t: Vec<f64>,
    pub states: Vec<Vec<f64>>,
}

impl Trajectory {
    /// CSV with a header `t,<names...>` and one row per output time; numbers
    /// use Rust's shortest round-trip representation (no precision loss).
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(16 * (self.names.len() + 1) * (self.t.len() + 1));
        out.push('t');
        for name in &self.names {
            out.push(',');
            out.push_str(name);
        }
        out.push('\n');
        for (t, x) in self.t.iter().zip(&self.states) {
            out.push_str(&t.to_string());
            for v in x {
                out.push(',');
                out.push_str(&v.to_string());
            }
            out.push('\n');
        }
        out
    }

    /// Time series of the state variable `name`, if it exists.
    pub fn component(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(self.states.iter().map(|x| x[i]).collect())
    }

    /// Final state, if any output time was requested.
    pub fn last(&self) -> Option<&[f64]> {
        self.states.last().map(|x| x.as_slice())
    }
}

/// What the adapter observes on accepted steps of one segment.
#[derive(Default)]
struct Watch {
    t_prev: f64,
    max_step: f64,
    max_abs: f64,
    non_finite_at: Option<f64>,
}

/// Adapter from [`VectorField`] to `ode_solvers::System`. Evaluations write
/// straight into the solver's buffers (no allocation); `solout` watches every
/// accepted step for non-finite states and records step statistics (the
/// solver owns the system, so these go to a borrowed [`Watch`]).
struct Adapter<'a> {
    field: &'a dyn VectorField,
    p: &'a [f64],
    watch: &'a mut Watch,
    /// First time at which `F` itself returned a non-finite value (possibly in
    /// a rejected trial stage); only used to explain a later failure.
    bad_rhs_at: &'a Cell<Option<f64>>,
}

impl System<f64, DVector<f64>> for Adapter<'_> {
    fn system(&self, t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) {
        self.field.rhs(y.as_slice(), self.p, dy.as_mut_slice());
        if self.bad_rhs_at.get().is_none() && !dy.iter().all(|v| v.is_finite()) {
            self.bad_rhs_at.set(Some(t));
        }
    }

    fn solout(&mut self, t: f64, y: &DVector<f64>, _dy: &DVector<f64>) -> bool {
        let w = &mut *self.watch;
        w.max_step = w.max_step.max(t - w.t_prev);
        w.t_prev = t;
        let mut finite = true;
        for v in y.iter() {
            finite &= v.is_finite();
            w.max_abs = w.max_abs.max(v.abs());
        }
        if !finite {
            w.non_finite_at = Some(t);
        }
        !finite
    }
}

/// The output times of `grid` (validated against `t_max`).
pub fn grid_times(grid: &Grid, t_max: f64) -> Result<Vec<f64>> {
    let times = match grid {
        Grid::Linear { points } => {
            if *points < 2 {
                return Err(Error::invalid("grid.linear.points", points, ">= 2"));
            }
            let last = (*points - 1) as f64;
            let mut t: Vec<f64> = (0..*points).map(|k| t_max * (k as f64 / last)).collect();
            t[*points - 1] = t_max;
            t
        }
        Grid::Log { t_min, points } => {
            if *points < 2 {
                return Err(Error::invalid("grid.log.points", points, ">= 2"));
            }
            if !(*t_min > 0.0 && *t_min < t_max) {
                return Err(Error::invalid("grid.log.t_min", t_min, format!("(0, t_max = {t_max})")));
            }
            let last = (*points - 1) as f64;
            let ratio = t_max / t_min;
            let mut t = Vec::with_capacity(points + 1);
            t.push(0.0);
            t.extend((0..*points).map(|k| t_min * ratio.powf(k as f64 / last)));
            t[*points] = t_max;
            t
        }
        Grid::Times(times) => {
            for (k, &t) in times.iter().enumerate() {
                if !(t >= 0.0 && t <= t_max) {
                    return Err(Error::invalid(format!("grid.times[{k}]"), t, format!("[0, t_max = {t_max}]")));
                }
                if k > 0 && t < times[k - 1] {
                    return Err(Error::invalid(
                        format!("grid.times[{k}]"),
                        t,
                        format!(">= previous time {} (times must be non-decreasing)", times[k - 1]),
                    ));
                }
            }
            if times.is_empty() {
                return Err(Error::invalid("grid.times", "[]", "at least one time in [0, t_max]"));
            }
            times.clone()
        }
    };
    Ok(times)
}

fn validate(field: &dyn VectorField, x0: &[f64], p: &[f64], opts: &IntegrateOptions) -> Result<()> {
    let n = field.dim();
    if x0.len() != n {
        return Err(Error::invalid("x0 (length)", x0.len(), format!("{n} (state dimension of `{}`)", field.name())));
    }
    if let Some(i) = x0.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!("x0[{i}]"), x0[i], "finite"));
    }
    let m = field.param_names().len();
    if p.len() != m {
        return Err(Error::invalid("p (length)", p.len(), format!("{m} (parameters of `{}`)", field.name())));
    }
    if !(opts.rtol > 0.0 && opts.rtol.is_finite()) {
        return Err(Error::invalid("rtol", opts.rtol, "> 0"));
    }
    if !(opts.atol > 0.0 && opts.atol.is_finite()) {
        return Err(Error::invalid("atol", opts.atol, "> 0"));
    }
    if !(opts.t_max > 0.0 && opts.t_max.is_finite()) {
        return Err(Error::invalid("t_max", opts.t_max, "> 0 and finite"));
    }
    if opts.max_steps == 0 {
        return Err(Error::invalid("max_steps", opts.max_steps, ">= 1"));
    }
    Ok(())
}

/// Integrates `dx/dt = F(x; p)`, `x(0) = x0`, and samples the solution at the
/// times of `opts.grid` (segment by segment, see the module docs).
///
/// Fails with [`Error::Divergence`] when the state becomes non-finite, the
/// step size underflows (`0.1 |h| <= eps |t|`, typically a finite-time
/// blow-up), the step budget is exhausted, or the solver detects stiffness;
/// the error names the time reached and what to change.
pub fn integrate(field: &dyn VectorField, x0: &[f64], p: &[f64], opts: &IntegrateOptions) -> Result<Trajectory> {
    validate(field, x0, p, opts)?;
    let times = grid_times(&opts.grid, opts.t_max)?;
    let n = field.dim();
    let mut states = Vec::with_capacity(times.len());
    let mut y = DVector::from_column_slice(x0);
    let mut t = 0.0;
    let mut h_guess = 0.0; // 0: let the solver choose the first step
    let mut steps_used: u32 = 0;
    let mut max_abs = x0.iter().fold(0.0_f64, |a, v| a.max(v.abs()));

    for &t_next in &times {
        if t_next > t {
            // A segment may overrun its budget by one step before the solver
            // reports it; the next one then still gets a (failing) budget of 1.
            let budget = opts.max_steps.saturating_sub(steps_used).max(1);
            let mut watch = Watch { t_prev: t, max_abs, ..Watch::default() };
            let bad_rhs_at = Cell::new(None);
            let segment = run_segment(field, p, &mut watch, &bad_rhs_at, opts, t, t_next, &y, h_guess, budget);
            max_abs = max_abs.max(watch.max_abs);
            let (y_end, segment_steps) =
                segment.map_err(|e| divergence(field, opts, e, max_abs, bad_rhs_at.get()))?;
            if let Some(t_bad) = watch.non_finite_at {
                return Err(Error::Divergence {
                    what: what(field, opts),
                    detail: format!("the state became non-finite at t = {t_bad:.6}"),
                    advice: format!(
                        "the system blows up in finite time near t = {t_bad:.6}; reduce t_max below it, \
                         or check the parameters and the initial state"
                    ),
                });
            }
            steps_used = steps_used.saturating_add(segment_steps);
            h_guess = watch.max_step;
            y = y_end;
            t = t_next;
        }
        debug_assert_eq!(y.len(), n);
        states.push(y.as_slice().to_vec());
    }
    Ok(Trajectory { names: field.state_names(), t: times, states })
}

/// One solver run on `[t0, t1]`; returns the end state and the number of
/// steps it took.
#[allow(clippy::too_many_arguments)]
fn run_segment(
    field: &dyn VectorField,
    p: &[f64],
    watch: &mut Watch,
    bad_rhs_at: &Cell<Option<f64>>,
    opts: &IntegrateOptions,
    t0: f64,
    t1: f64,
    y0: &DVector<f64>,
    h_guess: f64,
    budget: u32,
) -> std::result::Result<(DVector<f64>, u32), IntegrationError> {
    // Controller constants are the defaults of Hairer's DOPRI5 / DOP853 codes
    // (as in the crate's `new`); only the initial step, the step budget, h_max
    // and the output type are set here.
    const N_STIFF: u32 = 1000;
    let h_max = opts.t_max;
    let sys = Adapter { field, p, watch, bad_rhs_at };
    let (stats, y_end) = match opts.method {
        Method::Dopri5 => {
            let mut s = Dopri5::from_param(
                sys, t0, t1, 0.0, y0.clone(), opts.rtol, opts.atol, 0.9, 0.04, 0.2, 10.0, h_max, h_guess,
                budget, N_STIFF, OutputType::Sparse,
            );
            let stats = s.integrate();
            (stats, s.y_out().last().cloned())
        }
        Method::Dop853 => {
            let mut s = Dop853::from_param(
                sys, t0, t1, 0.0, y0.clone(), opts.rtol, opts.atol, 0.9, 0.0, 0.333, 6.0, h_max, h_guess,
                budget, N_STIFF, OutputType::Sparse,
            );
            let stats = s.integrate();
            (stats, s.y_out().last().cloned())
        }
    };
    let stats = stats?;
    let y_end = y_end.unwrap_or_else(|| y0.clone());
    Ok((y_end, stats.accepted_steps + stats.rejected_steps))
}

fn what(field: &dyn VectorField, opts: &IntegrateOptions) -> String {
    format!("integration of `{}` ({:?}, rtol = {:e}, atol = {:e})", field.name(), opts.method, opts.rtol, opts.atol)
}

fn divergence(
    field: &dyn VectorField,
    opts: &IntegrateOptions,
    e: IntegrationError,
    max_abs: f64,
    bad_rhs_at: Option<f64>,
) -> Error {
    let (mut detail, mut advice) = match e {
        IntegrationError::StepSizeUnderflow { x } => (
            format!("step size underflow at t = {x:.6} (largest |state| so far {max_abs:.3e})"),
            format!(
                "the solution likely blows up in finite time near t = {x:.6}: reduce t_max below it or check \
                 parameters; if the state stays bounded the system may be stiff (loosen rtol/atol)"
            ),
        ),
        IntegrationError::MaxNumStepReached { x, n_step } => (
            format!(
                "step budget exhausted at t = {x:.6} ({n_step} steps in the last segment, max_steps = {})",
                opts.max_steps
            ),
            "increase max_steps, loosen rtol/atol, or reduce t_max; the system may be stiff or blow up in \
             finite time"
                .to_string(),
        ),
        IntegrationError::StiffnessDetected { x } => (
            format!("the problem became stiff at t = {x:.6}"),
            "an explicit method is inefficient here: loosen rtol/atol or reduce t_max; fast stable modes \
             (large negative eigenvalues) are the usual cause"
                .to_string(),
        ),
    };
    if let Some(t_bad) = bad_rhs_at {
        detail.push_str(&format!("; the vector field returned non-finite values from t = {t_bad:.6} on"));
        advice.insert_str(
            0,
            "the state probably left the domain where the model is defined (or overflowed); check parameters \
             and the initial state. Otherwise: ",
        );
    }
    Error::Divergence { what: what(field, opts), detail, advice }
}

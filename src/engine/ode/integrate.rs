//! Adaptive time integration of `dx/dt = F(x; p)` from `t = 0`, with
//! output on a requested grid by dense output.
//!
//! Methods ([`Method`]):
//! * `dopri5`, `dop853`: the explicit Dormand-Prince pairs of [`crate::engine::ode::explicit_rk`]
//!   (Hairer-Norsett-Wanner step-size control, mixed error norm
//!   `sqrt(mean_i (err_i / (atol + rtol |x_i|))^2) <= 1`);
//! * `radau5`: the implicit Radau IIA method of order 5 of
//!   [`crate::engine::ode::radau`], with the field's exact Jacobian, for stiff systems;
//! * `auto` (the default): DOP853 while the problem is not stiff, switching
//!   to Radau IIA when Hairer's stiffness test (`h |lambda|` beyond the
//!   explicit stability boundary on 15 steps) fires, and back to DOP853 when
//!   `h ||J||_inf` has stayed below that boundary for 20 implicit steps, as
//!   LSODA switches between Adams and BDF.
//!
//! # Output on the requested grid
//!
//! The integrator takes its own steps from `0` to `t_max` and evaluates each
//! method's continuous extension at the output times inside a step
//! (DOPRI5: order 4, no extra evaluation; DOP853: order 7, three extra
//! evaluations for a step that contains an output time; Radau IIA: the
//! collocation polynomial, no extra evaluation). The step sequence does not
//! depend on the grid, so a 400-point grid costs the same steps as the end
//! point alone; an output time that coincides with a step end (always
//! `t_max`) gets the step's value itself.
//!
//! # Budgets
//!
//! `max_steps` bounds the attempted steps and `max_seconds` the wall time.
//! [`integrate_partial`] returns what was computed up to a budget stop or a
//! failure together with the reason ([`IntegrationStop`]); [`integrate`]
//! turns any stop into an error naming the time, the reason and what to try.
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::engine::ode::explicit_rk::{ExplicitStepper, Pair};
use crate::engine::ode::radau::RadauStepper;
use crate::engine::ode::stepper::{Attempt, StepFailure, StepStats, Stepper};
use crate::engine::VectorField;
use crate::error::{Error, Result};

/// Integration method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Dormand-Prince 5(4): explicit, for moderate tolerances.
    Dopri5,
    /// Dormand-Prince 8(5,3): explicit, cheaper per unit accuracy below ~1e-7.
    Dop853,
    /// Radau IIA of order 5: implicit, for stiff systems (exact Jacobian).
    Radau5,
    /// DOP853 with automatic switching to Radau IIA on stiffness (and back).
    Auto,
}

impl Method {
    /// Lower-case name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Dopri5 => "dopri5",
            Method::Dop853 => "dop853",
            Method::Radau5 => "radau5",
            Method::Auto => "auto",
        }
    }
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
    /// Wall-time budget in seconds, `> 0` (`f64::INFINITY`: none). Checked
    /// every 16 attempted steps.
    pub max_seconds: f64,
}

impl Default for IntegrateOptions {
    fn default() -> Self {
        IntegrateOptions {
            method: Method::Auto,
            rtol: 1e-8,
            atol: 1e-10,
            t_max: 100.0,
            grid: Grid::Linear { points: 201 },
            max_steps: 1_000_000,
            // What is left of the process-wide `--max-seconds` (infinite if unset).
            max_seconds: crate::limits::remaining_seconds(),
        }
    }
}

/// A sampled solution: `states[k]` is `x(t[k])`, in the order of `names`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trajectory {
    pub names: Vec<String>,
    pub t: Vec<f64>,
    pub states: Vec<Vec<f64>>,
    /// Work done and method switches.
    #[serde(default)]
    pub stats: IntegrationStats,
}

/// Work counters of one integration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IntegrationStats {
    /// Summed over the methods used.
    pub steps: StepStats,
    /// `(t, method switched to)` for every switch of `Method::Auto`.
    pub switches: Vec<(f64, Method)>,
    /// Steps accepted by the implicit method.
    pub implicit_steps: u64,
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
    if !(opts.max_seconds > 0.0) {
        return Err(Error::invalid("max_seconds", opts.max_seconds, "> 0 (or infinite for no limit)"));
    }
    Ok(())
}


/// Why an integration ended before `t_max`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationStop {
    /// `"budget"` (steps or wall time) or `"failure"`.
    pub stopped: String,
    /// Time reached.
    pub t: f64,
    /// What happened.
    pub detail: String,
    /// What to change.
    pub advice: String,
    /// The budget that ran out was wall time (`max_seconds`, `--max-seconds`),
    /// not the step count: reported as [`Error::Budget`], not as a divergence.
    #[serde(default)]
    pub wall_time: bool,
}

impl IntegrationStop {
    /// The error for this stop, as the CLI and the Python bindings report it:
    /// `integration of `<model>` (method <m>)`, the detail with `note`
    /// appended (e.g. where partial output was written), and the advice.
    pub fn to_error(&self, model: &str, method: Method, note: &str) -> crate::error::Error {
        self.error(format!("integration of `{model}` (method {})", method.name()), note)
    }

    /// [`Error::Budget`] for a wall-time stop (it is no divergence), else
    /// [`Error::Divergence`] with the detail and advice.
    fn error(&self, what: String, note: &str) -> crate::error::Error {
        if self.wall_time {
            crate::error::Error::Budget { what, detail: format!("t = {:.6e}{note}, {}", self.t, self.detail) }
        } else {
            crate::error::Error::Divergence { what, detail: format!("{}{note}", self.detail), advice: self.advice.clone() }
        }
    }
}

/// Result of [`integrate_partial`]: the output times reached and, if the
/// integration ended early, why.
#[derive(Clone, Debug)]
pub struct Integration {
    pub trajectory: Trajectory,
    pub stop: Option<IntegrationStop>,
}

/// Integrates `dx/dt = F(x; p)`, `x(0) = x0`, and samples the solution at the
/// times of `opts.grid` (dense output, see the module docs).
///
/// Fails with [`Error::Divergence`] when the state becomes non-finite, the
/// step size underflows (`0.1 |h| <= eps |t|`, typically a finite-time
/// blow-up), a budget is exhausted, an explicit method meets stiffness, or
/// the implicit method's Newton matrix is singular; the error names the time
/// reached, the reason and what to change.
pub fn integrate(field: &dyn VectorField, x0: &[f64], p: &[f64], opts: &IntegrateOptions) -> Result<Trajectory> {
    let run = integrate_partial(field, x0, p, opts)?;
    match run.stop {
        None => Ok(run.trajectory),
        Some(stop) => Err(stop.error(what(field, opts), "")),
    }
}

/// The stepper in use. The driver steps through the [`Stepper`] trait; the
/// enum only tells which method runs, for the switch between them.
enum Active {
    Explicit(ExplicitStepper),
    Implicit(RadauStepper),
}

impl Active {
    fn stepper(&self) -> &dyn Stepper {
        match self {
            Active::Explicit(s) => s,
            Active::Implicit(s) => s,
        }
    }
    fn stepper_mut(&mut self) -> &mut dyn Stepper {
        match self {
            Active::Explicit(s) => s,
            Active::Implicit(s) => s,
        }
    }
}

fn add_stats(a: &mut StepStats, b: StepStats) {
    a.accepted += b.accepted;
    a.rejected += b.rejected;
    a.rhs += b.rhs;
    a.jacobians += b.jacobians;
    a.factorizations += b.factorizations;
}

/// Stability boundary of DOP853 on the negative real axis, the threshold of
/// its stiffness test and of the switch back from the implicit method.
const DOP853_STIFF: f64 = 6.1;
/// Implicit steps with `h ||J|| <` [`DOP853_STIFF`] in a row before `auto`
/// returns to the explicit method.
const NON_STIFF_STEPS: u32 = 20;

/// Like [`integrate`], but a budget stop or a failure returns the output
/// computed so far (every grid time up to the time reached) with the reason,
/// instead of an error. Invalid options are still an error.
pub fn integrate_partial(
    field: &dyn VectorField,
    x0: &[f64],
    p: &[f64],
    opts: &IntegrateOptions,
) -> Result<Integration> {
    validate(field, x0, p, opts)?;
    let times = grid_times(&opts.grid, opts.t_max)?;
    let n = field.dim();
    let started = Instant::now();
    let mut states: Vec<Vec<f64>> = Vec::with_capacity(times.len());
    let mut next = 0;
    while next < times.len() && times[next] <= 0.0 {
        states.push(x0.to_vec());
        next += 1;
    }
    let mut stats = IntegrationStats::default();
    let h_max = opts.t_max;
    let explicit_pair = |m: Method| if m == Method::Dopri5 { Pair::Dopri5 } else { Pair::Dop853 };
    let mut active = match opts.method {
        Method::Radau5 => Active::Implicit(RadauStepper::new(field, p, 0.0, x0, opts.rtol, opts.atol, h_max, 0.0)),
        m => {
            let mut s = ExplicitStepper::new(explicit_pair(m), field, p, 0.0, x0, opts.rtol, opts.atol, h_max, 0.0);
            s.test_stiffness_every_step = m == Method::Auto;
            Active::Explicit(s)
        }
    };
    let mut attempts: u64 = 0;
    let mut max_abs = x0.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let mut bad_rhs_at: Option<f64> = None;
    let mut non_stiff_run = 0u32;
    let mut buf = vec![0.0; n];
    let stop = loop {
        let t = active.stepper().t();
        if t >= opts.t_max {
            break None;
        }
        if attempts >= opts.max_steps as u64 {
            break Some(stop_budget(
                t,
                format!("step budget exhausted at t = {t:.6e} (max_steps = {})", opts.max_steps),
                opts,
            ));
        }
        if attempts % 16 == 0 && crate::limits::out_of_time(started, opts.max_seconds) {
            break Some(IntegrationStop { wall_time: true, ..stop_budget(
                t,
                // Name the budget the user gave: the global `--max-seconds`
                // (this call only received what was left of it), else this
                // call's own `max_seconds`.
                match crate::limits::max_seconds() {
                    _ if crate::limits::cancelled() => format!("cancelled at t = {t:.6e} after {attempts} steps"),
                    g if g.is_finite() => format!("wall-time budget (--max-seconds {g}) exhausted at t = {t:.6e} after {attempts} steps"),
                    _ => format!("wall-time budget of {} s exhausted at t = {t:.6e} after {attempts} steps", opts.max_seconds),
                },
                opts,
            ) });
        }
        let h = active.stepper().h();
        if !(0.1 * h.abs() > f64::EPSILON * t.abs()) || !h.is_finite() {
            break Some(underflow(t, max_abs, &active, bad_rhs_at));
        }
        attempts += 1;
        let (attempt, stiff) = match active.stepper_mut().try_step(field, p, opts.t_max) {
            Ok(x) => x,
            Err(StepFailure::Singular) => break Some(singular(t, bad_rhs_at)),
        };
        match attempt {
            Attempt::Rejected => continue,
            Attempt::NonFinite => {
                bad_rhs_at.get_or_insert(t);
                continue;
            }
            Attempt::Accepted => {}
        }
        let t_new = active.stepper().t();
        // Output times inside the step.
        while next < times.len() && times[next] <= t_new {
            if times[next] == t_new {
                buf.copy_from_slice(active.stepper().y());
            } else {
                active.stepper_mut().dense_output(field, p, times[next], &mut buf);
            }
            states.push(buf.clone());
            next += 1;
        }
        let mut finite = true;
        for v in active.stepper().y() {
            finite &= v.is_finite();
            max_abs = max_abs.max(v.abs());
        }
        if !finite {
            break Some(IntegrationStop {
                stopped: "failure".into(),
                t: t_new,
                detail: format!("the state became non-finite at t = {t_new:.6e}"),
                advice: format!(
                    "the system blows up in finite time near t = {t_new:.6e}; reduce t_max below it, or check the \
                     parameters and the initial state"
                ),
                wall_time: false,
            });
        }
        // Method switching.
        match &mut active {
            Active::Explicit(s) if stiff => {
                if opts.method != Method::Auto {
                    break Some(IntegrationStop {
                        stopped: "failure".into(),
                        t: t_new,
                        detail: format!(
                            "the problem became stiff at t = {t_new:.6e} (h |lambda| beyond the stability boundary of \
                             {} on 15 steps)",
                            opts.method.name()
                        ),
                        advice: "use method `auto` (the default) or `radau5`, the implicit method for stiff systems"
                            .into(),
                        wall_time: false,
                    });
                }
                let (t_s, h_s) = (s.t, s.h);
                add_stats(&mut stats.steps, s.stats);
                let y = std::mem::take(&mut s.y);
                active = Active::Implicit(RadauStepper::new(field, p, t_s, &y, opts.rtol, opts.atol, h_max, h_s));
                stats.switches.push((t_s, Method::Radau5));
                non_stiff_run = 0;
            }
            Active::Implicit(s) => {
                stats.implicit_steps += 1;
                if opts.method == Method::Auto {
                    if s.h * s.jac_norm < DOP853_STIFF {
                        non_stiff_run += 1;
                    } else {
                        non_stiff_run = 0;
                    }
                    if non_stiff_run >= NON_STIFF_STEPS {
                        let (t_s, h_s) = (s.t, s.h);
                        add_stats(&mut stats.steps, s.stats);
                        let y = std::mem::take(&mut s.y);
                        let mut e =
                            ExplicitStepper::new(Pair::Dop853, field, p, t_s, &y, opts.rtol, opts.atol, h_max, h_s);
                        e.test_stiffness_every_step = true;
                        active = Active::Explicit(e);
                        stats.switches.push((t_s, Method::Dop853));
                        non_stiff_run = 0;
                    }
                }
            }
            _ => {}
        }
    };
    add_stats(&mut stats.steps, active.stepper().stats());
    let reached = states.len();
    Ok(Integration {
        trajectory: Trajectory { names: field.state_names(), t: times[..reached].to_vec(), states, stats },
        stop,
    })
}

fn stop_budget(t: f64, detail: String, opts: &IntegrateOptions) -> IntegrationStop {
    let stiff_hint = match opts.method {
        Method::Dopri5 | Method::Dop853 => "; the system may be stiff: try method `auto` or `radau5`",
        _ => "",
    };
    IntegrationStop {
        stopped: "budget".into(),
        t,
        detail,
        advice: format!(
            "raise the budget (max_steps / max_seconds), loosen rtol/atol, or reduce t_max{stiff_hint}; a solution \
             that blows up in finite time also exhausts any budget"
        ),
        wall_time: false,
    }
}

fn underflow(t: f64, max_abs: f64, active: &Active, bad_rhs_at: Option<f64>) -> IntegrationStop {
    let implicit = matches!(active, Active::Implicit(_));
    let mut detail = format!("step size underflow at t = {t:.6e} (largest |state| so far {max_abs:.3e})");
    let mut advice = format!(
        "the solution likely blows up in finite time near t = {t:.6e}: reduce t_max below it or check the parameters{}",
        if implicit { "" } else { "; if the state stays bounded the system may be stiff: use method `auto` or `radau5`" }
    );
    if let Some(t_bad) = bad_rhs_at {
        detail.push_str(&format!("; the vector field returned non-finite values from t = {t_bad:.6e} on"));
        advice.insert_str(
            0,
            "the state probably left the domain where the model is defined (or overflowed); check parameters and \
             the initial state. Otherwise: ",
        );
    }
    IntegrationStop { stopped: "failure".into(), t, detail, advice, wall_time: false }
}

fn singular(t: f64, bad_rhs_at: Option<f64>) -> IntegrationStop {
    let mut detail = format!("the implicit method's Newton matrix (gamma/h) I - J was singular 5 times at t = {t:.6e}");
    if let Some(t_bad) = bad_rhs_at {
        detail.push_str(&format!("; the vector field returned non-finite values from t = {t_bad:.6e} on"));
    }
    IntegrationStop {
        stopped: "failure".into(),
        t,
        detail,
        advice: "the Jacobian is not finite or degenerate at this state: check the model near this time (division \
                 by a vanishing quantity, a non-differentiable point); an explicit method (`dop853`) may step over it"
            .into(),
        wall_time: false,
    }
}

fn what(field: &dyn VectorField, opts: &IntegrateOptions) -> String {
    format!(
        "integration of `{}` (method {}, rtol = {:e}, atol = {:e})",
        field.name(),
        opts.method.name(),
        opts.rtol,
        opts.atol
    )
}

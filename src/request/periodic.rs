//! `periodic`: the branch of limit cycles in one parameter, by orthogonal
//! collocation and pseudo-arclength continuation
//! ([`crate::engine::cycles`]), started at the first Hopf point of the
//! equilibria on the range or from the cycle a trajectory settles on.
//!
//! Every loop of the request is bounded by default, by a bound that grows
//! with the problem, and a run that meets a bound says which option raises it:
//!
//! * continuation steps: `max_steps`, by default
//!   `max(200, 4 ceil(|to - from| / ds_max))` (a unit tangent moves the
//!   parameter by at most one arclength unit, so the range needs at least
//!   `|to - from| / ds_max` steps at the largest step);
//! * the search for the first return of a trajectory to its Poincaré
//!   section (`from-orbit`): at most `max_period` time units;
//! * memory: the collocation Jacobian and its sparse LU, about
//!   `16 ntst ((ncol + 1) n)^2` bytes, within `--max-memory`;
//! * wall time: the process-wide `--max-seconds` (the branch then ends
//!   with `"stop": "budget"` and keeps its points).
use serde_json::{json, Value};

use crate::engine::{
    continue_cycles, continue_cycles_from_hopf, full_diagram, orbit_from_trajectory, solve_orbit, BifurcationKind, ContinuationParams,
    ContinuationResult, CycleBifurcationKind, CycleBranch, CycleContinuationParams, CyclePoint, OrbitOptions, StopReason, VectorField,
};
use crate::error::{Error, Result};

use super::{check_arclength_request, Syntax};

/// Where the branch of cycles starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodicStart {
    /// The first Hopf point of the equilibria on `[from, to]`: the
    /// normal-form cycle of small amplitude, then Newton.
    Hopf,
    /// The cycle that the trajectory from the model's initial state settles
    /// on at `from`: one period cut from an integration, then Newton.
    Orbit,
}

impl PeriodicStart {
    /// The start by its name (`hopf`, `orbit`).
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "hopf" => Some(PeriodicStart::Hopf),
            "orbit" => Some(PeriodicStart::Orbit),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodicStart::Hopf => "hopf",
            PeriodicStart::Orbit => "orbit",
        }
    }
}

/// A request for the branch of cycles in `param` over `[from, to]`.
#[derive(Clone, Debug)]
pub struct PeriodicRequest {
    /// Name of the continued parameter.
    pub param: String,
    /// Start of the range (the orbit start integrates at this value).
    pub from: f64,
    /// The other end.
    pub to: f64,
    pub start: PeriodicStart,
    /// `Orbit` start: integration time discarded before a period is cut.
    pub transient: f64,
    /// `Orbit` start: longest time searched for the trajectory's return to its section.
    pub max_period: f64,
    /// Initial arclength step (from a Hopf point the first cycle's amplitude is about `sqrt(2) ds`).
    pub ds: f64,
    /// Largest arclength step.
    pub ds_max: f64,
    /// Accepted steps (`None`: `max(200, 4 ceil(|to - from| / ds_max))`).
    pub max_steps: Option<usize>,
    /// Mesh intervals (AUTO's NTST).
    pub ntst: usize,
    /// Gauss collocation points per interval (AUTO's NCOL).
    pub ncol: usize,
    /// State variable on the diagram's vertical axis (`None`: the first).
    pub var: Option<String>,
}

/// Largest number of collocation points per interval (the engine's Gauss tables).
pub const MAX_NCOL: usize = 7;

impl PeriodicRequest {
    /// Default `transient` of the orbit start.
    pub const DEFAULT_TRANSIENT: f64 = 100.0;
    /// Default `max_period` of the orbit start.
    pub const DEFAULT_MAX_PERIOD: f64 = 1e4;
    /// The smallest default step bound.
    pub const MIN_DEFAULT_STEPS: usize = 200;

    /// `param` over `[from, to]` from the first Hopf point; every other
    /// setting at the engine's default ([`CycleContinuationParams::new`],
    /// [`OrbitOptions::default`]).
    pub fn new(param: impl Into<String>, from: f64, to: f64) -> Self {
        let c = CycleContinuationParams::new(0, 0.0, 1.0);
        let o = OrbitOptions::default();
        PeriodicRequest {
            param: param.into(),
            from,
            to,
            start: PeriodicStart::Hopf,
            transient: Self::DEFAULT_TRANSIENT,
            max_period: Self::DEFAULT_MAX_PERIOD,
            ds: c.arclength.ds,
            ds_max: c.arclength.ds_max,
            max_steps: None,
            ntst: o.ntst,
            ncol: o.ncol,
            var: None,
        }
    }

    /// The step bound: as given, or `max(200, 4 ceil(|to - from| / ds_max))`.
    pub fn max_steps(&self) -> usize {
        self.max_steps.unwrap_or_else(|| {
            let need = 4.0 * ((self.to - self.from).abs() / self.ds_max).ceil();
            if need.is_finite() && need < 1e9 {
                Self::MIN_DEFAULT_STEPS.max(need as usize)
            } else {
                Self::MIN_DEFAULT_STEPS
            }
        })
    }

    /// The engine's settings, every field checked and named in `syntax`.
    pub fn params(&self, model: &dyn VectorField, syntax: Syntax) -> Result<CycleContinuationParams> {
        let name = |f: &str| syntax.field(f);
        let (k, from, to) = check_arclength_request(model, syntax, &self.param, (self.from, self.to), (self.ds, self.ds_max), self.max_steps)?;
        if self.ntst < 2 {
            return Err(Error::invalid(name("ntst"), self.ntst, ">= 2"));
        }
        if !(1..=MAX_NCOL).contains(&self.ncol) {
            return Err(Error::invalid(name("ncol"), self.ncol, format!("an integer in [1, {MAX_NCOL}]")));
        }
        if !(self.transient >= 0.0 && self.transient.is_finite()) {
            return Err(Error::invalid(name("transient"), self.transient, "[0, inf)"));
        }
        if !(self.max_period > 0.0 && self.max_period.is_finite()) {
            return Err(Error::invalid(name("max_period"), self.max_period, "(0, inf)"));
        }
        self.var_index(model, syntax)?;
        let n = model.dim() as f64;
        let bytes = 16.0 * self.ntst as f64 * ((self.ncol as f64 + 1.0) * n).powi(2);
        crate::limits::check_memory(&name("ntst"), self.ntst, bytes, "16 ntst ((ncol + 1) n)^2 bytes for the collocation Jacobian and its LU")?;
        let mut cp = CycleContinuationParams::new(k, from.min(to), from.max(to));
        cp.arclength.take_steps(self.ds, self.ds_max, self.max_steps());
        cp.orbit.ntst = self.ntst;
        cp.orbit.ncol = self.ncol;
        cp.direction = if to > from { 1.0 } else { -1.0 };
        cp.validate(model.param_names().len()).map_err(|e| syntax.rename(e))?;
        Ok(cp)
    }

    /// Index of the state variable on the diagram's vertical axis.
    pub fn var_index(&self, model: &dyn VectorField, syntax: Syntax) -> Result<usize> {
        super::var_index(self.var.as_deref(), model, syntax)
    }

    /// Validates the request and computes the branch from the parameters `p`
    /// (the continued one set to `from`), with the equilibria on the range.
    pub fn run(&self, model: &dyn VectorField, p: &[f64], syntax: Syntax) -> Result<PeriodicRun> {
        let cp = self.params(model, syntax)?;
        // Both starts compute the diagram of equilibria on the range first:
        // its cost is the floor of the run (the cycles add to it).
        let a = crate::engine::ArclengthParams::default();
        super::announce_cost(super::CostEstimate::continuation("periodic", model, a.max_steps, a.newton_max_iter).as_ref())?;
        let mut params = p.to_vec();
        params[cp.param] = self.from;
        let diagram = full_diagram(model, &params, &ContinuationParams::new(cp.param, cp.p_min, cp.p_max));
        let (branch, start, diagram) = match self.start {
            PeriodicStart::Orbit => {
                let guess = orbit_from_trajectory(model, &model.initial_state(), &params, self.transient, self.max_period, &cp.orbit).map_err(|e| match e {
                    Error::Numerical { what, detail } => Error::numerical(
                        what,
                        format!(
                            "{detail} ({} = {} bounds the search: raise it for a longer period, or {} to let the trajectory settle first)",
                            syntax.field("max_period"),
                            self.max_period,
                            syntax.field("transient")
                        ),
                    ),
                    other => other,
                })?;
                let cycle = solve_orbit(model, &guess, &cp.orbit)?;
                let start = json!({"from": "orbit", "param": self.from, "period": cycle.orbit.period, "transient": self.transient});
                let branch = continue_cycles(model, &cycle.orbit, &cp)?;
                // The figure's equilibria are a courtesy here: a failed diagram is reported, not fatal.
                (branch, start, diagram.map_err(|e| e.to_string()))
            }
            PeriodicStart::Hopf => {
                let diagram = diagram?;
                let hopf = diagram.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).ok_or_else(|| {
                    Error::numerical(
                        "periodic cycles from a Hopf point",
                        format!(
                            "no Hopf point on the equilibrium branches in [{}, {}]; widen the range or start from an orbit ({})",
                            cp.p_min,
                            cp.p_max,
                            syntax.field("from_orbit")
                        ),
                    )
                })?;
                let mut ph = params.clone();
                ph[cp.param] = hopf.param;
                let omega = hopf.frequency.ok_or_else(|| Error::numerical("periodic cycles from a Hopf point", "the Hopf point carries no frequency"))?;
                let mut start = json!({"from": "hopf", "param": hopf.param, "frequency": omega, "lyapunov": hopf.lyapunov});
                match hopf.criticality() {
                    Some(c) => start["criticality"] = json!(c.as_str()),
                    None => {
                        start["criticality"] = Value::Null;
                        start["lyapunov_note"] = json!("the first Lyapunov coefficient could not be computed at this Hopf point");
                    }
                }
                let branch = continue_cycles_from_hopf(model, &hopf.state, &ph, omega, &cp)?;
                (branch, start, Ok(diagram))
            }
        };
        Ok(PeriodicRun { branch, start, equilibria: diagram, max_steps: cp.arclength.max_steps, target: if self.to > self.from { cp.p_max } else { cp.p_min } })
    }

    /// The request as given, with the resolved step bound: the `config` of the result.
    pub fn config_json(&self) -> Value {
        let mut v = json!({
            "param": self.param,
            "from": self.from,
            "to": self.to,
            "start": self.start.as_str(),
            "transient": self.transient,
            "max_period": self.max_period,
            "ds": self.ds,
            "ds_max": self.ds_max,
            "max_steps": self.max_steps(),
            "ntst": self.ntst,
            "ncol": self.ncol,
            "var": self.var,
        });
        if self.var.is_none() {
            v["var_note"] = json!("not given: the first state variable");
        }
        v
    }
}

/// A computed branch of cycles with its start and the equilibria on the range.
#[derive(Clone, Debug)]
pub struct PeriodicRun {
    pub branch: CycleBranch,
    /// `{"from": "hopf", "param", "frequency", "lyapunov", "criticality"}`
    /// or `{"from": "orbit", "param", "period", "transient"}`.
    pub start: Value,
    /// The equilibria on the range (`Err`: why they are missing; orbit start only).
    pub equilibria: std::result::Result<ContinuationResult, String>,
    /// The step bound the branch ran with.
    pub max_steps: usize,
    /// The end of the range the branch runs towards.
    pub target: f64,
}

impl PeriodicRun {
    /// Why the branch ended, naming the bound and the option that moves it.
    pub fn stop_note(&self, syntax: Syntax) -> String {
        let param = &self.branch.param_name;
        match self.branch.stop {
            StopReason::ParameterBound => format!("reached the end of the range, {param} = {}", self.target),
            StopReason::MaxSteps => format!(
                "stopped after {} accepted steps ({} = {}) before the end of the range {param} = {}; raise {} to go on",
                self.branch.points.len().saturating_sub(1),
                syntax.field("max_steps"),
                self.max_steps,
                self.target,
                syntax.field("max_steps")
            ),
            StopReason::StepTooSmall => format!(
                "the corrector failed at the smallest step: the branch may end here (a homoclinic orbit, where the period grows \
                 without bound) or the mesh is too coarse (raise {})",
                syntax.field("ntst")
            ),
            StopReason::Budget => "the wall-time budget (--max-seconds) ran out; the points computed so far are kept".into(),
        }
    }

    /// The result: `{"model", "crate_version", "config", "param_name",
    /// "start", "stop", "stop_note", "points": [point], "bifurcations":
    /// [point + {"kind", "index", "test_function"}], "equilibria"}` with
    /// `point = {"param", "period", "min": {name: v}, "max": {...},
    /// "stable", "n_unstable", "multipliers": [[re, im]] (by decreasing
    /// modulus), "multiplier_moduli", "trivial_multiplier" (its index)}`.
    pub fn to_json(&self, model: &dyn VectorField, request: &PeriodicRequest, syntax: Syntax) -> Value {
        let names = model.state_names();
        let mut v = self.branch.to_json(&names);
        for (j, p) in v["points"].as_array_mut().expect("points").iter_mut().enumerate() {
            add_moduli(p, &self.branch.points[j]);
        }
        for (j, b) in v["bifurcations"].as_array_mut().expect("bifurcations").iter_mut().enumerate() {
            let bif = &self.branch.bifurcations[j];
            add_moduli(b, &bif.point);
            // The test function at the reported point: near 0 where the point
            // was located, the crossing's far end where locating failed.
            let m = &bif.point.multipliers;
            let (test, what) = match bif.kind {
                CycleBifurcationKind::Lpc => (m.fold_test(), "mu - 1 for the real non-trivial multiplier mu nearest +1"),
                CycleBifurcationKind::Pd => (m.period_doubling_test(), "mu + 1 for the real multiplier mu nearest -1"),
                CycleBifurcationKind::Ns => (m.neimark_sacker_test(), "|mu| - 1 for the complex multiplier nearest the unit circle"),
            };
            b["test_function"] = json!(test);
            b["test_function_definition"] = json!(what);
            if test.is_none() {
                b["test_function_note"] = json!("no multiplier of that kind at the reported point");
            }
        }
        v["model"] = json!(model.name());
        v["crate_version"] = json!(env!("CARGO_PKG_VERSION"));
        v["config"] = request.config_json();
        v["start"] = self.start.clone();
        v["stop_note"] = json!(self.stop_note(syntax));
        match &self.equilibria {
            Ok(d) => v["equilibria"] = d.to_json(&names, &self.branch.param_name),
            Err(reason) => {
                v["equilibria"] = Value::Null;
                v["equilibria_note"] = json!(format!("the equilibria on the range could not be computed: {reason}"));
            }
        }
        v
    }
}

fn add_moduli(v: &mut Value, p: &CyclePoint) {
    v["multiplier_moduli"] = json!(p.multipliers.all.iter().map(|z| z.norm()).collect::<Vec<_>>());
    v["trivial_multiplier"] = json!(p.multipliers.trivial);
}

/// The branch's points as columns (one array per field, `min`/`max` and the
/// multipliers' real parts, imaginary parts and moduli as rows of a
/// matrix), from the JSON of [`PeriodicRun::to_json`]: what Python returns
/// as numpy arrays.
pub fn periodic_columns(v: &Value, state_names: &[String]) -> Value {
    let pts = v["points"].as_array().map(Vec::as_slice).unwrap_or_default();
    let col = |f: &dyn Fn(&Value) -> Value| Value::Array(pts.iter().map(f).collect());
    let per_var = |side: &str| Value::Object(state_names.iter().map(|n| (n.clone(), col(&|p| p[side][n].clone()))).collect());
    let part = |k: usize| col(&|p| Value::Array(p["multipliers"].as_array().map(|m| m.iter().map(|z| z[k].clone()).collect()).unwrap_or_default()));
    json!({
        "param": col(&|p| p["param"].clone()),
        "period": col(&|p| p["period"].clone()),
        "min": per_var("min"),
        "max": per_var("max"),
        "stable": col(&|p| p["stable"].clone()),
        "n_unstable": col(&|p| p["n_unstable"].clone()),
        "multipliers_re": part(0),
        "multipliers_im": part(1),
        "multiplier_moduli": col(&|p| p["multiplier_moduli"].clone()),
        "trivial_multiplier": col(&|p| p["trivial_multiplier"].clone()),
    })
}

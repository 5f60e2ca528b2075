//! `repcollapse analyze MODEL.toml periodic`: the branch of limit cycles in
//! one parameter, started from the first Hopf point of the equilibrium
//! diagram (`--from-hopf`, the default) or from the cycle the trajectory
//! from the model's initial state settles on (`--from-orbit`). Writes
//! `periodic.csv` (period, min/max of each variable, stability per cycle,
//! LPC/PD/NS rows) and returns the JSON of
//! [`CycleBranch::to_json`](crate::engine::cycles::CycleBranch::to_json).
use std::path::Path;

use serde_json::{json, Value};

use crate::engine::{
    continue_cycles, continue_cycles_from_hopf, full_diagram, orbit_from_trajectory, solve_orbit, BifurcationKind, ContinuationParams,
    CycleContinuationParams, VectorField,
};
use crate::error::{Error, Result};
use crate::report::atomic::write_atomic;

/// Options of the `periodic` verb (validated here, by flag name).
pub struct PeriodicRequest {
    pub param: usize,
    pub from: f64,
    pub to: f64,
    pub from_orbit: bool,
    pub ds: f64,
    pub ds_max: f64,
    pub max_steps: usize,
    pub ntst: usize,
    pub ncol: usize,
    /// `--from-orbit`: integration time discarded before the period is cut.
    pub transient: f64,
}

pub fn run(model: &dyn VectorField, p: &[f64], req: &PeriodicRequest, out: &Path) -> Result<Value> {
    for (flag, v) in [("--from", req.from), ("--to", req.to)] {
        if !v.is_finite() {
            return Err(Error::invalid(flag, v, "a finite number"));
        }
    }
    if req.from == req.to {
        return Err(Error::invalid("--to", req.to, format!("a value different from --from = {}", req.from)));
    }
    if !(req.transient >= 0.0 && req.transient.is_finite()) {
        return Err(Error::invalid("--transient", req.transient, "[0, inf)"));
    }
    let (lo, hi) = (req.from.min(req.to), req.from.max(req.to));
    let mut cp = CycleContinuationParams::new(req.param, lo, hi);
    cp.ds = req.ds;
    cp.ds_max = req.ds_max;
    cp.ds_min = cp.ds_min.min(req.ds);
    cp.max_steps = req.max_steps;
    cp.orbit.ntst = req.ntst;
    cp.orbit.ncol = req.ncol;
    cp.direction = if req.to > req.from { 1.0 } else { -1.0 };
    cp.validate(model.param_names().len()).map_err(|e| match e {
        Error::InvalidParameter { field, value, range } => Error::InvalidParameter { field: format!("--{}", field.replace('_', "-")), value, range },
        other => other,
    })?;
    let mut params = p.to_vec();
    params[req.param] = req.from;
    let (branch, start) = if req.from_orbit {
        let x0 = model.initial_state();
        let guess = orbit_from_trajectory(model, &x0, &params, req.transient, req.transient + 1e4, &cp.orbit)?;
        let cycle = solve_orbit(model, &guess, &cp.orbit)?;
        (continue_cycles(model, &cycle.orbit, &cp)?, json!({"from": "orbit", "param": req.from, "period": cycle.orbit.period}))
    } else {
        let diagram = full_diagram(model, &params, &ContinuationParams::new(req.param, lo, hi))?;
        let hopf = diagram.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).ok_or_else(|| {
            Error::numerical("periodic --from-hopf", format!("no Hopf point on the equilibrium branches in [{lo}, {hi}]; try --from-orbit"))
        })?;
        let mut ph = params.clone();
        ph[req.param] = hopf.param;
        let omega = hopf.frequency.expect("Hopf points carry their frequency");
        let start = json!({"from": "hopf", "param": hopf.param, "frequency": omega, "lyapunov": hopf.lyapunov});
        (continue_cycles_from_hopf(model, &hopf.state, &ph, omega, &cp)?, start)
    };
    let names = model.state_names();
    let mut csv = Vec::new();
    branch.write_csv(&mut csv, &names).map_err(|e| Error::Write { path: out.join("periodic.csv"), reason: e.to_string() })?;
    write_atomic(&out.join("periodic.csv"), &csv)?;
    let mut v = branch.to_json(&names);
    v["start"] = start;
    v["model"] = json!(model.name());
    Ok(v)
}

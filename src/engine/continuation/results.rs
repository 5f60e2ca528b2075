//! Results of one-parameter continuation: branches of equilibria with their
//! stability and the special points located on them, written as JSON or CSV.
use std::io::Write;

use faer::c64;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::engine::continuation::test_functions::Bifurcation;

/// One computed equilibrium of a branch.
#[derive(Clone, Debug)]
pub struct BranchPoint {
    /// Value of the continued parameter.
    pub param: f64,
    pub state: Vec<f64>,
    /// All eigenvalues have `Re < -eps` (linear asymptotic stability).
    pub stable: bool,
    /// Number of eigenvalues with `Re > eps` (see
    /// [`stability`](crate::engine::continuation::test_functions::stability)).
    pub n_unstable: usize,
    /// Jacobian eigenvalues, sorted by decreasing real part.
    pub eigenvalues: Vec<c64>,
}

/// Why a branch (or a boundary curve) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Reached `p_min` or `p_max` (the last point lies on the bound).
    ParameterBound,
    /// `max_steps` accepted steps.
    MaxSteps,
    /// The corrector failed even with `ds = ds_min`.
    StepTooSmall,
    /// The wall-time budget (`max_seconds`) ran out.
    Budget,
}

impl StopReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            StopReason::ParameterBound => "parameter-bound",
            StopReason::MaxSteps => "max-steps",
            StopReason::StepTooSmall => "step-too-small",
            StopReason::Budget => "budget",
        }
    }
}

/// A continued branch of equilibria, in arclength order.
#[derive(Clone, Debug)]
pub struct Branch {
    pub points: Vec<BranchPoint>,
    pub stop: StopReason,
}

/// Branches and the special points located on them.
#[derive(Clone, Debug)]
pub struct ContinuationResult {
    pub branches: Vec<Branch>,
    pub bifurcations: Vec<Bifurcation>,
    /// Set when the spectra of a large system were not computed: the
    /// points' `stable` and `n_unstable` are then unknown (null in JSON).
    pub spectrum_note: Option<String>,
}

fn state_object(names: &[String], state: &[f64]) -> Value {
    let mut m = Map::new();
    for (i, v) in state.iter().enumerate() {
        let key = names.get(i).cloned().unwrap_or_else(|| format!("x{i}"));
        m.insert(key, json!(v));
    }
    Value::Object(m)
}

impl ContinuationResult {
    /// JSON document
    /// `{"param_name", "branches": [{"stop", "points": [{"param", "state": {name: value},
    /// "stable", "n_unstable"}]}], "bifurcations": [{"kind", "param", "state",
    /// "branch", "index", "frequency"?}]}`.
    pub fn to_json(&self, state_names: &[String], param_name: &str) -> Value {
        let unknown = self.spectrum_note.is_some();
        let branches: Vec<Value> = self
            .branches
            .iter()
            .map(|b| {
                let points: Vec<Value> = b
                    .points
                    .iter()
                    .map(|p| {
                        json!({
                            "param": p.param,
                            "state": state_object(state_names, &p.state),
                            "stable": if unknown { Value::Null } else { json!(p.stable) },
                            "n_unstable": if unknown { Value::Null } else { json!(p.n_unstable) },
                        })
                    })
                    .collect();
                json!({ "stop": b.stop.as_str(), "points": points })
            })
            .collect();
        let bifs: Vec<Value> = self
            .bifurcations
            .iter()
            .map(|b| {
                let mut v = json!({
                    "kind": b.kind.as_str(),
                    "param": b.param,
                    "state": state_object(state_names, &b.state),
                    "branch": b.branch,
                    "index": b.index,
                });
                if let Some(w) = b.frequency {
                    v["frequency"] = json!(w);
                }
                if let (Some(l1), Some(c)) = (b.lyapunov, b.criticality()) {
                    v["lyapunov"] = json!(l1);
                    v["criticality"] = json!(c.as_str());
                }
                v
            })
            .collect();
        let mut doc = json!({ "param_name": param_name, "branches": branches, "bifurcations": bifs });
        if let Some(note) = &self.spectrum_note {
            doc["spectrum_note"] = json!(note);
        }
        doc
    }

    /// CSV table with header `branch,kind,index,<param_name>,<state names>,stable,n_unstable,frequency`.
    /// Branch points have `kind = point`; each located special point follows
    /// the branch point it comes after, with its kind and empty stability
    /// columns (stability is not defined at the critical point).
    pub fn write_csv(&self, w: &mut dyn Write, state_names: &[String], param_name: &str) -> std::io::Result<()> {
        write!(w, "branch,kind,index,{param_name}")?;
        for s in state_names {
            write!(w, ",{s}")?;
        }
        writeln!(w, ",stable,n_unstable,frequency")?;
        let row = |w: &mut dyn Write, state: &[f64]| -> std::io::Result<()> {
            for v in state {
                write!(w, ",{v}")?;
            }
            Ok(())
        };
        for (bi, b) in self.branches.iter().enumerate() {
            for (i, p) in b.points.iter().enumerate() {
                write!(w, "{bi},point,{i},{}", p.param)?;
                row(w, &p.state)?;
                writeln!(w, ",{},{},", p.stable, p.n_unstable)?;
                for s in self.bifurcations.iter().filter(|s| s.branch == bi && s.index == i) {
                    write!(w, "{bi},{},{i},{}", s.kind.as_str(), s.param)?;
                    row(w, &s.state)?;
                    match s.frequency {
                        Some(f) => writeln!(w, ",,,{f}")?,
                        None => writeln!(w, ",,,")?,
                    }
                }
            }
        }
        Ok(())
    }
}

//! `repcollapse.Model`: a symbolic model file (the language of
//! `repcollapse analyze`) with the four analyses of the CLI's `analyze`
//! verbs. Each method makes the same library calls as `src/cli/analyze.rs`
//! with the same defaults (checked by the CLI-parity tests in
//! python/tests), and returns the CLI's JSON as dicts and numpy arrays;
//! nothing is written to disk.
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use repcollapse::cli::analyze::{fixed_points_report_json, param_index};
use repcollapse::engine::{boundary_analysis, default_box, full_diagram};
use repcollapse::engine::BifurcationKind;
use repcollapse::engine::BoundaryParams;
use repcollapse::engine::ContinuationParams;
use repcollapse::engine::{find_fixed_points_report, integrate_partial, FixedPointOptions, Grid, IntegrateOptions, Method, VectorField};
use repcollapse::symbolic::SymbolicModel;
use repcollapse::Error;
use serde_json::json;

use crate::convert::{to_py, trajectory};
use crate::guard::{interruptible, quick, to_pyerr};

/// A model file `dx/dt = F(x; p)`: parsed, differentiated and compiled once.
///
/// Build it with `Model.from_file(path, **params)` or
/// `Model.from_string(text, **params)`; keyword arguments override a
/// parameter or an initial value, as `--set name=value` does in the CLI.
#[pyclass(module = "repcollapse._native", name = "Model", frozen)]
pub struct Model {
    inner: SymbolicModel,
}

fn overrides(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, f64)>> {
    let mut out = Vec::new();
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let key: String = k.extract()?;
            let value: f64 = v.extract().map_err(|_| {
                to_pyerr(Error::invalid(&key, v.repr().map(|r| r.to_string()).unwrap_or_default(), "a real number"))
            })?;
            out.push((key, value));
        }
    }
    Ok(out)
}

#[pymethods]
impl Model {
    /// Reads a model file (TOML with [parameters], [state], [equations],
    /// optional [observables]); `**params` override parameters or initial values.
    #[staticmethod]
    #[pyo3(signature = (path, **params))]
    fn from_file(py: Python<'_>, path: PathBuf, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let ov = overrides(params)?;
        let inner = quick(py, move || SymbolicModel::from_path(&path)?.with_overrides(&ov))?;
        Ok(Model { inner })
    }

    /// Parses a model file given as text; `source` names it in error messages.
    #[staticmethod]
    #[pyo3(signature = (text, source = "<string>", **params))]
    fn from_string(py: Python<'_>, text: &str, source: &str, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let ov = overrides(params)?;
        let inner = quick(py, move || SymbolicModel::from_toml_str(text, source)?.with_overrides(&ov))?;
        Ok(Model { inner })
    }

    /// A copy with some parameters or initial values changed.
    #[pyo3(signature = (**params))]
    fn with_params(&self, py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let ov = overrides(params)?;
        let inner = quick(py, || self.inner.clone().with_overrides(&ov))?;
        Ok(Model { inner })
    }

    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }
    #[getter]
    fn description(&self) -> Option<&str> {
        self.inner.description()
    }
    #[getter]
    fn state_names(&self) -> Vec<String> {
        self.inner.state_names()
    }
    #[getter]
    fn param_names(&self) -> Vec<String> {
        self.inner.param_names()
    }
    /// Parameter values by name.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.inner.param_names().iter().zip(self.inner.default_params()) {
            d.set_item(k, v)?;
        }
        Ok(d)
    }
    /// Initial state by variable name.
    #[getter]
    fn initial_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.inner.state_names().iter().zip(self.inner.initial_state()) {
            d.set_item(k, v)?;
        }
        Ok(d)
    }
    /// The model file as TOML text (with the current values).
    fn to_toml(&self) -> String {
        self.inner.to_toml()
    }
    fn __repr__(&self) -> String {
        format!("Model({:?}, state={:?}, params={:?})", self.inner.name(), self.inner.state_names(), self.inner.param_names())
    }

    /// Adaptive Dormand-Prince integration from the initial state (CLI:
    /// `analyze MODEL integrate`). Output at `points` times, linear on
    /// [0, t_max] or logarithmic from `log_from`. Returns
    /// `{"model", "t", "states": {name: array}, "state_matrix": array (len(t), dim), "options", "stats"}`.
    /// A run that stops early raises `RuntimeError` with the CLI's reason and advice.
    #[pyo3(signature = (t_max = 50.0, *, rtol = 1e-8, atol = 1e-10, points = 400, log_from = None, method = "auto"))]
    fn integrate<'py>(
        &self,
        py: Python<'py>,
        t_max: f64,
        rtol: f64,
        atol: f64,
        points: usize,
        log_from: Option<f64>,
        method: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let method = match method {
            "dop853" => Method::Dop853,
            "dopri5" => Method::Dopri5,
            "radau5" => Method::Radau5,
            "auto" => Method::Auto,
            other => return Err(to_pyerr(Error::invalid("method", other, "one of dop853 | dopri5 | radau5 | auto"))),
        };
        let grid = match log_from {
            Some(t_min) => Grid::Log { t_min, points },
            None => Grid::Linear { points },
        };
        let opts = IntegrateOptions { method, rtol, atol, t_max, grid, max_steps: 10_000_000, max_seconds: repcollapse::limits::remaining_seconds() };
        let model = self.inner.clone();
        let opts2 = opts.clone();
        let traj = interruptible(
            py,
            move || {
                let run = integrate_partial(&model, &model.initial_state(), &model.default_params(), &opts2)?;
                match run.stop {
                    // The CLI's message, without its clause about the files it wrote (Python writes none).
                    Some(stop) => Err(stop.to_error(&model.name(), opts2.method, "")),
                    None => Ok(run.trajectory),
                }
            },
            None,
        )?;
        let stats = to_py(py, &json!(traj.stats))?;
        let out = trajectory(py, traj)?;
        out.set_item("stats", stats)?;
        out.set_item("model", self.inner.name())?;
        // As the CLI records it: the budget as given (or "none"), not what
        // was left of it when the call started.
        let mut options = json!(opts);
        options["max_seconds"] = repcollapse::limits::max_seconds_json();
        out.set_item("options", to_py(py, &options)?)?;
        Ok(out)
    }

    /// Every fixed point found by multistart Newton, with eigenvalues,
    /// stability, zero modes and observables (CLI: `analyze MODEL fixed-points`).
    /// `search_box` is the half-width of the random-start box (default
    /// 2 max(1, |initial state|, |parameters|, min(1/|parameters|, 1e4))).
    #[pyo3(signature = (*, starts = 32, seed = 0, search_box = None))]
    fn fixed_points<'py>(&self, py: Python<'py>, starts: usize, seed: u64, search_box: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let model = self.inner.clone();
        let value = interruptible(
            py,
            move || {
                let p = model.default_params();
                let half = search_box.unwrap_or_else(|| default_box(&model.initial_state(), &p));
                if !(half > 0.0 && half.is_finite()) {
                    return Err(Error::invalid("--search-box", half, "(0, inf)"));
                }
                let bounds = vec![(-half, half); model.dim()];
                let search = find_fixed_points_report(&model, &p, &FixedPointOptions { starts, seed, bounds, ..Default::default() })?;
                Ok(fixed_points_report_json(&model, &search))
            },
            None,
        )?;
        to_py(py, &value)
    }

    /// Pseudo-arclength continuation of every branch of equilibria in
    /// `param` over [start, stop], with fold, branch and Hopf points (CLI:
    /// `analyze MODEL continue`). Each branch's points come back as columns.
    #[pyo3(signature = (param, start, stop, *, ds = 0.01, ds_max = 0.1, max_steps = 2000))]
    fn continue_<'py>(
        &self,
        py: Python<'py>,
        param: String,
        start: f64,
        stop: f64,
        ds: f64,
        ds_max: f64,
        max_steps: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let model = self.inner.clone();
        let value = interruptible(
            py,
            move || {
                let k = param_index(&model, &param)?;
                let mut cp = ContinuationParams::new(k, start.min(stop), start.max(stop));
                cp.arclength.ds = ds;
                cp.arclength.ds_max = ds_max;
                cp.arclength.max_steps = max_steps;
                let result = full_diagram(&model, &model.default_params(), &cp)?;
                let mut v = result.to_json(&model.state_names(), &param);
                v["model"] = json!(model.name());
                Ok(v)
            },
            None,
        )?;
        to_py(py, &value)
    }

    /// Two-parameter continuation of a fold or Hopf point (a phase boundary)
    /// in (param, param2), checked against a `grid` x `grid` brute-force
    /// classification (CLI: `analyze MODEL boundary`). `kind` is "fold",
    /// "hopf" or None (the first special point found).
    /// The grid check runs only with `grid_check=True`, as with the CLI's `--grid-check`.
    #[pyo3(signature = (param, start, stop, param2, start2, stop2, *, kind = None, grid_check = false, grid = 24))]
    #[allow(clippy::too_many_arguments)]
    fn boundary<'py>(
        &self,
        py: Python<'py>,
        param: String,
        start: f64,
        stop: f64,
        param2: String,
        start2: f64,
        stop2: f64,
        kind: Option<&str>,
        grid_check: bool,
        grid: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let grid = if grid_check { grid } else { 0 };
        let kind = match kind {
            None => None,
            Some("fold") => Some(BifurcationKind::Fold),
            Some("hopf") => Some(BifurcationKind::Hopf),
            Some(other) => return Err(to_pyerr(Error::invalid("kind", other, "one of fold | hopf"))),
        };
        let model = self.inner.clone();
        let value = interruptible(
            py,
            move || {
                let (k1, k2) = (param_index(&model, &param)?, param_index(&model, &param2)?);
                let bp = BoundaryParams {
                    p1_min: start.min(stop),
                    p1_max: start.max(stop),
                    ..BoundaryParams::new(k1, k2, start2.min(stop2), start2.max(stop2))
                };
                let report = boundary_analysis(&model, &model.default_params(), &bp, kind, grid)?;
                let mut v = report.to_json(&model.state_names(), &param, &param2);
                v["model"] = json!(model.name());
                Ok(v)
            },
            None,
        )?;
        to_py(py, &value)
    }
}

//! `repcollapse.Model`: a symbolic model file (the language of
//! `repcollapse analyze`) with the four analyses of the CLI's `analyze`
//! verbs. Each method builds the same request as `src/cli/analyze.rs`
//! (`src/request/`: one place for defaults and validation; checked by the
//! CLI-parity tests in python/tests), and returns the CLI's JSON as dicts and numpy arrays;
//! nothing is written to disk.
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use repcollapse::engine::{integrate_partial, ArclengthParams, VectorField};
use repcollapse::request::{BoundaryRequest, ContinueRequest, FixedPointsRequest, IntegrateRequest, Syntax};
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
    /// Defaults are the request layer's (`src/request/integrate.rs`), as for the CLI.
    #[pyo3(signature = (t_max = IntegrateRequest::default().t_max, *, rtol = IntegrateRequest::default().rtol, atol = IntegrateRequest::default().atol, points = IntegrateRequest::default().points, log_from = None, method = "auto", max_steps = IntegrateRequest::default().max_steps))]
    #[allow(clippy::too_many_arguments)]
    fn integrate<'py>(
        &self,
        py: Python<'py>,
        t_max: f64,
        rtol: f64,
        atol: f64,
        points: usize,
        log_from: Option<f64>,
        method: &str,
        max_steps: u32,
    ) -> PyResult<Bound<'py, PyDict>> {
        let method = IntegrateRequest::method_named(method)
            .ok_or_else(|| to_pyerr(Error::invalid("method", method, "one of dop853 | dopri5 | radau5 | auto")))?;
        let opts = IntegrateRequest { t_max, rtol, atol, points, log_from, method, max_steps }.options();
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
    #[pyo3(signature = (*, starts = FixedPointsRequest::default().starts, seed = FixedPointsRequest::default().seed, search_box = None))]
    fn fixed_points<'py>(&self, py: Python<'py>, starts: usize, seed: u64, search_box: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let model = self.inner.clone();
        let request = FixedPointsRequest { starts, seed, search_box };
        let value = interruptible(py, move || request.run(&model, &model.default_params()).map_err(|e| Syntax::Python.rename(e)), None)?;
        to_py(py, &value)
    }

    /// Pseudo-arclength continuation of every branch of equilibria in
    /// `param` over [start, stop], with fold, branch and Hopf points (CLI:
    /// `analyze MODEL continue`). Each branch's points come back as columns.
    #[pyo3(signature = (param, start, stop, *, ds = ArclengthParams::default().ds, ds_max = ArclengthParams::default().ds_max, max_steps = ArclengthParams::default().max_steps))]
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
        let request = ContinueRequest { ds, ds_max, max_steps, ..ContinueRequest::new(param, start, stop) };
        let value = interruptible(
            py,
            move || {
                let result = request.run(&model, &model.default_params(), Syntax::Python)?;
                let mut v = result.to_json(&model.state_names(), &request.param);
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
    #[pyo3(signature = (param, start, stop, param2, start2, stop2, *, kind = None, grid_check = false, grid = BoundaryRequest::DEFAULT_GRID))]
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
        let kind = match kind {
            None => None,
            Some(name) => Some(BoundaryRequest::kind_named(name).ok_or_else(|| to_pyerr(Error::invalid("kind", name, "one of fold | hopf")))?),
        };
        let request = BoundaryRequest { kind, grid_check, grid, ..BoundaryRequest::new(param, start, stop, param2, start2, stop2) };
        let model = self.inner.clone();
        let value = interruptible(
            py,
            move || {
                let report = request.run(&model, &model.default_params(), Syntax::Python)?;
                let mut v = report.to_json(&model.state_names(), &request.param, &request.param2);
                v["model"] = json!(model.name());
                Ok(v)
            },
            None,
        )?;
        to_py(py, &value)
    }
}

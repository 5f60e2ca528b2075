//! `repcollapse.Model`: a symbolic model file (the language of
//! `repcollapse analyze`) with the five analyses of the CLI's `analyze`
//! verbs. Each method builds the same request as `src/cli/analyze.rs`
//! (`src/request/`: one place for defaults and validation; checked by the
//! CLI-parity tests in python/tests), and returns the CLI's JSON as dicts and numpy arrays;
//! nothing is written to disk.
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use repcollapse::engine::{integrate_partial, ArclengthParams, VectorField};
use repcollapse::request::{periodic_columns, BoundaryRequest, ContinueRequest, FixedPointsRequest, IntegrateRequest, PeriodicRequest, PeriodicStart, Syntax};
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
    #[pyo3(signature = (t_max = IntegrateRequest::default().t_max, *, rtol = IntegrateRequest::default().rtol, atol = IntegrateRequest::default().atol, points = IntegrateRequest::default().points, log_from = None, method = "auto", max_steps = None))]
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
        max_steps: Option<u32>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let method = IntegrateRequest::method_named(method)
            .ok_or_else(|| to_pyerr(Error::invalid("method", method, "one of dop853 | dopri5 | radau5 | auto")))?;
        let opts = IntegrateRequest { t_max, rtol, atol, points, log_from, method, max_steps }.options(self.inner.tape_sizes().0);
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
    #[pyo3(signature = (*, starts = None, seed = FixedPointsRequest::default().seed, search_box = None))]
    fn fixed_points<'py>(&self, py: Python<'py>, starts: Option<usize>, seed: u64, search_box: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
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
                repcollapse::limits::stop_if_cancelled("continuation")?;
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
                repcollapse::limits::stop_if_cancelled("boundary")?;
                let mut v = report.to_json(&model.state_names(), &request.param, &request.param2);
                v["model"] = json!(model.name());
                Ok(v)
            },
            None,
        )?;
        to_py(py, &value)
    }

    /// The branch of limit cycles in `param` over [start, stop] (CLI:
    /// `analyze MODEL periodic`), from the first Hopf point of the
    /// equilibria on the range (`from_hopf`, the default) or from the cycle
    /// the trajectory from the initial state settles on at `start`
    /// (`from_orbit=True`). Returns the CLI's JSON with the cycles also as
    /// columns: `param`, `period`, `min`/`max` ({name: array}), `stable`,
    /// `n_unstable`, `multipliers` (complex, one row per cycle, by
    /// decreasing modulus), `multiplier_moduli`, `trivial_multiplier`;
    /// the LPC/PD/NS points in `bifurcations`, and `points`, `start`,
    /// `stop`, `stop_note`, `equilibria`, `config`. Defaults and validation
    /// are the request layer's (`src/request/periodic.rs`), as for the CLI;
    /// `max_steps=None` is `max(200, 4 ceil(|stop - start| / ds_max))`.
    #[pyo3(signature = (param, start, stop, *, from_hopf = None, from_orbit = false, transient = PeriodicRequest::DEFAULT_TRANSIENT, max_period = PeriodicRequest::DEFAULT_MAX_PERIOD, ds = PeriodicRequest::new("", 0.0, 1.0).ds, ds_max = PeriodicRequest::new("", 0.0, 1.0).ds_max, max_steps = None, ntst = PeriodicRequest::new("", 0.0, 1.0).ntst, ncol = PeriodicRequest::new("", 0.0, 1.0).ncol, var = None))]
    #[allow(clippy::too_many_arguments)]
    fn periodic_orbits<'py>(
        &self,
        py: Python<'py>,
        param: String,
        start: f64,
        stop: f64,
        from_hopf: Option<bool>,
        from_orbit: bool,
        transient: f64,
        max_period: f64,
        ds: f64,
        ds_max: f64,
        max_steps: Option<usize>,
        ntst: usize,
        ncol: usize,
        var: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // One start: `from_orbit=True` alone, or the Hopf default.
        let origin = match (from_hopf, from_orbit) {
            (Some(true), true) => return Err(to_pyerr(Error::invalid("from_orbit", true, "False with from_hopf=True (one start)"))),
            (Some(false), false) => return Err(to_pyerr(Error::invalid("from_hopf", false, "True unless from_orbit=True (one start)"))),
            (_, true) => PeriodicStart::Orbit,
            (_, false) => PeriodicStart::Hopf,
        };
        let request =
            PeriodicRequest { start: origin, transient, max_period, ds, ds_max, max_steps, ntst, ncol, var, ..PeriodicRequest::new(param, start, stop) };
        let model = self.inner.clone();
        let value = interruptible(
            py,
            move || {
                let run = request.run(&model, &model.default_params(), Syntax::Python)?;
                repcollapse::limits::stop_if_cancelled("periodic orbits")?;
                let mut v = run.to_json(&model, &request, Syntax::Python);
                let columns = periodic_columns(&v, &model.state_names());
                if let (Some(out), serde_json::Value::Object(cols)) = (v.as_object_mut(), columns) {
                    out.extend(cols.into_iter().map(|(k, c)| (format!("_column_{k}"), c)));
                }
                Ok(v)
            },
            None,
        )?;
        let out = to_py(py, &value)?.cast_into::<PyDict>()?;
        // Columns under their own names (to_py made them numpy arrays); the
        // multipliers as one complex matrix, one row per cycle.
        for key in ["param", "period", "min", "max", "stable", "n_unstable", "multiplier_moduli", "trivial_multiplier", "multipliers_re", "multipliers_im"] {
            let col_key = format!("_column_{key}");
            let c = out.get_item(&col_key)?.expect("every column is set");
            out.del_item(&col_key)?;
            out.set_item(key, c)?;
        }
        let (re, im) = (out.get_item("multipliers_re")?.expect("set"), out.get_item("multipliers_im")?.expect("set"));
        out.del_item("multipliers_re")?;
        out.del_item("multipliers_im")?;
        let j = pyo3::types::PyComplex::from_doubles(py, 0.0, 1.0);
        out.set_item("multipliers", re.add(im.mul(j)?)?)?;
        Ok(out.into_any())
    }
}

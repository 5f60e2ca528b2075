//! The built-in models and the study runner, through `repcollapse::registry`
//! exactly as the CLI's `theory`, `simulate`, `export` and `run` reach them.
//! Keyword arguments become `config::Overrides` (what `--set key=value`
//! becomes in the CLI), so validation, defaults and messages are the
//! library's.
use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use repcollapse::config::{schema_markdown, Kind, Overrides};
use repcollapse::registry::{self, RunOptions};
use repcollapse::study::runner::{run_path, StudyOutput};

use crate::convert::to_py;
use crate::guard::{interruptible, quick};

/// A Python value as the TOML value `--set key=<value>` would have given.
fn toml_value(key: &str, v: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    // bool before int: Python's bool is a subclass of int.
    if v.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(toml::Value::Integer(v.extract()?));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(v.extract()?));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(v.extract()?));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let items: PyResult<Vec<toml::Value>> = v.try_iter()?.map(|x| toml_value(key, &x?)).collect();
        return Ok(toml::Value::Array(items?));
    }
    // numpy scalars and other number-likes: integers via __index__, reals via __float__.
    if v.hasattr("__index__")? {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(toml::Value::Integer(i));
        }
    }
    if let Ok(path) = v.extract::<PathBuf>() {
        return Ok(toml::Value::String(path.to_string_lossy().into_owned()));
    }
    if let Ok(x) = v.extract::<f64>() {
        return Ok(toml::Value::Float(x));
    }
    Err(PyValueError::new_err(
        repcollapse::Error::invalid(key, v.repr()?.to_string(), "a number, a string, a boolean or a list of them").to_string(),
    ))
}

/// Keyword arguments in the order given, as the library's overrides.
fn overrides(params: Option<&Bound<'_, PyDict>>) -> PyResult<Overrides> {
    let mut pairs = Vec::new();
    if let Some(d) = params {
        for (k, v) in d.iter() {
            let key: String = k.extract()?;
            let value = toml_value(&key, &v)?;
            pairs.push((key, value));
        }
    }
    Ok(Overrides(pairs))
}

/// `theory(model, params)`: the reduced theory of one configuration, the
/// JSON of `repcollapse theory <model> --json`. Runs on a worker thread like
/// `simulate`: some theories integrate ODEs for a second or more (Model T),
/// and Ctrl-C must reach them; the thread costs microseconds a call (see the
/// Python benchmark in `docs/benchmarks.md`).
#[pyfunction]
#[pyo3(signature = (model, params = None))]
pub fn theory<'py>(py: Python<'py>, model: &str, params: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
    let ov = overrides(params)?;
    let entry = quick(py, || registry::model(model))?;
    let out = interruptible(py, move || (entry.theory)(&ov, &RunOptions { progress: false }), None)?;
    to_py(py, &out.json)
}

/// `simulate(model, params, progress)`: the microscopic ensemble against its
/// theory, the JSON of `repcollapse simulate <model> --json`. Runs on a
/// worker thread; Ctrl-C interrupts; `progress(position, length, message)`
/// is called as the ensemble advances.
#[pyfunction]
#[pyo3(signature = (model, params = None, progress = None))]
pub fn simulate<'py>(
    py: Python<'py>,
    model: &str,
    params: Option<&Bound<'py, PyDict>>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let ov = overrides(params)?;
    let entry = quick(py, || registry::model(model))?;
    let opts = RunOptions { progress: progress.is_some() };
    let out = interruptible(py, move || (entry.simulate)(&ov, &opts), progress.as_ref())?;
    to_py(py, &out.json)
}

/// `export(model, params)`: the model's reduced ODE as model-file text.
#[pyfunction]
#[pyo3(signature = (model, params = None))]
pub fn export(py: Python<'_>, model: &str, params: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    let ov = overrides(params)?;
    quick(py, || (registry::model(model)?.export)(&ov))
}

fn study_dict<'py>(py: Python<'py>, o: &StudyOutput, out: &std::path::Path) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &o.name)?;
    d.set_item("title", &o.title)?;
    d.set_item("dir", out.join(&o.name))?;
    d.set_item("summary", to_py(py, &o.summary)?)?;
    d.set_item("markdown", &o.markdown)?;
    Ok(d)
}

/// `run_study(path, out, progress)`: a study file, or every study file in a
/// folder, into `out` (figures, CSV, `summary.json`, `report.md`), as
/// `repcollapse run PATH --out OUT`. Returns one dict per study.
#[pyfunction]
#[pyo3(signature = (path, out, progress = None))]
pub fn run_study<'py>(py: Python<'py>, path: PathBuf, out: PathBuf, progress: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyList>> {
    let show = progress.is_some();
    let out2 = out.clone();
    let outputs = interruptible(py, move || run_path(&path, &out2, show, registry::study_kinds()), progress.as_ref())?;
    let list = PyList::empty(py);
    for o in &outputs {
        list.append(study_dict(py, o, &out)?)?;
    }
    Ok(list)
}

/// The registry's models with their parameter schemas:
/// `[{name, about, schema_markdown, params: [{name, type, range, default, choices, doc}]}]`.
/// The Python layer builds docstrings and the type stubs from this.
#[pyfunction]
pub fn models(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for m in registry::models() {
        let schema = (m.schema)();
        let params = PyList::empty(py);
        for p in schema {
            let d = PyDict::new(py);
            let (ty, choices): (&str, Option<Vec<&str>>) = match p.kind {
                Kind::Int { .. } => ("int", None),
                Kind::Real { .. } => ("float", None),
                Kind::Choice(names) => ("choice", Some(names.to_vec())),
                Kind::Text => ("str", None),
            };
            let default: toml::Table = toml::from_str(&format!("v = {}", p.default))
                .map_err(|e| PyValueError::new_err(format!("schema default of `{}`: {e}", p.name)))?;
            let default = serde_json::to_value(&default["v"]).unwrap_or_default();
            d.set_item("name", p.name)?;
            d.set_item("type", ty)?;
            d.set_item("range", p.kind.range_text())?;
            d.set_item("default", to_py(py, &default)?)?;
            d.set_item("choices", choices)?;
            d.set_item("doc", p.doc)?;
            params.append(d)?;
        }
        let d = PyDict::new(py);
        d.set_item("name", m.name)?;
        d.set_item("about", m.about)?;
        d.set_item("schema_markdown", schema_markdown(schema))?;
        d.set_item("params", params)?;
        list.append(d)?;
    }
    Ok(list)
}

/// The study kinds a study file may name (`study = "<kind>"`).
#[pyfunction]
pub fn study_kinds() -> Vec<&'static str> {
    registry::study_kinds().iter().map(|k| k.name).collect()
}

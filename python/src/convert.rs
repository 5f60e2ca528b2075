//! Results to Python objects. The library returns its results as JSON
//! values (the same values the CLI prints with `--json`); here they become
//! dicts, lists and numpy arrays:
//!
//! - a list of numbers becomes a 1-D array (`int64` if every entry is an
//!   integer, else `float64`; `null`, which is how JSON spells a NaN, becomes
//!   NaN), a list of booleans a `bool` array, a list of equal-length number
//!   lists a 2-D array, a list of `{re, im}` pairs a `complex128` array;
//! - a list of records with the same keys whose every field is such a column
//!   of numbers or booleans (a trajectory: one record per output time)
//!   becomes a dict of columns,
//!   `[{t: 0, x: 1}, {t: 1, x: 2}]` -> `{t: array([0, 1]), x: array([1, 2])}`,
//!   recursively for nested records;
//! - anything else keeps its JSON shape: in particular a list of records
//!   with a text field (fixed points, bifurcation events) stays a list of dicts.
//!
//! Every array is built from a Rust `Vec` that numpy then owns (no element
//! passes through a Python object).
use numpy::ndarray::Array2;
use numpy::{Complex64, IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

/// Converts a JSON value as described in the module documentation.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any(),
            None => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let refs: Vec<&Value> = items.iter().collect();
            match column(py, &refs)? {
                Some(c) => c,
                None => {
                    let list = PyList::empty(py);
                    for item in items {
                        list.append(to_py(py, item)?)?;
                    }
                    list.into_any()
                }
            }
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, x) in map {
                dict.set_item(k, to_py(py, x)?)?;
            }
            dict.into_any()
        }
    })
}

fn is_number_or_null(v: &Value) -> bool {
    v.is_number() || v.is_null()
}

fn as_f64(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn is_complex(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.len() == 2
        && m.get("re").is_some_and(is_number_or_null) && m.get("im").is_some_and(is_number_or_null))
}

/// The items as one array-like column, or `None` if they do not form one.
fn column<'py>(py: Python<'py>, items: &[&Value]) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(first) = items.first() else { return Ok(None) };
    if items.iter().all(|v| is_number_or_null(v)) && items.iter().any(|v| v.is_number()) {
        if items.iter().all(|v| v.is_i64()) {
            let data: Vec<i64> = items.iter().map(|v| v.as_i64().expect("checked")).collect();
            return Ok(Some(PyArray1::from_vec(py, data).into_any()));
        }
        let data: Vec<f64> = items.iter().map(|v| as_f64(v)).collect();
        return Ok(Some(PyArray1::from_vec(py, data).into_any()));
    }
    if items.iter().all(|v| v.is_boolean()) {
        let data: Vec<bool> = items.iter().map(|v| v.as_bool().expect("checked")).collect();
        return Ok(Some(PyArray1::from_vec(py, data).into_any()));
    }
    if items.iter().all(|v| is_complex(v)) {
        let data: Vec<Complex64> = items.iter().map(|v| Complex64::new(as_f64(&v["re"]), as_f64(&v["im"]))).collect();
        return Ok(Some(PyArray1::from_vec(py, data).into_any()));
    }
    if let Value::Array(row0) = first {
        let width = row0.len();
        let rectangular = width > 0
            && items.iter().all(|v| matches!(v, Value::Array(r) if r.len() == width && r.iter().all(is_number_or_null)));
        if !rectangular {
            return Ok(None);
        }
        let rows = items.iter().map(|v| v.as_array().expect("checked"));
        if items.iter().all(|v| v.as_array().expect("checked").iter().all(Value::is_i64)) {
            let flat: Vec<i64> = rows.flat_map(|r| r.iter().map(|x| x.as_i64().expect("checked"))).collect();
            let a = Array2::from_shape_vec((items.len(), width), flat).expect("rectangular");
            return Ok(Some(a.into_pyarray(py).into_any()));
        }
        let flat: Vec<f64> = rows.flat_map(|r| r.iter().map(as_f64)).collect();
        let a = Array2::from_shape_vec((items.len(), width), flat).expect("rectangular");
        return Ok(Some(a.into_pyarray(py).into_any()));
    }
    if let Value::Object(rec0) = first {
        let same_keys = !rec0.is_empty()
            && items.iter().all(|v| matches!(v, Value::Object(m) if m.len() == rec0.len() && rec0.keys().all(|k| m.contains_key(k))));
        if !same_keys {
            return Ok(None);
        }
        let dict = PyDict::new(py);
        for key in rec0.keys() {
            let col: Vec<&Value> = items.iter().map(|v| &v[key.as_str()]).collect();
            match column(py, &col)? {
                Some(c) => dict.set_item(key, c)?,
                None => return Ok(None),
            }
        }
        return Ok(Some(dict.into_any()));
    }
    Ok(None)
}

/// A trajectory as `{"t": t, "states": {name: column}, "state_matrix": (len(t), dim)}`:
/// the time vector is moved into numpy as it is; the state matrix is laid
/// out row-major once (one pass, no Python objects) and the named columns
/// are strided views of it.
pub fn trajectory<'py>(py: Python<'py>, traj: repcollapse::engine::Trajectory) -> PyResult<Bound<'py, PyDict>> {
    let n = traj.t.len();
    let dim = traj.names.len();
    let mut flat = Vec::with_capacity(n * dim);
    for x in &traj.states {
        flat.extend_from_slice(x);
    }
    drop(traj.states);
    let y = Array2::from_shape_vec((n, dim), flat).expect("every state has dim entries").into_pyarray(py);
    let states = PyDict::new(py);
    for (i, name) in traj.names.iter().enumerate() {
        // y[:, i] through numpy's own indexing: a view, no copy.
        let col = y.call_method1("__getitem__", ((pyo3::types::PySlice::full(py), i),))?;
        states.set_item(name, col)?;
    }
    let out = PyDict::new(py);
    out.set_item("t", PyArray1::from_vec(py, traj.t))?;
    out.set_item("states", states)?;
    out.set_item("state_matrix", y)?;
    Ok(out)
}

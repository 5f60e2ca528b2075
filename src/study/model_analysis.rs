//! Study kind `model-analysis`: the analysis engine on a symbolic model
//! file. A bifurcation diagram in one parameter (`continue`), a phase
//! boundary in two parameters with its brute-force grid check (`boundary`)
//! and/or a branch of limit cycles (`periodic`), any of them,
//! written into the study folder with a markdown section listing the
//! located special points and the grid agreement.
//!
//! ```toml
//! study = "model-analysis"
//! model = "examples/models/cusp.toml"     # relative: to the current directory,
//!                                         # else to the parent of the study file's folder
//! continue = { param = "h", from = -1, to = 1 }             # optional `var`
//! boundary = { param = "h", from = -1, to = 1, param2 = "r", from2 = 0.05, to2 = 2 }
//!                                         # optional `kind` ("fold" | "hopf"), `grid` (24)
//! periodic = { param = "b", from = 1, to = 3 }              # optional `start` ("hopf" | "orbit"),
//!                                         # `var`, `ds`, `ds_max`, `max_steps`, `ntst`, `ncol`,
//!                                         # `transient`, `max_period` (as `analyze MODEL periodic`)
//! [params]                                # optional parameter / initial-state overrides
//! r = 1.0
//! ```
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::engine::{BifurcationKind, BoundaryStop, VectorField};
use crate::error::{suggest, Error, Result};
use crate::request::{BoundaryRequest, ContinueRequest, PeriodicRequest, PeriodicStart, Syntax, MAX_GRID};
use crate::report::analysis::{save_boundary, save_diagram};
use crate::report::atomic::write_json;
use crate::report::periodic::save_periodic;
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::symbolic::SymbolicModel;

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["model", "continue", "boundary", "periodic"])?;
    let model = load(study)?;
    let names = model.state_names();
    let p = model.default_params();
    let cont = sub_table(study, "continue", &["param", "from", "to", "var"])?;
    let bound = sub_table(study, "boundary", &["param", "from", "to", "param2", "from2", "to2", "kind", "grid"])?;
    let cycles = sub_table(study, "periodic", PERIODIC_KEYS)?;
    if cont.is_none() && bound.is_none() && cycles.is_none() {
        return Err(Error::invalid(
            format!("study file {}", study.path.display()),
            "none of `continue`, `boundary`, `periodic`",
            "at least one of `continue = { param, from, to }`, `boundary = { param, from, to, param2, from2, to2 }` \
             and `periodic = { param, from, to }`",
        ));
    }

    let mut md = model_md(&model);
    let mut summary = json!({
        "model": model.name(),
        "params": Value::Object(model.param_names().into_iter().zip(p.iter().map(|v| json!(v))).collect()),
    });

    if let Some(t) = &cont {
        let param = string(t, "continue", "param")?;
        let (a, b) = (real(t, "continue", "from")?, real(t, "continue", "to")?);
        let var = match t.get("var") {
            None => None,
            Some(v) => Some(v.as_str().ok_or_else(|| Error::invalid("continue.var", v, "a state variable name"))?.to_string()),
        };
        let request = ContinueRequest { var, ..ContinueRequest::new(param.clone(), a, b) };
        let syntax = Syntax::Study("continue");
        let v = request.var_index(&model, syntax)?;
        let result = request.run(&model, &p, syntax)?;
        let json = save_diagram(dir, &result, &names, &param, v, &format!("{}: equilibria against {param}", model.name()))?;
        md += &format!(
            "**Bifurcation diagram** in `{param}` over [{}, {}]: {} branch(es), {} special point(s).\n\n",
            a.min(b),
            a.max(b),
            result.branches.len(),
            result.bifurcations.len()
        );
        md += &special_points_md(&json["bifurcations"], &param, &names);
        md += "\n";
        md += &figure_md(&study.name, "continuation", &format!("Equilibria of `{}` against `{param}`: stable solid, unstable dashed; fold (triangle), Hopf (square), branch point (cross).", model.name()));
        md += "\n";
        summary["continuation"] = json!({
            "param": param,
            "range": [a.min(b), a.max(b)],
            "branches": result.branches.len(),
            "bifurcations": json["bifurcations"],
        });
    }

    if let Some(t) = &bound {
        let param = string(t, "boundary", "param")?;
        let param2 = string(t, "boundary", "param2")?;
        let (a, b) = (real(t, "boundary", "from")?, real(t, "boundary", "to")?);
        let (a2, b2) = (real(t, "boundary", "from2")?, real(t, "boundary", "to2")?);
        let kind = match t.get("kind") {
            None => None,
            Some(v) => Some(v.as_str().and_then(BoundaryRequest::kind_named).ok_or_else(|| Error::invalid("boundary.kind", v, "\"fold\" | \"hopf\""))?),
        };
        let grid = match t.get("grid") {
            None => BoundaryRequest::DEFAULT_GRID,
            Some(v) => v.as_integer().and_then(|g| usize::try_from(g).ok()).ok_or_else(|| Error::invalid("boundary.grid", v, format!("an integer in [2, {MAX_GRID}]")))?,
        };
        // The study always checks the traced curves against the grid.
        let request = BoundaryRequest { kind, grid_check: true, grid, ..BoundaryRequest::new(param.clone(), a, b, param2.clone(), a2, b2) };
        let syntax = Syntax::Study("boundary");
        let bp = request.params(&model, syntax)?;
        let report = request.run(&model, &p, syntax)?;
        let json = save_boundary(dir, &report, &names, &param, &param2, &format!("{}: phase boundary in ({param}, {param2})", model.name()))?;
        md += &format!(
            "**Phase boundary** in (`{param}`, `{param2}`) over [{}, {}] x [{}, {}]:\n\n",
            bp.p1_min, bp.p1_max, bp.p2_min, bp.p2_max
        );
        md += &format!("| curve | kind | points | `{param}` range | `{param2}` range | ends |\n|---|---|---|---|---|---|\n");
        for (i, c) in report.curves.iter().enumerate() {
            let (r1, r2) = ranges(c.points.iter().map(|q| (q.p1, q.p2)));
            let ends = match c.stop_backward {
                Some(s) => format!("{} / {}", stop_name(s), stop_name(c.stop_forward)),
                None => stop_name(c.stop_forward),
            };
            md += &format!("| {i} | {} | {} | [{:.4}, {:.4}] | [{:.4}, {:.4}] | {ends} |\n", c.kind.as_str(), c.points.len(), r1.0, r1.1, r2.0, r2.1);
        }
        let special = report.special_points_text(&param, &param2);
        if !special.is_empty() {
            md += "\n**Codimension-two points** (Bogdanov-Takens points from their defining system):\n\n";
            for line in special.lines() {
                md += &format!("- {line}\n");
            }
        }
        let c = &report.check;
        md += &format!(
            "\n**Grid check** ({grid} x {grid} cells, equilibria found by multistart Newton in every cell): {} cells have a \
             neighbour with a different {}; {} of them lie within one cell diagonal of a traced curve (explained {:.3}); \
             {} of {} samples along the traced curves lie in or next to a cell where that number changes (confirmed {:.3}): agreement **{:.3}** (= confirmed: the curves' correctness). A low \
             explained fraction with full agreement means a boundary in the box that no traced curve reaches.\n\n",
            c.transition_cells,
            if report.curves.first().is_some_and(|c| c.kind == BifurcationKind::Hopf) { "number of stable equilibria (same number of equilibria)" } else { "number of equilibria" },
            c.transition_cells_on_curve,
            c.explained(),
            c.curve_samples_on_transition,
            c.curve_samples,
            c.confirmed(),
            report.agreement()
        );
        md += &figure_md(&study.name, "boundary", &format!("Traced {} curve(s) of `{}` over the brute-force grid classification (colour: number of equilibria and of stable ones).", report.curves.first().map_or("boundary", |c| c.kind.as_str()), model.name()));
        summary["boundary"] = json!({
            "param": param,
            "param2": param2,
            "curves": report.curves.iter().map(|c| {
                let (r1, r2) = ranges(c.points.iter().map(|q| (q.p1, q.p2)));
                let special: Vec<_> = c.special_points.iter().map(|sp| json!({"kind": sp.kind.as_str(), "p1": sp.p1, "p2": sp.p2, "residual": sp.residual})).collect();
                json!({"kind": c.kind.as_str(), "points": c.points.len(), "range": [r1.0, r1.1], "range2": [r2.0, r2.1], "special_points": special})
            }).collect::<Vec<_>>(),
            "grid_check": json["grid_check"],
        });
        if let Some(note) = json.get("grid_check_note") {
            summary["grid_check_note"] = note.clone();
        }
    }
    if let Some(t) = &cycles {
        let request = periodic_request(t)?;
        let syntax = Syntax::Study("periodic");
        let run = request.run(&model, &p, syntax)?;
        let v = request.var_index(&model, syntax)?;
        let param = &request.param;
        save_periodic(dir, &run, &names, v, &format!("{}: equilibria and cycles against {param}", model.name()))?;
        let json = run.to_json(&model, &request, syntax);
        write_json(&dir.join("periodic.json"), &json)?;
        md += &periodic_md(&json, param, &names[v]);
        md += &figure_md(
            &study.name,
            "periodic",
            &format!(
                "Equilibria and limit cycles of `{}` against `{param}`: cycles drawn as the minimum and maximum of `{}` over the orbit; \
                 stable solid, unstable dashed; fold of cycles (triangle), period doubling (cross), Neimark-Sacker (circle).",
                model.name(),
                names[v]
            ),
        );
        md += "\n";
        summary["periodic"] = json!({
            "config": json["config"],
            "start": json["start"],
            "points": json["points"].as_array().map_or(0, Vec::len),
            "stop": json["stop"],
            "stop_note": json["stop_note"],
            "bifurcations": json["bifurcations"].as_array().map(|b| b.iter().map(|x| json!({"kind": x["kind"], "param": x["param"], "period": x["period"]})).collect::<Vec<_>>()),
        });
    }
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown: md, summary })
}

/// The keys of a study's `periodic` table (the fields of [`PeriodicRequest`]).
const PERIODIC_KEYS: &[&str] = &["param", "from", "to", "start", "var", "ds", "ds_max", "max_steps", "ntst", "ncol", "transient", "max_period"];

/// The `periodic = { ... }` table as a request; absent keys keep the
/// request's defaults.
fn periodic_request(t: &toml::Table) -> Result<PeriodicRequest> {
    let mut r = PeriodicRequest::new(string(t, "periodic", "param")?, real(t, "periodic", "from")?, real(t, "periodic", "to")?);
    if let Some(v) = t.get("start") {
        r.start = v.as_str().and_then(PeriodicStart::named).ok_or_else(|| Error::invalid("periodic.start", v, "\"hopf\" | \"orbit\""))?;
    }
    if let Some(v) = t.get("var") {
        r.var = Some(v.as_str().ok_or_else(|| Error::invalid("periodic.var", v, "a state variable name"))?.to_string());
    }
    let count = |key: &str| -> Result<Option<usize>> {
        t.get(key)
            .map(|v| v.as_integer().and_then(|i| usize::try_from(i).ok()).ok_or_else(|| Error::invalid(format!("periodic.{key}"), v, "a non-negative integer")))
            .transpose()
    };
    r.max_steps = count("max_steps")?.or(r.max_steps);
    r.ntst = count("ntst")?.unwrap_or(r.ntst);
    r.ncol = count("ncol")?.unwrap_or(r.ncol);
    for (key, slot) in [("ds", &mut r.ds), ("ds_max", &mut r.ds_max), ("transient", &mut r.transient), ("max_period", &mut r.max_period)] {
        if t.contains_key(key) {
            *slot = real(t, "periodic", key)?;
        }
    }
    Ok(r)
}

/// Markdown: where the branch starts and ends, and its special points.
fn periodic_md(v: &Value, param: &str, var: &str) -> String {
    let pts = v["points"].as_array().map(Vec::as_slice).unwrap_or_default();
    let start = &v["start"];
    let mut md = match start["from"].as_str() {
        Some("hopf") => format!(
            "**Limit cycles** in `{param}`, born at the Hopf point `{param}` = {:.10} (frequency {:.6}, {}):",
            start["param"].as_f64().unwrap_or(f64::NAN),
            start["frequency"].as_f64().unwrap_or(f64::NAN),
            start["criticality"].as_str().unwrap_or("criticality unknown")
        ),
        _ => format!("**Limit cycles** in `{param}`, from the orbit at `{param}` = {}:", start["param"]),
    };
    md += &format!(" {} cycles; the branch ends: {}.\n\n", pts.len(), v["stop_note"].as_str().unwrap_or("?"));
    md += &format!("| | `{param}` | period | min `{var}` | max `{var}` | stable |\n|---|---|---|---|---|---|\n");
    let row = |label: &str, p: &Value| {
        format!(
            "| {label} | {:.6} | {:.6} | {:.6} | {:.6} | {} |\n",
            p["param"].as_f64().unwrap_or(f64::NAN),
            p["period"].as_f64().unwrap_or(f64::NAN),
            p["min"][var].as_f64().unwrap_or(f64::NAN),
            p["max"][var].as_f64().unwrap_or(f64::NAN),
            p["stable"]
        )
    };
    if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
        md += &row("first cycle", first);
        for b in v["bifurcations"].as_array().map(Vec::as_slice).unwrap_or_default() {
            md += &row(&b["kind"].as_str().unwrap_or("?").to_uppercase(), b);
        }
        md += &row("last cycle", last);
    }
    md + "\n"
}

/// The model file with the `[params]` overrides applied.
fn load(study: &StudyFile) -> Result<SymbolicModel> {
    let raw = study
        .table
        .get("model")
        .ok_or_else(|| Error::invalid(format!("study file {}", study.path.display()), "no `model`", "model = \"<path to a model file>\""))?;
    let rel = raw.as_str().ok_or_else(|| Error::invalid("model", raw, "a path string"))?;
    let mut overrides = Vec::new();
    for (k, v) in study.params() {
        let x = v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).ok_or_else(|| Error::invalid(format!("params.{k}"), &v, "a number"))?;
        overrides.push((k, x));
    }
    SymbolicModel::from_path(resolve(&study.path, rel))?.with_overrides(&overrides)
}

/// A relative model path is taken from the current directory if it exists
/// there, else from the repository root as seen from the study file
/// (`analysis/<study>.toml` -> `./`).
fn resolve(study_path: &Path, rel: &str) -> PathBuf {
    let p = PathBuf::from(rel);
    if p.is_absolute() || p.exists() {
        return p;
    }
    match study_path.parent().and_then(Path::parent) {
        Some(root) => root.join(&p),
        None => p,
    }
}

fn sub_table(study: &StudyFile, key: &str, allowed: &[&str]) -> Result<Option<toml::Table>> {
    let Some(v) = study.table.get(key) else { return Ok(None) };
    let t = v.as_table().ok_or_else(|| Error::invalid(key, v, format!("an inline table {{ {} }}", allowed.join(", "))))?;
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            let hint = suggest(k, allowed.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            return Err(Error::UnknownKey { key: format!("{key}.{k}"), context: format!("study file {}", study.path.display()), hint, valid: allowed.join(", ") });
        }
    }
    Ok(Some(t.clone()))
}

fn real(t: &toml::Table, table: &str, key: &str) -> Result<f64> {
    let v = t.get(key).ok_or_else(|| Error::invalid(format!("{table}.{key}"), "missing", "a finite number"))?;
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .filter(|x| x.is_finite())
        .ok_or_else(|| Error::invalid(format!("{table}.{key}"), v, "a finite number"))
}

fn string(t: &toml::Table, table: &str, key: &str) -> Result<String> {
    let v = t.get(key).ok_or_else(|| Error::invalid(format!("{table}.{key}"), "missing", "a parameter name"))?;
    v.as_str().map(str::to_string).ok_or_else(|| Error::invalid(format!("{table}.{key}"), v, "a parameter name"))
}

/// The stop reason's JSON name (`parameter-bound`, `cusp`, ...).
fn stop_name(s: BoundaryStop) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn ranges(pts: impl Iterator<Item = (f64, f64)>) -> ((f64, f64), (f64, f64)) {
    pts.fold(((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY)), |(r1, r2), (x, y)| {
        ((r1.0.min(x), r1.1.max(x)), (r2.0.min(y), r2.1.max(y)))
    })
}

/// The model's equations as a markdown list.
fn model_md(model: &SymbolicModel) -> String {
    let mut md = format!("Model `{}`", model.name());
    if let Some(d) = model.description() {
        md += &format!(": {d}");
    }
    md += "\n\n";
    for (name, rhs) in model.state_names().iter().zip(model.equation_sources()) {
        md += &format!("- d{name}/dt = `{rhs}`\n");
    }
    let params: Vec<String> = model.param_names().iter().zip(model.default_params()).map(|(n, v)| format!("{n} = {v}")).collect();
    md += &format!("\nParameters: {}.\n\n", params.join(", "));
    md
}

/// Table of located special points from the continuation JSON.
fn special_points_md(bifs: &Value, param: &str, names: &[String]) -> String {
    let Some(list) = bifs.as_array().filter(|l| !l.is_empty()) else {
        return "No special point in the range.\n".into();
    };
    let mut md = format!("| kind | `{param}` | state | frequency |\n|---|---|---|---|\n");
    for b in list {
        let state: Vec<String> = names.iter().map(|n| format!("{n} = {:.6}", b["state"][n].as_f64().unwrap_or(f64::NAN))).collect();
        let freq = b.get("frequency").and_then(Value::as_f64).map_or(String::new(), |w| format!("{w:.6}"));
        md += &format!("| {} | {:.10} | {} | {freq} |\n", b["kind"].as_str().unwrap_or("?"), b["param"].as_f64().unwrap_or(f64::NAN), state.join(", "));
    }
    md
}

//! `repcollapse analyze MODEL.toml <verb>`: every engine analysis on a
//! user's symbolic model file. Results go to stdout (`--json`) and to files
//! (CSV, JSON, PNG, SVG) under `--out` (default `out/analyze/<model>`).
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::engine::{boundary_analysis, default_box, full_diagram};
use crate::engine::BifurcationKind;
use crate::engine::BoundaryParams;
use crate::engine::ContinuationParams;
use crate::engine::FixedPointSearch;
use crate::engine::{find_fixed_points_report, fixed_points_json, integrate_partial, FixedPointOptions, Grid, IntegrateOptions, Method, VectorField};
use crate::error::{Error, Result};
use crate::report::analysis::{save_boundary, save_diagram};
use crate::report::atomic::{write_atomic, write_json};
use crate::report::plot::{Figure, Panel};
use crate::symbolic::SymbolicModel;

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Model file (TOML with [parameters], [state], [equations], optional [observables]).
    pub model: PathBuf,
    #[command(subcommand)]
    pub verb: Verb,
    /// Parameter override name=value (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", global = true)]
    pub sets: Vec<String>,
    /// Print the result as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Output folder for CSV/JSON/figures (default out/analyze/<model name>).
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Verb {
    /// Integrate from the file's initial state with an adaptive Dormand-Prince method.
    Integrate {
        #[arg(long, default_value_t = 50.0)]
        t_max: f64,
        #[arg(long, default_value_t = 1e-8)]
        rtol: f64,
        #[arg(long, default_value_t = 1e-10)]
        atol: f64,
        /// Number of output times.
        #[arg(long, default_value_t = 400)]
        points: usize,
        /// Log-spaced output grid starting at this time (default: linear grid).
        #[arg(long)]
        log_from: Option<f64>,
        /// `auto` (default): DOP853, switching to Radau IIA when the problem is stiff.
        #[arg(long, value_enum, default_value = "auto")]
        method: MethodArg,
        /// Budget of attempted steps.
        #[arg(long, default_value_t = 10_000_000)]
        max_steps: u32,
    },
    /// All fixed points with eigenvalues, stability and zero modes.
    FixedPoints {
        #[arg(long, default_value_t = 32)]
        starts: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Half-width of the search box for every state variable (default:
        /// 2 max(1, |initial state|, |parameters|, min(1/|parameters|, 1e4))).
        #[arg(long)]
        search_box: Option<f64>,
    },
    /// Pseudo-arclength continuation of equilibria in one parameter.
    Continue {
        #[arg(long)]
        param: String,
        #[arg(long, allow_negative_numbers = true)]
        from: f64,
        #[arg(long, allow_negative_numbers = true)]
        to: f64,
        #[arg(long, default_value_t = 0.01)]
        ds: f64,
        #[arg(long, default_value_t = 0.1)]
        ds_max: f64,
        #[arg(long, default_value_t = 2000)]
        max_steps: usize,
        /// State variable on the diagram's vertical axis (default: the first).
        #[arg(long)]
        var: Option<String>,
    },
    /// Two-parameter continuation of a fold or Hopf point (a phase boundary),
    /// checked against a brute-force grid of equilibrium classifications.
    Boundary {
        #[arg(long)]
        param: String,
        #[arg(long, allow_negative_numbers = true)]
        from: f64,
        #[arg(long, allow_negative_numbers = true)]
        to: f64,
        #[arg(long)]
        param2: String,
        #[arg(long, allow_negative_numbers = true)]
        from2: f64,
        #[arg(long, allow_negative_numbers = true)]
        to2: f64,
        /// Which special point to continue (default: the first fold or Hopf found).
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        /// Check the traced curves against a brute-force grid classification
        /// (most of the run time; off by default).
        #[arg(long)]
        grid_check: bool,
        /// Grid cells per parameter for `--grid-check`.
        #[arg(long, default_value_t = 24)]
        grid: usize,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum KindArg {
    Fold,
    Hopf,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum MethodArg {
    Dopri5,
    Dop853,
    Radau5,
    Auto,
}

/// Loads the model and applies `--set` overrides.
pub fn load_model(path: &Path, sets: &[String]) -> Result<SymbolicModel> {
    let mut overrides = Vec::new();
    for s in sets {
        let (k, v) = s.split_once('=').ok_or_else(|| Error::invalid("--set", s, "name=value"))?;
        let v: f64 = v.trim().parse().map_err(|_| Error::invalid(k.trim(), v.trim(), "a real number"))?;
        overrides.push((k.trim().to_string(), v));
    }
    SymbolicModel::from_path(path)?.with_overrides(&overrides)
}

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let model = load_model(&args.model, &args.sets)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("out/analyze").join(sanitize(model.name())));
    std::fs::create_dir_all(&out).map_err(|e| Error::Write { path: out.clone(), reason: e.to_string() })?;
    let p = model.default_params();
    let value = match &args.verb {
        Verb::Integrate { t_max, rtol, atol, points, log_from, method, max_steps } => {
            let grid = match log_from {
                Some(t0) => Grid::Log { t_min: *t0, points: *points },
                None => Grid::Linear { points: *points },
            };
            let method = match method {
                MethodArg::Dopri5 => Method::Dopri5,
                MethodArg::Dop853 => Method::Dop853,
                MethodArg::Radau5 => Method::Radau5,
                MethodArg::Auto => Method::Auto,
            };
            let opts = IntegrateOptions {
                method,
                rtol: *rtol,
                atol: *atol,
                t_max: *t_max,
                grid,
                max_steps: *max_steps,
                max_seconds: crate::limits::remaining_seconds(),
            };
            // A run that stops early (budget or failure) still writes what it
            // computed, with the reason, and then exits non-zero.
            let run = integrate_partial(&model, &model.initial_state(), &p, &opts)?;
            let traj = run.trajectory;
            write_atomic(&out.join("trajectory.csv"), traj.to_csv().as_bytes())?;
            let names = model.state_names();
            let mut panel = Panel::new(&format!("{}: trajectory", model.name()), "time t", "state");
            if log_from.is_some() {
                panel = panel.log_x();
            }
            for (i, name) in names.iter().enumerate() {
                let pts = traj.t.iter().zip(&traj.states).map(|(t, x)| (*t, x[i])).collect();
                panel = panel.line(name, pts, i);
            }
            Figure::new(vec![panel]).save(&out, "trajectory")?;
            let states: Vec<Value> = traj.states.iter().map(|x| state_object(&names, x)).collect();
            let mut v = json!({"model": model.name(), "t": traj.t, "states": states, "options": opts, "stats": traj.stats});
            // The options carry what was left of the budget at the call; record
            // the budget as given (or "none"), which is reproducible.
            v["options"]["max_seconds"] = crate::limits::max_seconds_json();
            if let Some(stop) = &run.stop {
                v["stopped"] = json!(stop.stopped);
                v["stop"] = json!(stop);
                write_json(&out.join("integrate.json"), &v)?;
                let note = format!(" (the {} output times up to t = {:e} were written to {})", traj.t.len(), traj.t.last().copied().unwrap_or(0.0), out.display());
                return Err(stop.to_error(&model.name(), method, &note));
            }
            v
        }
        Verb::FixedPoints { starts, seed, search_box } => {
            let half = match search_box {
                Some(h) if h.is_finite() && *h > 0.0 => *h,
                Some(h) => return Err(Error::invalid("--search-box", h, "(0, inf)")),
                // The default box is 2 max(1, |x0|, |p|, 1/|p|): a huge initial
                // state or parameter makes it overflow; say which value did,
                // rather than blaming an option that was never given.
                None => {
                    let half = default_box(&model.initial_state(), &p);
                    if !half.is_finite() {
                        let names = model.state_names().into_iter().chain(model.param_names());
                        let values = model.initial_state().into_iter().chain(p.iter().copied());
                        let (name, v) = names.zip(values).max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap_or(("?".into(), half));
                        return Err(Error::invalid(
                            name,
                            format!("{v:e}"),
                            "a magnitude below 8.9e307 for the default search box 2 max(1, |x0|, |p|, 1/|p|); or give --search-box",
                        ));
                    }
                    half
                }
            };
            let bounds = vec![(-half, half); model.dim()];
            let search = find_fixed_points_report(&model, &p, &FixedPointOptions { starts: *starts, seed: *seed, bounds, ..Default::default() })?;
            fixed_points_report_json(&model, &search)
        }
        Verb::Continue { param, from, to, ds, ds_max, max_steps, var } => {
            let k = param_index(&model, param)?;
            // Degenerate options are rejected by their flag name (NaN would
            // otherwise vanish in min/max and give an empty diagram).
            for (flag, v) in [("--from", *from), ("--to", *to)] {
                if !v.is_finite() {
                    return Err(Error::invalid(flag, v, "a finite number"));
                }
            }
            if from == to {
                return Err(Error::invalid("--to", to, format!("a value different from --from = {from}")));
            }
            if !(*ds_max > 0.0 && ds_max.is_finite()) {
                return Err(Error::invalid("--ds-max", ds_max, "(0, inf)"));
            }
            if !(*ds > 0.0 && *ds <= *ds_max) {
                return Err(Error::invalid("--ds", ds, format!("(0, --ds-max = {ds_max}]")));
            }
            if *max_steps == 0 {
                return Err(Error::invalid("--max-steps", max_steps, ">= 1"));
            }
            let mut cp = ContinuationParams::new(k, from.min(*to), from.max(*to));
            cp.arclength.ds = *ds;
            cp.arclength.ds_max = *ds_max;
            cp.arclength.ds_min = cp.arclength.ds_min.min(*ds);
            cp.arclength.max_steps = *max_steps;
            cp.validate(model.param_names().len()).map_err(|e| match e {
                Error::InvalidParameter { field, value, range } => {
                    Error::InvalidParameter { field: format!("--{}", field.replace('_', "-")), value, range }
                }
                other => other,
            })?;
            let result = full_diagram(&model, &p, &cp)?;
            let names = model.state_names();
            let v_index = match var {
                Some(v) => names.iter().position(|n| n == v).ok_or_else(|| {
                    Error::invalid("--var", v, format!("one of {}", names.join(", ")))
                })?,
                None => 0,
            };
            let title = format!("{}: equilibria", model.name());
            let mut v = save_diagram(&out, &result, &names, param, v_index, &title)?;
            v["model"] = json!(model.name());
            v
        }
        Verb::Boundary { param, from, to, param2, from2, to2, kind, grid_check, grid } => {
            if *grid_check && *grid < 2 {
                return Err(Error::invalid("--grid", grid, ">= 2 with --grid-check"));
            }
            let (k1, k2) = (param_index(&model, param)?, param_index(&model, param2)?);
            let bp = BoundaryParams {
                p1_min: from.min(*to),
                p1_max: from.max(*to),
                ..BoundaryParams::new(k1, k2, from2.min(*to2), from2.max(*to2))
            };
            let kind = kind.map(|k| match k {
                KindArg::Fold => BifurcationKind::Fold,
                KindArg::Hopf => BifurcationKind::Hopf,
            });
            let report = boundary_analysis(&model, &p, &bp, kind, if *grid_check { *grid } else { 0 })?;
            let title = format!("{}: phase boundary", model.name());
            let mut v = save_boundary(&out, &report, &model.state_names(), param, param2, &title)?;
            v["model"] = json!(model.name());
            if !args.json {
                let text = report.special_points_text(param, param2);
                if !text.is_empty() {
                    crate::cli::emit(text.trim_end());
                }
            }
            v
        }
    };
    let mut value = value;
    // A search, branch or curve cut short by `--max-seconds` keeps what it
    // found; say so at the top of the result and on stderr.
    if hit_budget(&value) {
        value["stopped"] = json!("budget");
        eprintln!(
            "warning: the wall-time budget (--max-seconds {}) ran out during {}; the results written are partial \
             (\"stopped\": \"budget\" in the JSON)",
            crate::limits::max_seconds(),
            verb_name(&args.verb)
        );
    }
    write_json(&out.join(format!("{}.json", verb_name(&args.verb))), &value)?;
    if args.json {
        crate::cli::emit(&serde_json::to_string_pretty(&value).expect("JSON serialises"));
    } else {
        eprintln!("{} written to {}", verb_name(&args.verb), out.display());
    }
    Ok(())
}

/// Whether any stop reason in a result (`stopped`, a branch's `stop`, a
/// curve's `stop_forward`/`stop_backward`) is the wall-time budget.
fn hit_budget(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, x)| {
            (matches!(k.as_str(), "stopped" | "stop" | "stop_forward" | "stop_backward") && x == "budget") || hit_budget(x)
        }),
        Value::Array(a) => a.iter().any(hit_budget),
        _ => false,
    }
}

fn verb_name(v: &Verb) -> &'static str {
    match v {
        Verb::Integrate { .. } => "trajectory",
        Verb::FixedPoints { .. } => "fixed_points",
        Verb::Continue { .. } => "continuation",
        Verb::Boundary { .. } => "boundary",
    }
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Index of a parameter by name, with a suggestion on failure.
/// The `fixed-points` result: every accepted point, the skipped starts with
/// their reasons, and where a budget stopped the search (CLI and Python).
pub fn fixed_points_report_json(model: &dyn VectorField, search: &FixedPointSearch) -> Value {
    let mut v = fixed_points_json(model, &search.points);
    v["model"] = json!(model.name());
    let names = model.state_names();
    v["skipped"] = json!(search
        .skipped
        .iter()
        .map(|s| json!({"state": state_object(&names, &s.state), "reason": s.reason}))
        .collect::<Vec<_>>());
    if let Some(stopped) = &search.stopped {
        v["stopped"] = json!(stopped);
        v["starts_not_run"] = json!(search.starts_not_run);
    }
    v
}

pub fn param_index(model: &dyn VectorField, name: &str) -> Result<usize> {
    model.param_index(name).ok_or_else(|| {
        let names = model.param_names();
        let hint = crate::error::suggest(name, names.iter().map(String::as_str)).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
        Error::invalid("--param", format!("{name}{hint}"), format!("one of {}", names.join(", ")))
    })
}

fn state_object(names: &[String], x: &[f64]) -> Value {
    Value::Object(names.iter().cloned().zip(x.iter().map(|v| json!(v))).collect())
}

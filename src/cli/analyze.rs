//! `repcollapse analyze MODEL.toml <verb>`: every engine analysis on a
//! user's symbolic model file. Results go to stdout (`--json`) and to files
//! (CSV, JSON, PNG, SVG) under `--out` (default `out/analyze/<model>`).
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::engine::{integrate_partial, ArclengthParams, VectorField};
use crate::request::{state_object, BoundaryRequest, ContinueRequest, FixedPointsRequest, IntegrateRequest, PeriodicRequest, PeriodicStart, Syntax};
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
        #[arg(long, default_value_t = IntegrateRequest::default().t_max)]
        t_max: f64,
        #[arg(long, default_value_t = IntegrateRequest::default().rtol)]
        rtol: f64,
        #[arg(long, default_value_t = IntegrateRequest::default().atol)]
        atol: f64,
        /// Number of output times.
        #[arg(long, default_value_t = IntegrateRequest::default().points)]
        points: usize,
        /// Log-spaced output grid starting at this time (default: linear grid).
        #[arg(long)]
        log_from: Option<f64>,
        /// `auto` (default): DOP853, switching to Radau IIA when the problem is stiff.
        #[arg(long, value_enum, default_value = "auto")]
        method: MethodArg,
        /// Budget of attempted steps (default: 2e8 / (13 x the operations of
        /// the model's right-hand side), between 2e4 and 1e7).
        #[arg(long)]
        max_steps: Option<u32>,
    },
    /// All fixed points with eigenvalues, stability and zero modes.
    FixedPoints {
        /// Random starts (default 32, cut to 8000 / n on a large sparse
        /// system; a number given here is run as asked).
        #[arg(long)]
        starts: Option<usize>,
        #[arg(long, default_value_t = FixedPointsRequest::default().seed)]
        seed: u64,
        /// Half-width of the search box for every state variable (default:
        /// 2 max(1, |initial state|, |parameters|, min(1/|parameters|, 1e4))).
        #[arg(long)]
        search_box: Option<f64>,
    },
    /// Pseudo-arclength continuation of equilibria in one parameter.
    Continue {
        #[command(flatten)]
        range: ParamRange,
        #[arg(long, default_value_t = ArclengthParams::default().ds)]
        ds: f64,
        #[arg(long, default_value_t = ArclengthParams::default().ds_max)]
        ds_max: f64,
        #[arg(long, default_value_t = ArclengthParams::default().max_steps)]
        max_steps: usize,
        #[command(flatten)]
        axis: DiagramAxis,
    },
    /// Two-parameter continuation of a fold or Hopf point (a phase boundary),
    /// checked against a brute-force grid of equilibrium classifications.
    Boundary {
        #[command(flatten)]
        range: ParamRange,
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
        #[arg(long, default_value_t = BoundaryRequest::DEFAULT_GRID)]
        grid: usize,
        /// Accepted steps of each traced curve per direction.
        #[arg(long, default_value_t = ArclengthParams::default().max_steps)]
        max_steps: usize,
    },
    /// Branch of limit cycles (orthogonal collocation) in one parameter, with
    /// period, min/max, Floquet multipliers, and LPC/PD/NS points.
    Periodic {
        #[command(flatten)]
        range: ParamRange,
        /// Start at the first Hopf point of the equilibria on [from, to] (the default).
        #[arg(long, conflicts_with = "from_orbit")]
        from_hopf: bool,
        /// Start from the cycle the trajectory from the initial state settles on at `--from`.
        #[arg(long)]
        from_orbit: bool,
        /// Integration time discarded before cutting a period (`--from-orbit`).
        #[arg(long, default_value_t = PeriodicRequest::DEFAULT_TRANSIENT, allow_negative_numbers = true)]
        transient: f64,
        /// Longest time searched for the trajectory's return to its Poincaré section (`--from-orbit`).
        #[arg(long, default_value_t = PeriodicRequest::DEFAULT_MAX_PERIOD, allow_negative_numbers = true)]
        max_period: f64,
        #[arg(long, default_value_t = PeriodicRequest::new("", 0.0, 1.0).ds, allow_negative_numbers = true)]
        ds: f64,
        #[arg(long, default_value_t = PeriodicRequest::new("", 0.0, 1.0).ds_max, allow_negative_numbers = true)]
        ds_max: f64,
        /// Accepted continuation steps (default: max(200, 4 ceil(|to - from| / ds-max))).
        #[arg(long)]
        max_steps: Option<usize>,
        /// Mesh intervals (AUTO's NTST).
        #[arg(long, default_value_t = PeriodicRequest::new("", 0.0, 1.0).ntst)]
        ntst: usize,
        /// Collocation points per interval (AUTO's NCOL), 1..=7.
        #[arg(long, default_value_t = PeriodicRequest::new("", 0.0, 1.0).ncol)]
        ncol: usize,
        #[command(flatten)]
        axis: DiagramAxis,
    },
}

/// The continued parameter and its range, shared by `continue`,
/// `boundary` (its first parameter) and `periodic`.
#[derive(Args, Debug)]
pub struct ParamRange {
    #[arg(long)]
    pub param: String,
    #[arg(long, allow_negative_numbers = true)]
    pub from: f64,
    #[arg(long, allow_negative_numbers = true)]
    pub to: f64,
}

/// The state variable on a bifurcation diagram's vertical axis, shared by
/// `continue` and `periodic`.
#[derive(Args, Debug)]
pub struct DiagramAxis {
    /// State variable on the diagram's vertical axis (default: the first).
    #[arg(long)]
    pub var: Option<String>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum KindArg {
    Fold,
    Hopf,
}

impl KindArg {
    /// The name the request layer knows the kind by.
    fn name(self) -> &'static str {
        match self {
            KindArg::Fold => "fold",
            KindArg::Hopf => "hopf",
        }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum MethodArg {
    Dopri5,
    Dop853,
    Radau5,
    Auto,
}

impl MethodArg {
    /// The name the request layer knows the method by.
    fn name(self) -> &'static str {
        match self {
            MethodArg::Dopri5 => "dopri5",
            MethodArg::Dop853 => "dop853",
            MethodArg::Radau5 => "radau5",
            MethodArg::Auto => "auto",
        }
    }
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
            let request = IntegrateRequest {
                t_max: *t_max,
                rtol: *rtol,
                atol: *atol,
                points: *points,
                log_from: *log_from,
                method: IntegrateRequest::method_named(method.name()).expect("every CLI method has a name"),
                max_steps: *max_steps,
            };
            let opts = request.options(model.tape_sizes().0);
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
                return Err(stop.to_error(&model.name(), opts.method, &note));
            }
            v
        }
        Verb::FixedPoints { starts, seed, search_box } => {
            let request = FixedPointsRequest { starts: *starts, seed: *seed, search_box: *search_box };
            request.run(&model, &p).map_err(|e| Syntax::Cli.rename(e))?
        }
        Verb::Continue { range: ParamRange { param, from, to }, ds, ds_max, max_steps, axis } => {
            let request = ContinueRequest { param: param.clone(), from: *from, to: *to, ds: *ds, ds_max: *ds_max, max_steps: *max_steps, var: axis.var.clone() };
            let result = request.run(&model, &p, Syntax::Cli)?;
            let names = model.state_names();
            let v_index = request.var_index(&model, Syntax::Cli)?;
            let title = format!("{}: equilibria", model.name());
            let mut v = save_diagram(&out, &result, &names, param, v_index, &title)?;
            v["model"] = json!(model.name());
            if let Some(cost) = request.cost(&model) {
                v["cost_estimate"] = json!(cost);
            }
            v
        }
        Verb::Boundary { range: ParamRange { param, from, to }, param2, from2, to2, kind, grid_check, grid, max_steps } => {
            let request = BoundaryRequest {
                kind: kind.map(|k| BoundaryRequest::kind_named(k.name()).expect("every CLI kind has a name")),
                grid_check: *grid_check,
                grid: *grid,
                max_steps: *max_steps,
                ..BoundaryRequest::new(param.clone(), *from, *to, param2.clone(), *from2, *to2)
            };
            let report = request.run(&model, &p, Syntax::Cli)?;
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
        Verb::Periodic { range: ParamRange { param, from, to }, from_hopf: _, from_orbit, transient, max_period, ds, ds_max, max_steps, ntst, ncol, axis } => {
            let request = PeriodicRequest {
                start: if *from_orbit { PeriodicStart::Orbit } else { PeriodicStart::Hopf },
                transient: *transient,
                max_period: *max_period,
                ds: *ds,
                ds_max: *ds_max,
                max_steps: *max_steps,
                ntst: *ntst,
                ncol: *ncol,
                var: axis.var.clone(),
                ..PeriodicRequest::new(param.clone(), *from, *to)
            };
            crate::cli::periodic::run(&model, &p, &request, &out, args.json)?
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
    for note in step_bound_notes(&mut value, &args.verb) {
        eprintln!("warning: {note}");
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

/// The default step bound of `continue` (per branch) and `boundary` (per
/// curve and direction): a branch or curve that ended on it gets a
/// `stop_note` that names the bound, what was traced, and the option that
/// raises it; the notes are returned for stderr. (`periodic` and
/// `integrate` say the same in their own results.)
fn step_bound_notes(value: &mut Value, verb: &Verb) -> Vec<String> {
    let mut notes = Vec::new();
    match verb {
        Verb::Continue { range, max_steps, .. } => {
            let Some(branches) = value.get_mut("branches").and_then(Value::as_array_mut) else { return notes };
            for (i, b) in branches.iter_mut().enumerate() {
                if b["stop"] != "max-steps" {
                    continue;
                }
                let points = b["points"].as_array().map_or(0, Vec::len);
                let last = b["points"].as_array().and_then(|p| p.last()).map(|p| p["param"].clone()).unwrap_or(Value::Null);
                let note = format!(
                    "continue: branch {i} stopped at the step bound (--max-steps {max_steps}) after {points} points, at {} = {last}, \
                     before the end of the range [{}, {}]; raise --max-steps to go on",
                    range.param, range.from, range.to
                );
                b["stop_note"] = json!(note);
                notes.push(note);
            }
        }
        Verb::Boundary { max_steps, .. } => {
            let Some(curves) = value.get_mut("curves").and_then(Value::as_array_mut) else { return notes };
            for (i, c) in curves.iter_mut().enumerate() {
                for dir in ["forward", "backward"] {
                    if c[format!("stop_{dir}")] != "max-steps" {
                        continue;
                    }
                    let points = c["points"].as_array().map_or(0, Vec::len);
                    let note = format!(
                        "boundary: curve {i} ({}) stopped {dir} at the step bound (--max-steps {max_steps} per direction) with {points} \
                         points traced in all; raise --max-steps to go on",
                        c["kind"].as_str().unwrap_or("?")
                    );
                    c[format!("stop_note_{dir}")] = json!(note);
                    notes.push(note);
                }
            }
        }
        _ => {}
    }
    notes
}

fn verb_name(v: &Verb) -> &'static str {
    match v {
        Verb::Integrate { .. } => "trajectory",
        Verb::FixedPoints { .. } => "fixed_points",
        Verb::Continue { .. } => "continuation",
        Verb::Boundary { .. } => "boundary",
        Verb::Periodic { .. } => "periodic",
    }
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}


//! `repcollapse analyze MODEL.toml <verb>`: every engine analysis on a
//! user's symbolic model file. Results go to stdout (`--json`) and to files
//! (CSV, JSON, PNG, SVG) under `--out` (default `out/analyze/<model>`).
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::engine::bifurcation::BifurcationKind;
use crate::engine::boundary::{brute_force_grid, continue_boundary, BoundaryCurve, BoundaryParams, GridCell, GridParams};
use crate::engine::continuation::{continue_equilibria, ContinuationParams, ContinuationResult};
use crate::engine::{find_fixed_points, fixed_points_json, integrate, FixedPointOptions, Grid, IntegrateOptions, Method, VectorField};
use crate::error::{Error, Result};
use crate::report::atomic::{write_atomic, write_json};
use crate::report::plot::{Figure, Panel, Shape};
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
        #[arg(long, value_enum, default_value = "dop853")]
        method: MethodArg,
    },
    /// All fixed points with eigenvalues, stability and zero modes.
    FixedPoints {
        #[arg(long, default_value_t = 32)]
        starts: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Half-width of the search box for every state variable (default:
        /// 2 max(1, |initial state|, |parameters|)).
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
        /// Grid cells per parameter for the brute-force check.
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
        Verb::Integrate { t_max, rtol, atol, points, log_from, method } => {
            let grid = match log_from {
                Some(t0) => Grid::Log { t_min: *t0, points: *points },
                None => Grid::Linear { points: *points },
            };
            let method = match method {
                MethodArg::Dopri5 => Method::Dopri5,
                MethodArg::Dop853 => Method::Dop853,
            };
            let opts = IntegrateOptions { method, rtol: *rtol, atol: *atol, t_max: *t_max, grid, max_steps: 10_000_000 };
            let traj = integrate(&model, &model.initial_state(), &p, &opts)?;
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
            json!({"model": model.name(), "t": traj.t, "states": states, "options": opts})
        }
        Verb::FixedPoints { starts, seed, search_box } => {
            let half = search_box.unwrap_or_else(|| default_box(&model.initial_state(), &p));
            if !(half > 0.0 && half.is_finite()) {
                return Err(Error::invalid("--search-box", half, "(0, inf)"));
            }
            let bounds = vec![(-half, half); model.dim()];
            let fps = find_fixed_points(&model, &p, &FixedPointOptions { starts: *starts, seed: *seed, bounds, ..Default::default() })?;
            let mut v = fixed_points_json(&model, &fps);
            v["model"] = json!(model.name());
            v
        }
        Verb::Continue { param, from, to, ds, ds_max, max_steps, var } => {
            let k = param_index(&model, param)?;
            let mut cp = ContinuationParams::new(k, from.min(*to), from.max(*to));
            cp.ds = *ds;
            cp.ds_max = *ds_max;
            cp.max_steps = *max_steps;
            let result = full_diagram(&model, &p, &cp)?;
            let names = model.state_names();
            let v_index = match var {
                Some(v) => names.iter().position(|n| n == v).ok_or_else(|| {
                    Error::invalid("--var", v, format!("one of {}", names.join(", ")))
                })?,
                None => 0,
            };
            let mut csv = Vec::new();
            result
                .write_csv(&mut csv, &names, param)
                .map_err(|e| Error::Write { path: out.join("continuation.csv"), reason: e.to_string() })?;
            write_atomic(&out.join("continuation.csv"), &csv)?;
            bifurcation_figure(&result, param, &names[v_index], v_index, &format!("{}: equilibria", model.name()))
                .save(&out, "continuation")?;
            let mut v = result.to_json(&names, param);
            v["model"] = json!(model.name());
            v
        }
        Verb::Boundary { param, from, to, param2, from2, to2, kind, grid } => {
            let (k1, k2) = (param_index(&model, param)?, param_index(&model, param2)?);
            let bp = BoundaryParams {
                p1_min: from.min(*to),
                p1_max: from.max(*to),
                ..BoundaryParams::new(k1, k2, from2.min(*to2), from2.max(*to2))
            };
            let report = boundary_analysis(&model, &p, &bp, *kind, *grid)?;
            let names = model.state_names();
            let mut csv = Vec::new();
            for c in &report.curves {
                c.write_csv(&mut csv, &names, param, param2)
                    .map_err(|e| Error::Write { path: out.join("boundary.csv"), reason: e.to_string() })?;
            }
            write_atomic(&out.join("boundary.csv"), &csv)?;
            let rows: Vec<Vec<f64>> = report.grid.iter().map(|c| vec![c.p1, c.p2, c.n_equilibria as f64, c.n_stable as f64]).collect();
            crate::report::atomic::write_csv(&out.join("boundary_grid.csv"), &[param, param2, "n_equilibria", "n_stable"], &rows)?;
            boundary_figure(&report, param, param2, &format!("{}: phase boundary", model.name())).save(&out, "boundary")?;
            let curves: Vec<Value> = report.curves.iter().map(|c| c.to_json(&names, param, param2)).collect();
            let mut v = json!({"model": model.name(), "curves": curves});
            v["grid_check"] = json!({
                "cells": report.grid.len(),
                "transition_cells": report.transition_cells,
                "transition_cells_on_curve": report.transition_cells_on_curve,
                "agreement": report.agreement(),
            });
            v
        }
    };
    write_json(&out.join(format!("{}.json", verb_name(&args.verb))), &value)?;
    if args.json {
        crate::cli::emit(&serde_json::to_string_pretty(&value).expect("JSON serialises"));
    } else {
        eprintln!("{} written to {}", verb_name(&args.verb), out.display());
    }
    Ok(())
}

/// Default search box: equilibria of polynomial models typically scale with
/// the parameters (Lorenz: z = r - 1), so take twice the largest magnitude of
/// the initial state and the parameters.
fn default_box(x0: &[f64], p: &[f64]) -> f64 {
    2.0 * x0.iter().chain(p).fold(1.0f64, |m, v| m.max(v.abs()))
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

/// Every branch of equilibria over `[p_min, p_max]`: continues from each
/// fixed point found at either end of the interval, skipping starts that an
/// earlier branch already passed through.
pub fn full_diagram(field: &dyn VectorField, p: &[f64], cp: &ContinuationParams) -> Result<ContinuationResult> {
    let mut all = ContinuationResult { branches: Vec::new(), bifurcations: Vec::new() };
    for (end, direction) in [(cp.p_min, 1.0), (cp.p_max, -1.0)] {
        let mut pe = p.to_vec();
        pe[cp.param] = end;
        let half = default_box(&field.initial_state(), &pe);
        let opts = FixedPointOptions { starts: 24, seed: 7, bounds: vec![(-half, half); field.dim()], ..Default::default() };
        let starts = find_fixed_points(field, &pe, &opts)?;
        for fp in starts {
            if fp.report.family_dimension > 0 {
                continue; // not an isolated equilibrium: nothing to continue
            }
            let covered = all.branches.iter().any(|b| {
                b.points.iter().any(|q| (q.param - end).abs() < 1e-6 && dist(&q.state, &fp.state) < 1e-5 * (1.0 + norm(&fp.state)))
            });
            if covered {
                continue;
            }
            let mut c = cp.clone();
            c.direction = direction;
            let r = match continue_equilibria(field, &fp.state, &pe, &c) {
                Ok(r) => r,
                Err(_) => continue,
            };
            let offset = all.branches.len();
            all.branches.extend(r.branches);
            all.bifurcations.extend(r.bifurcations.into_iter().map(|mut b| {
                b.branch += offset;
                b
            }));
        }
    }
    // The same special point is found from both ends of a branch traversed twice.
    let mut unique: Vec<crate::engine::bifurcation::Bifurcation> = Vec::new();
    for b in all.bifurcations {
        if !unique.iter().any(|u| u.kind == b.kind && (u.param - b.param).abs() < 1e-6 && dist(&u.state, &b.state) < 1e-5 * (1.0 + norm(&b.state))) {
            unique.push(b);
        }
    }
    // A branch bifurcating at a pitchfork turns back in the parameter at the
    // branch point (Lorenz C± at rho = 1: rho = 1 + x^2/beta); that turn is the
    // branch point seen from the other branch, not a saddle-node.
    let branch_points: Vec<(f64, Vec<f64>)> =
        unique.iter().filter(|b| b.kind == BifurcationKind::Branch).map(|b| (b.param, b.state.clone())).collect();
    unique.retain(|b| {
        b.kind != BifurcationKind::Fold
            || !branch_points.iter().any(|(p, x)| (p - b.param).abs() < 1e-6 && dist(x, &b.state) < 1e-5 * (1.0 + norm(x)))
    });
    all.bifurcations = unique;
    Ok(all)
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

fn norm(a: &[f64]) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Bifurcation diagram: stable parts solid, unstable dashed, special points
/// marked (fold: triangle, Hopf: square, branch point: cross).
pub fn bifurcation_figure(r: &ContinuationResult, param: &str, var: &str, v: usize, title: &str) -> Figure {
    let mut panel = Panel::new(title, param, var);
    let (mut stable_label, mut unstable_label) = (true, true);
    for b in &r.branches {
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut run_stable = b.points.first().map(|q| q.stable).unwrap_or(true);
        for q in &b.points {
            if q.stable != run_stable && !run.is_empty() {
                let last = *run.last().expect("non-empty");
                panel = push_run(panel, std::mem::take(&mut run), run_stable, &mut stable_label, &mut unstable_label);
                run.push(last);
                run_stable = q.stable;
            }
            run.push((q.param, q.state[v]));
        }
        panel = push_run(panel, run, run_stable, &mut stable_label, &mut unstable_label);
    }
    for (kind, shape, color, label) in [
        (crate::engine::bifurcation::BifurcationKind::Fold, Shape::Triangle, 1, "fold"),
        (crate::engine::bifurcation::BifurcationKind::Hopf, Shape::Square, 2, "Hopf"),
        (crate::engine::bifurcation::BifurcationKind::Branch, Shape::Cross, 3, "branch point"),
    ] {
        let pts: Vec<(f64, f64, f64, f64)> =
            r.bifurcations.iter().filter(|b| b.kind == kind).map(|b| (b.param, b.state[v], b.state[v], b.state[v])).collect();
        if !pts.is_empty() {
            panel = panel.markers(label, pts, color, shape);
        }
    }
    Figure::new(vec![panel])
}

fn push_run(panel: Panel, run: Vec<(f64, f64)>, stable: bool, sl: &mut bool, ul: &mut bool) -> Panel {
    if run.len() < 2 {
        return panel;
    }
    if stable {
        let label = if std::mem::take(sl) { "stable" } else { "" };
        panel.line(label, run, 0)
    } else {
        let label = if std::mem::take(ul) { "unstable" } else { "" };
        panel.dashed(label, run, 6)
    }
}

/// A traced phase boundary with its brute-force check.
pub struct BoundaryReport {
    /// One curve per distinct special point found (e.g. both fold lines of a cusp).
    pub curves: Vec<BoundaryCurve>,
    pub grid: Vec<GridCell>,
    /// Cells with a neighbour of a different classification.
    pub transition_cells: usize,
    /// Of those, cells within 1.5 cell diagonals of the traced curve.
    pub transition_cells_on_curve: usize,
}

impl BoundaryReport {
    /// Fraction of grid transitions explained by the traced curve (1 = all).
    pub fn agreement(&self) -> f64 {
        if self.transition_cells == 0 { 1.0 } else { self.transition_cells_on_curve as f64 / self.transition_cells as f64 }
    }
}

/// Finds a fold (or Hopf) point by one-parameter continuation in
/// `bp.param` over `[p1_min, p1_max]`, continues it in `(param, param2)`,
/// and classifies a `grid x grid` brute-force grid of equilibria. A grid
/// transition is a cell whose number of equilibria (fold) or of stable
/// equilibria (Hopf) differs from a neighbour's; the check counts how many
/// transitions lie on the traced curve.
pub fn boundary_analysis(field: &dyn VectorField, p: &[f64], bp: &BoundaryParams, kind: Option<KindArg>, grid: usize) -> Result<BoundaryReport> {
    let cp = ContinuationParams::new(bp.param, bp.p1_min, bp.p1_max);
    let diagram = full_diagram(field, p, &cp)?;
    let wanted = |k: BifurcationKind| match kind {
        Some(KindArg::Fold) => k == BifurcationKind::Fold,
        Some(KindArg::Hopf) => k == BifurcationKind::Hopf,
        None => k == BifurcationKind::Fold || k == BifurcationKind::Hopf,
    };
    let starts: Vec<_> = diagram.bifurcations.iter().filter(|b| wanted(b.kind)).collect();
    let first = starts.first().ok_or_else(|| {
        Error::numerical(
            "boundary",
            format!("no {} point found along the parameter range [{}, {}]; widen --from/--to", match kind { Some(KindArg::Hopf) => "Hopf", Some(KindArg::Fold) => "fold", None => "fold or Hopf" }, bp.p1_min, bp.p1_max),
        )
    })?;
    let kind0 = first.kind;
    let mut curves: Vec<BoundaryCurve> = Vec::new();
    let p2_base = p[bp.param2];
    for start in starts.into_iter().filter(|b| b.kind == kind0) {
        // Skip special points that an earlier curve already passes through.
        let seen = curves.iter().any(|c| {
            c.points.iter().any(|q| (q.p1 - start.param).abs() < 1e-6 && (q.p2 - p2_base).abs() < 1e-6)
        });
        if seen {
            continue;
        }
        let mut p_start = p.to_vec();
        p_start[bp.param] = start.param;
        curves.push(continue_boundary(field, start, &p_start, bp)?);
    }
    // Sample states around everything continuation has visited.
    let n = field.dim();
    let mut lo = vec![f64::INFINITY; n];
    let mut hi = vec![f64::NEG_INFINITY; n];
    let visited = diagram.branches.iter().flat_map(|b| b.points.iter().map(|q| &q.state)).chain(curves.iter().flat_map(|c| c.points.iter().map(|q| &q.state)));
    for x in visited {
        for i in 0..n {
            lo[i] = lo[i].min(x[i]);
            hi[i] = hi[i].max(x[i]);
        }
    }
    let state_box: Vec<(f64, f64)> = lo.iter().zip(&hi).map(|(a, b)| {
        let w = (b - a).max(1.0);
        (a - 0.5 * w, b + 0.5 * w)
    }).collect();
    let cells = brute_force_grid(field, p, bp.param, bp.param2, [(bp.p1_min, bp.p1_max), (bp.p2_min, bp.p2_max)], grid, grid, &GridParams::new(state_box, 48))?;
    let key = |c: &GridCell| if kind0 == BifurcationKind::Hopf { c.n_stable } else { c.n_equilibria };
    let at = |i: usize, j: usize| cells.iter().find(|c| c.i == i && c.j == j);
    let (d1, d2) = ((bp.p1_max - bp.p1_min) / grid as f64, (bp.p2_max - bp.p2_min) / grid as f64);
    let (mut transitions, mut on_curve) = (0, 0);
    for c in &cells {
        let neighbours = [(c.i.wrapping_sub(1), c.j), (c.i + 1, c.j), (c.i, c.j.wrapping_sub(1)), (c.i, c.j + 1)];
        if neighbours.iter().filter_map(|&(i, j)| at(i, j)).any(|o| key(o) != key(c)) {
            transitions += 1;
            let near = curves.iter().flat_map(|cv| cv.points.windows(2)).any(|w| {
                segment_distance((c.p1 / d1, c.p2 / d2), (w[0].p1 / d1, w[0].p2 / d2), (w[1].p1 / d1, w[1].p2 / d2)) < 1.5 * std::f64::consts::SQRT_2
            });
            on_curve += usize::from(near);
        }
    }
    Ok(BoundaryReport { curves, grid: cells, transition_cells: transitions, transition_cells_on_curve: on_curve })
}

/// Euclidean distance from point `q` to segment `ab`.
fn segment_distance(q: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let len2 = vx * vx + vy * vy;
    let t = if len2 > 0.0 { (((q.0 - a.0) * vx + (q.1 - a.1) * vy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    ((q.0 - a.0 - t * vx).powi(2) + (q.1 - a.1 - t * vy).powi(2)).sqrt()
}

/// The traced boundary as a line over grid cells coloured by their
/// classification.
pub fn boundary_figure(r: &BoundaryReport, param: &str, param2: &str, title: &str) -> Figure {
    let mut panel = Panel::new(title, param, param2);
    let mut labels: Vec<(usize, usize)> = r.grid.iter().map(|c| (c.n_equilibria, c.n_stable)).collect();
    labels.sort();
    labels.dedup();
    for (idx, (ne, ns)) in labels.iter().enumerate() {
        let pts = r.grid.iter().filter(|c| (c.n_equilibria, c.n_stable) == (*ne, *ns)).map(|c| (c.p1, c.p2, c.p2, c.p2)).collect();
        panel = panel.markers(&format!("grid: {ne} equilibria, {ns} stable"), pts, idx + 2, Shape::Square);
    }
    for (i, c) in r.curves.iter().enumerate() {
        let line = c.points.iter().map(|q| (q.p1, q.p2)).collect();
        let label = if i == 0 { format!("traced {} curve", c.kind.as_str()) } else { String::new() };
        panel = panel.line(&label, line, 6);
    }
    Figure::new(vec![panel])
}

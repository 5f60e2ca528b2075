//! Files and figures of the engine's whole-diagram analyses (see
//! [`crate::engine::analysis`]): bifurcation diagrams and phase boundaries,
//! written the same way by `repcollapse analyze` and the `model-analysis` study.
use std::path::Path;

use serde_json::Value;

use crate::engine::BoundaryReport;
use crate::engine::BifurcationKind;
use crate::engine::ContinuationResult;
use crate::error::{Error, Result};
use crate::report::atomic::{write_atomic, write_csv};
use crate::report::plot::{Figure, Legend, Panel, Shape};

/// Writes `continuation.csv` and the diagram `continuation.{png,svg}` (state
/// variable `v` on the vertical axis) into `dir`; returns the JSON
/// `{"branches", "bifurcations", "param_name"}` of [`ContinuationResult::to_json`].
pub fn save_diagram(dir: &Path, r: &ContinuationResult, names: &[String], param: &str, v: usize, title: &str) -> Result<Value> {
    let mut csv = Vec::new();
    r.write_csv(&mut csv, names, param).map_err(|e| Error::Write { path: dir.join("continuation.csv"), reason: e.to_string() })?;
    write_atomic(&dir.join("continuation.csv"), &csv)?;
    bifurcation_figure(r, param, &names[v], v, title).save(dir, "continuation")?;
    Ok(r.to_json(names, param))
}

/// Writes `boundary.csv` (the traced curves), `boundary_points.csv` (their
/// Bogdanov-Takens and cusp points), `boundary_grid.csv` (the
/// brute-force classification, when the grid check ran) and `boundary.{png,svg}` into `dir`; returns
/// [`BoundaryReport::to_json`].
pub fn save_boundary(dir: &Path, r: &BoundaryReport, names: &[String], param: &str, param2: &str, title: &str) -> Result<Value> {
    let mut csv = Vec::new();
    r.write_csv(&mut csv, names, param, param2).map_err(|e| Error::Write { path: dir.join("boundary.csv"), reason: e.to_string() })?;
    write_atomic(&dir.join("boundary.csv"), &csv)?;
    let mut sp = Vec::new();
    r.write_special_csv(&mut sp, names, param, param2).map_err(|e| Error::Write { path: dir.join("boundary_points.csv"), reason: e.to_string() })?;
    write_atomic(&dir.join("boundary_points.csv"), &sp)?;
    if r.grid_checked {
        let rows: Vec<Vec<f64>> = r.grid.iter().map(|c| vec![c.p1, c.p2, c.n_equilibria as f64, c.n_stable as f64]).collect();
        write_csv(&dir.join("boundary_grid.csv"), &[param, param2, "n_equilibria", "n_stable"], &rows)?;
    }
    boundary_figure(r, param, param2, title).save(dir, "boundary")?;
    Ok(r.to_json(names, param, param2))
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
        (BifurcationKind::Fold, Shape::Triangle, 1, "fold"),
        (BifurcationKind::Hopf, Shape::Square, 2, "Hopf"),
        (BifurcationKind::Branch, Shape::Cross, 3, "branch point"),
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
    panel = panel.legend(emptiest_corner(r));
    use crate::engine::Codim2Kind;
    for (kind, shape, color, label) in [(Codim2Kind::BogdanovTakens, Shape::Triangle, 0, "Bogdanov-Takens"), (Codim2Kind::Cusp, Shape::Cross, 1, "cusp")] {
        let pts: Vec<(f64, f64, f64, f64)> =
            r.curves.iter().flat_map(|c| &c.special_points).filter(|s| s.kind == kind).map(|s| (s.p1, s.p2, s.p2, s.p2)).collect();
        if !pts.is_empty() {
            panel = panel.markers(label, pts, color, shape);
        }
    }
    Figure::new(vec![panel])
}

/// The legend corner that hides the fewest curve and special points: counts
/// them in the corner's 45% x 40% of the plotted range (special points x10).
fn emptiest_corner(r: &BoundaryReport) -> Legend {
    let pts: Vec<(f64, f64, usize)> = r
        .curves
        .iter()
        .flat_map(|c| c.points.iter().map(|q| (q.p1, q.p2, 1)).chain(c.special_points.iter().map(|s| (s.p1, s.p2, 10))))
        .chain(r.grid.iter().map(|g| (g.p1, g.p2, 0)))
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y, _) in &pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let (wx, wy) = ((x1 - x0).max(f64::MIN_POSITIVE), (y1 - y0).max(f64::MIN_POSITIVE));
    let cost = |right: bool, upper: bool| -> usize {
        pts.iter()
            .filter(|&&(x, y, _)| {
                let (fx, fy) = ((x - x0) / wx, (y - y0) / wy);
                (if right { fx > 0.55 } else { fx < 0.45 }) && (if upper { fy > 0.6 } else { fy < 0.4 })
            })
            .map(|p| p.2)
            .sum()
    };
    [(Legend::UpperRight, true, true), (Legend::UpperLeft, false, true), (Legend::LowerRight, true, false), (Legend::LowerLeft, false, false)]
        .into_iter()
        .min_by_key(|&(_, r, u)| cost(r, u))
        .map(|(l, _, _)| l)
        .unwrap_or_default()
}

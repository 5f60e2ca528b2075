//! Whole-diagram analyses built on continuation: every equilibrium branch
//! over a parameter interval, and a traced phase boundary with its
//! brute-force grid check. `repcollapse analyze` and the `model-analysis`
//! study both call these.
use crate::engine::bifurcation::{Bifurcation, BifurcationKind};
use crate::engine::boundary::{brute_force_grid, continue_boundary, BoundaryCurve, BoundaryParams, GridCell, GridParams};
use crate::engine::continuation::{continue_equilibria, ContinuationParams, ContinuationResult};
use crate::engine::{find_fixed_points, FixedPointOptions, VectorField};
use crate::error::{Error, Result};
use serde_json::{json, Value};

/// The scale-aware default search box (one definition, in `fixed_points`).
pub use crate::engine::fixed_points::default_box;

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
    let mut unique: Vec<Bifurcation> = Vec::new();
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

/// A traced phase boundary with its brute-force check.
pub struct BoundaryReport {
    /// One curve per distinct special point found (e.g. both fold lines of a cusp).
    pub curves: Vec<BoundaryCurve>,
    pub grid: Vec<GridCell>,
    /// Cells with a neighbour of a different classification.
    pub transition_cells: usize,
    /// Of those, cells within 1.5 cell diagonals of the traced curve.
    pub transition_cells_on_curve: usize,
    /// Whether the brute-force grid check ran (`grid > 0`).
    pub grid_checked: bool,
}

impl BoundaryReport {
    /// Fraction of grid transitions explained by the traced curve (1 = all).
    pub fn agreement(&self) -> f64 {
        if self.transition_cells == 0 { 1.0 } else { self.transition_cells_on_curve as f64 / self.transition_cells as f64 }
    }

    /// JSON `{"curves": [BoundaryCurve::to_json], "grid_check": {"cells",
    /// "transition_cells", "transition_cells_on_curve", "agreement"}}`.
    pub fn to_json(&self, state_names: &[String], param: &str, param2: &str) -> Value {
        let curves: Vec<Value> = self.curves.iter().map(|c| c.to_json(state_names, param, param2)).collect();
        let grid_check = if self.grid_checked {
            json!({
                "cells": self.grid.len(),
                "transition_cells": self.transition_cells,
                "transition_cells_on_curve": self.transition_cells_on_curve,
                "agreement": self.agreement(),
            })
        } else {
            Value::Null
        };
        json!({ "curves": curves, "grid_check": grid_check })
    }

    /// All curves as one CSV table: `curve,kind,<param>,<param2>,<state...>,frequency`
    /// (frequency empty except on Hopf curves).
    pub fn write_csv(&self, w: &mut dyn std::io::Write, state_names: &[String], param: &str, param2: &str) -> std::io::Result<()> {
        write!(w, "curve,kind,{param},{param2}")?;
        for s in state_names {
            write!(w, ",{s}")?;
        }
        writeln!(w, ",frequency")?;
        for (i, c) in self.curves.iter().enumerate() {
            for q in &c.points {
                write!(w, "{i},{},{},{}", c.kind.as_str(), q.p1, q.p2)?;
                for v in &q.state {
                    write!(w, ",{v}")?;
                }
                match q.frequency {
                    Some(f) => writeln!(w, ",{f}")?,
                    None => writeln!(w, ",")?,
                }
            }
        }
        Ok(())
    }
}

/// Finds a fold (or Hopf) point by one-parameter continuation in
/// `bp.param` over `[p1_min, p1_max]`, continues it in `(param, param2)`,
/// and classifies a `grid x grid` brute-force grid of equilibria. A grid
/// transition is a cell whose number of equilibria (fold) or of stable
/// equilibria (Hopf) differs from a neighbour's; the check counts how many
/// transitions lie on the traced curve. `grid = 0` skips the check (it
/// dominates the run time); the report then has `grid_checked = false`.
/// Curves that coincide with an earlier one are dropped.
pub fn boundary_analysis(field: &dyn VectorField, p: &[f64], bp: &BoundaryParams, kind: Option<BifurcationKind>, grid: usize) -> Result<BoundaryReport> {
    let cp = ContinuationParams::new(bp.param, bp.p1_min, bp.p1_max);
    let diagram = full_diagram(field, p, &cp)?;
    let wanted = |k: BifurcationKind| match kind {
        Some(want) => k == want,
        None => k == BifurcationKind::Fold || k == BifurcationKind::Hopf,
    };
    let starts: Vec<_> = diagram.bifurcations.iter().filter(|b| wanted(b.kind)).collect();
    let first = starts.first().ok_or_else(|| {
        let names = field.param_names();
        let (n1, n2) = (names.get(bp.param).cloned().unwrap_or_default(), names.get(bp.param2).cloned().unwrap_or_default());
        Error::numerical(
            "boundary",
            format!(
                "no {} point found along `{n1}` in [{}, {}] at the model's value `{n2}` = {}; the curve may not cross \
                 this line: start from another value of `{n2}` inside [{}, {}] (--set {n2}=...), or widen --from/--to",
                kind.map_or("fold or Hopf", |k| k.as_str()),
                bp.p1_min,
                bp.p1_max,
                p[bp.param2],
                bp.p2_min,
                bp.p2_max
            ),
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
        let curve = continue_boundary(field, start, &p_start, bp)?;
        // The same curve can be reached from two special points (e.g. both
        // ends of one Hopf curve crossing the start line): keep it once.
        if !curves.iter().any(|c| c.kind == curve.kind && same_curve(&curve, c, bp)) {
            curves.push(curve);
        }
    }
    if grid == 0 {
        return Ok(BoundaryReport { curves, grid: Vec::new(), transition_cells: 0, transition_cells_on_curve: 0, grid_checked: false });
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
    Ok(BoundaryReport { curves, grid: cells, transition_cells: transitions, transition_cells_on_curve: on_curve, grid_checked: true })
}

/// Whether every point of `a` lies on `b`: within `1e-2` of the parameter
/// box's size of `b`'s polyline (the chords of a traced curve deviate from
/// it by their sagitta, up to ~1e-3 of the box on curved stretches; two
/// distinct curves of one kind that stay this close along their whole
/// length are not resolved by the tracer anyway).
fn same_curve(a: &BoundaryCurve, b: &BoundaryCurve, bp: &BoundaryParams) -> bool {
    let (w1, w2) = ((bp.p1_max - bp.p1_min).max(f64::MIN_POSITIVE), (bp.p2_max - bp.p2_min).max(f64::MIN_POSITIVE));
    if a.points.is_empty() || b.points.len() < 2 {
        return false;
    }
    a.points.iter().all(|q| {
        b.points.windows(2).any(|w| {
            segment_distance((q.p1 / w1, q.p2 / w2), (w[0].p1 / w1, w[0].p2 / w2), (w[1].p1 / w1, w[1].p2 / w2)) < 1e-2
        })
    })
}

/// Euclidean distance from point `q` to segment `ab`.
fn segment_distance(q: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let len2 = vx * vx + vy * vy;
    let t = if len2 > 0.0 { (((q.0 - a.0) * vx + (q.1 - a.1) * vy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    ((q.0 - a.0 - t * vx).powi(2) + (q.1 - a.1 - t * vy).powi(2)).sqrt()
}


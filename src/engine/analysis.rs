//! Whole-diagram analyses built on continuation: every equilibrium branch
//! over a parameter interval, and a traced phase boundary with its
//! brute-force grid check. `repcollapse analyze` and the `model-analysis`
//! study both call these.
use crate::engine::continuation::boundary::{continue_boundary, BoundaryCurve, BoundaryParams};
use crate::engine::continuation::branches::continue_equilibria;
use crate::engine::linalg::sparse_jacobian::sparse_pattern;
use crate::engine::continuation::grid::{brute_force_grid, GridCell, GridParams};
use crate::engine::continuation::grid_check::{grid_agreement, segment_distance, GridAgreement};
use crate::engine::continuation::params::ContinuationParams;
use crate::engine::continuation::results::ContinuationResult;
use crate::engine::continuation::test_functions::{Bifurcation, BifurcationKind};
use crate::engine::equilibria::search::{default_box, find_fixed_points, FixedPointOptions};
use crate::engine::linalg::vector::{dist, norm};
use crate::engine::VectorField;
use crate::error::{Error, Result};
use serde_json::{json, Value};

/// Every branch of equilibria over `[p_min, p_max]`: continues from each
/// fixed point found at either end of the interval, skipping starts that an
/// earlier branch already passed through.
pub fn full_diagram(field: &dyn VectorField, p: &[f64], cp: &ContinuationParams) -> Result<ContinuationResult> {
    let mut all = ContinuationResult { branches: Vec::new(), bifurcations: Vec::new(), spectrum_note: None };
    for (end, direction) in [(cp.p_min, 1.0), (cp.p_max, -1.0)] {
        let mut pe = p.to_vec();
        pe[cp.param] = end;
        let half = default_box(&field.initial_state(), &pe);
        // The same default bound on the starts as the fixed-point search of a
        // large sparse system (`8000 / n`, at least 2).
        let starts = if sparse_pattern(field).is_some() { 24.min((8_000 / field.dim()).max(2)) } else { 24 };
        let opts = FixedPointOptions { starts, seed: 7, bounds: vec![(-half, half); field.dim()], ..Default::default() };
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
            all.spectrum_note = all.spectrum_note.take().or(r.spectrum_note);
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

/// A traced phase boundary with its brute-force check.
pub struct BoundaryReport {
    /// One curve per distinct special point found (e.g. both fold lines of a cusp).
    pub curves: Vec<BoundaryCurve>,
    pub grid: Vec<GridCell>,
    /// The grid check's counts (see [`crate::engine::continuation::grid_check`]).
    pub check: GridAgreement,
    /// Whether the brute-force grid check ran (`grid > 0`).
    pub grid_checked: bool,
}

impl BoundaryReport {
    /// The fraction of the traced curves lying in or next to a cell where
    /// the grid sees the change (1 = all; the correctness score of
    /// [`crate::engine::continuation::grid_check`]; completeness is `check.explained()`).
    pub fn agreement(&self) -> f64 {
        self.check.agreement()
    }

    /// JSON `{"curves": [BoundaryCurve::to_json], "grid_check": {"cells",
    /// "transition_cells", "transition_cells_on_curve", "explained",
    /// "curve_samples", "curve_samples_on_transition", "confirmed",
    /// "agreement", "curve_samples_unresolved" (only if > 0)}}`; without
    /// `--grid-check`, `"grid_check": null` and a `"grid_check_note"` saying
    /// so (no null goes unexplained).
    pub fn to_json(&self, state_names: &[String], param: &str, param2: &str) -> Value {
        let curves: Vec<Value> = self.curves.iter().map(|c| c.to_json(state_names, param, param2)).collect();
        let grid_check = if self.grid_checked {
            let c = &self.check;
            let mut g = json!({
                "cells": self.grid.len(),
                "transition_cells": c.transition_cells,
                "transition_cells_on_curve": c.transition_cells_on_curve,
                "explained": c.explained(),
                "curve_samples": c.curve_samples,
                "curve_samples_on_transition": c.curve_samples_on_transition,
                "confirmed": c.confirmed(),
                "agreement": c.agreement(),
            });
            // Only where some samples were out of the grid's reach (so
            // reports without such samples keep their form).
            if c.curve_samples_unresolved > 0 {
                g["curve_samples_unresolved"] = json!(c.curve_samples_unresolved);
            }
            g
        } else {
            Value::Null
        };
        let mut v = json!({ "curves": curves, "grid_check": grid_check });
        if !self.grid_checked {
            v["grid_check_note"] = json!("not run: pass --grid-check to compare the traced curves with a grid scan of the parameter plane");
        }
        v
    }

    /// The codimension-two points of all curves as one CSV table:
    /// `curve,kind,<param>,<param2>,<state...>,residual,iterations`
    /// (residual and iterations of the Bogdanov-Takens defining system;
    /// empty for cusps).
    pub fn write_special_csv(&self, w: &mut dyn std::io::Write, state_names: &[String], param: &str, param2: &str) -> std::io::Result<()> {
        csv_header(w, state_names, param, param2, "residual,iterations")?;
        for (i, c) in self.curves.iter().enumerate() {
            for sp in &c.special_points {
                write!(w, "{i},{},{},{}", sp.kind.as_str(), sp.p1, sp.p2)?;
                for v in &sp.state {
                    write!(w, ",{v}")?;
                }
                let opt = |v: Option<String>| v.unwrap_or_default();
                writeln!(w, ",{},{}", opt(sp.residual.map(|r| r.to_string())), opt(sp.iterations.map(|r| r.to_string())))?;
            }
        }
        Ok(())
    }

    /// One line per codimension-two point, e.g. `bogdanov-takens on curve 0
    /// (hopf): D = 0.1095432676, beta = 2.073184904 (residual 4.4e-16, 3
    /// Newton steps)`.
    pub fn special_points_text(&self, param: &str, param2: &str) -> String {
        let mut s = String::new();
        for (i, c) in self.curves.iter().enumerate() {
            for sp in &c.special_points {
                s += &format!("{} on curve {i} ({}): {param} = {:.10}, {param2} = {:.10}", sp.kind.as_str(), c.kind.as_str(), sp.p1, sp.p2);
                if let (Some(r), Some(it)) = (sp.residual, sp.iterations) {
                    s += &format!(" (defining-system residual {r:.1e}, {it} Newton steps)");
                }
                s.push('\n');
            }
        }
        s
    }

    /// All curves as one CSV table: `curve,kind,<param>,<param2>,<state...>,frequency`
    /// (frequency empty except on Hopf curves).
    pub fn write_csv(&self, w: &mut dyn std::io::Write, state_names: &[String], param: &str, param2: &str) -> std::io::Result<()> {
        csv_header(w, state_names, param, param2, "frequency")?;
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

/// `curve,kind,<param>,<param2>,<state names>,<tail>`: the header of both boundary tables.
fn csv_header(w: &mut dyn std::io::Write, state_names: &[String], param: &str, param2: &str, tail: &str) -> std::io::Result<()> {
    write!(w, "curve,kind,{param},{param2}")?;
    for s in state_names {
        write!(w, ",{s}")?;
    }
    writeln!(w, ",{tail}")
}

/// Finds a fold (or Hopf) point by one-parameter continuation in
/// `bp.param` over `[p1_min, p1_max]`, continues it in `(param, param2)`,
/// and classifies a `grid x grid` brute-force grid of equilibria, compared
/// with the curves by [`grid_agreement`] (transitions explained by the
/// curves, and curves confirmed by transitions). `grid = 0` skips the check (it
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
        return Ok(BoundaryReport { curves, grid: Vec::new(), check: GridAgreement::default(), grid_checked: false });
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
    let ranges = [(bp.p1_min, bp.p1_max), (bp.p2_min, bp.p2_max)];
    let check = grid_agreement(field, p, bp.param, bp.param2, kind0, &curves, &cells, ranges, (grid, grid));
    Ok(BoundaryReport { curves, grid: cells, check, grid_checked: true })
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

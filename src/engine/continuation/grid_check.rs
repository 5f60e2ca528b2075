//! How well traced boundary curves match a brute-force grid classification
//! ([`brute_force_grid`](crate::engine::continuation::grid::brute_force_grid)).
//!
//! Lengths are measured in **cell units**: `p1 / d1, p2 / d2` with `d1, d2`
//! the cell sizes, so one cell is the unit square and its diagonal is
//! `sqrt 2`.
//!
//! A **transition cell** is a cell with an edge neighbour whose
//! classification differs *in the way the traced kind of curve changes it*:
//!
//! * fold curves: the number of equilibria differs;
//! * Hopf curves: the number of stable equilibria differs while the number
//!   of equilibria is the same (a fold also changes the number of stable
//!   equilibria, and is not what a Hopf curve explains).
//!
//! A boundary crossing the segment between two cell centres lies within one
//! cell of both, so for an exact curve every transition cell is within one
//! cell diagonal of it, and every curve point lies in or next to (8
//! neighbours) a cell where the grid sees the change. The check reports both
//! directions:
//!
//! ```text
//!   explained = #{transition cells within sqrt 2 of a traced curve} / #{transition cells}
//!   confirmed = #{curve samples in or next to a changing cell} / #{curve samples}
//! ```
//!
//! where a *changing cell* has an edge neighbour with a different number of
//! equilibria (fold) or of stable equilibria (Hopf, whatever the number of
//! equilibria: near a Bogdanov-Takens point the Hopf curve runs within a
//! cell of a fold curve, whose cells then show both changes at once).
//!
//! with the curves sampled uniformly along their polylines every 1/4 cell
//! of arclength (so dense stretches near special points do not weigh more;
//! the check used to give every chord at least one sample, so a curve
//! traced in many short steps towards a Bogdanov-Takens point weighed
//! several times its length) and only inside the grid. A sample counts only where the grid can resolve the
//! curve: some of the 3 x 3 cell centres around it must lie on each side
//! of the curve (of the sample's chord). The grid classifies equilibria at
//! cell centres only, so a stretch of curve that runs within half a cell of
//! the box's edge, parallel to it, has every nearby centre on its inner
//! side and no grid neighbour pair across it: no change can be seen there,
//! whether the curve is right or wrong. Such samples are counted apart
//! (`curve_samples_unresolved`) and enter neither fraction. (The case that
//! needed this: the Hopf curve of `examples/models/bazykin.toml` from its
//! published Hopf point at `alpha = 0.9797938, delta = 0` to its
//! Bogdanov-Takens point at `delta = 0.006` stays below the first row of
//! centres, `delta = 0.0104`, of the 24 x 24 grid on `[0, 1] x [0, 0.5]`;
//! counted, and weighed by its 88 short chords rather than its length of
//! 3 cells, its samples cut `confirmed` to 0.64.) Hopf curve samples count only where every non-critical
//! eigenvalue has negative real part: elsewhere the Hopf bifurcation turns
//! an unstable equilibrium into another unstable one, which a count of
//! stable equilibria cannot see.
//!
//! `agreement = confirmed` measures the **correctness** of the traced curves:
//! it is low when a traced curve runs where the grid sees no change (a
//! curve shifted by a few cells scores ~0.3). `explained` measures
//! **completeness**: it is low when the grid shows a boundary that no traced
//! curve explains, e.g. a second Hopf curve that does not cross the line on
//! which the special points were searched, even if every traced curve is
//! exact. Both are reported; the old single fraction (transition cells near a
//! curve, counting every change of the count) mixed the two and also charged
//! a Hopf curve with the folds' changes of stability, giving 0.4-0.7 for
//! curves correct to 1e-9.
use faer::Mat;

use crate::engine::continuation::test_functions::BifurcationKind;
use crate::engine::continuation::boundary::BoundaryCurve;
use crate::engine::continuation::grid::GridCell;
use crate::engine::linalg::spectrum::sorted_eigenvalues;
use crate::engine::VectorField;

/// Result of [`grid_agreement`].
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GridAgreement {
    pub transition_cells: usize,
    /// Transition cells within one cell diagonal of a traced curve.
    pub transition_cells_on_curve: usize,
    /// Curve samples (every 1/4 cell, inside the grid, visible to the grid).
    pub curve_samples: usize,
    /// Curve samples in or next to a changing cell.
    pub curve_samples_on_transition: usize,
    /// Curve samples the grid cannot resolve (every nearby cell centre on
    /// one side of the curve); in neither fraction.
    #[serde(skip_serializing_if = "is_zero")]
    pub curve_samples_unresolved: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl GridAgreement {
    /// `transition_cells_on_curve / transition_cells` (1 if there are none).
    pub fn explained(&self) -> f64 {
        ratio(self.transition_cells_on_curve, self.transition_cells)
    }
    /// `curve_samples_on_transition / curve_samples` (1 if there are none).
    pub fn confirmed(&self) -> f64 {
        ratio(self.curve_samples_on_transition, self.curve_samples)
    }
    /// The correctness score, `confirmed` (module docs).
    pub fn agreement(&self) -> f64 {
        self.confirmed()
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Compare `curves` (all of `kind`) with the `n1 x n2` grid `cells` over
/// `ranges`, other parameters at `p` (used for the eigenvalues that decide
/// whether a Hopf point is visible to the grid). See the module docs.
pub fn grid_agreement(
    field: &dyn VectorField,
    p: &[f64],
    param: usize,
    param2: usize,
    kind: BifurcationKind,
    curves: &[BoundaryCurve],
    cells: &[GridCell],
    ranges: [(f64, f64); 2],
    (n1, n2): (usize, usize),
) -> GridAgreement {
    let (d1, d2) = ((ranges[0].1 - ranges[0].0) / n1 as f64, (ranges[1].1 - ranges[1].0) / n2 as f64);
    let to_cell = |a: f64, b: f64| ((a - ranges[0].0) / d1, (b - ranges[1].0) / d2);
    let mut grid: Vec<Option<&GridCell>> = vec![None; n1 * n2];
    for c in cells {
        if c.i < n1 && c.j < n2 {
            grid[c.i * n2 + c.j] = Some(c);
        }
    }
    let at = |i: isize, j: isize| -> Option<&GridCell> {
        (i >= 0 && j >= 0 && (i as usize) < n1 && (j as usize) < n2).then(|| grid[i as usize * n2 + j as usize]).flatten()
    };
    let differs = |a: &GridCell, b: &GridCell| match kind {
        BifurcationKind::Hopf => a.n_equilibria == b.n_equilibria && a.n_stable != b.n_stable,
        _ => a.n_equilibria != b.n_equilibria,
    };
    // Any change of the traced kind's count, for confirming curve samples:
    // a Hopf curve running within a cell of a fold curve is confirmed by
    // the fold's change of the number of stable equilibria too.
    let changes = |a: &GridCell, b: &GridCell| match kind {
        BifurcationKind::Hopf => a.n_stable != b.n_stable,
        _ => a.n_equilibria != b.n_equilibria,
    };
    let mut transition = vec![false; n1 * n2];
    let mut change = vec![false; n1 * n2];
    for i in 0..n1 as isize {
        for j in 0..n2 as isize {
            if let Some(c) = at(i, j) {
                let nb = [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)];
                transition[i as usize * n2 + j as usize] = nb.iter().filter_map(|&(a, b)| at(a, b)).any(|o| differs(c, o));
                change[i as usize * n2 + j as usize] = nb.iter().filter_map(|&(a, b)| at(a, b)).any(|o| changes(c, o));
            }
        }
    }
    // Polylines in cell units, split where a Hopf point is invisible to the grid.
    let mut segments: Vec<((f64, f64), (f64, f64))> = Vec::new();
    let mut jac = Mat::<f64>::zeros(field.dim(), field.dim());
    let mut pp = p.to_vec();
    for c in curves {
        let visible: Vec<bool> = c
            .points
            .iter()
            .map(|q| {
                if kind != BifurcationKind::Hopf || field.dim() <= 2 {
                    return true;
                }
                pp[param] = q.p1;
                pp[param2] = q.p2;
                field.jacobian(&q.state, &pp, jac.as_mut());
                match sorted_eigenvalues(&jac) {
                    // Drop the critical pair (the two closest to the imaginary axis).
                    Ok(mut ev) => {
                        ev.sort_by(|a, b| a.re.abs().total_cmp(&b.re.abs()));
                        ev.iter().skip(2).all(|l| l.re < 0.0)
                    }
                    Err(_) => false,
                }
            })
            .collect();
        for (k, w) in c.points.windows(2).enumerate() {
            if visible[k] && visible[k + 1] {
                segments.push((to_cell(w[0].p1, w[0].p2), to_cell(w[1].p1, w[1].p2)));
            }
        }
    }
    let mut out = GridAgreement::default();
    for i in 0..n1 {
        for j in 0..n2 {
            if !transition[i * n2 + j] {
                continue;
            }
            out.transition_cells += 1;
            let centre = (i as f64 + 0.5, j as f64 + 0.5);
            if segments.iter().any(|&(a, b)| segment_distance(centre, a, b) <= std::f64::consts::SQRT_2) {
                out.transition_cells_on_curve += 1;
            }
        }
    }
    // Samples every 1/4 cell of arclength along each polyline (the spacing
    // carried over the vertices, so short chords near special points do not
    // add samples of their own).
    let mut next = 0.0;
    let mut prev_end: Option<(f64, f64)> = None;
    for &(a, b) in &segments {
        if prev_end != Some(a) {
            next = 0.0;
        }
        prev_end = Some(b);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        // Unit normal of the chord.
        let (nx, ny) = if len > 0.0 { (-(b.1 - a.1) / len, (b.0 - a.0) / len) } else { (0.0, 0.0) };
        while next < len {
            let f = next / len;
            next += 0.25;
            let (x, y) = (a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1));
            if !(x >= 0.0 && y >= 0.0 && x < n1 as f64 && y < n2 as f64) {
                continue;
            }
            let (ci, cj) = (x.floor() as isize, y.floor() as isize);
            let around: Vec<(usize, usize)> = (-1..=1)
                .flat_map(|di| (-1..=1).map(move |dj| (ci + di, cj + dj)))
                .filter(|&(a, b)| a >= 0 && b >= 0 && (a as usize) < n1 && (b as usize) < n2)
                .map(|(a, b)| (a as usize, b as usize))
                .collect();
            let side = |&(a, b): &(usize, usize)| nx * (a as f64 + 0.5 - x) + ny * (b as f64 + 0.5 - y);
            if !(around.iter().any(|c| side(c) > 0.0) && around.iter().any(|c| side(c) < 0.0)) {
                out.curve_samples_unresolved += 1;
                continue;
            }
            out.curve_samples += 1;
            let near = around.iter().any(|&(a, b)| change[a * n2 + b]);
            out.curve_samples_on_transition += usize::from(near);
        }
        next -= len;
    }
    out
}

/// Euclidean distance from point `q` to segment `ab`.
pub fn segment_distance(q: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let len2 = vx * vx + vy * vy;
    let t = if len2 > 0.0 { (((q.0 - a.0) * vx + (q.1 - a.1) * vy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    ((q.0 - a.0 - t * vx).powi(2) + (q.1 - a.1 - t * vy).powi(2)).sqrt()
}

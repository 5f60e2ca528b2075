//! The grid check of Bazykin's Hopf boundary in (alpha, delta) over
//! [0, 1] x [0, 0.5] (`examples/models/bazykin.toml`, as
//! `repcollapse analyze bazykin.toml boundary --param alpha --from 0 --to 1
//! --param2 delta --from2 0 --to2 0.5 --kind hopf --grid-check`).
//!
//! It used to confirm only 0.64 of the curves: the second Hopf curve, from
//! the published Hopf point at `alpha = 9.797938e-1, delta = 0` (AUTO demo
//! `baz`, quoted in the model file) to its Bogdanov-Takens end at
//! `delta ~ 0.006`, runs below the first row of cell centres
//! (`delta = 0.0104`), so no grid cell lies on its unstable side and the
//! grid cannot see it. The curve is right (its end on `delta = 0` is the
//! published point); the check was wrong twice: it counted samples the
//! grid cannot resolve (now counted apart), and it gave every chord of a
//! polyline at least one sample, so this 3-cell curve, traced in 88 short
//! steps towards its Bogdanov-Takens end, had 88 samples instead of ~12
//! (now every 1/4 cell of arclength; `src/engine/continuation/grid_check.rs`).
use repcollapse::engine::{boundary_analysis, BifurcationKind, BoundaryParams, VectorField};
use repcollapse::symbolic::SymbolicModel;

#[test]
fn bazykin_hopf_boundary_grid_check() {
    let m = SymbolicModel::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/bazykin.toml")).unwrap();
    let p = m.default_params();
    let bp = BoundaryParams { p1_min: 0.0, p1_max: 1.0, ..BoundaryParams::new(0, 1, 0.0, 0.5) };
    let r = boundary_analysis(&m, &p, &bp, Some(BifurcationKind::Hopf), 24).unwrap();
    let c = &r.check;
    eprintln!("{c:?} confirmed {} explained {}", c.confirmed(), c.explained());
    assert!(c.confirmed() >= 0.9, "confirmed {}", c.confirmed());
    // The short curve ends on delta = 0 at the published Hopf point
    // (AUTO prints 7 digits; the model file's closed form
    // alpha^2 - 0.99 alpha + 0.01 = 0 gives 0.97979379).
    let short = r.curves.iter().find(|cv| cv.points.iter().all(|q| q.p2 < 0.5 / 24.0 * 0.5)).expect("the curve near delta = 0");
    let end = short.points.iter().min_by(|a, b| a.p2.total_cmp(&b.p2)).unwrap();
    let closed = (0.99 + (0.99f64 * 0.99 - 0.04).sqrt()) / 2.0;
    assert!(end.p2.abs() < 1e-12 && (end.p1 - closed).abs() < 1e-8 && (end.p1 - 0.9797938).abs() < 5e-8, "end at ({}, {})", end.p1, end.p2);
    // The unresolved samples are (at most) those of that curve: one per
    // 1/4 cell of its length (plus one for the start of each polyline).
    let len_cells: f64 = short.points.windows(2).map(|w| ((w[1].p1 - w[0].p1) * 24.0).hypot((w[1].p2 - w[0].p2) * 48.0)).sum();
    assert!(c.curve_samples_unresolved > 0);
    assert!((c.curve_samples_unresolved as f64) <= 4.0 * len_cells + 2.0, "{} unresolved for a curve {len_cells} cells long", c.curve_samples_unresolved);
    // The samples follow the curves' lengths, not their number of points.
    let total_len: f64 = r.curves.iter().flat_map(|cv| cv.points.windows(2)).map(|w| ((w[1].p1 - w[0].p1) * 24.0).hypot((w[1].p2 - w[0].p2) * 48.0)).sum();
    let n_samples = (c.curve_samples + c.curve_samples_unresolved) as f64;
    assert!(n_samples <= 4.0 * total_len + 4.0 && n_samples >= 4.0 * total_len - 8.0, "{n_samples} samples for {total_len} cells of curve");
}

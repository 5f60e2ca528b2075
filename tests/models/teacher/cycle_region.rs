//! The oscillation region of the symmetric head (`docs/teacher.md` 9.2,
//! `src/models/teacher/head/reduced/cycle_region.rs`): the traced Hopf curve
//! agrees with the engine's one-parameter Hopf detection at an independent
//! `f`, is supercritical along its length, lies above the drifting state's
//! runoff, and the collocation branch from its Hopf point is stable next to
//! it with the Hopf period at birth.
use std::f64::consts::PI;

use repcollapse::engine::{continue_equilibria, BifurcationKind, ContinuationParams, VectorField};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::reduced::cycle_region::{cycle_region, RegionOptions};
use repcollapse::models::teacher::head::reduced::slice::{reduced_model_text, relative_equilibrium};
use repcollapse::symbolic::SymbolicModel;

fn cfg(f: f64, lam: f64) -> TeacherConfig {
    TeacherConfig::from_sets(&["head=\"symmetric\"".to_string(), format!("label_noise={f}"), format!("weight_decay={lam}")]).unwrap()
}

/// The Hopf point found by continuing the drifting state at `(f, lam0)`
/// down in the weight decay (one parameter, no curve tracing).
fn hopf_by_one_parameter(f: f64, lam0: f64) -> (f64, f64) {
    let m = SymbolicModel::from_toml_str(&reduced_model_text(&cfg(f, lam0), None).unwrap(), "reduced").unwrap();
    let p = m.default_params();
    let z = relative_equilibrium(&m, &p).unwrap();
    let mut cp = ContinuationParams::new(6, 0.9 * lam0, lam0);
    cp.direction = -1.0;
    cp.arclength.ds = 1e-3;
    let res = continue_equilibria(&m, &z, &p, &cp).unwrap();
    let h = res.bifurcations.iter().find(|b| b.kind == BifurcationKind::Hopf).expect("a Hopf point below lam0");
    (h.param, h.frequency.unwrap())
}

#[test]
fn hopf_curve_matches_one_parameter_detection_and_bounds_a_stable_cycle() {
    let opts = RegionOptions { f_range: [0.05, 0.15], runoff_fs: vec![0.06, 0.1, 0.14], cycle_fs: vec![0.1], cycle_steps: 12, ..RegionOptions::default() };
    let reg = cycle_region(&cfg(0.1, 0.02), &opts).unwrap();
    let curve = &reg.hopf_curve;
    // The curve spans the requested range and holds its start.
    assert!(curve.first().unwrap().f <= 0.0501 && curve.last().unwrap().f >= 0.1499, "f from {} to {}", curve[0].f, curve.last().unwrap().f);
    assert!(curve.iter().any(|h| (h.f - 0.1).abs() < 1e-12 && (h.weight_decay - reg.start.weight_decay).abs() < 1e-9));
    // lambda_H rises with f and l1 < 0 everywhere (supercritical, no Bautin point).
    assert!(curve.windows(2).all(|w| w[1].weight_decay > w[0].weight_decay), "lambda_H not increasing in f");
    assert!(curve.iter().all(|h| h.l1.is_some_and(|v| v < 0.0)), "{:?}", curve.iter().map(|h| h.l1).collect::<Vec<_>>());
    // Independent check at the curve point nearest f = 0.06: the drifting
    // state at 1.02 lambda_H (stable, as at f = 0.1 where lambda = 0.02 is
    // 1.01 lambda_H), continued down in lambda alone, meets its Hopf point
    // where the traced curve passes. Both solve the same condition (a
    // critical pair on the imaginary axis) by Newton to 1e-10; 1e-6
    // (5e-5 of lambda_H) leaves room for the one-parameter detector's
    // location tolerance and would still catch a curve that drifted off the
    // Hopf set by a single step (steps move lambda_H by ~3e-5).
    let h = curve.iter().min_by(|a, b| (a.f - 0.06).abs().total_cmp(&(b.f - 0.06).abs())).unwrap();
    let (lam_h, omega) = hopf_by_one_parameter(h.f, 1.02 * h.weight_decay);
    assert!((lam_h - h.weight_decay).abs() < 1e-6, "one-parameter {lam_h}, curve {}", h.weight_decay);
    assert!((omega - h.omega).abs() < 1e-4 * h.omega, "omega {omega} vs {}", h.omega);
    // The runoff lies below the Hopf curve at every f asked, and the branch
    // does run off there.
    for r in &reg.runoff {
        assert!(r.runs_off && r.weight_decay < r.lambda_h, "{r:?}");
    }
    // Cycle branch at f = 0.1: stable next to the Hopf point, reaching below
    // it, with the Hopf period 2 pi / omega at birth (the first cycle is
    // `ds = 0.3` away from the Hopf point: period within 0.5%).
    let c = &reg.cycles[0];
    assert!(c.lowest_stable < c.lambda_h && c.cycles > 1, "{c:?}");
    let t_h = 2.0 * PI / reg.start.omega;
    assert!((c.period_range[0] - t_h).abs() < 5e-3 * t_h, "period {} at birth vs {t_h}", c.period_range[0]);
    assert!(c.period_range[1] > c.period_range[0], "period grows away from the Hopf point: {c:?}");
    assert!(c.trivial_error < 1e-3, "{c:?}");
}

//! The oscillation of the symmetric head at weak weight decay
//! (`docs/teacher.md` section 7, issue 25): the symmetric non-collapsed
//! point loses stability through a real, doubly degenerate eigenvalue (no
//! Hopf point), the head ODE then moves on a relative periodic orbit whose
//! invariants oscillate while the full state drifts along the symmetry
//! group, the classes stay apart on it, and online SGD at D = 250 does not
//! reach the ODE's oscillation (its spread stays below the cycle's minimum).
use rayon::prelude::*;
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::oscillation::{invariants, oscillation, spread, symmetric_onset, symmetric_point, trajectory};
use repcollapse::models::teacher::head::reduced::channel::{critical_frustration, Channel, HeadChannel, WEIGHT_DECAY};
use repcollapse::models::teacher::head::simulation::simulate_head;
use repcollapse::models::teacher::head::theory::head_ode_from_config;
use repcollapse::models::teacher::metrics::TeacherScorer;
use repcollapse::models::teacher::statistics::Teacher;

fn cfg(sets: &[&str]) -> TeacherConfig {
    TeacherConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn symmetric_point_loses_stability_through_a_real_double_eigenvalue() {
    let c = cfg(&["head=\"symmetric\"", "label_noise=0.1"]);
    let onset = symmetric_onset(&c, 0.0236, 0.05, 1e-6).unwrap();
    // Real crossing: not a Hopf point (a Hopf pair has |im| = omega > 0 at the crossing).
    assert!(onset.eigenvalue.1.abs() < 1e-9, "{onset:?}");
    // Doubly degenerate: the rotation of the centred class plane pairs the mode.
    assert_eq!(onset.multiplicity, 2, "{onset:?}");
    // The point still exists there: the instability precedes the end of the
    // branch (existence boundary in weight decay at f = 0.1, by bisection on
    // the closed-form branch, an independent computation).
    let sep = HeadChannel::new(&c, Channel::Separating, [0.0; 4]).unwrap();
    let exists = |lam: f64| {
        let mut p = sep.params.clone();
        p[WEIGHT_DECAY] = lam;
        matches!(critical_frustration(&sep, &p), Ok(Some((fc, _))) if fc > 0.1)
    };
    let (mut a, mut b) = (0.02, 0.05);
    while b - a > 1e-7 {
        let m = 0.5 * (a + b);
        if exists(m) { b = m } else { a = m }
    }
    assert!(onset.weight_decay > b + 1e-3, "onset {} vs existence {b}", onset.weight_decay);
    // Below the onset the symmetric point exists but is unstable.
    let mut below = c.clone();
    below.weight_decay = 0.5 * (b + onset.weight_decay);
    let ode = head_ode_from_config(&below).unwrap();
    assert!(symmetric_point(&below, &ode).unwrap().is_some());
}

#[test]
fn head_ode_oscillates_on_a_relative_periodic_orbit_that_keeps_the_classes_apart() {
    let c = cfg(&["head=\"symmetric\"", "label_noise=0.1", "weight_decay=0.02"]);
    let ode = head_ode_from_config(&c).unwrap();
    let (t, xs) = trajectory(&ode, &ode.initial, 7000.0, 1.0).unwrap();
    let inv: Vec<(f64, f64, f64)> = xs.iter().map(|x| invariants(&ode, x)).collect();
    let t0 = 3000.0;
    let sp = oscillation(&t, &inv.iter().map(|v| v.0).collect::<Vec<_>>(), t0, 0.2).expect("spread oscillates");
    let se = oscillation(&t, &inv.iter().map(|v| v.1).collect::<Vec<_>>(), t0, 0.2).expect("separation oscillates");
    // Two invariants, one period (to the 1-unit sampling and the slow approach to the orbit).
    assert!(sp.cycles >= 4 && se.cycles >= 4, "{sp:?} {se:?}");
    assert!((sp.period - se.period).abs() < 0.02 * sp.period, "{sp:?} {se:?}");
    // A genuine oscillation, not integration noise: the spread swings by more than 5%.
    assert!(sp.max - sp.min > 0.05 * sp.max, "{sp:?}");
    // The full state does not return after a period: the motion drifts along
    // the group orbit (relative periodic orbit), while the invariants return.
    let i0 = t.iter().position(|v| *v >= t0).unwrap();
    let nrm = xs[i0].iter().map(|v| v * v).sum::<f64>().sqrt();
    let window = (t0 + 0.5 * sp.period, t0 + 1.5 * sp.period);
    let (mut full, mut spread_ret) = (f64::INFINITY, f64::INFINITY);
    for (tt, x) in t.iter().zip(&xs) {
        if *tt >= window.0 && *tt <= window.1 {
            full = full.min(x.iter().zip(&xs[i0]).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt() / nrm);
            spread_ret = spread_ret.min((invariants(&ode, x).0 - inv[i0].0).abs() / inv[i0].0);
        }
    }
    assert!(spread_ret < 1e-2 && full > 10.0 * spread_ret, "full-state return {full}, spread return {spread_ret}");
    // Classes apart over the whole orbit: the rotation-invariant separation
    // stays far above the collapse criterion of the fixed-point report
    // (separation < 1e-3 of the largest label component).
    let ymax = xs[i0..].iter().map(|x| ode.unpack(x).0.y.iter().fold(0.0_f64, |m, v| m.max(v.abs()))).fold(0.0, f64::max);
    assert!(se.min > 0.3 * ymax, "min separation {} vs label scale {ymax}", se.min);
}

#[test]
fn sgd_at_d_250_stays_below_the_ode_cycle() {
    let c = cfg(&["head=\"symmetric\"", "label_noise=0.1", "weight_decay=0.02", "input_dim=250", "t_max=4000", "t_min=2000", "points=200"]);
    let ode = head_ode_from_config(&c).unwrap();
    let (t, xs) = trajectory(&ode, &ode.initial, 4000.0, 1.0).unwrap();
    let sp: Vec<f64> = xs.iter().map(|x| invariants(&ode, x).0).collect();
    let cyc = oscillation(&t, &sp, 2000.0, 0.2).expect("ODE oscillates");
    let scorer = TeacherScorer::new(Teacher::new(c.teacher, c.classes), c.label_noise, c.sigma, c.a);
    let means: Vec<f64> = (0..4u64)
        .into_par_iter()
        .map(|s| {
            let run = simulate_head(&c, &scorer, s).unwrap();
            let v: Vec<f64> = run.times.iter().zip(&run.order).filter(|(tt, _)| **tt >= 2000.0).map(|(_, o)| spread(&o.s, c.dim)).collect();
            v.iter().sum::<f64>() / v.len() as f64
        })
        .collect();
    let e = repcollapse::stats::estimate(&means);
    // The whole 95% CI of the seeds' time-averaged spread lies below the
    // minimum of the ODE cycle: at this D the finite-D terms the limit
    // drops (the head's own SGD noise, section 6) hold SGD away from it.
    assert!(e.ci95[1] < cyc.min, "SGD {e:?} vs ODE cycle [{}, {}]", cyc.min, cyc.max);
}

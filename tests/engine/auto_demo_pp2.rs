//! The AUTO-07p demo `pp2` (`demos/pp2/` of github.com/auto-07p/auto-07p:
//! `pp2.f90`, `c.pp2`, `pp2.auto`; model file `examples/models/pp2.toml`):
//! a predator-prey model with harvesting, `quota` continued, `p2 = 3`,
//! `p3 = 5`, `p4 = 3`. The demo folder holds no output; AUTO's output of the
//! demo is stored in the same repository, `test/hyper.all` (the reference
//! run of `test/`; NTST = 90, NCOL = 4, EPSL = EPSU = 1e-7):
//!
//! ```text
//!   BR    PT  TY  LAB    PAR(1)        L2-NORM         U(1)          U(2)
//!    1    12  BP    2   6.00000E-01   0.00000E+00   0.00000E+00   0.00000E+00
//!    2    21  BP    4   8.21904E-01   3.33333E-01   3.33333E-01   0.00000E+00
//!    2    25  LP    5   8.32929E-01   4.11162E-01   4.11162E-01   0.00000E+00
//!    3    10  HB    9   6.71594E-01   4.94866E-01   3.33333E-01   3.65762E-01
//!
//!   BR    PT  TY  LAB    PAR(1)        L2-NORM       MAX U(1)      MAX U(2)       PERIOD
//!    9     2       11   6.71709E-01   4.94770E-01   3.47180E-01   3.90279E-01   1.04024E+01
//!   ...   (13 labels, every second point of the branch from HB 9)
//!    9    26  UZ   23   7.07941E-01   4.34962E-01   6.50453E-01   5.82047E-01   3.59999E+01
//! ```
//!
//! AUTO prints 6 significant digits. `L2-NORM` is `sqrt(int_0^1 |u|^2)` of
//! the cycle in rescaled time (of the state at an equilibrium).
use repcollapse::engine::{
    continue_cycles_from_hopf, continue_equilibria, solve_orbit, BifurcationKind, ContinuationParams, CycleContinuationParams, OrbitOptions,
    PeriodicOrbit,
};
use repcollapse::symbolic::SymbolicModel;

/// AUTO's periodic branch from HB 9, all 13 labels (11 to 23):
/// (quota, L2-NORM, MAX fish, MAX sharks, PERIOD).
const AUTO_CYCLES: [(f64, f64, f64, f64, f64); 13] = [
    (6.71709E-01, 4.94770E-01, 3.47180E-01, 3.90279E-01, 1.04024E+01),
    (6.72635E-01, 4.93988E-01, 3.76053E-01, 4.37333E-01, 1.05098E+01),
    (6.74476E-01, 4.92359E-01, 4.06362E-01, 4.80618E-01, 1.07334E+01),
    (6.77204E-01, 4.89763E-01, 4.38027E-01, 5.18842E-01, 1.10918E+01),
    (6.80756E-01, 4.86052E-01, 4.70661E-01, 5.50818E-01, 1.16162E+01),
    (6.85012E-01, 4.81093E-01, 5.03865E-01, 5.75430E-01, 1.23547E+01),
    (6.89760E-01, 4.74855E-01, 5.36692E-01, 5.91637E-01, 1.33795E+01),
    (6.94676E-01, 4.67513E-01, 5.67955E-01, 5.99244E-01, 1.47957E+01),
    (6.99324E-01, 4.59534E-01, 5.96070E-01, 5.99195E-01, 1.67572E+01),
    (7.03216E-01, 4.51655E-01, 6.19449E-01, 5.94368E-01, 1.94886E+01),
    (7.05948E-01, 4.44679E-01, 6.36351E-01, 5.88676E-01, 2.33184E+01),
    (7.07420E-01, 4.39086E-01, 6.46328E-01, 5.84504E-01, 2.87287E+01),
    (7.07941E-01, 4.34962E-01, 6.50453E-01, 5.82047E-01, 3.59999E+01),
];

/// One unit of the 6th significant digit of `v`.
fn unit(v: f64) -> f64 {
    10f64.powf(v.abs().log10().floor() - 5.0)
}

/// `ours` rounds to AUTO's `printed` value: within half a unit of its last digit.
fn six_digits(what: &str, ours: f64, printed: f64) {
    assert!((ours - printed).abs() <= 0.5 * unit(printed), "{what}: ours {ours:.9}, AUTO {printed}");
}

/// `sqrt(int_0^1 |u(tau)|^2 dtau)` by the midpoint rule on 1e5 samples of
/// the collocation polynomial (error far below AUTO's last digit).
fn l2_norm(o: &PeriodicOrbit) -> f64 {
    let n = 100_000;
    let mut buf = vec![0.0; o.dim];
    let s: f64 = (0..n)
        .map(|k| {
            o.eval((k as f64 + 0.5) / n as f64, &mut buf);
            buf.iter().map(|v| v * v).sum::<f64>()
        })
        .sum();
    (s / n as f64).sqrt()
}

#[test]
fn auto_pp2_demo_equilibria_hopf_point_and_periodic_branch() {
    let m = SymbolicModel::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/pp2.toml")).unwrap();
    let p0 = [0.0, 3.0, 5.0, 3.0];
    let special = |x0: [f64; 2], kind: BifurcationKind| -> Vec<(f64, Vec<f64>, Option<f64>)> {
        let r = continue_equilibria(&m, &x0, &p0, &ContinuationParams::new(0, 0.0, 1.0)).unwrap();
        r.bifurcations.iter().filter(|b| b.kind == kind).map(|b| (b.param, b.state.clone(), b.frequency)).collect()
    };
    // AUTO's branch 1 (no fish, no sharks): BP 2 at quota = p2 / p3 = 0.6.
    let bp = special([0.0, 0.0], BifurcationKind::Branch);
    assert_eq!(bp.len(), 1, "{bp:?}");
    six_digits("BP 2 quota", bp[0].0, 6.00000E-01);
    // AUTO's branch 2 (no sharks), from fish = 1 at quota = 0: the fold LP 5
    // and the branch point BP 4 where the sharks' branch fish = 1/3 crosses.
    let lp = special([1.0, 0.0], BifurcationKind::Fold);
    assert_eq!(lp.len(), 1, "{lp:?}");
    six_digits("LP 5 quota", lp[0].0, 8.32929E-01);
    six_digits("LP 5 fish", lp[0].1[0], 4.11162E-01);
    // Independently: the fold is the maximum over fish of the quota on that
    // branch, quota = p2 f (1 - f) / (1 - exp(-p3 f)), by golden section.
    let quota = |f: f64| 3.0 * f * (1.0 - f) / (1.0 - (-5.0 * f).exp());
    let (mut a, mut b) = (0.2, 0.8);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    while b - a > 1e-9 {
        let (c, d) = (b - g * (b - a), a + g * (b - a));
        if quota(c) > quota(d) {
            b = d;
        } else {
            a = c;
        }
    }
    assert!((lp[0].0 - quota(0.5 * (a + b))).abs() < 1e-10 && (lp[0].1[0] - 0.5 * (a + b)).abs() < 1e-6, "fold {lp:?} vs {}", 0.5 * (a + b));
    let bp4 = special([1.0, 0.0], BifurcationKind::Branch);
    assert_eq!(bp4.len(), 1, "{bp4:?}");
    six_digits("BP 4 quota", bp4[0].0, 8.21904E-01);

    // AUTO's branch 3 (fish = 1/p4 = 1/3), from sharks = 2 at quota = 0: the
    // Hopf point HB 9. Closed form: tr J = 0 and F = 0 give quota_H =
    // 1 / (3 - 8 exp(-5/3)), sharks = 2 - 3 quota_H (1 - exp(-5/3)), and
    // omega^2 = det J = sharks.
    let hb = special([1.0 / 3.0, 2.0], BifurcationKind::Hopf);
    assert_eq!(hb.len(), 1, "{hb:?}");
    let (q_h, x_h, omega) = (hb[0].0, hb[0].1.clone(), hb[0].2.unwrap());
    let e = (-5.0f64 / 3.0).exp();
    let q_closed = 1.0 / (3.0 - 8.0 * e);
    let sharks_closed = 2.0 - 3.0 * q_closed * (1.0 - e);
    assert!((q_h - q_closed).abs() < 1e-10 && (x_h[1] - sharks_closed).abs() < 1e-9, "Hopf at {q_h} {x_h:?}");
    let t_hopf = std::f64::consts::TAU / omega;
    let t_closed = std::f64::consts::TAU / sharks_closed.sqrt();
    assert!((t_hopf - t_closed).abs() < 1e-9 * t_closed, "period at the Hopf point {t_hopf} vs {t_closed}");
    six_digits("HB 9 quota", q_h, 6.71594E-01);
    six_digits("HB 9 fish", x_h[0], 3.33333E-01);
    six_digits("HB 9 sharks", x_h[1], 3.65762E-01);
    six_digits("HB 9 L2-NORM", (x_h[0].powi(2) + x_h[1].powi(2)).sqrt(), 4.94866E-01);
    eprintln!("pp2: HB at quota {q_h:.9} (AUTO 0.671594), period there {t_hopf:.9}; LP {:.9} (AUTO 0.832929); BP {:.9} (AUTO 0.821904)", lp[0].0, bp4[0].0);

    // The periodic branch from HB 9, as AUTO's second run (NTST = 90), up to
    // AUTO's last label (period 36, near the homoclinic end).
    let mut cp = CycleContinuationParams::new(0, 0.6, 0.70795);
    cp.orbit.ntst = 90;
    cp.arclength.max_steps = 400;
    cp.arclength.ds_max = 0.5;
    let mut p = p0;
    p[0] = q_h;
    let br = continue_cycles_from_hopf(&m, &x_h, &p, omega, &cp).unwrap();
    let last = br.points.last().unwrap();
    assert!(last.period > 36.0, "the branch stopped ({:?}) at quota {}, T = {}", br.stop, last.param, last.period);
    // Planar: the one non-trivial multiplier is exp(int div f) > 0, so the
    // branch has no PD or NS point, and it has no fold either (quota grows
    // monotonically towards the homoclinic orbit, as in AUTO's table).
    assert!(br.bifurcations.is_empty(), "{:?}", br.bifurcations.iter().map(|b| (b.kind, b.point.param)).collect::<Vec<_>>());
    let opts = OrbitOptions { ntst: 90, ncol: 4, adapt: 2, ..OrbitOptions::default() };
    for (q, l2, max_fish, max_sharks, period) in AUTO_CYCLES {
        // AUTO prints quota to 6 digits: quota is known to +-5e-7, and the
        // period is steep in quota near the homoclinic end (dT/dquota ~ 3e4
        // at T = 36), so ours are computed at both ends of that interval
        // (from the branch point nearest quota, in 20 small steps).
        let near = br.points.iter().min_by(|a, b| (a.param - q).abs().total_cmp(&(b.param - q).abs())).unwrap();
        let mut at = near.orbit.clone();
        for s in 1..=20 {
            at.params[0] = near.param + (q - near.param) * s as f64 / 20.0;
            at = solve_orbit(&m, &at, &opts).unwrap_or_else(|e| panic!("quota = {}: {e}", at.params[0])).orbit;
        }
        let mut range = [[f64::INFINITY, f64::NEG_INFINITY]; 4];
        for dq in [-5e-7, 5e-7] {
            let mut guess = at.clone();
            guess.params[0] = q + dq;
            let c = solve_orbit(&m, &guess, &opts).unwrap();
            let (_, max) = c.orbit.min_max();
            for (r, v) in range.iter_mut().zip([c.orbit.period, l2_norm(&c.orbit), max[0], max[1]]) {
                r[0] = r[0].min(v);
                r[1] = r[1].max(v);
            }
        }
        let [rt, rl, rf, rs] = range;
        eprintln!(
            "pp2 quota {q}: T AUTO {period} ours [{:.7}, {:.7}]; L2 AUTO {l2} ours [{:.7}, {:.7}]; max fish AUTO {max_fish} ours [{:.7}, {:.7}]; max sharks AUTO {max_sharks} ours [{:.7}, {:.7}]",
            rt[0], rt[1], rl[0], rl[1], rf[0], rf[1], rs[0], rs[1]
        );
        // Period and L2 norm (integrals of the cycle, independent of where
        // the mesh nodes lie): AUTO's value within our range over quota's
        // rounding interval, widened by half a unit of AUTO's last digit.
        for (what, auto, r) in [("period", period, rt), ("L2-NORM", l2, rl)] {
            let tol = 0.5 * unit(auto);
            assert!(auto >= r[0] - tol && auto <= r[1] + tol, "quota {q}: {what} AUTO {auto}, ours [{}, {}]", r[0], r[1]);
        }
        // AUTO's MAX U(i) is the largest value at its 361 mesh nodes, ours
        // the maximum of the collocation polynomial sampled 32 times per
        // interval: AUTO's may lie below ours (observed up to 1.3e-3
        // relative, sharks at period 36, where the spike is short), never
        // above by more than half its last unit.
        for (what, auto, r) in [("max fish", max_fish, rf), ("max sharks", max_sharks, rs)] {
            assert!(auto <= r[1] + 0.5 * unit(auto) && auto >= r[0] * (1.0 - 2e-3), "quota {q}: {what} AUTO {auto}, ours [{}, {}]", r[0], r[1]);
        }
    }
}

//! Model H reduced theory: the analytic Jacobian, the closed-form fixed
//! points and their stability, the saddle-node against its closed form, and
//! both reductions against direct microscopic gradient descent.
use repcollapse::engine::jacobian_matrix;
use repcollapse::engine::VectorField;

use crate::support::jacobian::{central_jacobian, central_param_derivative};
use repcollapse::models::common::frustration::{Design, LabelWeights, Pairing};
use repcollapse::models::head::simulation::{gd_step, HeadRates, HeadState, HeadWorkspace};
use repcollapse::models::head::config::Variant;
use repcollapse::engine::BoundaryStop;
use repcollapse::models::head::theory::boundary::{engine_boundary, engine_fold};
use repcollapse::models::head::reduced::class_level::HeadClassLevel;
use repcollapse::models::head::theory::fixed_points::{closed_form_branches, critical_frustration, fixed_points, is_stable, Stability};
use repcollapse::models::head::reduced::simplex::HeadSimplex;

#[test]
fn analytic_jacobian_matches_central_differences() {
    let z = [0.3, -0.2, 0.7, 1.1, 0.8, 0.4];
    for v in Variant::ALL {
        for lam in [0.0, 0.13] {
            let p = [0.3, 0.4, 4.0, 1.0, 0.7, 1.3, lam];
            let sys = HeadSimplex::new(v, p);
            let jac = jacobian_matrix(&sys, &z, &p);
            let central = central_jacobian(&sys, &z, &p, |_| 1e-6);
            for j in 0..6 {
                for i in 0..6 {
                    let fd = central[i][j];
                    assert!((jac[(i, j)] - fd).abs() < 1e-7, "{v:?} lam {lam}: J[{i},{j}] = {} vs {fd}", jac[(i, j)]);
                }
            }
        }
    }
}

#[test]
fn exact_param_derivative_matches_central_differences() {
    let z = [0.3, -0.2, 0.7, 1.1, 0.8, 0.4];
    for v in Variant::ALL {
        for lam in [0.0, 0.13] {
            let p = [0.3, 0.4, 4.0, 1.1, 0.7, 1.3, lam];
            let sys = HeadSimplex::new(v, p);
            for k in 0..7 {
                let mut exact = [0.0; 6];
                sys.param_derivative(&z, &p, k, &mut exact);
                let central = central_param_derivative(&sys, &z, &p, k, |_| 1e-6);
                for i in 0..6 {
                    let fd = central[i];
                    assert!((exact[i] - fd).abs() < 1e-7, "{v:?} lam {lam}: dF{i}/dp{k} = {} vs {fd}", exact[i]);
                }
            }
        }
    }
}

#[test]
fn closed_form_branches_are_fixed_points_with_explained_stability() {
    for (k, f, rho) in [(4.0, 0.2, 0.5), (3.0, 0.5, 0.3), (6.0, 0.1, 0.2)] {
        for lam in [0.0, 0.04] {
            let p = [f, rho, k, 1.0, 0.5, 2.0, lam];
            for v in Variant::ALL {
                let sys = HeadSimplex::new(v, p);
                let branches = closed_form_branches(v, &p, 1.7);
                // Only the stop-gradient variants with a trained head have a
                // non-collapsed state under frustration.
                assert_eq!(branches.is_empty(), !matches!(v, Variant::Symmetric | Variant::Asymmetric), "{v:?}");
                for (_, z) in &branches {
                    let mut out = [0.0; 6];
                    sys.rhs(z, &p, &mut out);
                    assert!(out.iter().all(|r| r.abs() < 1e-12), "{v:?} {z:?}: residual {out:?}");
                }
                for fp in fixed_points(v, &p, 1e-9).unwrap() {
                    let c = &fp.classification;
                    assert_eq!(c.unexplained_zero_modes, 0, "{v:?} {}: {c:?}", fp.kind);
                    // Every zero mode attributed: the engine never falls back to "marginal".
                    assert_ne!(c.stability, Stability::Marginal, "{v:?} {}: {c:?}", fp.kind);
                    assert_eq!(c.attributed.len(), c.zero_modes, "{v:?} {}: {c:?}", fp.kind);
                    if fp.kind.starts_with("non-collapsed (w+") {
                        assert!(is_stable(c.stability), "{v:?} {} {c:?}", fp.kind);
                        // lambda = 0: exactly the scale mode; lambda > 0: isolated.
                        assert_eq!(c.zero_modes, usize::from(lam == 0.0));
                    }
                    if fp.kind == "collapsed" && matches!(v, Variant::Symmetric | Variant::Asymmetric) {
                        if lam > 0.0 {
                            // Weight decay: the collapsed origin is an isolated attractor (bistability).
                            assert!(is_stable(c.stability) && c.zero_modes == 0, "{v:?} {c:?}");
                        } else {
                            // Collapsed line: one attributed zero mode; s grows where the head is
                            // weaker than the branch value (w^2 < 1-phi resp. w < 1-phi).
                            let phi = HeadSimplex::phi(&p);
                            let weak = if v == Variant::Symmetric { fp.head_eigenvalue.powi(2) < 1.0 - phi } else { fp.head_eigenvalue < 1.0 - phi };
                            assert_eq!(c.zero_modes, 1, "{v:?} {c:?}");
                            assert_eq!(c.stability == Stability::Saddle, weak, "{v:?} w = {}: {c:?}", fp.head_eigenvalue);
                            assert_eq!(is_stable(c.stability), !weak, "{v:?} w = {}: {c:?}", fp.head_eigenvalue);
                        }
                    }
                    if fp.kind.starts_with("non-collapsed (w-") {
                        assert_eq!(c.stability, Stability::Saddle, "saddle expected: {c:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn head_and_sg_only_collapse_in_the_reduced_system() {
    // Integrate the reduced system by RK4 from W = I, labels at simplex
    // scale 2 and unit within-group variance (the microscopic random start):
    // `head` and `sg-only` lose the separation, the stop-gradient variants
    // with a trained head converge to the closed-form head eigenvalue. (From
    // small scales or zero spread the stop-gradient variants can collapse
    // too: the non-collapsed state is stable but its basin is finite, see
    // docs/head.md.)
    let p = [0.3, 0.5, 4.0, 1.0, 1.0, 1.0, 0.0];
    let phi = HeadSimplex::phi(&p);
    for v in Variant::ALL {
        let sys = HeadSimplex::new(v, p);
        let mut z = [0.0, 0.0, 0.0, 2.0, 1.0, 1.0];
        let dt = 0.01;
        let mut k = [[0.0; 6]; 4];
        for _ in 0..(400.0 / dt) as usize {
            let mut zt = z;
            for st in 0..4 {
                sys.rhs(&zt, &p, &mut k[st]);
                let c = if st < 2 { 0.5 } else { 1.0 };
                if st < 3 {
                    for i in 0..6 {
                        zt[i] = z[i] + c * dt * k[st][i];
                    }
                }
            }
            for i in 0..6 {
                z[i] += dt / 6.0 * (k[0][i] + 2.0 * k[1][i] + 2.0 * k[2][i] + k[3][i]);
            }
        }
        match v {
            Variant::Symmetric => assert!((z[4] - (1.0 - phi).sqrt()).abs() < 1e-8 && z[3] > 0.1, "{z:?}"),
            Variant::Asymmetric => assert!((z[4] - (1.0 - phi)).abs() < 1e-8 && z[3] > 0.1, "{z:?}"),
            _ => assert!(z[3].abs() < 1e-3, "{v:?} must collapse: {z:?}"),
        }
    }
}

#[test]
fn numerical_fold_matches_closed_form_and_ignores_rates() {
    // Closed forms: phi_c = 1 - 4 lambda (symmetric), 1 - 2 sqrt(lambda)(1+lambda)
    // (asymmetric); f_c = phi_c (K-1) / (2 K rho (1-rho)).
    for (k, rho) in [(3.0, 0.5), (4.0, 0.3)] {
        for lam in [0.08, 0.12, 0.18] {
            for ratio in [0.25, 1.0, 4.0] {
                for v in [Variant::Symmetric, Variant::Asymmetric] {
                    let phi_c = if v == Variant::Symmetric { 1.0 - 4.0 * lam } else { 1.0 - 2.0 * f64::sqrt(lam) * (1.0 + lam) };
                    let f_c = phi_c * (k - 1.0) / (2.0 * k * rho * (1.0 - rho));
                    let p = [0.0, rho, k, 1.0, 1.0, ratio, lam];
                    let fold = critical_frustration(v, &p);
                    if phi_c <= 0.0 {
                        assert!(fold.is_err(), "{v:?} lam {lam}: no branch even at f = 0 expected");
                        continue;
                    }
                    match fold.unwrap() {
                        Some(fold) => {
                            assert!((fold.critical_frustration - f_c).abs() < 1e-9, "{v:?} K {k} rho {rho} lam {lam}: {} vs {f_c}", fold.critical_frustration);
                            assert!(fold.residual[0] < 1e-10);
                        }
                        None => assert!(f_c >= 1.0 - 1e-9, "{v:?}: no fold found but closed form {f_c}"),
                    }
                }
            }
        }
    }
}

/// Closed-form saddle-node: `phi_c = 1 - 4 lambda` (symmetric),
/// `1 - 2 sqrt(lambda)(1 + lambda)` (asymmetric).
fn phi_c_closed(v: Variant, lam: f64) -> f64 {
    if v == Variant::Symmetric { 1.0 - 4.0 * lam } else { 1.0 - 2.0 * lam.sqrt() * (1.0 + lam) }
}

#[test]
fn engine_fold_continuation_matches_closed_form_and_critical_frustration() {
    // The engine path (continue_equilibria in f, then continue_boundary in
    // (f, lambda)) against the closed form and against the independent
    // bisection/Newton `critical_frustration`.
    for (k, rho) in [(3.0, 0.5), (4.0, 0.3)] {
        let phi_of = |f: f64| 2.0 * f * rho * (1.0 - rho) * k / (k - 1.0);
        let f_of = |phi: f64| phi * (k - 1.0) / (2.0 * k * rho * (1.0 - rho));
        for (v, lam, lam_min, lam_max) in [(Variant::Symmetric, 0.1, 0.01, 0.2), (Variant::Asymmetric, 0.05, 0.005, 0.15)] {
            let p = [0.0, rho, k, 1.0, 0.7, 2.0, lam];
            let eb = engine_boundary(v, &p, lam_min, lam_max, 0.02).unwrap();
            let f_engine = eb.fold.param;
            assert!((phi_of(f_engine) - phi_c_closed(v, lam)).abs() < 1e-6, "{v:?} K {k}: engine phi_c {} vs {}", phi_of(f_engine), phi_c_closed(v, lam));
            assert!((f_engine - f_of(phi_c_closed(v, lam))).abs() < 1e-6);
            // critical_frustration searches f in [0, 1] only (Ok(None) beyond); the
            // engine follows the reduced system to phi = 1.
            match critical_frustration(v, &p).unwrap() {
                Some(fold) => assert!((f_engine - fold.critical_frustration).abs() < 1e-6, "{v:?} K {k}: engine {f_engine} vs critical_frustration {}", fold.critical_frustration),
                None => assert!(f_engine > 1.0, "{v:?} K {k}: critical_frustration found no fold in [0, 1], engine {f_engine}"),
            }
            // The fold is where the stable w+ meets the saddle w-: a simple zero eigenvalue.
            assert!(eb.fold.eigenvalues.iter().filter(|e| e.norm() < 1e-6).count() == 1, "{:?}", eb.fold.eigenvalues);
            // The traced curve spans the whole lambda range, ends on its bounds,
            // and every point is on the closed form.
            let c = &eb.curve;
            assert_eq!(c.stop_forward, BoundaryStop::ParameterBound);
            assert_eq!(c.stop_backward, Some(BoundaryStop::ParameterBound));
            let lo = c.points.iter().map(|pt| pt.p2).fold(f64::INFINITY, f64::min);
            let hi = c.points.iter().map(|pt| pt.p2).fold(f64::NEG_INFINITY, f64::max);
            assert!((lo - lam_min).abs() < 1e-9 && (hi - lam_max).abs() < 1e-9, "{v:?}: lambda range [{lo}, {hi}]");
            assert!(c.points.len() >= 10, "{v:?}: only {} points", c.points.len());
            for pt in &c.points {
                let f_closed = f_of(phi_c_closed(v, pt.p2));
                let rel = (pt.p1 - f_closed).abs() / f_closed;
                assert!(rel < 1e-6, "{v:?} K {k} lambda {}: engine f_c {} vs closed form {f_closed} (rel {rel:e})", pt.p2, pt.p1);
            }
        }
    }
    // lambda = 0: the scale family makes continuation impossible; refused clearly.
    assert!(engine_fold(Variant::Symmetric, &[0.0, 0.5, 3.0, 1.0, 1.0, 1.0, 0.0]).is_err());
}

/// Orthonormal simplex vertices in R^K (spanning the K-1 dimensional
/// subspace orthogonal to the ones vector).
fn simplex(k: usize) -> Vec<Vec<f64>> {
    let norm = ((k - 1) as f64 / k as f64).sqrt();
    (0..k).map(|a| (0..k).map(|j| (f64::from(u8::from(a == j)) - 1.0 / k as f64) / norm).collect()).collect()
}

#[test]
fn symmetric_reduction_matches_microscopic_gd_from_a_symmetric_start() {
    let (k, n) = (4usize, 12usize); // f n = 3 frustrated per class: one per partner (exact balance).
    for v in [Variant::Symmetric, Variant::Asymmetric, Variant::Head] {
        let lam = 0.05;
        let design = Design { classes: k, per_class: n, frustrated: 0.25, rho: 0.3, pairing: Pairing::Balanced, seed: 0 };
        let a = LabelWeights::from_design(&design).unwrap();
        let e = simplex(k);
        let (s0, su0, p0, q0, w0) = (1.3, 0.2, 0.4, -0.1, 0.9);
        let mut st = HeadState { x: vec![0.0; a.samples() * k], y: vec![0.0; k * k], w: vec![0.0; k * k], dim: k };
        for c in 0..k {
            for j in 0..k {
                st.y[c * k + j] = s0 * e[c][j];
                st.w[c * k + j] = if c == j { w0 } else { 0.0 };
            }
        }
        for i in 0..a.samples() {
            let row: Vec<(usize, f64)> = a.row(i).collect();
            let c = a.primary(i);
            for j in 0..k {
                st.x[i * k + j] = if row.len() == 1 { su0 * e[c][j] } else { p0 * e[c][j] + q0 * e[row.iter().find(|r| r.0 != c).unwrap().0][j] };
            }
        }
        let rates = HeadRates { variant: v, eta_x: 1.0, eta_y: 0.8, eta_w: 1.5, weight_decay: lam };
        let p = [0.25, 0.3, k as f64, 1.0, 0.8, 1.5, lam];
        let sys = HeadSimplex::new(v, p);
        let mut z = [su0, p0, q0, s0, w0, 0.0];
        let dt = 1e-3;
        let mut ws = HeadWorkspace::new(&a, k, 0);
        let mut fz = [0.0; 6];
        for _ in 0..(5.0 / dt) as usize {
            gd_step(&a, &mut st, rates, dt, &mut ws);
            // Forward Euler on the reduced system with the same step: the two
            // discretisations must agree to round-off if the reduction is exact.
            sys.rhs(&z, &p, &mut fz);
            for i in 0..6 {
                z[i] += dt * fz[i];
            }
        }
        let s_micro: f64 = (0..k).map(|j| st.y[j] * e[0][j]).sum();
        let w_micro: f64 = (0..k).map(|j| (0..k).map(|l| e[0][j] * st.w[j * k + l] * e[0][l]).sum::<f64>()).sum();
        let su_micro: f64 = (0..k).map(|j| st.x[(n - 1) * k + j] * e[0][j]).sum();
        assert!((s_micro - z[3]).abs() < 1e-10 && (w_micro - z[4]).abs() < 1e-10 && (su_micro - z[0]).abs() < 1e-10, "{v:?}: micro s {s_micro} w {w_micro} s_u {su_micro} vs reduced {z:?}");
    }
}

#[test]
fn class_level_ode_matches_microscopic_gd_from_random_start() {
    // Euler steps of the class-level field from the projected random start
    // against microscopic GD with the same dt. Group means, labels and head
    // follow the same linear-in-state updates, but one GD step maps the
    // covariance to (I - dt A) C (I - dt A) instead of C - dt (A C + C A): the
    // two discretisations differ by O(dt^2) per step, so the deviation after
    // a fixed time must be O(dt) (halve with dt) if the ODE is the exact limit.
    let design = Design { classes: 3, per_class: 10, frustrated: 0.2, rho: 0.4, pairing: Pairing::Uniform, seed: 3 };
    let a = LabelWeights::from_design(&design).unwrap();
    let d = 4;
    for v in Variant::ALL {
        let rates = HeadRates { variant: v, eta_x: 1.0, eta_y: 1.2, eta_w: 0.7, weight_decay: 0.03 };
        let mut errs = Vec::new();
        for dt in [0.01f64, 0.005] {
            let mut st = HeadState::random(&a, d, 1.0, 0.3, 11);
            let sys = HeadClassLevel::new(&a, rates, d).unwrap();
            let mut z = sys.project(&st);
            let p = sys.default_params();
            let mut fz = vec![0.0; z.len()];
            let mut ws = HeadWorkspace::new(&a, d, 0);
            for _ in 0..(3.0 / dt).round() as usize {
                gd_step(&a, &mut st, rates, dt, &mut ws);
                sys.rhs(&z, &p, &mut fz);
                z.iter_mut().zip(&fz).for_each(|(zi, fi)| *zi += dt * fi);
            }
            let zm = sys.project(&st);
            let n_means_labels = (sys.groups.n_groups() + 3) * d;
            let err = z.iter().zip(&zm).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            if !v.trains_head() {
                // W = I frozen: means and labels never see C, so they agree to round-off.
                let e_ml = z[..n_means_labels].iter().zip(&zm).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                assert!(e_ml < 1e-11, "{v:?}: means/labels deviate by {e_ml}");
            }
            errs.push(err);
        }
        assert!(errs[0] < 1e-2 && errs[1] < 0.6 * errs[0], "{v:?}: deviations {errs:?} are not O(dt)");
    }
}

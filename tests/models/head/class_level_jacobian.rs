//! The exact Jacobian and parameter derivative of the class-level Model H
//! system (`models::head::reduced::class_level`): against central differences of `rhs`
//! at random states for every variant, and against the simplex-symmetric
//! reduction, whose Jacobian is the restriction of the class-level one to an
//! invariant linear subspace.
use faer::c64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use repcollapse::engine::{jacobian_eigenvalues, jacobian_matrix};
use repcollapse::engine::VectorField;

use crate::support::jacobian::{central_jacobian, central_param_derivative};
use repcollapse::models::common::frustration::{Design, LabelWeights, Pairing};
use repcollapse::models::head::simulation::HeadRates;
use repcollapse::models::head::config::Variant;
use repcollapse::models::head::reduced::class_level::HeadClassLevel;
use repcollapse::models::head::theory::fixed_points::closed_form_branches;
use repcollapse::models::head::reduced::simplex::HeadSimplex;

/// Largest `|exact - fd| / max(|exact|, 1e-2)` over all entries. Central
/// differences of a polynomial field with step `1e-5` are accurate to about
/// `1e-10` in absolute terms, so the floor `1e-2` keeps round-off on
/// vanishing entries from dominating.
fn rel_err(exact: f64, fd: f64) -> f64 {
    (exact - fd).abs() / exact.abs().max(1e-2)
}

fn random_system(v: Variant, lam: f64, seed: u64) -> (HeadClassLevel, Vec<f64>, Vec<f64>) {
    // Uniform pairing: groups with rows of every shape (consistent and
    // frustrated towards different partners), unequal group sizes.
    let design = Design { classes: 3, per_class: 8, frustrated: 0.4, rho: 0.35, pairing: Pairing::Uniform, seed };
    let a = LabelWeights::from_design(&design).unwrap();
    let rates = HeadRates { variant: v, eta_x: 1.1, eta_y: 0.7, eta_w: 1.3, weight_decay: lam };
    let sys = HeadClassLevel::new(&a, rates, 3).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    // A generic state: C deliberately not symmetric, W far from I.
    let z: Vec<f64> = (0..sys.dim()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let p = sys.default_params();
    (sys, z, p)
}

#[test]
fn exact_jacobian_matches_central_differences_for_every_variant() {
    let mut worst: f64 = 0.0;
    for v in Variant::ALL {
        for lam in [0.0, 0.07] {
            for seed in [1, 2] {
                let (sys, z, p) = random_system(v, lam, seed);
                let n = sys.dim();
                assert!(sys.groups.n_groups() > 3, "the design must have frustrated groups");
                let jac = jacobian_matrix(&sys, &z, &p);
                let central = central_jacobian(&sys, &z, &p, |_| 1e-5);
                for j in 0..n {
                    for i in 0..n {
                        let fd = central[i][j];
                        let e = rel_err(jac[(i, j)], fd);
                        worst = worst.max(e);
                        assert!(e < 1e-6, "{v:?} lam {lam} seed {seed}: J[{i},{j}] = {} vs central difference {fd}", jac[(i, j)]);
                    }
                }
            }
        }
    }
    eprintln!("class-level Jacobian: worst relative deviation from central differences {worst:.2e}");
}

#[test]
fn exact_param_derivative_matches_central_differences_for_every_variant() {
    let mut worst: f64 = 0.0;
    for v in Variant::ALL {
        for lam in [0.0, 0.07] {
            let (sys, z, p) = random_system(v, lam, 5);
            let n = sys.dim();
            let mut exact = vec![0.0; n];
            for k in 0..p.len() {
                sys.param_derivative(&z, &p, k, &mut exact);
                let central = central_param_derivative(&sys, &z, &p, k, |_| 1e-5);
                for i in 0..n {
                    let fd = central[i];
                    let e = rel_err(exact[i], fd);
                    worst = worst.max(e);
                    assert!(e < 1e-6, "{v:?} lam {lam}: dF{i}/dp{k} = {} vs central difference {fd}", exact[i]);
                }
            }
            // Out-of-range parameter index: zero, not a panic.
            exact.fill(1.0);
            sys.param_derivative(&z, &p, p.len(), &mut exact);
            assert!(exact.iter().all(|&x| x == 0.0));
        }
    }
    eprintln!("class-level dF/dp: worst relative deviation from central differences {worst:.2e}");
}

/// Orthonormal simplex vertices in R^K (spanning the K-1 dimensional
/// subspace orthogonal to the ones vector).
fn simplex(k: usize) -> Vec<Vec<f64>> {
    let norm = ((k - 1) as f64 / k as f64).sqrt();
    (0..k).map(|a| (0..k).map(|j| (f64::from(u8::from(a == j)) - 1.0 / k as f64) / norm).collect()).collect()
}

/// The linear embedding of the simplex-symmetric subspace into the
/// class-level state: `xbar = s_u e_a` (consistent group of class a),
/// `p e_a + q e_b` (frustrated towards b), `y_a = s e_a`, `W = w P`,
/// `C = c P`, `P` the projector on the label subspace.
fn lift(sys: &HeadClassLevel, e: &[Vec<f64>], r: &[f64]) -> Vec<f64> {
    let (k, d) = (sys.groups.classes, sys.dim);
    let g = sys.groups.n_groups();
    let (oy, ow) = (g * d, (g + k) * d);
    let oc = ow + d * d;
    let mut z = vec![0.0; sys.dim()];
    for (gi, grp) in sys.groups.groups.iter().enumerate() {
        let a = grp.class;
        let partner = grp.row.iter().find(|(c, _)| *c != a).map(|(c, _)| *c);
        for j in 0..d {
            z[gi * d + j] = match partner {
                None => r[0] * e[a][j],
                Some(b) => r[1] * e[a][j] + r[2] * e[b][j],
            };
        }
    }
    for a in 0..k {
        for j in 0..d {
            z[oy + a * d + j] = r[3] * e[a][j];
        }
    }
    for j in 0..d {
        for l in 0..d {
            let proj = f64::from(u8::from(j == l)) - 1.0 / k as f64;
            z[ow + j * d + l] = r[4] * proj;
            z[oc + j * d + l] = r[5] * proj;
        }
    }
    z
}

#[test]
fn symmetric_fixed_point_spectrum_contains_the_reduced_spectrum() {
    // Balanced design with f n = K-1 frustrated samples per class, one per
    // partner: the simplex-symmetric subspace is invariant, so with L the
    // linear lift, F(L r) = L F_red(r), J L = L J_red, and every eigenvalue
    // of the 6x6 reduced Jacobian is an eigenvalue of the full one.
    let (k, n) = (4usize, 12usize);
    let design = Design { classes: k, per_class: n, frustrated: 0.25, rho: 0.3, pairing: Pairing::Balanced, seed: 0 };
    let a = LabelWeights::from_design(&design).unwrap();
    let e = simplex(k);
    let mut worst: f64 = 0.0;
    for lam in [0.0, 0.02] {
        let (ex, ey, ew) = (1.0, 0.8, 1.5);
        let pr = [0.25, 0.3, k as f64, ex, ey, ew, lam];
        let red = HeadSimplex::new(Variant::Symmetric, pr);
        let (_, zr) = closed_form_branches(Variant::Symmetric, &pr, 1.7).into_iter().find(|(name, _)| name == "non-collapsed (w+)").expect("w+ branch exists");
        let full = HeadClassLevel::new(&a, HeadRates { variant: Variant::Symmetric, eta_x: ex, eta_y: ey, eta_w: ew, weight_decay: lam }, k).unwrap();
        let pf = full.default_params();
        let zf = lift(&full, &e, &zr);

        // The lifted point is a fixed point of the class-level field.
        let mut f = vec![0.0; full.dim()];
        full.rhs(&zf, &pf, &mut f);
        let res = f.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(res < 1e-12, "lam {lam}: lifted w+ is not a class-level fixed point (residual {res})");

        // Intertwining J L = L J_red, column by column.
        let jf = jacobian_matrix(&full, &zf, &pf);
        let jr = jacobian_matrix(&red, &zr, &pr);
        for col in 0..6 {
            let mut unit = [0.0; 6];
            unit[col] = 1.0;
            let lv = lift(&full, &e, &unit);
            let jrv: Vec<f64> = (0..6).map(|i| jr[(i, col)]).collect();
            let ljr = lift(&full, &e, &jrv);
            for i in 0..full.dim() {
                let jl: f64 = (0..full.dim()).map(|m| jf[(i, m)] * lv[m]).sum();
                assert!((jl - ljr[i]).abs() < 1e-10, "lam {lam}: (J L)[{i},{col}] = {jl} vs (L J_red) = {}", ljr[i]);
            }
        }

        let ev_full = jacobian_eigenvalues(&full, &zf, &pf).unwrap();
        let ev_red = jacobian_eigenvalues(&red, &zr, &pr).unwrap();
        // The reduced eigenvalues are real and negative (w+ is stable).
        assert!(ev_red.iter().all(|l| l.re <= 1e-12));
        for lr in &ev_red {
            let dist = ev_full.iter().map(|lf| (*lf - *lr).norm()).fold(f64::INFINITY, f64::min);
            worst = worst.max(dist);
            assert!(dist < 1e-6, "lam {lam}: reduced eigenvalue {lr:?} missing from the class-level spectrum (nearest at {dist})");
        }
        // Outside the symmetric subspace: a common translation `t` (in the
        // label span) of all group means and labels leaves `dW/dt` unchanged
        // to first order (the mass-weighted sums of `xbar_g`, `r_g`, `y_c`,
        // `q_c` vanish there), so the centroid shifts `(a, b)` of means and
        // labels obey the 2x2 system
        //   [[-eta_x (w^2+lambda), eta_x w], [eta_y w, -eta_y (w^2+lambda)]]
        // (balanced masses m_c = n), whose determinant
        // eta_x eta_y ((w^2+lambda)^2 - w^2) = -eta_x eta_y w^2 phi < 0 at w+:
        // one positive eigenvalue, K-1 fold. Closed form, not from the code.
        let w = zr[4];
        let (d11, d22) = (-ex * (w * w + lam), -ey * (w * w + lam));
        let det = d11 * d22 - ex * ey * w * w;
        let centroid = 0.5 * ((d11 + d22) + ((d11 + d22).powi(2) - 4.0 * det).sqrt());
        assert!(centroid > 0.0);
        let hits = ev_full.iter().filter(|lf| (**lf - c64::new(centroid, 0.0)).norm() < 1e-8).count();
        assert_eq!(hits, k - 1, "lam {lam}: centroid eigenvalue {centroid} expected {} times in {ev_full:?}", k - 1);
        let top: Vec<c64> = ev_full.iter().take(8).copied().collect();
        eprintln!("lam {lam}: centroid mode {centroid:.10}; reduced {:?}\n  class-level (leading 8 of {}) {:?}", ev_red.iter().map(|l| l.re).collect::<Vec<_>>(), ev_full.len(), top.iter().map(|l| (l.re, l.im)).collect::<Vec<_>>());
    }
    eprintln!("worst distance reduced -> class-level eigenvalue {worst:.2e}");
}

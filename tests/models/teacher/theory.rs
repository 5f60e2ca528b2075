//! Model T theory checked against independent computations: closed forms
//! against quadrature, Gaussian expectations and accuracies against Monte
//! Carlo of the microscopic sampler, the exact Jacobian and parameter
//! derivatives against finite differences (exact for a quadratic field),
//! and the closed-form rates against dense eigenvalues.
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use repcollapse::engine::{jacobian_eigenvalues, sorted_eigenvalues};
use repcollapse::engine::VectorField;
use repcollapse::models::teacher::online::simulation::{empirical_accuracy, Stream, StepWorkspace, Student};
use repcollapse::models::teacher::config::{TeacherConfig, TeacherKind};
use repcollapse::models::teacher::metrics::{bivariate_normal_upper, orthant_probability, orthant_probability_4, orthant_probability_lattice, TeacherScorer};
use repcollapse::models::teacher::online::reduced::{row_rates, TeacherOde};
use repcollapse::models::teacher::statistics::{expected_max_normal, expected_max_normal_quadrature, ArgmaxConditional, Teacher};

use crate::support::jacobian::{central_jacobian, central_param_derivative};

fn cfg(sets: &[&str]) -> TeacherConfig {
    TeacherConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn expected_max_quadrature_matches_closed_forms() {
    // Simpson's error is far smaller; 1e-11 is the precision of statrs' normal CDF.
    assert!((expected_max_normal_quadrature(2) - 1.0 / std::f64::consts::PI.sqrt()).abs() < 1e-10);
    assert!((expected_max_normal_quadrature(3) - 1.5 / std::f64::consts::PI.sqrt()).abs() < 1e-10);
    // Table value E[max of 5 iid N(0,1)] = 1.162964.
    assert!((expected_max_normal(5) - 1.162964).abs() < 1e-6);
}

/// Monte Carlo estimates of P_c, M (columns M_c) and C from the sampler.
fn monte_carlo_stats(c: &TeacherConfig, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let k = c.classes;
    let stream = Stream::from_config(c);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut xi = vec![0.0; c.input_dim];
    let (mut p, mut m, mut cc) = (vec![0.0; k], vec![0.0; k * k], vec![0.0; k * k]);
    for _ in 0..n {
        let (_, l) = stream.sample(&mut rng, &mut xi);
        p[l] += 1.0;
        for a in 0..k {
            m[a * k + l] += xi[a];
            for b in 0..k {
                cc[a * k + b] += xi[a] * xi[b];
            }
        }
    }
    let nf = n as f64;
    (p.iter().map(|v| v / nf).collect(), m.iter().map(|v| v / nf).collect(), cc.iter().map(|v| v / nf).collect())
}

#[test]
fn gaussian_expectations_match_monte_carlo() {
    let n = 200_000;
    for sets in [
        vec!["teacher=\"mixture\"", "classes=3", "sigma=0.5", "a=1.5", "label_noise=0.2", "input_dim=5"],
        vec!["teacher=\"argmax\"", "classes=3", "label_noise=0.1", "input_dim=5"],
        vec!["teacher=\"argmax\"", "classes=5", "label_noise=0.3", "dim=4", "input_dim=7"],
    ] {
        let c = cfg(&sets);
        let k = c.classes;
        let st = Teacher::new(c.teacher, k).stats(c.label_noise, c.sigma, c.a);
        let (p, m, cc) = monte_carlo_stats(&c, n);
        let (mm, cm) = (st.m_matrix(), st.c_matrix());
        // Standard errors are <= ~2.5/sqrt(n) = 0.006; allow 5 of them.
        let tol = 0.03;
        for a in 0..k {
            assert!((p[a] - st.p).abs() < tol, "{sets:?}: P_{a} {} vs {}", p[a], st.p);
            for b in 0..k {
                assert!((m[a * k + b] - mm[a * k + b]).abs() < tol, "{sets:?}: M[{a},{b}] {} vs {}", m[a * k + b], mm[a * k + b]);
                assert!((cc[a * k + b] - cm[a * k + b]).abs() < 2.0 * tol, "{sets:?}: C[{a},{b}] {} vs {}", cc[a * k + b], cm[a * k + b]);
            }
        }
    }
}

#[test]
fn argmax_conditional_moments_match_monte_carlo() {
    let k = 4;
    let ac = ArgmaxConditional::new(k);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let c = cfg(&["teacher=\"argmax\"", "classes=4", "label_noise=0", "input_dim=5"]);
    let stream = Stream::from_config(&c);
    let mut xi = vec![0.0; 5];
    let (mut s1, mut s2, mut cnt) = (vec![0.0; k], vec![0.0; k * k], 0.0);
    for _ in 0..200_000 {
        let (cl, _) = stream.sample(&mut rng, &mut xi);
        if cl == 0 {
            cnt += 1.0;
            for a in 0..k {
                s1[a] += xi[a];
                for b in 0..k {
                    s2[a * k + b] += xi[a] * xi[b];
                }
            }
        }
    }
    let mean = ac.mean(k, 0);
    let cov = ac.cov(k, 0);
    for a in 0..k {
        assert!((s1[a] / cnt - mean[a]).abs() < 0.02, "mean {a}");
        for b in 0..k {
            let mc = s2[a * k + b] / cnt - (s1[a] / cnt) * (s1[b] / cnt);
            assert!((mc - cov[a * k + b]).abs() < 0.02, "cov {a},{b}: {mc} vs {}", cov[a * k + b]);
        }
    }
}

#[test]
fn orthant_probability_matches_bivariate_closed_form() {
    // P(X > 0, Y > 0) = 1/4 + asin(rho) / (2 pi) for unit variances.
    for rho in [-0.7, 0.0, 0.4, 0.9] {
        let (p, se) = orthant_probability(&[0.0, 0.0], &[1.0, rho, rho, 1.0]);
        let exact = 0.25 + f64::asin(rho) / (2.0 * std::f64::consts::PI);
        assert!((p - exact).abs() < 2e-3, "rho {rho}: {p} vs {exact} (se {se})");
    }
}

/// `P(X > h, Y > k) = int_h^inf phi(x) Phi((r x - k) / sqrt(1 - r^2)) dx`,
/// by composite Simpson on `[h, h + 12]` with 20000 panels (statrs' normal):
/// an evaluation independent of the Drezner-Wesolowsky-Genz one.
fn bivariate_by_conditioning(h: f64, k: f64, r: f64) -> f64 {
    use statrs::distribution::{Continuous, ContinuousCDF, Normal};
    let n = Normal::new(0.0, 1.0).unwrap();
    let g = |x: f64| n.pdf(x) * n.cdf((r * x - k) / (1.0 - r * r).sqrt());
    let (a, panels) = (h.max(-12.0), 20_000);
    let step = 12.0 / panels as f64;
    let mut s = g(a) + g(a + 12.0);
    for i in 1..panels {
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * g(a + i as f64 * step);
    }
    s * step / 3.0
}

#[test]
fn bivariate_normal_upper_matches_an_independent_integral() {
    // Every branch: |r| < 0.3, < 0.75, < 0.925 and the near-singular
    // expansion, both signs, bounds on both sides of zero.
    for r in [-0.99, -0.95, -0.8, -0.5, -0.1, 0.1, 0.5, 0.8, 0.95, 0.99] {
        for (h, k) in [(0.0, 0.0), (-1.3, 0.4), (0.7, 0.2), (-0.5, -2.0), (1.5, 2.5)] {
            let p = bivariate_normal_upper(h, k, r);
            let q = bivariate_by_conditioning(h, k, r);
            assert!((p - q).abs() < 1e-10, "h {h}, k {k}, r {r}: {p} vs {q}");
        }
        let exact = 0.25 + f64::asin(r) / (2.0 * std::f64::consts::PI);
        assert!((bivariate_normal_upper(0.0, 0.0, r) - exact).abs() < 1e-14, "r {r}");
    }
}

#[test]
fn orthant_probability_in_two_dimensions_agrees_with_the_lattice() {
    // The closed form (m = 2) and the lattice rule it replaced, with means
    // and scales as in the K = 3 mixture: within 4 lattice standard errors.
    for (mean, cov) in [([0.3, -0.2], [2.0, 0.7, 0.7, 1.5]), ([1.1, 0.9], [0.5, -0.3, -0.3, 0.8]), ([-0.4, 2.0], [1.0, 0.95, 0.95, 1.0])] {
        let (p, se) = orthant_probability(&mean, &cov);
        let (q, qse) = orthant_probability_lattice(&mean, &cov);
        assert_eq!(se, 0.0);
        assert!((p - q).abs() < 4.0 * qse.max(1e-6), "{mean:?} {cov:?}: {p} vs lattice {q} (se {qse})");
    }
}

/// Random 4 x 4 covariances `W W^T / 6 + eps I` (W 4 x 6 standard normal,
/// scaled rows so variances differ) and means, seeded; the last four cases
/// have the argmax teacher's shape (two rows of correlation 1/2 with mean 0)
/// with score noise of scale `noise` (small: nearly singular).
fn random_orthant_cases(n: usize, noise: f64) -> Vec<([f64; 4], [f64; 16])> {
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
    (0..n)
        .map(|case| {
            let w: Vec<f64> = (0..24).map(|_| z()).collect();
            let scale: Vec<f64> = (0..4).map(|_| (0.5 * z()).exp()).collect();
            let eps = if case % 3 == 0 { 0.01 } else { 0.2 };
            let mut cov = [0.0; 16];
            for i in 0..4 {
                for j in 0..4 {
                    let g: f64 = (0..6).map(|c| w[i * 6 + c] * w[j * 6 + c]).sum::<f64>() / 6.0 + if i == j { eps } else { 0.0 };
                    cov[i * 4 + j] = g * scale[i] * scale[j];
                }
            }
            let mut mean = [0.0; 4];
            for (i, m) in mean.iter_mut().enumerate() {
                *m = 0.8 * z() * cov[i * 5].sqrt();
            }
            if case >= n - 4 {
                // The argmax teacher's shape: rows lambda_c0 - lambda_c (c = 1, 2)
                // and score differences g_c . lambda + noise + b_c, as A A^T
                // over (lambda, noise), lambda ~ N(0, I_3).
                let mut rows = [[1.0, -1.0, 0.0, 0.0, 0.0], [1.0, 0.0, -1.0, 0.0, 0.0], [0.0; 5], [0.0; 5]];
                for row in rows.iter_mut().skip(2) {
                    for v in row.iter_mut() {
                        *v = 2.0 * z();
                    }
                    row[3] *= noise;
                    row[4] *= noise;
                }
                for i in 0..4 {
                    for j in 0..4 {
                        cov[i * 4 + j] = (0..5).map(|c| rows[i][c] * rows[j][c]).sum();
                    }
                }
                mean = [0.0, 0.0, 1.5 * z(), 1.5 * z()];
            }
            (mean, cov)
        })
        .collect()
}

/// `P(mean + X > 0)` by conditioning on the first two coordinates:
/// `int int_{z0 > a0, z1 > a1} phi_2(z0, z1) P(Z2 > a2, Z3 > a3 | z0, z1)`,
/// composite 10-point Gauss-Legendre on 24 panels per axis over `[max(a, -9), 9]`
/// (the density beyond 9 sd is below 1e-18): independent of the correlation
/// path of `orthant_probability_4`, sharing only the bivariate routine.
fn orthant_by_conditioning_on_two(mean: &[f64; 4], cov: &[f64; 16]) -> f64 {
    let sd: Vec<f64> = (0..4).map(|i| cov[i * 5].sqrt()).collect();
    let a: Vec<f64> = (0..4).map(|i| -mean[i] / sd[i]).collect();
    let r = |i: usize, j: usize| cov[i * 4 + j] / (sd[i] * sd[j]);
    let rho = r(0, 1);
    let det = 1.0 - rho * rho;
    // B^-1 for the conditioning pair; conditional covariance of (Z2, Z3).
    let binv = |u: [f64; 2], v: [f64; 2]| (u[0] * v[0] - rho * (u[0] * v[1] + u[1] * v[0]) + u[1] * v[1]) / det;
    let (c2, c3) = ([r(2, 0), r(2, 1)], [r(3, 0), r(3, 1)]);
    let (s2, s3) = ((1.0 - binv(c2, c2)).sqrt(), (1.0 - binv(c3, c3)).sqrt());
    let rc = (r(2, 3) - binv(c2, c3)) / (s2 * s3);
    let (x, w) = repcollapse::engine::cycles::gauss::gauss_legendre(10);
    let nodes = |lo: f64| -> Vec<(f64, f64)> {
        let (lo, panels) = (lo.max(-9.0), 24);
        let h = (9.0 - lo) / panels as f64;
        (0..panels).flat_map(|p| x.iter().zip(&w).map(move |(xi, wi)| (lo + h * (p as f64 + xi), h * wi)).collect::<Vec<_>>()).collect()
    };
    let mut total = 0.0;
    for (z0, w0) in nodes(a[0]) {
        for &(z1, w1) in &nodes(a[1]) {
            let density = (-(z0 * z0 - 2.0 * rho * z0 * z1 + z1 * z1) / (2.0 * det)).exp() / (2.0 * std::f64::consts::PI * det.sqrt());
            let (m2, m3) = (binv(c2, [z0, z1]), binv(c3, [z0, z1]));
            total += w0 * w1 * density * bivariate_normal_upper((a[2] - m2) / s2, (a[3] - m3) / s3, rc);
        }
    }
    total
}

#[test]
fn orthant_4_is_one_fifth_for_equicorrelation_one_half() {
    // P(Z > 0) = 1/(m + 1) for m equicorrelated unit normals with rho = 1/2;
    // variances 1, 4, 0.25, 9 (the event does not change with the scale).
    let sd = [1.0, 2.0, 0.5, 3.0];
    let cov: Vec<f64> = (0..16).map(|ij| sd[ij / 4] * sd[ij % 4] * if ij / 4 == ij % 4 { 1.0 } else { 0.5 }).collect();
    let p = orthant_probability_4(&[0.0; 4], &cov).expect("positive definite");
    assert!((p - 0.2).abs() < 1e-12, "{p}");
}

#[test]
fn orthant_4_matches_conditioning_on_two_coordinates() {
    // Tolerance 1e-10: the bivariate routine's checked accuracy (above); the
    // outer Gauss-Legendre rule's own error is far smaller.
    for (mean, cov) in random_orthant_cases(16, 0.3) {
        let p = orthant_probability_4(&mean, &cov).expect("positive definite");
        let q = orthant_by_conditioning_on_two(&mean, &cov);
        assert!((p - q).abs() < 1e-10, "{mean:?} {cov:?}: {p} vs {q}");
    }
}

#[test]
fn orthant_4_agrees_with_the_lattice_it_replaced() {
    // Within 6 lattice standard errors (the error estimate has 7 degrees of
    // freedom: P(|t| > 6) = 5e-4 per case), floor 1e-6.
    let (mut worst, mut worst_se) = (0.0f64, 0.0f64);
    // The last cases are nearly singular (score noise 1e-3: squared pivots ~1e-6).
    for (mean, cov) in random_orthant_cases(16, 0.3).into_iter().chain(random_orthant_cases(8, 1e-3).into_iter().skip(4)) {
        let (p, se) = orthant_probability(&mean, &cov);
        let (q, qse) = orthant_probability_lattice(&mean, &cov);
        assert_eq!(se, 0.0, "the four-dimensional reduction is used");
        assert!((p - q).abs() < 6.0 * qse.max(1e-6), "{mean:?} {cov:?}: {p} vs lattice {q} (se {qse})");
        worst = worst.max((p - q).abs());
        worst_se = worst_se.max((p - q).abs() / qse.max(1e-6));
    }
    eprintln!("largest |integral - lattice| {worst:.3e}, {worst_se:.2} lattice standard errors");
}

#[test]
fn orthant_4_falls_back_to_the_lattice_when_singular() {
    // Rows 2 and 3 identical: P = P(first three) and the correlation matrix
    // is singular, so the lattice (with a standard error) answers.
    let (mean, cov) = random_orthant_cases(1, 0.3)[0];
    let mut mean4 = mean;
    mean4[3] = mean[2];
    let mut cov4 = cov;
    for j in 0..4 {
        cov4[3 * 4 + j] = cov[2 * 4 + j];
        cov4[j * 4 + 3] = cov[j * 4 + 2];
    }
    cov4[15] = cov[10];
    assert!(orthant_probability_4(&mean4, &cov4).is_none());
    let (p, se) = orthant_probability(&mean4, &cov4);
    assert!(se > 0.0 && (0.0..=1.0).contains(&p), "{p} {se}");
}

fn random_state(ode: &TeacherOde, seed: u64) -> Vec<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..ode.dim()).map(|_| StandardNormal.sample(&mut rng)).collect()
}

#[test]
fn jacobian_and_parameter_derivatives_match_finite_differences() {
    for sets in [vec!["teacher=\"mixture\"", "sigma=0.3", "label_noise=0.15", "dim=3", "classes=3"], vec!["teacher=\"argmax\"", "label_noise=0.2", "dim=3", "classes=4"]] {
        let c = cfg(&sets);
        let probe = TeacherOde::new(&c, vec![0.0; 2 * c.dim * c.classes + c.dim * (c.dim + 1) / 2]).unwrap();
        let x = random_state(&probe, 3);
        let p = vec![0.7, 0.4, 0.15, 0.3, 1.3];
        let n = probe.dim();
        let mut jac = Mat::<f64>::zeros(n, n);
        probe.jacobian(&x, &p, jac.as_mut());
        // The field is quadratic in x: central differences are exact up to round-off.
        let central = central_jacobian(&probe, &x, &p, |_| 1e-3);
        for j in 0..n {
            for i in 0..n {
                let fd = central[i][j];
                assert!((fd - jac[(i, j)]).abs() < 1e-8, "{sets:?} J[{i},{j}] {} vs {fd}", jac[(i, j)]);
            }
        }
        let mut dp = vec![0.0; n];
        for kk in 0..5 {
            probe.param_derivative(&x, &p, kk, &mut dp);
            let central = central_param_derivative(&probe, &x, &p, kk, |_| 1e-5);
            for i in 0..n {
                let fd = central[i];
                assert!((fd - dp[i]).abs() < 1e-6 * (1.0 + fd.abs()), "{sets:?} dF_{i}/dp_{kk}: {} vs {fd}", dp[i]);
            }
        }
    }
}

#[test]
fn closed_form_rates_match_dense_spectra() {
    for sets in [vec!["teacher=\"mixture\"", "label_noise=0.1"], vec!["teacher=\"argmax\"", "label_noise=0.0", "classes=4", "dim=3"], vec!["teacher=\"mixture\"", "sigma=0.4", "label_noise=0.3"]] {
        let c = cfg(&sets);
        let probe = TeacherOde::new(&c, vec![0.0; 2 * c.dim * c.classes + c.dim * (c.dim + 1) / 2]).unwrap();
        let p = c.ode_params();
        let rates = row_rates(&probe.teacher, &p);
        let k = c.classes;
        let l = probe.row_operator(&p);
        let ev = sorted_eigenvalues(&Mat::from_fn(2 * k, 2 * k, |i, j| l[i * 2 * k + j])).unwrap();
        let mut re: Vec<f64> = ev.iter().map(|z| z.re).collect();
        re.sort_by(f64::total_cmp);
        let mut expect = vec![rates.common.0, rates.common.1];
        for _ in 1..k {
            expect.push(rates.separating.0);
            expect.push(rates.separating.1);
        }
        expect.sort_by(f64::total_cmp);
        for (a, b) in re.iter().zip(&expect) {
            assert!((a - b).abs() < 1e-9, "{sets:?}: {re:?} vs {expect:?}");
        }
        // The full Jacobian (at any state: the (R,Y) block is linear) contains -slow and -eta_x(2-eta_x).
        let x = random_state(&probe, 1);
        let jev = jacobian_eigenvalues(&probe, &x, &p).unwrap();
        assert!(jev.iter().any(|z| (z.re + rates.separating.0).abs() < 1e-8), "{sets:?}");
        assert!(jev.iter().any(|z| (z.re + rates.spread).abs() < 1e-8), "{sets:?}");
    }
    // Realizable mixture: C = G, no separating decay.
    let c = cfg(&["teacher=\"mixture\"", "label_noise=0"]);
    let t = Teacher::new(TeacherKind::Mixture, c.classes);
    assert!(row_rates(&t, &c.ode_params()).separating.0.abs() < 1e-14);
    let st = t.stats(0.0, 0.0, c.a);
    assert!(st.c_minus_g().0.abs() < 1e-14 && st.c_minus_g().1.abs() < 1e-14);
}

/// Accuracy and spread from the order parameters against the microscopic
/// student's empirical values on many fresh samples.
#[test]
fn accuracy_formula_matches_empirical_accuracy() {
    for sets in [
        vec!["teacher=\"mixture\"", "classes=2", "dim=2", "sigma=0.8", "a=1.0", "input_dim=40", "init_r=0.5", "init_y=0.6", "init_w=0.4"],
        vec!["teacher=\"mixture\"", "classes=3", "dim=3", "sigma=0.6", "a=1.0", "input_dim=40", "init_r=0.6", "init_y=0.7", "init_w=0.4"],
        vec!["teacher=\"argmax\"", "classes=3", "dim=2", "input_dim=40", "init_r=0.8", "init_y=0.6", "init_w=0.3"],
    ] {
        let c = cfg(&sets);
        // Train briefly so that the student is well above chance.
        let mut student = Student::initial(&c, 7);
        let stream = Stream::from_config(&c);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut ws = StepWorkspace::new(c.dim, c.input_dim);
        for _ in 0..20 * c.input_dim {
            let (_, l) = stream.sample(&mut rng, &mut ws.xi);
            student.sgd_step(l, 0.5, 0.5, &mut ws);
        }
        let scorer = TeacherScorer::new(Teacher::new(c.teacher, c.classes), c.label_noise, c.sigma, c.a);
        let op = student.order_params();
        let m = scorer.measure(0.0, &op);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let reps = 100; // 100 x 256 test samples
        let emp: f64 = (0..reps).map(|_| empirical_accuracy(&student, &stream, &mut rng, &mut ws)).sum::<f64>() / reps as f64;
        // Standard error <= 0.5/sqrt(25600) = 0.003.
        assert!((emp - m.base.accuracy).abs() < 0.015, "{sets:?}: empirical {emp} vs formula {}", m.base.accuracy);
        assert!(m.base.accuracy > 1.0 / c.classes as f64 + 0.05, "{sets:?}: test is informative only above chance, got {}", m.base.accuracy);
    }
}


/// Nearest-label decisions are invariant under a common scaling of `x` and
/// all `y_c`, so the accuracy formula must be too (regression: constraints
/// of very different scales once got floored as degenerate).
#[test]
fn accuracy_is_invariant_under_common_scaling() {
    for sets in [vec!["teacher=\"argmax\"", "classes=3", "dim=3", "init_r=0.8", "init_y=0.6", "init_w=0.3"], vec!["teacher=\"mixture\"", "classes=4", "dim=3", "sigma=0.5", "init_r=0.8"]] {
        let c = cfg(&sets);
        let op = Student::initial(&c, 2).order_params();
        let scorer = TeacherScorer::new(Teacher::new(c.teacher, c.classes), c.label_noise, c.sigma, c.a);
        let a0 = scorer.measure(0.0, &op).base.accuracy;
        let s = 1e-8;
        let small = repcollapse::models::teacher::online::reduced::OrderParams::from_sigma(
            c.classes,
            c.dim,
            op.r.iter().map(|v| v * s).collect(),
            op.y.iter().map(|v| v * s).collect(),
            op.s.iter().map(|v| v * s * s).collect(),
        );
        let a1 = scorer.measure(0.0, &small).base.accuracy;
        assert!((a0 - a1).abs() < 1e-9, "{sets:?}: {a0} vs {a1}");
    }
}

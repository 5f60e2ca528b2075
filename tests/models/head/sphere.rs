//! Model H with normalised embeddings and the cosine loss (`docs/head.md`,
//! "Normalised embeddings and the cosine loss"): the key's checks, the
//! step (sphere, conserved |W|, no allocation, thread independence), the
//! 9-variable reduction against microscopic gradient descent from a
//! simplex-symmetric start (first order in dt), and the engine's
//! classification of where the reduced flow goes.
use repcollapse::engine::{classify, integrate, newton_polish, Grid, IntegrateOptions, Method, NewtonOptions, Stability, StabilityOptions, VectorField};
use repcollapse::models::common::frustration::LabelWeights;
use repcollapse::models::embedding::reduced::simplex::vertex;
use repcollapse::models::head::config::{HeadConfig, Variant};
use repcollapse::models::head::reduced::sphere::HeadSphereSimplex;
use repcollapse::models::head::simulation::{normalize_start, simulate, sphere_step, HeadState, SphereWorkspace};

use crate::support::counting_alloc::allocations_in;

fn cfg(sets: &[&str]) -> HeadConfig {
    HeadConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn cosine_head_refuses_what_it_does_not_implement() {
    let e = HeadConfig::from_sets(&["loss=cosine".into(), "variant=head".into()]).unwrap_err().to_string();
    assert!(e.contains("`variant`") && e.contains("not implemented"), "{e}");
    let e = HeadConfig::from_sets(&["loss=cosine".into(), "weight_decay=0.1".into()]).unwrap_err().to_string();
    assert!(e.contains("`weight_decay`") && e.contains("0.1"), "{e}");
    let e = HeadConfig::from_sets(&["loss=cosine".into(), "batch=5".into()]).unwrap_err().to_string();
    assert!(e.contains("`batch`"), "{e}");
}

#[test]
fn cosine_head_step_keeps_the_sphere_and_the_head_norm_allocates_nothing_and_ignores_threads() {
    let c = cfg(&["loss=cosine", "variant=symmetric", "frustrated=0.2", "dim=6", "per_class=30", "head_init_noise=0.3"]);
    let a = c.base.label_weights().unwrap();
    let mut st = HeadState::random(&a, 6, 1.0, 0.3, 4);
    normalize_start(&mut st);
    let w0: f64 = st.w.iter().map(|v| v * v).sum();
    let mut ws = SphereWorkspace::new(&a, 6);
    let n = allocations_in(|| {
        for _ in 0..100 {
            sphere_step(&a, &mut st, true, true, 0.01, 0.01 / 30.0, 0.01 / 120.0, &mut ws);
        }
    });
    assert_eq!(n, 0, "sphere head step allocated {n} times");
    for row in st.x.chunks(6).chain(st.y.chunks(6)) {
        assert!((row.iter().map(|v| v * v).sum::<f64>().sqrt() - 1.0).abs() < 1e-14);
    }
    // |W|_F is conserved by the flow; Euler adds O(dt^2) per step.
    let w1: f64 = st.w.iter().map(|v| v * v).sum();
    assert!((w1 / w0 - 1.0).abs() < 1e-3, "|W|^2 {w0} -> {w1}");
    let c = cfg(&["loss=cosine", "variant=asymmetric", "frustrated=0.2", "t_max=5", "points=4", "seeds=1"]);
    let a = c.base.label_weights().unwrap();
    let bits = |threads: usize| {
        let run = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| simulate(&c, &a, 4).unwrap());
        run.last.x.iter().chain(&run.last.y).chain(&run.last.w).map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(bits(1), bits(2));
}

/// The reduced state `z` as a microscopic state in `d` dimensions: `e_a`
/// the simplex vertices in the first `K` coordinates, `u = 1/sqrt(K)` there.
fn lift(a: &LabelWeights, z: &[f64], d: usize) -> HeadState {
    let k = a.classes();
    let u = 1.0 / (k as f64).sqrt();
    let mut x = vec![0.0; a.samples() * d];
    for i in 0..a.samples() {
        let c = a.primary(i);
        let partner = a.row(i).map(|(b, _)| b).find(|&b| b != c);
        for j in 0..k {
            x[i * d + j] = match partner {
                None => z[0] * vertex(c, k, j) + z[1] * u,
                Some(b) => z[2] * vertex(c, k, j) + z[3] * vertex(b, k, j) + z[4] * u,
            };
        }
    }
    let mut y = vec![0.0; k * d];
    for c in 0..k {
        for j in 0..k {
            y[c * d + j] = z[5] * vertex(c, k, j) + z[6] * u;
        }
    }
    let mut w = vec![0.0; d * d];
    for r in 0..d {
        for j in 0..d {
            let uu = if r < k && j < k { u * u } else { 0.0 };
            let id = f64::from(u8::from(r == j));
            w[r * d + j] = if r < k && j < k { z[7] * (id - uu) + z[8] * uu } else { id };
        }
    }
    HeadState { x, y, w, dim: d }
}

fn reduced_at(sys: &HeadSphereSimplex, z0: &[f64], t: f64) -> Vec<f64> {
    let opts = IntegrateOptions { method: Method::Auto, rtol: 1e-11, atol: 1e-13, t_max: t, grid: Grid::Times(vec![0.0, t]), ..Default::default() };
    integrate(sys, z0, &sys.default_params(), &opts).unwrap().states.last().unwrap().clone()
}

#[test]
fn reduction_matches_microscopic_descent_from_a_symmetric_start_to_first_order_in_dt() {
    // K = 4, n = 12 (f n = 3 frustrated per class: balanced), d = 5.
    let (k, d, t) = (4usize, 5usize, 4.0);
    for variant in [Variant::Symmetric, Variant::Asymmetric] {
        let c = cfg(&["loss=cosine", &format!("variant={}", variant.name()), "frustrated=0.25", "per_class=12", &format!("dim={d}"), "eta_w=2"]);
        let a = c.base.label_weights().unwrap();
        let sys = HeadSphereSimplex::new(variant, [0.25, 0.5, k as f64, 1.0, 1.0, 2.0]);
        // Start off the slow manifold: samples half-way to their targets, head not the identity.
        let mut z0 = HeadSphereSimplex::aligned_start(0.5, k);
        z0[7] = 1.2;
        z0[8] = 0.8;
        z0[0] *= 0.5;
        z0[1] = (1.0 - z0[0] * z0[0]).sqrt();
        let zt = reduced_at(&sys, &z0, t);
        let target = lift(&a, &zt, d);
        let err = |dt: f64| {
            let mut st = lift(&a, &z0, d);
            let mut ws = SphereWorkspace::new(&a, d);
            let steps = (t / dt).round() as usize;
            for _ in 0..steps {
                sphere_step(&a, &mut st, variant == Variant::Symmetric, true, dt, dt / 12.0, 2.0 * dt / 48.0, &mut ws);
            }
            st.x.iter().chain(&st.y).chain(&st.w).zip(target.x.iter().chain(&target.y).chain(&target.w)).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
        };
        let (e1, e2) = (err(0.01), err(0.005));
        eprintln!("{variant:?}: reduced at t = {t}: {zt:?}; max error dt = 0.01: {e1:.3e}, dt = 0.005: {e2:.3e}, ratio {:.3}", e1 / e2);
        assert!(e1 < 0.02, "{variant:?}: microscopic GD is {e1} from the reduction");
        assert!((e1 / e2 - 2.0).abs() < 0.15, "{variant:?}: error ratio {} is not first order", e1 / e2);
    }
}

#[test]
fn symmetric_head_keeps_a_stable_non_collapsed_family_asymmetric_only_at_low_frustration() {
    let k = 4usize;
    // (variant, f, collapses): from the aligned start (orthonormal labels, samples on their targets, W = I).
    for (variant, f, collapses) in [
        (Variant::Symmetric, 0.2, false),
        (Variant::Symmetric, 0.5, false),
        (Variant::Asymmetric, 0.2, false),
        (Variant::Asymmetric, 0.5, true),
        (Variant::SgOnly, 0.2, true),
    ] {
        let sys = HeadSphereSimplex::new(variant, [f, 0.5, k as f64, 1.0, 1.0, 1.0]);
        let p = sys.default_params();
        let z0 = HeadSphereSimplex::aligned_start(0.5, k);
        let z = reduced_at(&sys, &z0, 2000.0);
        let cos = HeadSphereSimplex::label_cosine(&z, k as f64);
        let out = newton_polish(&sys, &z, &p, &NewtonOptions::default()).unwrap();
        assert!(out.converged, "{variant:?} f = {f}: no fixed point near the end state {z:?}");
        let cls = classify(&sys, &out.x, &p, &StabilityOptions::default()).unwrap();
        let re: Vec<f64> = cls.eigenvalues.iter().map(|l| l.re).collect();
        eprintln!(
            "{variant:?} f = {f}: label cosine {cos:.6}, w = ({:.5}, {:.5}), {:?}, zero modes {} (unexplained {}), family {}, eigenvalues {re:?}",
            out.x[7], out.x[8], cls.stability, cls.zero_modes, cls.unexplained_zero_modes, cls.family_dimension
        );
        assert_eq!(cos > 1.0 - 1e-9, collapses, "{variant:?} f = {f}: label cosine {cos}");
        assert!(matches!(cls.stability, Stability::StableNode | Stability::StableFocus), "{variant:?} f = {f}: {cls:?}");
        assert_eq!(cls.unexplained_zero_modes, 0, "{variant:?} f = {f}: {cls:?}");
        assert!(cls.family_dimension >= 1, "{variant:?} f = {f}: {cls:?}");
    }
}

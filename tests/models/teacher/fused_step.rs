//! Model T's fused SGD step (the rank-1 update of one step applied in the
//! next step's forward pass) against the two-pass step, bit for bit.
use rand::SeedableRng;
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::simulation::{HeadStudent, HeadWorkspace};
use repcollapse::models::teacher::online::simulation::{SampleRng, Stream, StepWorkspace, Student};

fn cfg(sets: &[&str]) -> TeacherConfig {
    TeacherConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The step as first written: a full forward pass, then a full update pass.
fn two_pass_step(s: &mut Student, xi: &[f64], l: usize, eta_x: f64, eta_y: f64) {
    let (d, dd) = (s.dim, s.input_dim);
    let mut x = vec![0.0; d];
    s.embed(xi, &mut x);
    let err: Vec<f64> = (0..d).map(|i| x[i] - s.y[l * d + i]).collect();
    let cw = eta_x / (dd as f64).sqrt();
    for i in 0..d {
        let g = cw * err[i];
        for (wv, xv) in s.w[i * dd..(i + 1) * dd].iter_mut().zip(xi) {
            *wv -= g * xv;
        }
    }
    let cy = eta_y * s.classes as f64 / dd as f64;
    for i in 0..d {
        s.y[l * d + i] += cy * err[i];
    }
}

#[test]
fn fused_student_step_is_bit_identical_to_two_passes() {
    // D = 103 is not a multiple of the 8-wide accumulator, so the tail path runs too.
    for sets in [vec!["input_dim=103", "dim=5", "classes=3", "label_noise=0.1"], vec!["input_dim=64", "dim=8", "classes=3", "teacher=\"argmax\""]] {
        let c = cfg(&sets);
        let stream = Stream::from_config(&c);
        let (mut fused, mut reference) = (Student::initial(&c, 4), Student::initial(&c, 4));
        let mut ws = StepWorkspace::new(c.dim, c.input_dim);
        let (mut r1, mut r2) = (SampleRng::seed_from_u64(9), SampleRng::seed_from_u64(9));
        let mut xi = vec![0.0; c.input_dim];
        for step in 0..700 {
            let (_, l) = stream.sample(&mut r1, &mut ws.xi);
            fused.deferred_step(l, 0.8, 0.6, &mut ws);
            let (_, l2) = stream.sample(&mut r2, &mut xi);
            assert_eq!(l, l2);
            two_pass_step(&mut reference, &xi, l2, 0.8, 0.6);
            if step % 97 == 0 {
                fused.flush(&mut ws);
                assert_eq!(bits(&fused.w), bits(&reference.w), "{sets:?}: W differs at step {step}");
            }
        }
        fused.flush(&mut ws);
        assert_eq!(bits(&fused.w), bits(&reference.w), "{sets:?}: W differs");
        assert_eq!(bits(&fused.y), bits(&reference.y), "{sets:?}: y differs");
        assert_ne!(bits(&fused.w), bits(&Student::initial(&c, 4).w), "training must move W (else the test checks nothing)");
    }
}

#[test]
fn fused_head_step_is_bit_identical_to_complete_steps() {
    // With and without weight decay (the decay rides on the pending update).
    for (head, lam) in [("symmetric", 0.0), ("asymmetric", 0.0), ("symmetric", 0.3)] {
        let c = cfg(&[&format!("head=\"{head}\""), "input_dim=77", "dim=4", "classes=3", "eta_w=0.5"]);
        let stream = Stream::from_config(&c);
        let (mut fused, mut complete) = (HeadStudent::initial(&c, 2), HeadStudent::initial(&c, 2));
        let (mut w1, mut w2) = (HeadWorkspace::new(c.dim, c.input_dim), HeadWorkspace::new(c.dim, c.input_dim));
        let (mut r1, mut r2) = (SampleRng::seed_from_u64(5), SampleRng::seed_from_u64(5));
        for _ in 0..500 {
            let (_, l) = stream.sample(&mut r1, &mut w1.base.xi);
            fused.deferred_step(l, 0.7, 0.5, 0.5, lam, &mut w1);
            let (_, l) = stream.sample(&mut r2, &mut w2.base.xi);
            complete.step(l, 0.7, 0.5, 0.5, lam, &mut w2);
        }
        fused.student.flush(&mut w1.base);
        assert_eq!(bits(&fused.student.w), bits(&complete.student.w), "{head} {lam}: W differs");
        assert_eq!(bits(&fused.student.y), bits(&complete.student.y), "{head}: y differs");
        assert_eq!(bits(&fused.head), bits(&complete.head), "{head}: head differs");
    }
}

/// Random test data: normal entries with a sprinkling of exact zeros,
/// negative zeros and large magnitudes, so that rounding and signs are exercised.
fn random_vec(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> Vec<f64> {
    use rand::Rng;
    (0..n)
        .map(|_| match rng.random_range(0..50) {
            0 => 0.0,
            1 => -0.0,
            2 => rng.random::<f64>() * 1e6,
            _ => rng.random::<f64>() * 2.0 - 1.0,
        })
        .collect()
}

/// The dispatched row passes of W (every instruction-set level this CPU has:
/// portable, AVX2, AVX-512) against the scalar one-row references `dot` and
/// `update_dot`, bit for bit: shapes below, at and above the column block and
/// the row group, lengths not a multiple of 8, with and without decay.
#[test]
fn wide_w_passes_are_bit_identical_to_scalar_references() {
    use repcollapse::models::teacher::online::simulation::{dot, update_dot};
    use repcollapse::models::teacher::online::wpass::{self, BLOCK};
    use repcollapse::simd;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
    let levels = simd::supported();
    for (rows, n) in [(1, 1), (3, 7), (5, 103), (8, BLOCK), (8, BLOCK + 9), (17, 3 * BLOCK + 5), (8, 10_000), (2, 0)] {
        for keep in [1.0, 0.9973] {
            let w0 = random_vec(&mut rng, rows * n);
            let (old, new) = (random_vec(&mut rng, n), random_vec(&mut rng, n));
            let g = random_vec(&mut rng, rows);
            // References, one row at a time.
            let mut w_ref = w0.clone();
            let dots_ref: Vec<f64> = (0..rows).map(|i| dot(&w0[i * n..(i + 1) * n], &new)).collect();
            let fused_ref: Vec<f64> = (0..rows).map(|i| update_dot(&mut w_ref[i * n..(i + 1) * n], keep, g[i], &old, &new)).collect();
            for &level in &levels {
                let what = format!("{level:?}, {rows} x {n}, keep {keep}");
                let mut out = vec![f64::NAN; rows];
                wpass::dot_rows(level, &w0, n, &new, &mut out);
                assert_eq!(bits(&out), bits(&dots_ref), "dot_rows {what}");
                let mut w = w0.clone();
                let mut out = vec![f64::NAN; rows];
                wpass::update_rows(level, &mut w, n, keep, &g, &old, Some((&new, &mut out)));
                assert_eq!(bits(&w), bits(&w_ref), "update_rows+dot W {what}");
                assert_eq!(bits(&out), bits(&fused_ref), "update_rows+dot values {what}");
                let mut w = w0.clone();
                wpass::update_rows(level, &mut w, n, keep, &g, &old, None);
                assert_eq!(bits(&w), bits(&w_ref), "update_rows W {what}");
            }
        }
    }
    assert!(levels.len() > 1 || !cfg!(target_arch = "x86_64") || !std::arch::is_x86_feature_detected!("avx2"), "AVX2 present but not offered: {levels:?}");
}

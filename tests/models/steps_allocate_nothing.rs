//! The simulations' hot loops allocate nothing per step (issue 11): a
//! counting allocator that counts this thread's allocations only (other test
//! threads allocate freely), a warm-up step for buffers that are sized on
//! first use, then many steps that must not allocate.
use rand::SeedableRng;
use repcollapse::models::embedding::config::EmbeddingConfig;
use repcollapse::models::embedding::simulation::{self as embedding, Embeddings, Rates};
use repcollapse::models::head::config::HeadConfig;
use repcollapse::models::head::simulation::{self as head, HeadRates, HeadState};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::simulation::{HeadStudent, HeadWorkspace as TeacherHeadWorkspace};
use repcollapse::models::teacher::online::simulation::{SampleRng, StepWorkspace, Stream, Student};
use repcollapse::random::BlockNormalRng;

use crate::support::counting_alloc::allocations_in;

#[test]
fn the_counter_sees_an_allocation() {
    // Guards the tests below against a counter that never counts.
    let n = allocations_in(|| drop(std::hint::black_box(vec![1.0f64; 64])));
    assert!(n >= 1, "the counting allocator missed a Vec allocation");
}

#[test]
fn teacher_sample_and_fused_sgd_step_allocate_nothing() {
    for head in ["none", "symmetric"] {
        let sets: Vec<String> = ["input_dim=2000".into(), "dim=8".into(), "classes=3".into(), "label_noise=0.1".into(), format!("head={head}")].into();
        let cfg = TeacherConfig::from_sets(&sets).unwrap();
        let stream = Stream::from_config(&cfg);
        let mut rng = SampleRng::seed_from_u64(3);
        // Warm-up draw: the one-off SIMD level detection (see below).
        let mut warm = [0.0; 8];
        rng.fill_standard_normal(&mut warm);
        if head == "none" {
            let mut student = Student::initial(&cfg, 1);
            let mut ws = StepWorkspace::new(cfg.dim, cfg.input_dim);
            let n = allocations_in(|| {
                for _ in 0..500 {
                    let (_, l) = stream.sample(&mut rng, &mut ws.xi);
                    student.deferred_step(l, 0.5, 0.5, &mut ws);
                }
                student.flush(&mut ws);
            });
            assert_eq!(n, 0, "Model T sample + SGD step allocated {n} times in 500 steps");
        } else {
            let mut hs = HeadStudent::initial(&cfg, 1);
            let mut ws = TeacherHeadWorkspace::new(cfg.dim, cfg.input_dim);
            let n = allocations_in(|| {
                for _ in 0..500 {
                    let (_, l) = stream.sample(&mut rng, &mut ws.base.xi);
                    hs.deferred_step(l, 0.5, 0.5, 0.5, 0.05, &mut ws);
                }
                hs.student.flush(&mut ws.base);
            });
            assert_eq!(n, 0, "Model T head step allocated {n} times in 500 steps");
        }
    }
}

#[test]
fn block_normal_fill_allocates_nothing() {
    let mut rng = BlockNormalRng::seed_from_u64(9);
    let mut out = vec![0.0; 10_007];
    // The first fill detects the SIMD level once per process (reading
    // REPCOLLAPSE_SIMD allocates); that is set-up, not a step.
    rng.fill_standard_normal(&mut out[..8]);
    let n = allocations_in(|| {
        for _ in 0..50 {
            rng.fill_standard_normal(&mut out);
        }
    });
    assert_eq!(n, 0, "BlockNormalRng::fill_standard_normal allocated {n} times");
    assert!(out.iter().any(|&v| v != 0.0));
}

#[test]
fn model_e_and_model_h_steps_allocate_nothing() {
    let c = EmbeddingConfig::from_sets(&["classes=4".into(), "per_class=30".into(), "dim=6".into(), "frustrated=0.2".into()]).unwrap();
    let a = c.label_weights().unwrap();
    let mut e = Embeddings::random(&a, c.dim, 1.0, 2);
    let r = Rates { eta_x: 1.0, eta_y: 1.0, per_class: a.per_class() };
    let mut scratch = Vec::new();
    embedding::gd_step(&a, &mut e, r, 0.05, &mut scratch); // sizes the scratch
    let n = allocations_in(|| {
        for _ in 0..200 {
            embedding::gd_step(&a, &mut e, r, 0.05, &mut scratch);
        }
    });
    assert_eq!(n, 0, "Model E GD step allocated {n} times in 200 steps");

    for variant in ["head", "symmetric", "asymmetric"] {
        let sets: Vec<String> = [format!("variant={variant}"), "frustrated=0.2".into(), "weight_decay=0.05".into(), "dim=6".into(), "per_class=30".into(), "batch=16".into()].into();
        let hc = HeadConfig::from_sets(&sets).unwrap();
        let a = hc.base.label_weights().unwrap();
        let mut st = HeadState::random(&a, 6, 1.0, 0.1, 4);
        let hr = HeadRates::from_config(&hc);
        let mut ws = head::HeadWorkspace::new(&a, 6, 16);
        let rows = a.pair_row_index();
        let batch: Vec<usize> = (0..16).collect();
        let n = allocations_in(|| {
            for _ in 0..100 {
                head::gd_step(&a, &mut st, hr, 0.05, &mut ws);
                head::sgd_step(&a, &rows, &mut st, hr, 0.05, &batch, &mut ws);
            }
        });
        assert_eq!(n, 0, "Model H ({variant}) GD + SGD steps allocated {n} times in 100 steps each");
    }
}

//! Model H with momentum, Nesterov and AdamW (`docs/optimisers.md`): the
//! frozen-head variants reproduce Model E's optimiser runs to rounding,
//! zero momentum is GD, AdamW's decay is decoupled, runs do not depend on
//! the thread count and the steps allocate nothing.
use repcollapse::models::embedding::optimizer::{Optimizer, OptimizerState};
use repcollapse::models::embedding::simulation::{self as embedding, Embeddings, Rates};
use repcollapse::models::head::config::HeadConfig;
use repcollapse::models::head::simulation::{gd_step, simulate, HeadRates, HeadState, HeadWorkspace};

use crate::support::counting_alloc::allocations_in;

fn cfg(sets: &[&str]) -> HeadConfig {
    HeadConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn head_config_takes_the_optimizer_keys_and_checks_them() {
    let c = cfg(&["optimizer=adam", "beta1=0.8"]);
    assert_eq!(c.base.optimizer, Optimizer::Adam { beta1: 0.8, beta2: 0.999, eps: 1e-8 });
    let e = HeadConfig::from_sets(&["optimizer=nesterov".into(), "momentum=1.2".into()]).unwrap_err().to_string();
    assert!(e.contains("`momentum`") && e.contains("1.2") && e.contains("[0, 1)"), "{e}");
    assert!(cfg(&[]).to_json().get("optimizer").is_none());
    assert_eq!(cfg(&["optimizer=adam"]).to_json()["optimizer"], "adam");
}

#[test]
fn frozen_head_with_momentum_reproduces_model_e_with_momentum() {
    for opt in [Optimizer::Momentum { beta: 0.8 }, Optimizer::Nesterov { beta: 0.6 }, Optimizer::Adam { beta1: 0.9, beta2: 0.99, eps: 1e-8 }] {
        let c = cfg(&["variant=none", "frustrated=0.2"]);
        let a = c.base.label_weights().unwrap();
        let d = c.base.dim;
        let mut h = HeadState::random(&a, d, 1.0, 0.0, 5);
        let mut e = Embeddings::random(&a, d, 1.0, 5);
        let mut ws = HeadWorkspace::new(&a, d, 0);
        let mut pull = Vec::new();
        let r = HeadRates::from_config(&c);
        let nx = e.x.len();
        let (mut oh, mut oe) = (OptimizerState::new(opt, nx + e.y.len()), OptimizerState::new(opt, nx + e.y.len()));
        for _ in 0..200 {
            oh.next_step();
            oh.begin(0, &mut h.x);
            oh.begin(nx, &mut h.y);
            gd_step(&a, &mut h, r, 0.02, &mut ws);
            oh.finish(0, &mut h.x, 0.02, 0.0);
            oh.finish(nx, &mut h.y, 0.02, 0.0);
            oe.next_step();
            oe.begin(0, &mut e.x);
            oe.begin(nx, &mut e.y);
            embedding::gd_step(&a, &mut e, Rates { eta_x: 1.0, eta_y: 1.0, per_class: a.per_class() }, 0.02, &mut pull);
            oe.finish(0, &mut e.x, 0.02, 0.0);
            oe.finish(nx, &mut e.y, 0.02, 0.0);
        }
        // Model H's frozen-head step equals Model E's to rounding (1e-12 for GD,
        // tests/models/head/simulation.rs); the optimisers must not amplify it.
        let err = h.x.iter().chain(&h.y).zip(e.x.iter().chain(&e.y)).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        assert!(err < 1e-10, "{opt:?}: Model H (none) differs from Model E by {err:e}");
    }
}

#[test]
fn zero_momentum_is_gradient_descent_for_the_trained_head() {
    let base = ["variant=symmetric", "frustrated=0.3", "weight_decay=0.05", "t_max=30", "points=8", "seeds=1"];
    let gd = cfg(&base);
    let a = gd.base.label_weights().unwrap();
    let want = simulate(&gd, &a, 2).unwrap();
    for opt in ["momentum", "nesterov"] {
        let mut sets = base.to_vec();
        let o = format!("optimizer={opt}");
        sets.push(&o);
        let got = simulate(&cfg(&sets), &a, 2).unwrap();
        let dev = got.last.w.iter().zip(&want.last.w).map(|(u, v)| (u - v).abs()).fold(0.0, f64::max);
        assert!(dev < 1e-10, "{opt} with beta = 0: head differs from GD by {dev:e}");
    }
}

#[test]
fn adamw_decay_is_decoupled_from_the_gradient() {
    // With a zero gradient Adam's moments stay zero, and AdamW shrinks the
    // parameters by exactly (1 - lr lambda) per step.
    let mut st = OptimizerState::new(Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 3);
    let mut theta = [1.0, -2.0, 0.5];
    for _ in 0..10 {
        st.next_step();
        st.begin(0, &mut theta);
        st.finish(0, &mut theta, 0.1, 0.3);
    }
    for (t, t0) in theta.iter().zip([1.0, -2.0, 0.5]) {
        assert!((t - t0 * 0.97f64.powi(10)).abs() < 1e-15, "{t} vs {}", t0 * 0.97f64.powi(10));
    }
    // A gradient step of any size moves a fresh Adam by lr (bias-corrected sign step).
    let mut st = OptimizerState::new(Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-12 }, 2);
    let mut theta = [0.0, 0.0];
    st.next_step();
    st.begin(0, &mut theta);
    theta = [-3.0 * 0.1, 1e-4 * 0.1]; // the model's step: theta - lr g with g = (3, -1e-4)
    st.finish(0, &mut theta, 0.1, 0.0);
    assert!((theta[0] + 0.1).abs() < 1e-9 && (theta[1] - 0.1).abs() < 1e-6, "{theta:?}");
}

#[test]
fn head_runs_are_bit_identical_across_thread_counts() {
    for opt in [&["optimizer=momentum", "momentum=0.9"][..], &["optimizer=adam", "weight_decay=0.05"]] {
        let mut sets = vec!["variant=symmetric", "frustrated=0.2", "t_max=10", "points=4", "seeds=1"];
        sets.extend_from_slice(opt);
        let c = cfg(&sets);
        let a = c.base.label_weights().unwrap();
        let bits = |threads: usize| {
            let run = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| simulate(&c, &a, 4).unwrap());
            run.last.x.iter().chain(&run.last.y).chain(&run.last.w).map(|v| v.to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(bits(1), bits(2), "{opt:?}");
    }
}

#[test]
fn head_optimizer_steps_allocate_nothing() {
    let c = cfg(&["variant=symmetric", "frustrated=0.2", "weight_decay=0.05", "dim=6", "per_class=30"]);
    let a = c.base.label_weights().unwrap();
    for opt in [Optimizer::Momentum { beta: 0.9 }, Optimizer::Nesterov { beta: 0.5 }, Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }] {
        let mut st = HeadState::random(&a, 6, 1.0, 0.1, 4);
        let r = HeadRates::from_config(&c);
        let mut ws = HeadWorkspace::new(&a, 6, 0);
        let (nx, ny) = (st.x.len(), st.y.len());
        let mut o = OptimizerState::new(opt, nx + ny + st.w.len());
        let n = allocations_in(|| {
            for _ in 0..100 {
                o.next_step();
                o.begin(0, &mut st.x);
                o.begin(nx, &mut st.y);
                o.begin(nx + ny, &mut st.w);
                gd_step(&a, &mut st, r, 0.02, &mut ws);
                o.finish(0, &mut st.x, 0.02, 0.0);
                o.finish(nx, &mut st.y, 0.02, 0.0);
                o.finish(nx + ny, &mut st.w, 0.02, 0.0);
            }
        });
        assert_eq!(n, 0, "{opt:?}: Model H step allocated {n} times in 100 steps");
    }
}

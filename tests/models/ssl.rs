//! SSL model: hand-written gradients against central differences for every
//! variant, loss, encoder and predictor; allocation-free steps; reruns
//! bit-identical whatever the thread count; range-checked keys and the
//! divergence stop; the optimisers (Nesterov at mu = 0 is SGD bit for bit,
//! AdamW against a hand-written two-step reference, their keys).
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use repcollapse::models::ssl::augment::Augment;
use repcollapse::models::ssl::config::{SslConfig, SslVariant};
use repcollapse::models::ssl::experiment::Experiment;
use repcollapse::models::ssl::simulation::{apply_update, draw_views, loss_and_gradients, step, step_rng, Hyper, Net, Prepared, State, Workspace};

use crate::support::counting_alloc::allocations_in;

fn cfg(sets: &[&str]) -> SslConfig {
    SslConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

/// Loss of `st` on the batch in `ws` with the target held at `target`
/// (`None`: the online network itself, so perturbing it moves the target too).
fn loss(st: &State, target: Option<&Net>, h: Hyper, rows: usize, ws: &mut Workspace) -> f64 {
    loss_and_gradients(&st.online, &st.predictor, target, h.variant, h.loss, rows, ws)
}

/// Every analytic gradient against central differences `(L(w+h) - L(w-h)) / 2h`,
/// `h = 1e-6`. What is differentiated: for the variants without
/// stop-gradient the loss with the target following the online network; for
/// the stop-gradient variants the loss with the target frozen at the current
/// online weights (their update is the partial derivative in the online
/// weights); for BYOL the loss with the target frozen at the EMA network,
/// which here differs from the online one (one update applied first).
/// Tolerance `1e-6 (1 + |g|)`: truncation is `h^2 |L'''| / 6 ~ 1e-12` for
/// O(1)..O(100) third derivatives and rounding `eps |L| / h ~ 1e-10`
/// (L = O(1)); a wrong term in a gradient is O(|g|), four or more orders
/// above. ReLU kinks: a pre-activation within 1e-6 of 0 would break the
/// quotient; none is at these seeds (a kink would show as one large error).
#[test]
fn gradients_match_central_differences_for_every_variant_and_loss() {
    let mut worst_overall: f64 = 0.0;
    for variant in SslVariant::NAMES {
        for lossname in ["cosine", "squared"] {
            for (encoder, predictor, projector) in [("linear", "linear", "linear"), ("mlp", "mlp", "linear"), ("mlp", "linear", "none")] {
                let c = cfg(&[
                    &format!("variant={variant}"), &format!("loss={lossname}"), &format!("encoder={encoder}"), &format!("predictor={predictor}"),
                    &format!("projector={projector}"), "width=7", "dim=4", "pred_hidden=5", "batch=3", "tau=0.5", "lr=0.1",
                ]);
                let dd = 6;
                let h = Hyper::from_config(&c);
                let mut st = State::random(&c, dd, 3);
                let mut ws = Workspace::new(&st, dd, 3, 3);
                let mut rng = ChaCha8Rng::seed_from_u64(5);
                for i in 0..6 {
                    for j in 0..dd {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        ws.x0[(i, j)] = z;
                    }
                }
                if c.variant == SslVariant::Byol {
                    loss(&st, st.target.clone().as_ref(), h, 6, &mut ws);
                    apply_update(&mut st, h, &ws);
                }
                let target = st.target.clone();
                loss(&st, target.as_ref(), h, 6, &mut ws);
                let grads: Vec<Mat<f64>> = vec![ws.enc.g1.clone(), ws.enc.g2.clone(), ws.g_proj.clone(), ws.g_wa.clone(), ws.g_wb.clone()];
                let frozen = match c.variant {
                    SslVariant::Byol => target.clone(),
                    v if !v.target_gradient() => Some(st.online.clone()),
                    _ => None,
                };
                let eps = 1e-6;
                let mut checked = 0;
                for (k, g) in grads.iter().enumerate() {
                    for i in 0..g.nrows() {
                        for j in 0..g.ncols() {
                            let v = st.params()[k][(i, j)];
                            st.params_mut()[k][(i, j)] = v + eps;
                            let lp = loss(&st, frozen.as_ref(), h, 6, &mut ws);
                            st.params_mut()[k][(i, j)] = v - eps;
                            let lm = loss(&st, frozen.as_ref(), h, 6, &mut ws);
                            st.params_mut()[k][(i, j)] = v;
                            let fd = (lp - lm) / (2.0 * eps);
                            let err = (fd - g[(i, j)]).abs() / (1.0 + g[(i, j)].abs());
                            worst_overall = worst_overall.max(err);
                            assert!(err < 1e-6, "{variant} {lossname} {encoder}/{predictor}/{projector}: parameter {k} ({i},{j}) fd {fd} vs analytic {}", g[(i, j)]);
                            checked += 1;
                        }
                    }
                }
                let expected: usize = st.params().iter().map(|p| p.nrows() * p.ncols()).sum();
                assert_eq!(checked, expected);
                assert!(grads.iter().any(|g| g.norm_l2() > 1e-3), "{variant} {lossname}: all gradients vanish, the check would be empty");
            }
        }
    }
    eprintln!("worst relative gradient error over all variants, losses and architectures: {worst_overall:.2e}");
}

/// The stop-gradient really stops: with the target frozen at a *different*
/// network the sg variants' gradient changes, while for the no-sg variants
/// the gradient differs from the sg one by the target term.
#[test]
fn stop_gradient_changes_the_gradient() {
    let grad = |variant: &str| {
        let c = cfg(&[&format!("variant={variant}"), "encoder=linear", "dim=4", "batch=3"]);
        let st = State::random(&c, 6, 2);
        let mut ws = Workspace::new(&st, 6, 3, 3);
        for i in 0..6 {
            for j in 0..6 {
                ws.x0[(i, j)] = ((i * 5 + j * 3) % 7) as f64 / 3.0 - 1.0;
            }
        }
        loss_and_gradients(&st.online, &st.predictor, None, c.variant, c.loss, 6, &mut ws);
        ws.enc.g1.clone()
    };
    let (a, b) = (grad("no-predictor"), grad("sg-no-predictor"));
    assert!((&a - &b).norm_l2() > 1e-3 * a.norm_l2(), "stop-gradient made no difference");
}

fn small(sets: &[&str]) -> SslConfig {
    let mut v = vec!["train_samples=200", "batch=32", "epochs=2", "seeds=3", "dim=8", "width=32"];
    v.extend_from_slice(sets);
    cfg(&v)
}

#[test]
fn steps_allocate_nothing() {
    for variant in SslVariant::NAMES {
        for predictor in ["linear", "mlp"] {
            let c = small(&[&format!("variant={variant}"), &format!("predictor={predictor}")]);
            let prep = Prepared::new(&c).unwrap();
            let mut st = State::random(&c, prep.pixels(), 1);
            let aug = Augment::new(&c, prep.width, prep.height);
            let h = Hyper::from_config(&c);
            let mut ws = Workspace::new(&st, prep.pixels(), prep.samples(), c.batch);
            let mut rng = step_rng(1);
            let images: Vec<usize> = (0..c.batch).collect();
            let tail: Vec<usize> = (0..7).collect();
            step(&mut st, &prep, &aug, &images, &mut rng, h, &mut ws);
            let n = allocations_in(|| {
                for _ in 0..20 {
                    step(&mut st, &prep, &aug, &images, &mut rng, h, &mut ws);
                    step(&mut st, &prep, &aug, &tail, &mut rng, h, &mut ws);
                }
            });
            assert_eq!(n, 0, "ssl {variant}/{predictor} step allocated {n} times in 40 steps");
        }
    }
}

#[test]
fn reruns_are_bit_identical_whatever_the_thread_count() {
    let c = small(&["variant=byol"]);
    let run = |threads: usize| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| Experiment::run(&c).unwrap());
    let (one, two, again) = (run(1), run(2), run(2));
    for (a, b) in one.runs.iter().zip(&two.runs).chain(two.runs.iter().zip(&again.runs)) {
        assert_eq!(a.records, b.records, "seed {}", a.seed);
        assert_eq!(a.last.params().map(|p| p.clone()), b.last.params().map(|p| p.clone()));
    }
    assert_eq!(one.runs.len(), 3);
    assert_ne!(one.runs[0].records, one.runs[1].records, "seeds differ");
}

fn bad(sets: &[&str]) -> String {
    let r = SslConfig::from_sets(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).and_then(|c| Prepared::new(&c).map(|_| ()));
    let e = r.unwrap_err();
    assert!(e.is_bad_input(), "{e}");
    e.to_string()
}

#[test]
fn bad_input_names_field_value_and_range() {
    let e = bad(&["shift=8"]);
    assert!(e.contains("`shift`") && e.contains(": 8") && e.contains("[0, 7]"), "{e}");
    let e = bad(&["noise_std=-0.1"]);
    assert!(e.contains("`noise_std`") && e.contains("-0.1") && e.contains("[0"), "{e}");
    let e = bad(&["momentum=1.0"]);
    assert!(e.contains("`momentum`") && e.contains("[0, 1)"), "{e}");
    let e = bad(&["tau=1.5"]);
    assert!(e.contains("`tau`") && e.contains("1.5") && e.contains("[0, 1]"), "{e}");
    let e = bad(&["pred_dim=5", "dim=16"]);
    assert!(e.contains("`pred_dim`") && e.contains('5') && e.contains("16"), "{e}");
    let e = bad(&["mask_size=9"]);
    assert!(e.contains("`mask_size`") && e.contains("[0, 8]"), "{e}");
    let e = bad(&["batch=5000"]);
    assert!(e.contains("`batch`"), "{e}");
    let e = bad(&["variant=simsam"]);
    assert!(e.contains("simsiam"), "{e}");
    let e = bad(&["image_width=7"]);
    assert!(e.contains("`image_width`") && e.contains("64"), "{e}");
}

#[test]
fn divergence_names_seed_epoch_and_parameter() {
    let c = small(&["variant=predictor-no-sg", "loss=squared", "lr=1e6", "momentum=0.0", "seeds=1", "seed=4"]);
    let e = Experiment::run(&c).unwrap_err();
    assert!(!e.is_bad_input());
    let s = e.to_string();
    assert!(s.contains("seed 4") && s.contains("epoch 1") && s.contains("parameter `"), "{s}");
}

/// The five gradients left in `ws` by the last `loss_and_gradients`, in the order of [`State::params`].
fn gradients(ws: &Workspace) -> [Mat<f64>; 5] {
    [ws.enc.g1.clone(), ws.enc.g2.clone(), ws.g_proj.clone(), ws.g_wa.clone(), ws.g_wb.clone()]
}

/// Two steps on one fixed augmented batch; returns the parameters before
/// and after each step and the gradient of each step.
fn two_steps(c: &SslConfig) -> (Vec<[Mat<f64>; 5]>, Vec<[Mat<f64>; 5]>) {
    let prep = Prepared::new(c).unwrap();
    let mut st = State::random(c, prep.pixels(), 3);
    let aug = Augment::new(c, prep.width, prep.height);
    let h = Hyper::from_config(c);
    let mut ws = Workspace::new(&st, prep.pixels(), prep.samples(), c.batch);
    let images: Vec<usize> = (0..c.batch).collect();
    draw_views(&prep, &aug, &images, &mut step_rng(3), &mut ws);
    let (mut thetas, mut grads) = (vec![st.params().map(|p| p.clone())], Vec::new());
    for _ in 0..2 {
        loss_and_gradients(&st.online, &st.predictor, st.target.as_ref(), h.variant, h.loss, 2 * c.batch, &mut ws);
        grads.push(gradients(&ws));
        apply_update(&mut st, h, &ws);
        thetas.push(st.params().map(|p| p.clone()));
    }
    (thetas, grads)
}

/// AdamW from its textbook form (Loshchilov and Hutter; PyTorch's
/// documentation), written independently of the kernel's operation order:
/// `m_k = b1 m + (1-b1) g`, `s_k = b2 s + (1-b2) g^2`,
/// `w_k = w - lr lambda w - lr (m_k/(1-b1^k)) / (sqrt(s_k/(1-b2^k)) + eps)`,
/// applied for two steps with the gradients the run computed. Relative
/// tolerance 1e-12 per parameter; coupled decay (`lambda w` inside `g`) or a
/// missing bias correction moves the first step by O(lr) (checked to fail).
#[test]
fn adamw_matches_a_hand_written_two_step_reference() {
    let (lr, wd, b1, b2, eps): (f64, f64, f64, f64, f64) = (0.01, 0.5, 0.8, 0.95, 1e-6);
    let sets = [
        "variant=simsiam",
        "predictor=mlp",
        "optimizer=adamw",
        "lr=0.01",
        "weight_decay=0.5",
        "beta1=0.8",
        "beta2=0.95",
        "eps=1e-6",
        "momentum=0.9",
    ];
    let c = small(&sets);
    let (thetas, grads) = two_steps(&c);
    let reference = |coupled: bool, corrected: bool| {
        let mut w: [Mat<f64>; 5] = thetas[0].clone();
        let mut m: [Mat<f64>; 5] = w.clone().map(|x| Mat::zeros(x.nrows(), x.ncols()));
        let mut s = m.clone();
        let mut out = Vec::new();
        for (k, g) in grads.iter().enumerate() {
            let k = (k + 1) as i32;
            let (c1, c2) = if corrected { (1.0 - b1.powi(k), 1.0 - b2.powi(k)) } else { (1.0, 1.0) };
            for p in 0..5 {
                for j in 0..w[p].ncols() {
                    for i in 0..w[p].nrows() {
                        let w0 = w[p][(i, j)];
                        let gij = g[p][(i, j)] + if coupled { wd * w0 } else { 0.0 };
                        m[p][(i, j)] = b1 * m[p][(i, j)] + (1.0 - b1) * gij;
                        s[p][(i, j)] = b2 * s[p][(i, j)] + (1.0 - b2) * gij * gij;
                        let decay = if coupled { 0.0 } else { lr * wd * w0 };
                        w[p][(i, j)] = w0 - decay - lr * (m[p][(i, j)] / c1) / ((s[p][(i, j)] / c2).sqrt() + eps);
                    }
                }
            }
            out.push(w.clone());
        }
        out
    };
    let worst = |want: &[[Mat<f64>; 5]]| {
        let mut worst = 0.0f64;
        for (step, w) in want.iter().enumerate() {
            for p in 0..5 {
                let got = &thetas[step + 1][p];
                if got.nrows() * got.ncols() > 0 {
                    worst = worst.max((got - &w[p]).norm_l2() / w[p].norm_l2());
                }
            }
        }
        worst
    };
    let exact = worst(&reference(false, true));
    assert!(exact < 1e-12, "AdamW against the reference: relative {exact:e}");
    let coupled = worst(&reference(true, true));
    let uncorrected = worst(&reference(false, false));
    assert!(coupled > 1e-6 && uncorrected > 1e-6, "the reference distinguishes the variants: coupled {coupled:e}, uncorrected {uncorrected:e}");
    // The run moved: the second gradient was taken at the first step's point.
    assert_ne!(grads[0][0], grads[1][0]);
}

/// Nesterov (`w -= lr (d + mu v)`) with `mu = 0` is SGD (`w -= lr v`) bit for
/// bit over a whole run (BYOL, MLP predictor); with `mu = 0.9` the two differ.
#[test]
fn nesterov_at_zero_momentum_is_sgd_to_the_last_bit() {
    let run = |sets: &[&str]| Experiment::run(&small(sets)).unwrap();
    let base = ["variant=byol", "predictor=mlp", "seeds=2"];
    let with = |extra: &[&'static str]| base.iter().copied().chain(extra.iter().copied()).collect::<Vec<_>>();
    let sgd = run(&with(&["optimizer=sgd", "momentum=0.0"]));
    let nes = run(&with(&["optimizer=nesterov", "momentum=0.0"]));
    for (a, b) in sgd.runs.iter().zip(&nes.runs) {
        assert_eq!(a.records, b.records, "seed {}", a.seed);
        assert_eq!(a.last.params().map(|p| p.clone()), b.last.params().map(|p| p.clone()));
    }
    let sgd9 = run(&with(&["optimizer=sgd"]));
    let nes9 = run(&with(&["optimizer=nesterov"]));
    assert_ne!(sgd9.runs[0].last.params().map(|p| p.clone()), nes9.runs[0].last.params().map(|p| p.clone()));
}

#[test]
fn every_optimizer_steps_without_allocating_and_reruns_bit_identically() {
    for opt in [&["optimizer=nesterov"][..], &["optimizer=adamw", "lr=0.001"][..]] {
        let mut sets = vec!["variant=byol", "predictor=mlp"];
        sets.extend_from_slice(opt);
        let c = small(&sets);
        let prep = Prepared::new(&c).unwrap();
        let mut st = State::random(&c, prep.pixels(), 1);
        let aug = Augment::new(&c, prep.width, prep.height);
        let h = Hyper::from_config(&c);
        let mut ws = Workspace::new(&st, prep.pixels(), prep.samples(), c.batch);
        let mut rng = step_rng(1);
        let images: Vec<usize> = (0..c.batch).collect();
        step(&mut st, &prep, &aug, &images, &mut rng, h, &mut ws);
        let n = allocations_in(|| {
            for _ in 0..20 {
                step(&mut st, &prep, &aug, &images, &mut rng, h, &mut ws);
            }
        });
        assert_eq!(n, 0, "{opt:?} step allocated {n} times in 20 steps");
        let run = |threads: usize| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| Experiment::run(&c).unwrap());
        let (one, two) = (run(1), run(2));
        for (a, b) in one.runs.iter().zip(&two.runs) {
            assert_eq!(a.records, b.records, "{opt:?} seed {}", a.seed);
            assert_eq!(a.last.params().map(|p| p.clone()), b.last.params().map(|p| p.clone()));
        }
    }
}

#[test]
fn optimizer_keys_are_range_checked_and_unused_ones_refused() {
    let e = bad(&["optimizer=adam"]);
    assert!(e.contains("`optimizer`") && e.contains("adam") && e.contains("adamw"), "{e}");
    let e = bad(&["optimizer=adamw", "beta1=1.0"]);
    assert!(e.contains("`beta1`") && e.contains('1') && e.contains("[0, 1)"), "{e}");
    let e = bad(&["optimizer=adamw", "beta2=-0.1"]);
    assert!(e.contains("`beta2`") && e.contains("-0.1") && e.contains("[0, 1)"), "{e}");
    let e = bad(&["optimizer=adamw", "eps=0"]);
    assert!(e.contains("`eps`") && e.contains("(0"), "{e}");
    let e = bad(&["optimizer=sgd", "beta1=0.5"]);
    assert!(e.contains("`beta1`") && e.contains("0.5") && e.contains("does not use"), "{e}");
    let e = bad(&["optimizer=nesterov", "eps=1e-6"]);
    assert!(e.contains("`eps`") && e.contains("does not use"), "{e}");
    let e = bad(&["optimizer=adamw", "momentum=0.5"]);
    assert!(e.contains("`momentum`") && e.contains("0.5") && e.contains("adamw"), "{e}");
    // Result files record the optimiser keys only off their defaults.
    let json = cfg(&[]).to_json();
    assert!(json.get("optimizer").is_none() && json.get("beta1").is_none() && json.get("momentum").is_some(), "{json}");
    let json = cfg(&["optimizer=nesterov"]).to_json();
    assert_eq!(json["optimizer"], "nesterov");
    assert_eq!(json["beta2"], 0.999);
}

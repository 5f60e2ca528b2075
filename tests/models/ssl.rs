//! SSL model: hand-written gradients against central differences for every
//! variant, loss, encoder and predictor; allocation-free steps; reruns
//! bit-identical whatever the thread count; range-checked keys and the
//! divergence stop.
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use repcollapse::models::ssl::augment::Augment;
use repcollapse::models::ssl::config::{SslConfig, SslVariant};
use repcollapse::models::ssl::experiment::Experiment;
use repcollapse::models::ssl::simulation::{apply_update, loss_and_gradients, step, step_rng, Hyper, Net, Prepared, State, Workspace};

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

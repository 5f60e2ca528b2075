//! The driver: one seed trained for `epochs` epochs (a fresh random image
//! order per epoch, `batch` images per step, the last step of an epoch on
//! the remainder), the indicators measured after every epoch, and the
//! divergence check; plus the replay dump of the first steps.
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::evaluate::{measure, Record};
use super::kernels::{apply_update, draw_views, loss_and_gradients, step};
use super::prepare::Prepared;
use super::state::{Hyper, State, Workspace, PARAM_NAMES};
use crate::error::{Error, Result};
use crate::models::ssl::augment::Augment;
use crate::models::ssl::config::SslConfig;

/// Growth of a parameter's norm over its start that counts as divergence.
pub const DIVERGENCE_GROWTH: f64 = 1e8;

/// One trained seed.
#[derive(Clone, Debug)]
pub struct Run {
    pub seed: u64,
    /// Indicators after epochs `0..=epochs` (epoch 0: the random start).
    pub records: Vec<Record>,
    pub last: State,
}

/// The generator of a seed's augmentations and batch order (stream 5; the
/// initialisation uses streams 0 and 1).
pub fn step_rng(seed: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(5);
    rng
}

fn divergence(seed: u64, epoch: usize, param: &str, detail: String) -> Error {
    Error::Divergence {
        what: format!("ssl training (seed {seed}, epoch {epoch}, parameter `{param}`)"),
        detail,
        advice: "lower lr or raise weight_decay".into(),
    }
}

/// Stops with the seed, epoch and first offending parameter when any
/// parameter is non-finite or its norm grew by [`DIVERGENCE_GROWTH`].
pub fn check_divergence(st: &State, start: &[f64; 5], seed: u64, epoch: usize) -> Result<()> {
    for (k, n) in st.norms().iter().enumerate() {
        if !n.is_finite() {
            return Err(divergence(seed, epoch, PARAM_NAMES[k], "non-finite entries".into()));
        }
        if *n > DIVERGENCE_GROWTH * start[k].max(1e-300) {
            return Err(divergence(seed, epoch, PARAM_NAMES[k], format!("norm {n:e} grew more than {DIVERGENCE_GROWTH:e} times its start {:e}", start[k])));
        }
    }
    Ok(())
}

/// Trains seed `seed`.
pub fn train(cfg: &SslConfig, prep: &Prepared, seed: u64) -> Result<Run> {
    let mut st = State::random(cfg, prep.pixels(), seed);
    let start = st.norms();
    let aug = Augment::new(cfg, prep.width, prep.height);
    let hp = Hyper::from_config(cfg);
    let mut ws = Workspace::new(&st, prep.pixels(), prep.samples(), cfg.batch);
    let mut rng = step_rng(seed);
    let mut records = Vec::with_capacity(cfg.epochs + 1);
    records.push(measure(0, None, &st, prep, cfg.knn_k)?);
    for epoch in 1..=cfg.epochs {
        crate::limits::check_deadline(&format!("simulate ssl, seed {seed}"), || format!("epoch {epoch} of {}", cfg.epochs))?;
        let mut order = std::mem::take(&mut ws.order);
        order.shuffle(&mut rng);
        let (mut sum, mut steps) = (0.0, 0usize);
        for images in order.chunks(cfg.batch) {
            let l = step(&mut st, prep, &aug, images, &mut rng, hp, &mut ws);
            if !l.is_finite() {
                check_divergence(&st, &start, seed, epoch)?;
                return Err(divergence(seed, epoch, "loss", format!("non-finite loss {l} at step {}", steps + 1)));
            }
            sum += l;
            steps += 1;
        }
        ws.order = order;
        check_divergence(&st, &start, seed, epoch)?;
        records.push(measure(epoch, Some(sum / steps as f64), &st, prep, cfg.knn_k)?);
    }
    Ok(Run { seed, records, last: st })
}

fn mat_json(m: &faer::Mat<f64>) -> serde_json::Value {
    json!((0..m.nrows()).map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect::<Vec<_>>()).collect::<Vec<_>>())
}

/// The replay dump of seed `cfg.seed`: the initial weights, the augmented
/// batches of the first `dump_steps` steps (rows: view 1 of every image,
/// then view 2), the loss of every step, the weights after the last step,
/// and the wall time of one training epoch (steps only, one thread, best of
/// three) for the benchmark. The same steps as [`train`], so the losses are those of a run.
pub fn dump(cfg: &SslConfig, prep: &Prepared) -> Result<serde_json::Value> {
    let seed = cfg.seed;
    let mut st = State::random(cfg, prep.pixels(), seed);
    let initial = st.clone();
    let aug = Augment::new(cfg, prep.width, prep.height);
    let hp = Hyper::from_config(cfg);
    let mut ws = Workspace::new(&st, prep.pixels(), prep.samples(), cfg.batch);
    let mut rng = step_rng(seed);
    let (mut batches, mut losses) = (Vec::new(), Vec::new());
    let mut order = std::mem::take(&mut ws.order);
    'outer: loop {
        order.shuffle(&mut rng);
        for images in order.chunks(cfg.batch) {
            if losses.len() == cfg.dump_steps {
                break 'outer;
            }
            draw_views(prep, &aug, images, &mut rng, &mut ws);
            let rows = 2 * images.len();
            batches.push(json!((0..rows).map(|i| (0..prep.pixels()).map(|j| ws.x0[(i, j)]).collect::<Vec<_>>()).collect::<Vec<_>>()));
            losses.push(loss_and_gradients(&st.online, &st.predictor, st.target.as_ref(), hp.variant, hp.loss, rows, &mut ws));
            apply_update(&mut st, hp, &ws);
        }
    }
    // Timing: one epoch of steps from the start state, as `train` runs it;
    // the best of three (the same steps each time), as the peer script times torch.
    let mut epoch_seconds = f64::INFINITY;
    for _ in 0..3 {
        let mut timed = initial.clone();
        let mut trng = step_rng(seed);
        let mut order: Vec<usize> = (0..prep.samples()).collect();
        order.shuffle(&mut trng);
        let t0 = Instant::now();
        for images in order.chunks(cfg.batch) {
            step(&mut timed, prep, &aug, images, &mut trng, hp, &mut ws);
        }
        epoch_seconds = epoch_seconds.min(t0.elapsed().as_secs_f64());
    }
    let weights = |s: &State| json!(PARAM_NAMES.iter().zip(s.params()).map(|(n, p)| (n.to_string(), mat_json(p))).collect::<serde_json::Map<_, _>>());
    Ok(json!({
        "model": "ssl",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "config": cfg.to_json(),
        "encoder": cfg.encoder.name(),
        "input_dim": prep.pixels(),
        "dim": cfg.dim,
        "width": initial.online.encoder.width(),
        "projector": cfg.projector,
        "predictor_mlp": initial.predictor.is_mlp(),
        "variant": cfg.variant.name(),
        "loss": cfg.params.text("loss"),
        "lr": cfg.lr, "momentum": cfg.momentum, "weight_decay": cfg.weight_decay, "tau": cfg.tau,
        "optimizer": cfg.params.text("optimizer"),
        "beta1": cfg.params.real("beta1"), "beta2": cfg.params.real("beta2"), "eps": cfg.params.real("eps"),
        "norm_eps": super::kernels::NORM_EPS,
        "initial_weights": weights(&initial),
        "final_weights": weights(&st),
        "batches": batches,
        "losses": losses,
        "train_images": prep.samples(),
        "batch": cfg.batch,
        "epoch_steps": prep.samples().div_ceil(cfg.batch),
        "epoch_seconds": epoch_seconds,
    }))
}

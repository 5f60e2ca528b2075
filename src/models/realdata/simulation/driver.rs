//! The driver: one seed trained through the output grid, in epochs of
//! gradient-descent or minibatch steps, measured at every grid time.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::models::realdata::config::RealConfig;
use super::evaluate::{Evaluator, Record};
use super::kernels::{gd_step, sgd_step};
use super::prepare::{Labels, Prepared};
use super::state::{Rates, State, Workspace};
use crate::error::{Error, Result};
use crate::models::common::optimizer::OptimizerState;
use faer::Mat;

/// One trained seed: records on the output grid and the final state.
#[derive(Clone, Debug)]
pub struct Run {
    pub seed: u64,
    pub records: Vec<Record>,
    pub initial: State,
    pub last: State,
    pub labels: Labels,
}

/// Trains seed `seed` (its own noise draw and initialisation) and records
/// at `times` (snapped to whole sample visits).
pub fn train(cfg: &RealConfig, prep: &Prepared, seed: u64, times: &[f64]) -> Result<Run> {
    let labels = Labels::draw(cfg, prep, seed)?;
    let mut st = State::random(cfg, prep, seed);
    let initial = st.clone();
    let n = prep.samples();
    let batch = cfg.batch.unwrap_or(n).min(n);
    let mut ws = Workspace::new(&st, n, prep.classes(), batch);
    let mut ev = Evaluator::new(&st, prep);
    let rates = Rates::from_config(cfg);
    // Optimisers wrap the step (docs/optimisers.md section 1); AdamW's decay
    // is decoupled, so the model's own step then runs without it.
    let plain = cfg.optimizer.is_plain_gd();
    let step_rates = if cfg.optimizer.decoupled_decay() { Rates { weight_decay: 0.0, ..rates } } else { rates };
    let trains_head = cfg.variant.trains_head();
    let mut opt = OptimizerState::new(cfg.optimizer, parameter_count(&mut st, trains_head));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(4);
    // Progress in sample visits: one epoch = N visits = time dt.
    let mut visits: u64 = 0;
    let mut cursor = n; // position in the current epoch's order
    let mut records = Vec::with_capacity(times.len());
    // Steps per seed: t_max / dt epochs of ceil(N / batch) steps each.
    let steps_per_epoch = n.div_ceil(batch.max(1)) as f64;
    crate::limits::check_sim_steps("dt", cfg.dt, times.last().copied().unwrap_or(0.0), cfg.dt / steps_per_epoch)?;
    let mut steps: u64 = 0;
    for &t in times {
        let target = (t / cfg.dt * n as f64).round() as u64;
        while visits < target {
            crate::limits::poll_deadline(steps, cfg.dt / steps_per_epoch, || format!("real-data training (seed {seed})"))?;
            steps += 1;
            if !plain {
                opt.next_step();
                visit_parameters(&mut st, trains_head, |_, off, theta| opt.begin(off, theta));
            }
            let frac;
            if cfg.batch.is_none() {
                gd_step(&mut st, prep, &labels, step_rates, cfg.dt, &mut ws);
                visits += n as u64;
                frac = 1.0;
            } else {
                if cursor >= n {
                    ws.order.shuffle(&mut rng);
                    cursor = 0;
                }
                let end = (cursor + batch).min(n);
                let order = std::mem::take(&mut ws.order);
                sgd_step(&mut st, prep, &labels, step_rates, cfg.dt, &order[cursor..end], &mut ws);
                ws.order = order;
                visits += (end - cursor) as u64;
                frac = (end - cursor) as f64 / n as f64;
                cursor = end;
            }
            if !plain {
                // Per group: lr = dt eta, AdamW's decay a fraction `frac` of an epoch's.
                let lrs = [cfg.dt * rates.eta_x, cfg.dt * rates.eta_y, cfg.dt * rates.eta_w];
                let decay = if cfg.optimizer.decoupled_decay() { frac * rates.weight_decay } else { 0.0 };
                visit_parameters(&mut st, trains_head, |group, off, theta| opt.finish(off, theta, lrs[group], decay));
            }
        }
        let now = visits as f64 * cfg.dt / n as f64;
        if !(0..st.y.ncols()).all(|j| (0..st.y.nrows()).all(|c| st.y[(c, j)].is_finite())) {
            return Err(Error::Divergence {
                what: "real-data training".into(),
                detail: format!("non-finite label embeddings at t = {now:.4} (seed {seed})"),
                advice: "lower dt or eta_x (gradient descent is stable for dt below 2 / the largest rate; `theory real-data` reports it for the linear encoder)".into(),
            });
        }
        records.push(ev.measure(now, &st, prep, &labels));
    }
    Ok(Run { seed, records, initial, last: st, labels })
}

/// Calls `f(group, offset, column)` for every column of the trained
/// parameters, laid out flat in this order: encoder `w1`, `w2` (group 0),
/// labels `Y` (group 1), head `W` (group 2, only when the variant trains it).
/// Column by column because a faer matrix may pad its columns.
fn visit_parameters(st: &mut State, trains_head: bool, mut f: impl FnMut(usize, usize, &mut [f64])) {
    let mut offset = 0;
    let mut cols = |group: usize, m: &mut Mat<f64>, f: &mut dyn FnMut(usize, usize, &mut [f64])| {
        for j in 0..m.ncols() {
            let col = m.col_as_slice_mut(j);
            f(group, offset, col);
            offset += col.len();
        }
    };
    cols(0, &mut st.encoder.w1, &mut f);
    cols(0, &mut st.encoder.w2, &mut f);
    cols(1, &mut st.y, &mut f);
    if trains_head {
        cols(2, &mut st.w, &mut f);
    }
}

/// Number of parameters [`visit_parameters`] visits.
fn parameter_count(st: &mut State, trains_head: bool) -> usize {
    let mut n = 0;
    visit_parameters(st, trains_head, |_, _, c| n += c.len());
    n
}

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
            if cfg.batch.is_none() {
                gd_step(&mut st, prep, &labels, rates, cfg.dt, &mut ws);
                visits += n as u64;
            } else {
                if cursor >= n {
                    ws.order.shuffle(&mut rng);
                    cursor = 0;
                }
                let end = (cursor + batch).min(n);
                let order = std::mem::take(&mut ws.order);
                sgd_step(&mut st, prep, &labels, rates, cfg.dt, &order[cursor..end], &mut ws);
                ws.order = order;
                visits += (end - cursor) as u64;
                cursor = end;
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

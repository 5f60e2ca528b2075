//! One Model T experiment: an ensemble of online-SGD runs, each paired with
//! the order-parameter ODE started from its own measured initial order
//! parameters. Shared by `repcollapse simulate teacher-student` and the studies.
use serde::Serialize;
use serde_json::json;

use crate::error::Result;
use crate::models::teacher::online::simulation::{simulate_online, TeacherRun};
use crate::models::teacher::config::TeacherConfig;
use crate::stats::{estimate, fit_decay_rate, Estimate};
use crate::models::teacher::metrics::TeacherMetrics;
use crate::models::teacher::online::reduced::OrderParams;
use crate::models::teacher::online::theory::TeacherTheory;

/// Fast-phase length in e-folds of the slowest fast mode.
pub const FAST_EFOLDS: f64 = 5.0;

/// Simulation and theory of one seed.
#[derive(Clone, Debug, Serialize)]
pub struct TeacherSeed {
    pub run: TeacherRun,
    pub theory: Vec<TeacherMetrics>,
    #[serde(skip)]
    pub theory_states: Vec<OrderParams>,
    /// `max_t |(R, Y, Q)_sim - (R, Y, Q)_ode|_F`.
    pub max_deviation: f64,
    /// Slow rate fitted to the simulated minimum label distance.
    pub fitted_rate: Option<f64>,
}

/// Frobenius distance between two sets of order parameters.
pub fn order_distance(a: &OrderParams, b: &OrderParams) -> f64 {
    let d2 = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(p, q)| (p - q).powi(2)).sum::<f64>();
    (d2(&a.r, &b.r) + d2(&a.y, &b.y) + d2(&a.q, &b.q)).sqrt()
}

/// An ensemble with its theory.
#[derive(Clone, Debug)]
pub struct TeacherExperiment {
    pub cfg: TeacherConfig,
    /// Theory from the config's expected initial state (rates, fixed point).
    pub theory: TeacherTheory,
    pub seeds: Vec<TeacherSeed>,
    pub fit_window: [f64; 2],
    /// Why the ODE comparison is missing, when a seed's companion ODE
    /// failed in [`TeacherExperiment::run_keeping_simulation`] (the seeds'
    /// `theory` curves are then empty; the SGD results are complete).
    pub comparison_unavailable: Option<String>,
    /// Set when the wall-time budget stopped some seeds of a `simulate` run
    /// ([`TeacherExperiment::run_keeping_simulation`]): `seeds` holds only
    /// those that finished.
    pub partial: Option<crate::limits::PartialEnsemble>,
}

impl TeacherExperiment {
    /// Runs `cfg.seeds` seeds in parallel; deterministic per seed. A failed
    /// companion ODE is an error (the studies need the comparison).
    pub fn run(cfg: &TeacherConfig) -> Result<Self> {
        Self::run_with(cfg, false, false)
    }

    /// As [`TeacherExperiment::run`], but a failed companion ODE (of any
    /// seed) does not discard the SGD results: the comparison is dropped
    /// for every seed and [`TeacherExperiment::comparison_unavailable`]
    /// says why (`simulate`); a budget stop keeps the seeds that finished
    /// and marks the ensemble partial.
    /// `progress` shows a bar of finished seeds.
    pub fn run_keeping_simulation(cfg: &TeacherConfig, progress: bool) -> Result<Self> {
        Self::run_with(cfg, true, progress)
    }

    fn run_with(cfg: &TeacherConfig, keep_simulation: bool, progress: bool) -> Result<Self> {
        if cfg.head != crate::models::teacher::config::HeadKind::None {
            return Err(crate::error::Error::invalid("head", cfg.head.name(), "none here; head variants run through models::teacher::head::experiment"));
        }
        let theory = TeacherTheory::from_config(cfg)?;
        let t_from = (FAST_EFOLDS / theory.fast_rate()).min(0.5 * cfg.t_max);
        let fit_window = [t_from, cfg.t_max];
        let bar = crate::report::progress::seeds_bar(cfg.seeds as u64, progress, "Model T ensemble");
        let (seeds, partial) = crate::limits::run_seeds(cfg.seeds as u64, cfg.seed, keep_simulation, |seed| {
                let _step = crate::report::progress::BarStep(&bar);
                let run = simulate_online(cfg, &theory.scorer, seed)?;
                let sep: Vec<f64> = run.metrics.iter().map(|m| m.base.min_label_distance).collect();
                let fitted_rate = fit_decay_rate(&run.times, &sep, fit_window[0], fit_window[1]);
                if !cfg.has_closure() {
                    let why = format!("optimizer = \"{}\": Adam's coordinate-wise normalisation does not close on the order parameters (docs/optimisers.md section 5); simulation only (empirical)", cfg.params.text("optimizer"));
                    return Ok((TeacherSeed { run, theory: vec![], theory_states: vec![], max_deviation: f64::NAN, fitted_rate }, Some(why)));
                }
                let ode = TeacherTheory::new(cfg, theory.ode.pack(&run.order[0])).and_then(|th| Ok((th.trajectory(&run.times)?, th)));
                match ode {
                    Ok((states, th)) => {
                        let metrics = th.metrics(&run.times, &states);
                        let max_deviation = run.order.iter().zip(&states).map(|(a, b)| order_distance(a, b)).fold(0.0, f64::max);
                        Ok((TeacherSeed { run, theory: metrics, theory_states: states, max_deviation, fitted_rate }, None))
                    }
                    // A budget stop is not a failed ODE: the seed did not
                    // finish (and is dropped from a partial ensemble).
                    Err(e) if keep_simulation && !matches!(e, crate::error::Error::Budget { .. }) => {
                        let why = format!("the order-parameter ODE of seed {seed} failed: {e}");
                        Ok((TeacherSeed { run, theory: vec![], theory_states: vec![], max_deviation: f64::NAN, fitted_rate }, Some(why)))
                    }
                    Err(e) => Err(e),
                }
            })?;
        bar.finish_and_clear();
        let (mut seeds, failures): (Vec<TeacherSeed>, Vec<Option<String>>) = seeds.into_iter().unzip();
        // One failed seed drops the comparison for all, so that ensemble
        // statistics never mix seeds with and without theory.
        let comparison_unavailable = failures.into_iter().flatten().next();
        if comparison_unavailable.is_some() {
            for s in &mut seeds {
                s.theory.clear();
                s.theory_states.clear();
                s.max_deviation = f64::NAN;
            }
        }
        Ok(TeacherExperiment { cfg: cfg.clone(), theory, seeds, fit_window, comparison_unavailable, partial })
    }

    pub fn times(&self) -> Vec<f64> {
        self.seeds.first().map(|s| s.run.times.clone()).unwrap_or_default()
    }
    /// Ensemble estimate of a simulated (or theory) metric at grid index `k`.
    pub fn metric_at(&self, k: usize, theory: bool, f: impl Fn(&TeacherMetrics) -> f64) -> Estimate {
        let v: Vec<f64> = self.seeds.iter().map(|s| f(if theory { &s.theory[k] } else { &s.run.metrics[k] })).collect();
        estimate(&v)
    }
    /// Ensemble estimate of the empirical held-out accuracy at index `k`.
    pub fn empirical_accuracy_at(&self, k: usize) -> Estimate {
        estimate(&self.seeds.iter().map(|s| s.run.empirical_accuracy[k]).collect::<Vec<_>>())
    }
    /// Max deviation from the ODE over time, per seed, as an estimate.
    pub fn deviation(&self) -> Estimate {
        estimate(&self.seeds.iter().map(|s| s.max_deviation).collect::<Vec<_>>())
    }
    /// Fitted slow rate of the simulations.
    pub fn fitted_rate(&self) -> Option<Estimate> {
        let v: Vec<f64> = self.seeds.iter().filter_map(|s| s.fitted_rate).collect();
        (!v.is_empty()).then(|| estimate(&v))
    }
    /// Slow rate fitted to the ODE curves over the same window.
    pub fn fitted_rate_theory(&self) -> Option<f64> {
        let s = self.seeds.first()?;
        let sep: Vec<f64> = s.theory.iter().map(|m| m.base.min_label_distance).collect();
        fit_decay_rate(&s.run.times, &sep, self.fit_window[0], self.fit_window[1])
    }
    /// Grid index of the end of the fast phase.
    pub fn fast_index(&self) -> usize {
        let t = self.times();
        t.iter().position(|&x| x >= self.fit_window[0]).unwrap_or(t.len() - 1)
    }
    /// Simulated separation at the end over its value at the end of the fast phase.
    pub fn separation_ratio(&self) -> f64 {
        let last = self.times().len() - 1;
        self.metric_at(last, false, |m| m.base.min_label_distance).mean / self.metric_at(self.fast_index(), false, |m| m.base.min_label_distance).mean
    }

    /// Fraction of seeds whose separation collapsed by `t_max`
    /// ([`collapsed_by_peak`](crate::stats::collapsed_by_peak)).
    pub fn collapsed_fraction(&self) -> f64 {
        let n = self.seeds.iter().filter(|s| crate::stats::collapsed_by_peak(&s.run.metrics.iter().map(|m| m.base.min_label_distance).collect::<Vec<_>>())).count();
        n as f64 / self.seeds.len().max(1) as f64
    }

    /// The JSON of `repcollapse simulate teacher-student --json`.
    pub fn summary_json(&self) -> Result<serde_json::Value> {
        let times = self.times();
        let last = times.len() - 1;
        let ok = self.comparison_unavailable.is_none();
        // ODE values, or null when the comparison is unavailable (the reason
        // is in `theory_comparison`).
        let th = |k: usize, f: fn(&TeacherMetrics) -> f64| if ok { json!(self.metric_at(k, true, f).mean) } else { serde_json::Value::Null };
        let traj: Vec<serde_json::Value> = (0..times.len())
            .map(|k| {
                json!({"t": times[k],
                       "min_label_distance": self.metric_at(k, false, |m| m.base.min_label_distance),
                       "min_label_distance_theory": th(k, |m| m.base.min_label_distance),
                       "separation_to_spread": self.metric_at(k, false, |m| m.base.separation_to_spread),
                       "separation_to_spread_theory": th(k, |m| m.base.separation_to_spread),
                       "accuracy": self.metric_at(k, false, |m| m.base.accuracy),
                       "accuracy_empirical": self.empirical_accuracy_at(k),
                       "accuracy_theory": th(k, |m| m.base.accuracy),
                       "overlap": self.metric_at(k, false, |m| m.overlap),
                       "loss": self.metric_at(k, false, |m| m.base.loss)})
            })
            .collect();
        let final_op: Vec<&OrderParams> = self.seeds.iter().map(|s| s.run.order.last().expect("non-empty")).collect();
        let mut v = json!({
            "model": "teacher-student",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": self.cfg.to_json(),
            "theory_slow_rate": if self.cfg.has_closure() { json!(self.theory.slow_rate()) } else { serde_json::Value::Null },
            "rates": self.theory.rates,
            "fitted_slow_rate": self.fitted_rate(),
            "fitted_slow_rate_ode": if ok { json!(self.fitted_rate_theory()) } else { serde_json::Value::Null },
            "fit_window": self.fit_window,
            "max_deviation_from_ode": if ok { json!(self.deviation()) } else { serde_json::Value::Null },
            "theory_comparison": crate::model_api::comparison_json(self.comparison_unavailable.as_deref()),
            "final_accuracy": self.metric_at(last, false, |m| m.base.accuracy),
            "final_accuracy_empirical": self.empirical_accuracy_at(last),
            "final_separation_to_spread": self.metric_at(last, false, |m| m.base.separation_to_spread),
            "final_min_label_distance": self.metric_at(last, false, |m| m.base.min_label_distance),
            "final_separation_ratio": self.separation_ratio(),
            "collapsed": self.collapsed_fraction() > 0.5,
            "collapsed_fraction": self.collapsed_fraction(),
            "collapsed_definition": "per seed: final min label distance below 1% of its peak over the run (stats::collapsed_by_peak); collapsed = more than half of the seeds",
            "theory_collapses": self.theory.slow_rate() > 1e-12,
            "final_order_parameters_seed0": final_op.first(),
            "trajectory": traj,
        });
        if !self.cfg.has_closure() {
            v["theory_slow_rate_note"] = json!("no closed theory under Adam (docs/optimisers.md section 5): the fitted rate is empirical");
        }
        crate::limits::PartialEnsemble::mark(self.partial.as_ref(), &mut v);
        Ok(v)
    }
}

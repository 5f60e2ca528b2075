//! One Model E experiment: an ensemble of simulations, each paired with the
//! class-level theory started from its own initial state, plus slow-rate fits.
//! Shared by `repcollapse simulate embedding` and the studies.
use serde::Serialize;
use serde_json::json;

use crate::error::Result;
use crate::models::embedding::simulation::simulate;
use crate::models::embedding::config::EmbeddingConfig;
use crate::models::common::frustration::{FrustrationOperator, LabelWeights};
use crate::models::common::metrics::Metrics;
use crate::stats::{estimate, fit_decay_rate, Estimate};
use crate::models::embedding::reduced::class_level::{ClassLevelSystem, ClassSpectrum};
use crate::models::embedding::reduced::trajectory::theory_metrics;

/// Number of e-folds of the slowest fast mode after which the fast phase is
/// over: `exp(-5)` leaves < 1% of the fast transient.
pub const FAST_PHASE_EFOLDS: f64 = 5.0;
/// Separation (relative to its value at the end of the fast phase) below
/// which a curve is left out of fits: round-off of differences of nearly
/// equal label vectors dominates there.
pub const FIT_FLOOR: f64 = 1e-7;

/// Simulation and theory of one seed.
#[derive(Clone, Debug, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub simulation: Vec<Metrics>,
    pub theory: Vec<Metrics>,
    /// Slow rate fitted to the simulated separation.
    pub fitted_rate_simulation: Option<f64>,
    /// Slow rate fitted to the integrated theory (same window).
    pub fitted_rate_theory: Option<f64>,
    /// `max_t |sep_sim - sep_th| / sep_th` over the fit range.
    pub max_relative_error: f64,
    /// Fit window `[t_from, t_to]`.
    pub fit_window: [f64; 2],
    /// Why this seed's class-level ODE failed (then `theory` is empty).
    #[serde(skip)]
    pub theory_error: Option<String>,
}

/// An ensemble of seeds with its theory.
#[derive(Clone, Debug)]
pub struct EmbeddingExperiment {
    pub cfg: EmbeddingConfig,
    pub operator: FrustrationOperator,
    pub spectrum: ClassSpectrum,
    pub seeds: Vec<SeedResult>,
    /// Why the theory comparison is missing, when a seed's class-level ODE
    /// failed in [`EmbeddingExperiment::run_keeping_simulation`] (every
    /// seed's `theory` is then empty; the simulations are complete).
    pub comparison_unavailable: Option<String>,
    /// Set when the wall-time budget stopped some seeds of a `simulate`
    /// run ([`EmbeddingExperiment::run_keeping_simulation`]): `seeds` holds
    /// only those that finished.
    pub partial: Option<crate::limits::PartialEnsemble>,
}

impl EmbeddingExperiment {
    /// Runs `cfg.seeds` seeds in parallel (rayon), each with its own theory
    /// curve. Deterministic: results are ordered by seed and each seed uses
    /// its own random stream.
    pub fn run(cfg: &EmbeddingConfig, progress: bool) -> Result<Self> {
        Self::run_with(cfg, progress, false)
    }

    /// As [`EmbeddingExperiment::run`], but a failed class-level ODE (of
    /// any seed) keeps the simulations and drops the comparison for every
    /// seed, with the reason (`simulate`).
    pub fn run_keeping_simulation(cfg: &EmbeddingConfig, progress: bool) -> Result<Self> {
        Self::run_with(cfg, progress, true)
    }

    fn run_with(cfg: &EmbeddingConfig, progress: bool, keep_simulation: bool) -> Result<Self> {
        let a = cfg.label_weights()?;
        let operator = FrustrationOperator::new(&a)?;
        let sys = ClassLevelSystem::new(&a, cfg.eta_x, cfg.eta_y, cfg.dim)?;
        let spectrum = sys.spectrum()?;
        let bar = crate::report::progress::seeds_bar(cfg.seeds as u64, progress, "Model E ensemble");
        let one = |seed: u64| {
            let r = run_seed(cfg, &a, &sys, &spectrum, seed, keep_simulation);
            bar.inc(1);
            r
        };
        // `simulate` keeps the seeds that finished when the budget stops the
        // others; the studies need every seed and fail as before.
        let (mut seeds, partial) = crate::limits::run_seeds(cfg.seeds as u64, cfg.design.seed, keep_simulation, one)?;
        bar.finish_and_clear();
        // One failed seed drops the comparison for all, so that ensemble
        // statistics never mix seeds with and without theory.
        let comparison_unavailable = seeds.iter().find_map(|s| s.theory_error.clone());
        if comparison_unavailable.is_some() {
            for s in &mut seeds {
                s.theory.clear();
                s.fitted_rate_theory = None;
                s.max_relative_error = f64::NAN;
            }
        }
        Ok(EmbeddingExperiment { cfg: cfg.clone(), operator, spectrum, seeds, comparison_unavailable, partial })
    }

    /// Fitted slow rate of the simulations with its 95% interval over seeds.
    pub fn fitted_rate(&self) -> Option<Estimate> {
        let v: Vec<f64> = self.seeds.iter().filter_map(|s| s.fitted_rate_simulation).collect();
        (!v.is_empty()).then(|| estimate(&v))
    }
    /// Slow rate fitted to the integrated theory, averaged over seeds.
    pub fn fitted_rate_theory(&self) -> Option<Estimate> {
        let v: Vec<f64> = self.seeds.iter().filter_map(|s| s.fitted_rate_theory).collect();
        (!v.is_empty()).then(|| estimate(&v))
    }
    /// Ensemble estimate of a metric at grid index `k`.
    pub fn metric_at(&self, k: usize, theory: bool, f: impl Fn(&Metrics) -> f64) -> Estimate {
        let v: Vec<f64> = self.seeds.iter().map(|s| f(if theory { &s.theory[k] } else { &s.simulation[k] })).collect();
        estimate(&v)
    }
    /// Output times (shared by all seeds).
    pub fn times(&self) -> Vec<f64> {
        self.seeds.first().map(|s| s.simulation.iter().map(|m| m.t).collect()).unwrap_or_default()
    }
    /// Worst `max_relative_error` over seeds.
    pub fn max_relative_error(&self) -> f64 {
        self.seeds.iter().map(|s| s.max_relative_error).fold(0.0, f64::max)
    }

    /// Whether the label geometry collapsed: the simulated minimum
    /// inter-label distance at the end is below 1% of its value at the end of
    /// the fast phase (ensemble means).
    pub fn collapsed(&self) -> bool {
        let last = self.times().len() - 1;
        let sep_end = self.metric_at(last, false, |m| m.min_label_distance).mean;
        let k_fast = self.fast_phase_index();
        let sep_fast = self.metric_at(k_fast, false, |m| m.min_label_distance).mean;
        sep_end < 0.01 * sep_fast
    }

    /// Index of the first output time at or after the end of the fast phase.
    pub fn fast_phase_index(&self) -> usize {
        let t_fast = FAST_PHASE_EFOLDS / self.spectrum.slowest_fast_rate();
        let t = self.times();
        t.iter().position(|&x| x >= t_fast).unwrap_or(t.len() - 1)
    }

    /// The JSON of `repcollapse simulate embedding --json`.
    pub fn summary_json(&self) -> serde_json::Value {
        let times = self.times();
        let last = times.len() - 1;
        let k_fast = self.fast_phase_index();
        let ok = self.comparison_unavailable.is_none();
        let trajectory: Vec<serde_json::Value> = (0..times.len())
            .map(|k| {
                let sim = self.metric_at(k, false, |m| m.min_label_distance);
                // null when the comparison is unavailable (reason in `theory_comparison`).
                let th = if ok { json!(self.metric_at(k, true, |m| m.min_label_distance).mean) } else { serde_json::Value::Null };
                let acc = self.metric_at(k, false, |m| m.accuracy);
                let sep_fast = self.metric_at(k_fast, false, |m| m.min_label_distance).mean;
                json!({"t": times[k], "min_label_distance": sim, "theory": th,
                       "separation_ratio": sim.mean / sep_fast, "accuracy": acc})
            })
            .collect();
        let mut v = json!({
            "model": "embedding",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": self.cfg.to_json(),
            "frustration_index": self.operator.frustration_index,
            "theory_slow_rate": self.spectrum.slow_rate,
            "fitted_slow_rate": self.fitted_rate(),
            "fitted_slow_rate_per_seed": self.seeds.iter().map(|s| s.fitted_rate_simulation).collect::<Vec<_>>(),
            "theory_fitted_slow_rate": if ok { json!(self.fitted_rate_theory()) } else { serde_json::Value::Null },
            "fit_window": self.seeds.first().map(|s| s.fit_window),
            "max_relative_error_separation": if ok { json!(self.max_relative_error()) } else { serde_json::Value::Null },
            "theory_comparison": crate::model_api::comparison_json(self.comparison_unavailable.as_deref()),
            "final_accuracy": self.metric_at(last, false, |m| m.accuracy),
            "final_loss": self.metric_at(last, false, |m| m.loss),
            "final_separation_to_spread": self.metric_at(last, false, |m| m.separation_to_spread),
            "final_separation_ratio": self.metric_at(last, false, |m| m.min_label_distance).mean
                / self.metric_at(k_fast, false, |m| m.min_label_distance).mean,
            "collapsed": self.collapsed(),
            "mode": if self.cfg.batch.is_some() { "sgd" } else { "full-batch" },
            "separation_trajectory": trajectory,
        });
        crate::limits::PartialEnsemble::mark(self.partial.as_ref(), &mut v);
        v
    }
}

fn run_seed(cfg: &EmbeddingConfig, a: &LabelWeights, sys: &ClassLevelSystem, spectrum: &ClassSpectrum, seed: u64, keep_simulation: bool) -> Result<SeedResult> {
    let run = simulate(cfg, a, spectrum.max_stable_dt(), seed)?;
    let times: Vec<f64> = run.metrics.iter().map(|m| m.t).collect();
    let sphere_reason = (cfg.loss == crate::models::embedding::sphere::Loss::Cosine).then(|| {
        "loss = cosine: the class-level ODE is the squared loss's; the flow on the sphere has no closed class-level form at finite d and is \
         compared with its large-N, large-d simplex reduction in study p3 (docs/embedding.md section 8)"
            .to_string()
    });
    let (theory, theory_error) = match sphere_reason {
        Some(reason) => (Vec::new(), Some(reason)),
        None => match theory_metrics(sys, a, &run.initial, &times, cfg.rtol, cfg.atol) {
        Ok(th) => (th, None),
        // A budget stop is not a failed ODE: the seed did not finish (and is
        // dropped from a partial ensemble) rather than losing the comparison
        // for every seed.
        Err(e) if keep_simulation && !matches!(e, crate::error::Error::Budget { .. }) => (Vec::new(), Some(format!("the class-level ODE of seed {seed} failed: {e}"))),
        Err(e) => return Err(e),
        },
    };
    let t_from = FAST_PHASE_EFOLDS / spectrum.slowest_fast_rate();
    let sep_th: Vec<f64> = theory.iter().map(|m| m.min_label_distance).collect();
    let sep_sim: Vec<f64> = run.metrics.iter().map(|m| m.min_label_distance).collect();
    let k0 = times.iter().position(|&t| t >= t_from).unwrap_or(times.len() - 1);
    // The fit ends where the separation falls below FIT_FLOOR of its value
    // at t_from: the theory's, or the simulation's when there is no theory.
    let sep_ref = if theory_error.is_none() { &sep_th } else { &sep_sim };
    let floor = FIT_FLOOR * sep_ref[k0];
    let k1 = (k0..times.len()).take_while(|&k| sep_ref[k] > floor).last().unwrap_or(k0);
    let t_to = times[k1];
    let max_relative_error = if theory_error.is_none() {
        (0..=k1).map(|k| (sep_sim[k] - sep_th[k]).abs() / sep_th[k]).fold(0.0, f64::max)
    } else {
        f64::NAN
    };
    Ok(SeedResult {
        seed,
        fitted_rate_simulation: fit_decay_rate(&times, &sep_sim, t_from, t_to),
        fitted_rate_theory: if theory_error.is_none() { fit_decay_rate(&times, &sep_th, t_from, t_to) } else { None },
        simulation: run.metrics,
        theory,
        max_relative_error,
        fit_window: [t_from, t_to],
        theory_error,
    })
}

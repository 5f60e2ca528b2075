//! Ensembles over seeds (each seed: its own noise draw and initialisation),
//! in parallel, with the exact linear theory run from every seed's own
//! initial state and slow rates fitted to the simulated and the theoretical
//! label separation over the same window.
use serde::Serialize;
use serde_json::json;

use super::config::RealConfig;
use super::theory::{hat_summary, HatSummary, LinearTheory};
use super::simulation::{train, Prepared, Record, Run};
use crate::error::{num, Error, Result};
use crate::stats::{estimate, fit_decay_rate, Estimate};

/// Fraction of the end-of-fast-phase separation below which a run counts as
/// collapsed at `t_max` (the separation decays exponentially once frustrated,
/// so any fixed fraction works; 1/e^2 is reached after two slow times).
pub const COLLAPSE_RATIO: f64 = 0.135;

/// One seed's results.
#[derive(Clone, Debug, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub records: Vec<Record>,
    /// Exact linear-encoder trajectory from the same start (linear, no head).
    pub theory: Option<Vec<Record>>,
    /// Smallest separating rate of the exact flow.
    pub theory_slow_rate: Option<f64>,
    /// Induced frustration of this draw's labels (linear hat matrix).
    pub induced: HatSummary,
    /// Log-linear fits of the minimum label distance over the fit window.
    pub fitted_rate: Option<f64>,
    pub theory_fitted_rate: Option<f64>,
    /// Final separation over the separation at the end of the fast phase.
    pub separation_ratio: f64,
    pub max_stable_dt: Option<f64>,
}

/// An ensemble.
#[derive(Clone, Debug)]
pub struct Experiment {
    pub cfg: RealConfig,
    pub times: Vec<f64>,
    pub seeds: Vec<SeedResult>,
    /// Set when the wall-time budget stopped some seeds of a `simulate` run
    /// ([`Experiment::run_keeping_finished_seeds`]): `seeds` holds only
    /// those that finished.
    pub partial: Option<crate::limits::PartialEnsemble>,
    /// `phi` of Model E's operator for `A = T` rows (the noise's frustration).
    pub noise_phi: f64,
    /// Hat-matrix summary of the clean labels: natural frustration.
    pub natural: HatSummary,
    pub samples: usize,
    pub test_samples: usize,
    pub input_dim: usize,
    pub classes: usize,
    pub constant_features: usize,
    pub informative_features: usize,
    pub source: String,
    pub fit_window: [f64; 2],
    /// Time at which the fast phase is taken to be over (separation reference).
    pub fast_end: f64,
}

impl Experiment {
    /// Runs `cfg.seeds` seeds in parallel.
    pub fn run(cfg: &RealConfig) -> Result<Self> {
        let prep = Prepared::new(cfg)?;
        Self::run_prepared(cfg, &prep)
    }

    /// As [`Experiment::run`], but a budget stop keeps the seeds that
    /// finished and marks the ensemble partial (`simulate`).
    /// `progress` shows a bar of finished seeds.
    pub fn run_keeping_finished_seeds(cfg: &RealConfig, progress: bool) -> Result<Self> {
        Self::run_with(cfg, &Prepared::new(cfg)?, true, progress)
    }

    /// Runs on already prepared data (studies share one split across sweeps).
    pub fn run_prepared(cfg: &RealConfig, prep: &Prepared) -> Result<Self> {
        Self::run_with(cfg, prep, false, false)
    }

    fn run_with(cfg: &RealConfig, prep: &Prepared, keep_finished: bool, progress: bool) -> Result<Self> {
        let times: Vec<f64> = cfg.time_grid();
        let fit_window = [0.5 * cfg.t_max, cfg.t_max];
        // Earliest end of the fast phase: one label time 1/eta_y (the
        // separation reference is the accuracy peak after it).
        let fast_end = (1.0 / cfg.eta_y).min(0.25 * cfg.t_max);
        let theory_applies = LinearTheory::applies(cfg).is_ok();
        let bar = crate::report::progress::seeds_bar(cfg.seeds as u64, progress, "real-data ensemble");
        let (seeds, partial) = crate::limits::run_seeds(cfg.seeds as u64, cfg.seed, keep_finished, |seed| {
                let _step = crate::report::progress::BarStep(&bar);
                if theory_applies && cfg.batch.is_none() {
                    // Check the step before spending time on the run.
                    let labels = super::simulation::Labels::draw(cfg, prep, seed)?;
                    let th = LinearTheory::new(cfg, prep, &labels)?;
                    if cfg.dt >= th.max_stable_dt {
                        return Err(Error::invalid("dt", num(cfg.dt), format!("(0, {}) (2 / largest rate of the linear flow; gradient descent diverges above)", num(th.max_stable_dt))));
                    }
                }
                let run = train(cfg, prep, seed, &times)?;
                seed_result(cfg, prep, run, &times, fit_window, fast_end, theory_applies)
            })?;
        bar.finish_and_clear();
        let truth = &prep.split.train.labels;
        Ok(Experiment {
            cfg: cfg.clone(),
            noise_phi: prep.transition(cfg)?.frustration(truth)?.frustration_index,
            natural: hat_summary(prep, truth, cfg.eta_y)?,
            samples: prep.samples(),
            test_samples: prep.split.test.len(),
            input_dim: prep.input_dim(),
            classes: prep.classes(),
            constant_features: prep.split.constant_features,
            informative_features: prep.split.informative_features,
            source: prep.split.train.source.clone(),
            times,
            seeds,
            partial,
            fit_window,
            fast_end,
        })
    }

    /// Ensemble estimate of a per-seed quantity (seeds where it is `None` dropped).
    pub fn est(&self, f: impl Fn(&SeedResult) -> Option<f64>) -> Estimate {
        estimate(&self.seeds.iter().filter_map(f).collect::<Vec<_>>())
    }
    /// Ensemble estimate of a record field at output index `k`.
    pub fn at(&self, k: usize, f: impl Fn(&Record) -> f64) -> Estimate {
        estimate(&self.seeds.iter().map(|s| f(&s.records[k])).collect::<Vec<_>>())
    }
    /// Mean of a theory record field at index `k` (None without theory).
    pub fn theory_at(&self, k: usize, f: impl Fn(&Record) -> f64) -> Option<f64> {
        let v: Vec<f64> = self.seeds.iter().filter_map(|s| s.theory.as_ref().map(|t| f(&t[k]))).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }
    pub fn fitted_rate(&self) -> Estimate {
        self.est(|s| s.fitted_rate)
    }
    pub fn theory_fitted_rate(&self) -> Estimate {
        self.est(|s| s.theory_fitted_rate)
    }
    pub fn theory_slow_rate(&self) -> Estimate {
        self.est(|s| s.theory_slow_rate)
    }
    pub fn separation_ratio(&self) -> Estimate {
        self.est(|s| Some(s.separation_ratio))
    }
    /// Whether the ensemble-mean separation ratio is below [`COLLAPSE_RATIO`].
    pub fn collapsed(&self) -> bool {
        self.separation_ratio().mean < COLLAPSE_RATIO
    }

    pub fn summary_json(&self) -> serde_json::Value {
        let last = self.times.len() - 1;
        let mut v = json!({
            "model": "real-data",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": self.cfg.to_json(),
            "data": {"source": self.source, "train_samples": self.samples, "test_samples": self.test_samples,
                     "input_dim": self.input_dim, "classes": self.classes, "constant_features": self.constant_features,
                     "informative_features": self.informative_features,
                     "alpha": self.samples as f64 / self.informative_features as f64},
            "encoder": {"kind": self.cfg.encoder.name(), "width": self.cfg.params.int("width"), "dim": self.cfg.dim},
            "noise_phi": self.noise_phi,
            "natural_frustration": self.natural,
            "induced_frustration": self.est(|s| Some(s.induced.frustration)),
            "adiabatic_slow_rate": self.est(|s| Some(s.induced.adiabatic_slow_rate)),
            "theory_slow_rate": self.theory_slow_rate(),
            "theory_fitted_slow_rate": self.theory_fitted_rate(),
            "fitted_slow_rate": self.fitted_rate(),
            "fitted_slow_rate_per_seed": self.seeds.iter().map(|s| s.fitted_rate).collect::<Vec<_>>(),
            "fit_window": self.fit_window,
            "fast_end": self.fast_end,
            "max_stable_dt": self.seeds.first().and_then(|s| s.max_stable_dt),
            "final_separation_ratio": self.separation_ratio(),
            "collapsed": self.collapsed(),
            "final_train_accuracy": self.at(last, |r| r.train_accuracy),
            "final_test_accuracy": self.at(last, |r| r.test_accuracy),
            "final_noisy_label_fit": self.at(last, |r| r.noisy_label_fit),
            "final_separation_to_spread": self.at(last, |r| r.separation_to_spread),
            "trajectory": (0..self.times.len()).map(|k| json!({
                "t": self.seeds[0].records[k].t,
                "min_label_distance": self.at(k, |r| r.min_label_distance),
                "theory_min_label_distance": self.theory_at(k, |r| r.min_label_distance),
                "train_accuracy": self.at(k, |r| r.train_accuracy),
                "theory_train_accuracy": self.theory_at(k, |r| r.train_accuracy),
                "test_accuracy": self.at(k, |r| r.test_accuracy),
                "separation_to_spread": self.at(k, |r| r.separation_to_spread)})).collect::<Vec<_>>(),
        });
        // Without the exact linear flow the theory fields are null; say why
        // next to each of them.
        if self.seeds.iter().all(|s| s.theory.is_none()) {
            let why = match LinearTheory::applies(&self.cfg) {
                Err(e) => format!("null: no exact linear-flow theory for this configuration ({e})"),
                Ok(()) => "null: no exact linear-flow theory for this run".to_string(),
            };
            v["theory_note"] = json!(why);
            if let Some(points) = v["trajectory"].as_array_mut() {
                for p in points {
                    p["theory_note"] = json!("null theory values: see the summary's theory_note");
                }
            }
        }
        crate::limits::PartialEnsemble::mark(self.partial.as_ref(), &mut v);
        v
    }
}

fn seed_result(cfg: &RealConfig, prep: &Prepared, run: Run, times: &[f64], win: [f64; 2], fast_end: f64, theory: bool) -> Result<SeedResult> {
    let induced = hat_summary(prep, &run.labels.observed, cfg.eta_y)?;
    let (th, th_rate, dt_max) = if theory {
        let lt = LinearTheory::new(cfg, prep, &run.labels)?;
        let traj = lt.trajectory(&run.initial, prep, &run.labels, &run.records.iter().map(|r| r.t).collect::<Vec<_>>());
        (Some(traj), lt.spectrum.slow_rate, Some(lt.max_stable_dt))
    } else {
        (None, None, None)
    };
    let fit = |recs: &[Record]| {
        let t: Vec<f64> = recs.iter().map(|r| r.t).collect();
        let y: Vec<f64> = recs.iter().map(|r| r.min_label_distance).collect();
        fit_decay_rate(&t, &y, win[0], win[1])
    };
    // Reference separation: at the peak of the training accuracy (the end
    // of the fast phase), but not before `fast_end`.
    let k_min = times.iter().position(|t| *t >= fast_end).unwrap_or(0);
    let k_fast = (k_min..run.records.len()).max_by(|&a, &b| run.records[a].train_accuracy.total_cmp(&run.records[b].train_accuracy).then(b.cmp(&a))).unwrap_or(k_min);
    let sep = |k: usize| run.records[k].min_label_distance;
    Ok(SeedResult {
        seed: run.seed,
        fitted_rate: fit(&run.records),
        theory_fitted_rate: th.as_deref().and_then(fit),
        separation_ratio: sep(run.records.len() - 1) / sep(k_fast),
        records: run.records,
        theory: th,
        theory_slow_rate: th_rate,
        induced,
        max_stable_dt: dt_max,
    })
}

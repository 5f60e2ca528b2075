//! One Model H experiment: an ensemble of microscopic runs (parallel seeds)
//! with the reduced theory's predictions. Shared by `repcollapse simulate
//! head` and the head studies.
use serde_json::json;

use crate::error::Result;
use crate::models::head::simulation::{simulate, HeadRun};
use crate::models::head::config::HeadConfig;
use crate::models::common::metrics::Metrics;
use crate::stats::{estimate, Estimate};
use crate::models::head::theory::HeadTheory;

/// An ensemble of seeds with its theory.
#[derive(Clone, Debug)]
pub struct HeadExperiment {
    pub cfg: HeadConfig,
    pub theory: HeadTheory,
    pub runs: Vec<HeadRun>,
    /// Set when the wall-time budget stopped some seeds of a `simulate` run
    /// ([`HeadExperiment::run_keeping_finished_seeds`]): `runs` holds only
    /// those that finished.
    pub partial: Option<crate::limits::PartialEnsemble>,
}

impl HeadExperiment {
    /// Runs `cfg.base.seeds` seeds in parallel; results ordered by seed.
    pub fn run(cfg: &HeadConfig) -> Result<Self> {
        Self::run_with(cfg, false, false)
    }

    /// As [`HeadExperiment::run`], but a budget stop keeps the seeds that
    /// finished and marks the ensemble partial (`simulate`); `progress`
    /// shows a bar of finished seeds.
    pub fn run_keeping_finished_seeds(cfg: &HeadConfig, progress: bool) -> Result<Self> {
        Self::run_with(cfg, true, progress)
    }

    fn run_with(cfg: &HeadConfig, keep_finished: bool, progress: bool) -> Result<Self> {
        let a = cfg.base.label_weights()?;
        let theory = HeadTheory::new(cfg)?;
        let bar = crate::report::progress::seeds_bar(cfg.base.seeds as u64, progress, "Model H ensemble");
        let (runs, partial) = crate::limits::run_seeds(cfg.base.seeds as u64, cfg.base.design.seed, keep_finished, |seed| {
            let r = simulate(cfg, &a, seed);
            bar.inc(1);
            r
        })?;
        bar.finish_and_clear();
        Ok(HeadExperiment { cfg: cfg.clone(), theory, runs, partial })
    }

    /// Output times (shared by all seeds).
    pub fn times(&self) -> Vec<f64> {
        self.runs.first().map(|r| r.metrics.iter().map(|m| m.base.t).collect()).unwrap_or_default()
    }
    /// Ensemble estimate of a metric at grid index `k`.
    pub fn metric_at(&self, k: usize, f: impl Fn(&Metrics) -> f64) -> Estimate {
        estimate(&self.runs.iter().map(|r| f(&r.metrics[k].base)).collect::<Vec<_>>())
    }
    /// Ensemble estimate of a final metric.
    pub fn final_metric(&self, f: impl Fn(&Metrics) -> f64) -> Estimate {
        self.metric_at(self.times().len() - 1, f)
    }
    /// Measured head eigenvalues on the label subspace at the end: for each
    /// index (decreasing real part) the ensemble estimate of the real part,
    /// and the largest imaginary part seen.
    pub fn final_head_spectrum(&self) -> (Vec<Estimate>, f64) {
        let r = self.runs.iter().map(|r| r.metrics.last().map_or(0, |m| m.head_spectrum.len())).min().unwrap_or(0);
        let est = (0..r).map(|i| estimate(&self.runs.iter().map(|run| run.metrics.last().expect("non-empty").head_spectrum[i][0]).collect::<Vec<_>>())).collect();
        let im = self.runs.iter().flat_map(|run| run.metrics.last().expect("non-empty").head_spectrum.iter().map(|e| e[1].abs())).fold(0.0, f64::max);
        (est, im)
    }
    /// Like [`final_head_spectrum`](Self::final_head_spectrum) for the
    /// spectrum of `W^2` on the label subspace.
    pub fn final_head_squared_spectrum(&self) -> Vec<Estimate> {
        let r = self.runs.iter().map(|r| r.metrics.last().map_or(0, |m| m.head_squared_spectrum.len())).min().unwrap_or(0);
        (0..r).map(|i| estimate(&self.runs.iter().map(|run| run.metrics.last().expect("non-empty").head_squared_spectrum[i][0]).collect::<Vec<_>>())).collect()
    }
    /// Fraction of seeds whose run collapsed ([`HeadRun::collapsed`]).
    pub fn collapsed_fraction(&self) -> f64 {
        self.runs.iter().filter(|r| r.collapsed()).count() as f64 / self.runs.len().max(1) as f64
    }

    /// Final minimum inter-label distance over its peak during the run, per
    /// seed (the separation ratio of `docs/embedding.md` section 7,, with the peak standing in
    /// for the end of the fast phase).
    pub fn final_separation_ratio(&self) -> Estimate {
        estimate(
            &self
                .runs
                .iter()
                .map(|r| {
                    let peak = r.metrics.iter().map(|m| m.base.min_label_distance).fold(0.0, f64::max);
                    r.metrics.last().map_or(0.0, |m| m.base.min_label_distance) / peak
                })
                .collect::<Vec<_>>(),
        )
    }

    /// The JSON of `repcollapse simulate head --json`.
    pub fn summary_json(&self) -> serde_json::Value {
        let (spec, im) = self.final_head_spectrum();
        let collapsed = self.collapsed_fraction();
        let mut v = json!({
            "model": "head",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": self.cfg.to_json(),
            "variant": self.cfg.variant.name(),
            "mode": if self.cfg.base.batch.is_some() { "sgd" } else { "full-batch" },
            "frustration_index": self.theory.operator.frustration_index,
            "head_spectrum": spec,
            "head_spectrum_max_imaginary": im,
            "head_squared_spectrum": self.final_head_squared_spectrum(),
            "head_invariance_residual": self.runs.iter().map(|r| r.metrics.last().map_or(0.0, |m| m.head_invariance_residual)).fold(0.0, f64::max),
            "head_spectrum_per_seed": self.runs.iter().map(|r| r.metrics.last().map(|m| m.head_spectrum.clone())).collect::<Vec<_>>(),
            "theory_head_spectrum": self.theory.head_spectrum,
            "final_separation_to_spread": self.final_metric(|m| m.separation_to_spread),
            "final_min_label_distance": self.final_metric(|m| m.min_label_distance),
            "final_separation_ratio": self.final_separation_ratio(),
            "final_accuracy": self.final_metric(|m| m.accuracy),
            "final_loss": self.final_metric(|m| m.loss),
            "collapsed": collapsed > 0.5,
            "collapsed_fraction": collapsed,
            "theory_collapses": self.theory.head_spectrum.is_empty(),
            "critical_frustration": self.theory.fold.as_ref().map(|f| f.critical_frustration),
            "fold_note": self.theory.fold_note,
        });
        if self.cfg.base.loss == crate::models::embedding::sphere::Loss::Cosine {
            v["loss_note"] = json!(
                "loss = cosine: the theory_* fields and critical_frustration are the squared loss's reduced theory; the sphere's own \
                 reduction (head/reduced/sphere.rs) and its fixed points are in docs/head.md, \"Normalised embeddings and the cosine loss\""
            );
        }
        crate::limits::PartialEnsemble::mark(self.partial.as_ref(), &mut v);
        v
    }
}

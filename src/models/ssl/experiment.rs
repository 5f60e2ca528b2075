//! Ensembles over seeds (each seed its own initialisation, augmentations and
//! batch order), run in parallel; per-epoch indicators with 95% CIs over the
//! seeds (Student t, [`crate::stats::estimate`]). Shared by `simulate ssl`
//! and the studies.
use rayon::prelude::*;
use serde_json::json;

use super::config::SslConfig;
use super::simulation::{train, Prepared, Record, Run};
use crate::error::Result;
use crate::stats::{estimate, Estimate};

/// `output_std * sqrt(d)` below this counts as collapsed (healthy outputs
/// sit near 1, a collapsed representation at 0; `docs/ssl.md`, "Collapse indicators").
pub const COLLAPSED_STD: f64 = 0.1;

/// An ensemble.
#[derive(Clone, Debug)]
pub struct Experiment {
    pub cfg: SslConfig,
    pub runs: Vec<Run>,
    pub source: String,
    pub train_images: usize,
    pub test_images: usize,
    pub image: [usize; 2],
}

impl Experiment {
    pub fn run(cfg: &SslConfig) -> Result<Self> {
        let prep = Prepared::new(cfg)?;
        Self::run_prepared(cfg, &prep)
    }

    /// Runs `cfg.seeds` seeds in parallel on already prepared images.
    pub fn run_prepared(cfg: &SslConfig, prep: &Prepared) -> Result<Self> {
        let runs: Result<Vec<Run>> = (0..cfg.seeds as u64).into_par_iter().map(|s| train(cfg, prep, cfg.seed + s)).collect();
        Ok(Experiment { cfg: cfg.clone(), runs: runs?, source: prep.source.clone(), train_images: prep.samples(), test_images: prep.xi_test.nrows(), image: [prep.width, prep.height] })
    }

    /// Ensemble estimate of a record field after epoch `e` (None values dropped).
    pub fn at(&self, e: usize, f: impl Fn(&Record) -> Option<f64>) -> Estimate {
        estimate(&self.runs.iter().filter_map(|r| f(&r.records[e])).collect::<Vec<_>>())
    }
    pub fn epochs(&self) -> usize {
        self.cfg.epochs
    }
    /// `output_std * sqrt(d)` after the last epoch.
    pub fn final_scaled_std(&self) -> Estimate {
        let s = (self.cfg.dim as f64).sqrt();
        self.at(self.epochs(), |r| Some(r.output_std * s))
    }
    /// Whether the ensemble mean of the final scaled std is below [`COLLAPSED_STD`].
    pub fn collapsed(&self) -> bool {
        self.final_scaled_std().mean < COLLAPSED_STD
    }

    /// Per-epoch arrays `{mean, lo, hi}` of one indicator.
    fn series(&self, f: impl Fn(&Record) -> Option<f64> + Copy) -> serde_json::Value {
        let es: Vec<Estimate> = (0..=self.epochs()).map(|e| self.at(e, f)).collect();
        let clean = |e: &Estimate, v: f64| if e.n > 0 && v.is_finite() { json!(v) } else { serde_json::Value::Null };
        let mut v = json!({"mean": es.iter().map(|e| clean(e, e.mean)).collect::<Vec<_>>(),
               "lo": es.iter().map(|e| clean(e, e.ci95[0])).collect::<Vec<_>>(),
               "hi": es.iter().map(|e| clean(e, e.ci95[1])).collect::<Vec<_>>()});
        // Every null says why (the project's rule, tests/support/nulls.rs).
        if es.iter().any(|e| e.n == 0 || !e.mean.is_finite() || !e.ci95[0].is_finite() || !e.ci95[1].is_finite()) {
            v["null_note"] = json!(
                "null where no seed has a finite value: the loss before the first epoch (it is the mean over an \
                 epoch's steps), the predictor diagnostics of a variant without a linear predictor"
            );
        }
        v
    }

    pub fn summary_json(&self) -> serde_json::Value {
        let sd = (self.cfg.dim as f64).sqrt();
        let last = self.epochs();
        let pred = |f: fn(&super::simulation::PredictorDiagnostics) -> f64| move |r: &Record| r.predictor.as_ref().map(f);
        let mut out = json!({
            "model": "ssl",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": self.cfg.to_json(),
            "data": {"source": self.source, "train_images": self.train_images, "test_images": self.test_images, "image_width": self.image[0], "image_height": self.image[1]},
            "variant": self.cfg.variant.name(),
            "healthy_output_std": 1.0 / sd,
            "collapsed": self.collapsed(),
            "final_scaled_output_std": self.final_scaled_std(),
            "final_effective_rank": self.at(last, |r| Some(r.effective_rank)),
            "final_knn_accuracy": self.at(last, |r| Some(r.knn_accuracy)),
            "final_probe_accuracy": self.at(last, |r| Some(r.probe_accuracy)),
            "final_alignment": present(self.at(last, pred(|p| p.alignment))),
            "final_directpred_residual": present(self.at(last, pred(|p| p.directpred_residual))),
            "final_offdiag_fraction": present(self.at(last, pred(|p| p.offdiag_fraction))),
            "epochs": (0..=last).collect::<Vec<_>>(),
            "indicators": {
                "loss": self.series(|r| r.loss),
                "output_std": self.series(|r| Some(r.output_std)),
                "scaled_output_std": self.series(move |r| Some(r.output_std * sd)),
                "effective_rank": self.series(|r| Some(r.effective_rank)),
                "knn_accuracy": self.series(|r| Some(r.knn_accuracy)),
                "probe_accuracy": self.series(|r| Some(r.probe_accuracy)),
                "f_top": self.series(|r| Some(r.f_top)),
                "alignment": self.series(pred(|p| p.alignment)),
                "offdiag_fraction": self.series(pred(|p| p.offdiag_fraction)),
                "directpred_residual": self.series(pred(|p| p.directpred_residual)),
            },
            "final_predictor": self.runs.iter().map(|r| {
                let mut v = json!({"seed": r.seed, "diagnostics": r.records[last].predictor});
                if r.records[last].predictor.is_none() {
                    v["diagnostics_note"] = json!(NO_LINEAR_PREDICTOR);
                }
                v
            }).collect::<Vec<_>>(),
        });
        if out["final_alignment"].is_null() {
            out["predictor_note"] = json!(NO_LINEAR_PREDICTOR);
        }
        out
    }
}

/// Why the DirectPred diagnostics are null: they are defined for a linear
/// `d x d` predictor only.
const NO_LINEAR_PREDICTOR: &str = "this variant has no linear predictor (none, or an MLP): the DirectPred alignment, residual and off-diagonal fraction are not defined";

/// An estimate as JSON, `null` when no seed has the quantity (no linear predictor).
fn present(e: Estimate) -> serde_json::Value {
    if e.n > 0 {
        json!(e)
    } else {
        serde_json::Value::Null
    }
}

//! Model T with a projection head: online SGD ensembles with the head ODE
//! ([`order_params`](super::reduced::order_params)) started from each run's
//! initial state (the ODE's own report is in [`super::theory`]).
use crate::error::Result;
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::head::reduced::order_params::HeadOde;
use crate::models::teacher::head::simulation::{simulate_head, HeadRun};
use crate::models::teacher::head::theory::ode_metrics;
use crate::models::teacher::metrics::{TeacherMetrics, TeacherScorer};
use crate::models::teacher::statistics::Teacher;
use crate::stats::{estimate, Estimate};

/// A head ensemble with its ODE curves.
pub struct HeadExperiment {
    pub cfg: TeacherConfig,
    pub runs: Vec<HeadRun>,
    /// ODE metrics (output space) per seed.
    pub theory: Vec<Vec<TeacherMetrics>>,
    /// Final ODE head of seed 0 (empty when the comparison is unavailable).
    pub final_head_ode: Vec<f64>,
    /// Why the ODE comparison is missing, when a seed's head ODE failed in
    /// [`HeadExperiment::run_keeping_simulation`] (`theory` is then empty;
    /// the SGD runs are complete).
    pub comparison_unavailable: Option<String>,
    /// Set when the wall-time budget stopped some seeds of a `simulate` run
    /// ([`HeadExperiment::run_keeping_simulation`]): `runs` holds only
    /// those that finished.
    pub partial: Option<crate::limits::PartialEnsemble>,
}

impl HeadExperiment {
    /// SGD ensemble and head ODE per seed; a failed ODE is an error.
    pub fn run(cfg: &TeacherConfig) -> Result<Self> {
        Self::run_with(cfg, false, false)
    }

    /// As [`HeadExperiment::run`], but a failed head ODE (of any seed) keeps
    /// the SGD runs and drops the comparison, with the reason (`simulate`);
    /// a budget stop keeps the seeds that finished and marks them partial.
    /// `progress` shows a bar of finished seeds.
    pub fn run_keeping_simulation(cfg: &TeacherConfig, progress: bool) -> Result<Self> {
        Self::run_with(cfg, true, progress)
    }

    fn run_with(cfg: &TeacherConfig, keep_simulation: bool, progress: bool) -> Result<Self> {
        let scorer = TeacherScorer::new(Teacher::new(cfg.teacher, cfg.classes), cfg.label_noise, cfg.sigma, cfg.a);
        type Seed = (HeadRun, std::result::Result<(Vec<TeacherMetrics>, Vec<f64>), String>);
        let bar = crate::report::progress::seeds_bar(cfg.seeds as u64, progress, "Model T ensemble (head)");
        let (out, partial) = crate::limits::run_seeds(cfg.seeds as u64, cfg.seed, keep_simulation, |seed| -> Result<Seed> {
                let _step = crate::report::progress::BarStep(&bar);
                let run = simulate_head(cfg, &scorer, seed)?;
                let ode = HeadOde::new(cfg, &run.order[0], &run.heads[0])
                    .and_then(|ode| ode_metrics(&ode, &scorer, cfg, &run.times).map(|(th, x_end)| (th, ode.unpack(&x_end).1)));
                match ode {
                    Ok(v) => Ok((run, Ok(v))),
                    // A budget stop is not a failed ODE: the seed did not
                    // finish (and is dropped from a partial ensemble).
                    Err(e) if keep_simulation && !matches!(e, crate::error::Error::Budget { .. }) => Ok((run, Err(format!("the head ODE of seed {seed} failed: {e}")))),
                    Err(e) => Err(e),
                }
            })?;
        bar.finish_and_clear();
        // One failed seed drops the comparison for all seeds, so that the
        // ensemble statistics never mix seeds with and without theory.
        let comparison_unavailable = out.iter().find_map(|(_, r)| r.as_ref().err().cloned());
        let final_head_ode = match (&comparison_unavailable, out.first()) {
            (None, Some((_, Ok((_, last))))) => last.clone(),
            _ => Vec::new(),
        };
        let mut runs = Vec::with_capacity(out.len());
        let mut theory = Vec::with_capacity(out.len());
        for (r, t) in out {
            runs.push(r);
            if comparison_unavailable.is_none() {
                theory.push(t.map(|(th, _)| th).unwrap_or_default());
            }
        }
        Ok(HeadExperiment { cfg: cfg.clone(), runs, theory, final_head_ode, comparison_unavailable, partial })
    }
    /// Fraction of seeds whose SGD separation collapsed by `t_max`
    /// ([`collapsed_by_peak`](crate::stats::collapsed_by_peak)).
    pub fn collapsed_fraction(&self) -> f64 {
        let n = self.runs.iter().filter(|r| crate::stats::collapsed_by_peak(&r.metrics.iter().map(|m| m.base.min_label_distance).collect::<Vec<_>>())).count();
        n as f64 / self.runs.len().max(1) as f64
    }
    pub fn metric_at(&self, k: usize, theory: bool, f: impl Fn(&TeacherMetrics) -> f64) -> Estimate {
        estimate(&(0..self.runs.len()).map(|s| f(if theory { &self.theory[s][k] } else { &self.runs[s].metrics[k] })).collect::<Vec<_>>())
    }
}

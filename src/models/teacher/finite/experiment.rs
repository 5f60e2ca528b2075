//! Model T with a finite training set: exact gradient flow (spectral) against
//! full-batch gradient descent of the microscopic encoder, with collapse
//! measures and the hat-matrix frustration operator.
use serde::Serialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::models::common::metrics::{measure, Metrics, MetricsWorkspace};
use crate::models::teacher::online::simulation::Student;
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::finite::simulation::{embed_all, gd_step, FiniteWorkspace, TrainingSet};
use crate::stats::{estimate, fit_decay_rate, Estimate};
use crate::models::teacher::finite::reduced::{FiniteFlow, FiniteSpectrum};

/// One seed: exact flow and (optionally) gradient descent.
#[derive(Clone, Debug, Serialize)]
pub struct FiniteSeed {
    pub seed: u64,
    pub exact: Vec<Metrics>,
    pub gd: Option<Vec<Metrics>>,
    pub spectrum: FiniteSpectrum,
    /// Rate fitted to the exact separation over the late half of the run.
    pub fitted_rate: Option<f64>,
}

/// An ensemble over training sets.
#[derive(Clone, Debug)]
pub struct FiniteExperiment {
    pub cfg: TeacherConfig,
    pub seeds: Vec<FiniteSeed>,
    pub times: Vec<f64>,
    /// Set when the wall-time budget stopped some seeds of a `simulate` run
    /// ([`FiniteExperiment::run_keeping_finished_seeds`]): `seeds` holds
    /// only those that finished.
    pub partial: Option<crate::limits::PartialEnsemble>,
}

/// Exact-flow metrics of `student` on `data` at `times`.
pub fn exact_metrics(flow: &FiniteFlow, student: &Student, data: &TrainingSet, times: &[f64]) -> Result<Vec<Metrics>> {
    let (d, dd, k) = (student.dim, data.input_dim, data.classes);
    let a = data.label_weights()?;
    let mut ws = MetricsWorkspace::new(k, d);
    let mut s = student.clone();
    let mut x = vec![0.0; data.len() * d];
    let mut out = Vec::with_capacity(times.len());
    for &t in times {
        for i in 0..d {
            let mut z0: Vec<f64> = student.w[i * dd..(i + 1) * dd].to_vec();
            z0.extend((0..k).map(|c| student.y[c * d + i]));
            let z = flow.evolve(&z0, t);
            s.w[i * dd..(i + 1) * dd].copy_from_slice(&z[..dd]);
            for c in 0..k {
                s.y[c * d + i] = z[dd + c];
            }
        }
        embed_all(&s, data, &mut x);
        out.push(measure(t, &x, &s.y, &a, d, &mut ws));
    }
    Ok(out)
}

/// Gradient-descent metrics (step `dt`) at `times` snapped to whole steps.
pub fn gd_metrics(cfg: &TeacherConfig, student: &Student, data: &TrainingSet, times: &[f64]) -> Result<Vec<Metrics>> {
    let (d, dd, k) = (student.dim, data.input_dim, data.classes);
    let a = data.label_weights()?;
    let mut mws = MetricsWorkspace::new(k, d);
    let mut ws = FiniteWorkspace::new(data.len(), d, dd, k);
    let mut s = student.clone();
    let scale0 = s.magnitude();
    crate::limits::check_sim_steps("dt", cfg.dt, times.last().copied().unwrap_or(0.0), cfg.dt)?;
    let mut done = 0u64;
    let mut out = Vec::new();
    // One record per output time (no de-duplication, so records align with
    // the exact flow's grid); each time is snapped to whole steps.
    for target in times.iter().map(|t| (t / cfg.dt).round() as u64) {
        while done < target {
            crate::limits::poll_deadline(done, cfg.dt, || "teacher-student finite-data gradient descent".to_string())?;
            gd_step(&mut s, data, cfg.eta_x, cfg.eta_y, cfg.dt, &mut ws);
            done += 1;
        }
        let size = s.magnitude();
        if crate::models::teacher::online::simulation::diverged(size, scale0) {
            return Err(Error::Divergence {
                what: "finite-data gradient descent".into(),
                detail: format!("parameters reached {size:.3e} (initially {scale0:.3e}) at t = {}", done as f64 * cfg.dt),
                advice: "lower dt (stability needs dt < 2 / largest rate of the flow)".into(),
            });
        }
        embed_all(&s, data, &mut ws.x);
        out.push(measure(done as f64 * cfg.dt, &ws.x, &s.y, &a, d, &mut mws));
    }
    Ok(out)
}

impl FiniteExperiment {
    /// Runs `cfg.seeds` training sets (seed `cfg.seed + s`); `with_gd` adds
    /// the microscopic gradient descent.
    pub fn run(cfg: &TeacherConfig, with_gd: bool) -> Result<Self> {
        Self::run_with(cfg, with_gd, false, false)
    }

    /// As [`FiniteExperiment::run`] with gradient descent, but a budget stop
    /// keeps the seeds that finished and marks the ensemble partial (`simulate`).
    /// `progress` shows a bar of finished seeds.
    pub fn run_keeping_finished_seeds(cfg: &TeacherConfig, progress: bool) -> Result<Self> {
        Self::run_with(cfg, true, true, progress)
    }

    fn run_with(cfg: &TeacherConfig, with_gd: bool, keep_finished: bool, progress: bool) -> Result<Self> {
        if cfg.head != crate::models::teacher::config::HeadKind::None {
            return Err(Error::invalid("head", cfg.head.name(), "none (finite training sets are implemented without a head)"));
        }
        let n = cfg.samples.ok_or_else(|| Error::invalid("samples", 0, "integer >= 1 for a finite training set"))?;
        crate::limits::check_memory(
            "input_dim",
            cfg.input_dim,
            cfg.flow_memory_estimate(),
            &format!("32 x seeds in flight x (input_dim + classes)^2 bytes for the dense exact flow, input_dim = {}", cfg.input_dim),
        )?;
        // Output times snapped to whole GD steps, so both routes share them.
        let times: Vec<f64> = cfg.time_grid().iter().map(|t| (t / cfg.dt).round() * cfg.dt).collect();
        let bar = crate::report::progress::seeds_bar(cfg.seeds as u64, progress, "Model T ensemble (finite data)");
        let (seeds, partial) = crate::limits::run_seeds(cfg.seeds as u64, cfg.seed, keep_finished, |seed| {
                let _step = crate::report::progress::BarStep(&bar);
                let data = TrainingSet::draw(cfg, n, seed);
                let student = Student::initial(cfg, seed);
                let flow = FiniteFlow::new(&data, cfg.eta_x, cfg.eta_y)?;
                let spectrum = flow.spectrum(&data, cfg.eta_y)?;
                let exact = exact_metrics(&flow, &student, &data, &times)?;
                let gd = if with_gd { Some(gd_metrics(cfg, &student, &data, &times)?) } else { None };
                let sep: Vec<f64> = exact.iter().map(|m| m.min_label_distance).collect();
                let fitted_rate = fit_decay_rate(&times, &sep, 0.5 * cfg.t_max, cfg.t_max);
                Ok(FiniteSeed { seed, exact, gd, spectrum, fitted_rate })
            })?;
        bar.finish_and_clear();
        Ok(FiniteExperiment { cfg: cfg.clone(), seeds, times, partial })
    }

    /// Ensemble estimate of an exact-flow metric at index `k`.
    pub fn metric_at(&self, k: usize, f: impl Fn(&Metrics) -> f64) -> Estimate {
        estimate(&self.seeds.iter().map(|s| f(&s.exact[k])).collect::<Vec<_>>())
    }
    /// Separation at the end relative to its maximum over the run (exact flow).
    pub fn separation_ratio(&self) -> Estimate {
        estimate(
            &self
                .seeds
                .iter()
                .map(|s| {
                    let mx = s.exact.iter().map(|m| m.min_label_distance).fold(0.0, f64::max);
                    s.exact.last().map_or(f64::NAN, |m| m.min_label_distance) / mx
                })
                .collect::<Vec<_>>(),
        )
    }
    /// Slow rate over seeds (`None` entries, conserved separation, count as 0).
    pub fn slow_rate(&self) -> Estimate {
        estimate(&self.seeds.iter().map(|s| s.spectrum.slow_rate.unwrap_or(0.0)).collect::<Vec<_>>())
    }
    /// Largest relative deviation of GD from the exact flow in the label separation.
    pub fn gd_deviation(&self) -> Option<f64> {
        let mut worst: f64 = 0.0;
        for s in &self.seeds {
            let gd = s.gd.as_ref()?;
            for (a, b) in gd.iter().zip(&s.exact) {
                // Relative error in the separation, where it is resolved
                // (above 1e-6 of its initial value) and at the same time.
                if b.min_label_distance > 1e-6 * s.exact[0].min_label_distance {
                    worst = worst.max((a.min_label_distance - b.min_label_distance).abs() / b.min_label_distance);
                }
            }
        }
        Some(worst)
    }

    pub fn summary_json(&self) -> serde_json::Value {
        let last = self.times.len() - 1;
        let n = self.cfg.samples.unwrap_or(0);
        let mut v = json!({
            "model": "teacher-student (finite training set)",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": self.cfg.to_json(),
            "alpha": n as f64 / self.cfg.input_dim as f64,
            "slow_rate": self.slow_rate(),
            "spectrum_seed0": self.seeds.first().map(|s| &s.spectrum),
            "induced_frustration": estimate(&self.seeds.iter().map(|s| s.spectrum.induced_frustration).collect::<Vec<_>>()),
            "adiabatic_slow_rate": estimate(&self.seeds.iter().map(|s| s.spectrum.adiabatic_slow_rate).collect::<Vec<_>>()),
            "fitted_rate_exact": self.seeds.iter().map(|s| s.fitted_rate).collect::<Vec<_>>(),
            "final_separation_ratio": self.separation_ratio(),
            "final_separation_to_spread": self.metric_at(last, |m| m.separation_to_spread),
            "final_accuracy": self.metric_at(last, |m| m.accuracy),
            "gd_max_relative_deviation": self.gd_deviation(),
            "trajectory": (0..self.times.len()).map(|k| json!({
                "t": self.times[k],
                "min_label_distance": self.metric_at(k, |m| m.min_label_distance),
                "separation_to_spread": self.metric_at(k, |m| m.separation_to_spread),
                "accuracy": self.metric_at(k, |m| m.accuracy)})).collect::<Vec<_>>(),
        });
        crate::limits::PartialEnsemble::mark(self.partial.as_ref(), &mut v);
        v
    }
}

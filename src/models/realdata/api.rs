//! The real-data model's entry points for the registry.
//!
//! * `theory`: what the data and the noise imply before training: the
//!   noise's frustration index (Model E operator of `A = T` rows), the
//!   natural and noise-induced frustration of the linear encoder's hat
//!   matrix, and for the linear encoder without head the exact finite-data
//!   flow of seed `seed`'s noise draw (slowest separating rate, GD stability
//!   limit).
//! * `simulate`: the trained ensemble against that theory.
//! * `export` (in [`super::export`]): refused with the reason.
use serde_json::json;

use crate::config::Overrides;
use crate::error::Result;
use crate::model_api::{ModelOutput, RunOptions};
use crate::models::realdata::config::RealConfig;
use crate::models::realdata::experiment::Experiment;
use crate::models::realdata::theory::{hat_summary, LinearTheory};
use crate::models::realdata::simulation::{Labels, Prepared};

/// Frustration indices and, where it applies, the exact linear flow.
pub fn theory(overrides: &Overrides, _opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = RealConfig::from_overrides(overrides)?;
    let prep = Prepared::new(&cfg)?;
    let truth = &prep.split.train.labels;
    let noise_phi = prep.transition(&cfg)?.frustration(truth)?.frustration_index;
    let natural = hat_summary(&prep, truth, cfg.eta_y)?;
    let labels = Labels::draw(&cfg, &prep, cfg.seed)?;
    let induced = hat_summary(&prep, &labels.observed, cfg.eta_y)?;
    let linear = match LinearTheory::applies(&cfg) {
        Ok(()) => {
            let lt = LinearTheory::new(&cfg, &prep, &labels)?;
            let slow = lt.spectrum.slow_rate;
            json!({"applies": true,
                   "slow_rate": slow,
                   "slow_rate_gradient_descent": slow.map(|l| -(1.0 - cfg.dt * l).ln() / cfg.dt),
                   "collapse_time": slow.map(|l| 1.0 / l),
                   "conserved_separation": lt.spectrum.conserved_separation,
                   "zero_modes": lt.spectrum.zero_modes,
                   "max_stable_dt": lt.max_stable_dt,
                   "smallest_rates": lt.flow.rates.iter().take(12).collect::<Vec<_>>()})
        }
        Err(e) => json!({"applies": false, "reason": e.to_string()}),
    };
    let v = json!({
        "model": "real-data",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "config": cfg.to_json(),
        "data": {"source": prep.split.train.source, "train_samples": prep.samples(), "test_samples": prep.split.test.len(),
                 "input_dim": prep.input_dim(), "informative_features": prep.split.informative_features, "classes": prep.classes(),
                 "alpha": prep.samples() as f64 / prep.split.informative_features as f64},
        "noise_phi": noise_phi,
        "natural_frustration": natural,
        "induced_frustration_seed": induced,
        "linear_flow": linear,
    });
    let text = [
        format!("Real data: {} ({} training samples, {} held out, D = {}, K = {})", prep.split.train.source, prep.samples(), prep.split.test.len(), prep.input_dim(), prep.classes()),
        format!("  noise phi (Model E operator of T rows)   = {noise_phi:.6}"),
        format!("  natural frustration (linear, clean)      = {:.6}  (linear encoder fits the clean labels: {})", natural.frustration, natural.fits),
        format!("  induced frustration (seed {} noise draw) = {:.6}", cfg.seed, induced.frustration),
        format!("  adiabatic slow rate eta_y phi_Pi         = {:.6}", induced.adiabatic_slow_rate),
        format!("  exact linear flow                        = {}", v["linear_flow"]),
    ]
    .join("\n");
    Ok(ModelOutput { json: v, text })
}

/// Trained ensemble (rates fitted to the simulated and exact trajectories).
pub fn simulate(overrides: &Overrides, opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = RealConfig::from_overrides(overrides)?;
    let v = Experiment::run_keeping_finished_seeds(&cfg, opts.progress)?.summary_json();
    let mut lines = vec![format!("Real-data ensemble: {} seeds, {} encoder, variant {}", cfg.seeds, cfg.encoder.name(), cfg.variant.name())];
    for key in ["noise_phi", "induced_frustration", "theory_slow_rate", "theory_fitted_slow_rate", "fitted_slow_rate", "final_separation_ratio", "collapsed", "final_train_accuracy", "final_test_accuracy"] {
        lines.push(format!("  {key:24} = {}", v[key]));
    }
    lines.extend(crate::limits::PartialEnsemble::text_line_of(&v));
    Ok(ModelOutput { json: v, text: lines.join("\n") })
}

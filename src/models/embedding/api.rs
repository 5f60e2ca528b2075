//! Model E's entry points for the registry: `theory` and `simulate`, each
//! from typed overrides, returning JSON and a text summary (`export` is in
//! [`super::export`]).
use crate::config::Overrides;
use crate::error::Result;
use crate::models::embedding::config::EmbeddingConfig;
use crate::models::embedding::experiment::EmbeddingExperiment;
use crate::models::embedding::theory::EmbeddingTheory;
use crate::model_api::{ModelOutput, RunOptions};

/// Spectrum of `M`, slow and fast rates, collapse time and classified fixed points.
pub fn theory(overrides: &Overrides, _opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = EmbeddingConfig::from_overrides(overrides)?;
    let th = EmbeddingTheory::new(&cfg)?;
    let mut v = th.to_json(&cfg)?;
    if cfg.loss == crate::models::embedding::sphere::Loss::Cosine {
        // docs/embedding.md section 8: at the collapsed point the sphere is flat to first order, so the
        // slow rate is the same; the non-collapsed centred simplex exists only on the sphere (a saddle).
        v["loss_note"] = serde_json::json!(
            "loss = cosine: these are the squared loss's class-level results; on the sphere the collapsed state has the same \
             slow rate (the flow linearised at the pole is this L), and the centred regular simplex is an extra fixed point, \
             a saddle (docs/embedding.md section 8)"
        );
    }
    let mut lines = vec![
        "Model E theory".to_string(),
        format!("  frustration index phi = {:.6}", th.operator.frustration_index),
        format!("  M spectrum            = {:?}", th.operator.spectrum),
        format!("  slow rate             = {:.6} (first order {:.6})", th.spectrum.slow_rate, th.first_order_slow_rate()),
        format!("  fast rates            = {:?}", th.spectrum.fast_rates),
        match th.spectrum.collapse_time() {
            Some(t) => format!("  collapse time 1/rate  = {t:.4}"),
            None => "  no collapse (slow rate 0)".to_string(),
        },
        format!("  largest stable dt     = {:.6}", th.spectrum.max_stable_dt()),
    ];
    for fp in v["fixed_points"].as_array().into_iter().flatten() {
        lines.push(format!("  fixed point: stability {}, zero modes {}, family dimension {}", fp["stability"], fp["zero_modes"], fp["family_dimension"]));
    }
    Ok(ModelOutput { json: v, text: lines.join("\n") })
}

/// A GD or SGD ensemble against the class-level ODE, with the fitted slow rate.
pub fn simulate(overrides: &Overrides, opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = EmbeddingConfig::from_overrides(overrides)?;
    let exp = EmbeddingExperiment::run_keeping_simulation(&cfg, opts.progress)?;
    let v = exp.summary_json();
    let mut lines = vec![
        format!("Model E ensemble: {} seeds, {}", cfg.seeds, v["mode"].as_str().unwrap_or("")),
        format!("  frustration index phi   = {:.6}", exp.operator.frustration_index),
        format!("  theory slow rate        = {:.6}", exp.spectrum.slow_rate),
    ];
    if let Some(r) = exp.fitted_rate() {
        lines.push(format!("  fitted slow rate        = {:.6}  (95% CI [{:.6}, {:.6}])", r.mean, r.ci95[0], r.ci95[1]));
    }
    if exp.comparison_unavailable.is_none() {
        lines.push(format!("  max rel. error vs ODE   = {:.3e}", exp.max_relative_error()));
    }
    lines.extend([
        format!("  final accuracy          = {:.4}", v["final_accuracy"]["mean"].as_f64().unwrap_or(f64::NAN)),
        format!("  final separation ratio  = {:.3e}", v["final_separation_ratio"].as_f64().unwrap_or(f64::NAN)),
        format!("  collapsed               = {}", exp.collapsed()),
    ]);
    lines.extend(crate::model_api::comparison_line(exp.comparison_unavailable.as_deref()));
    lines.extend(crate::limits::PartialEnsemble::text_line_of(&v));
    Ok(ModelOutput { json: v, text: lines.join("\n") })
}

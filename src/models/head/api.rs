//! Model H's entry points for the registry: `theory` and `simulate`, each
//! from typed overrides, returning JSON and a text summary (`export` is in
//! [`super::export`]).
use crate::config::Overrides;
use crate::error::Result;
use crate::models::head::config::HeadConfig;
use crate::models::head::experiment::HeadExperiment;
use crate::models::head::theory::HeadTheory;
use crate::model_api::{ModelOutput, RunOptions};

/// Head spectrum, classified fixed points and the critical frustration.
pub fn theory(overrides: &Overrides, _opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = HeadConfig::from_overrides(overrides)?;
    let th = HeadTheory::new(&cfg)?;
    let v = th.to_json(&cfg);
    let mut lines = vec![
        format!("Model H theory ({})", cfg.variant.name()),
        format!("  frustration index phi = {:.6}", th.operator.frustration_index),
        format!("  head spectrum (label subspace) = {:?}", th.head_spectrum),
    ];
    for fp in &th.fixed_points {
        lines.push(format!(
            "  fixed point {}: w = {:.6}, {:?}, zero modes {} ({})",
            fp.kind, fp.head_eigenvalue, fp.classification.stability, fp.classification.zero_modes, fp.note
        ));
    }
    lines.push(match &th.fold {
        Some(f) => format!("  critical frustration f_c = {:.6} (phi_c = {:.6})", f.critical_frustration, f.critical_phi),
        None => format!("  critical frustration: {}", th.fold_note.clone().unwrap_or_default()),
    });
    Ok(ModelOutput { json: v, text: lines.join("\n") })
}

/// A GD or SGD ensemble of the chosen variant against the reduced theory.
pub fn simulate(overrides: &Overrides, opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = HeadConfig::from_overrides(overrides)?;
    let exp = HeadExperiment::run_keeping_finished_seeds(&cfg, opts.progress)?;
    let v = exp.summary_json();
    let mut lines = vec![
        format!("Model H ensemble ({}): {} seeds, {}", cfg.variant.name(), cfg.base.seeds, v["mode"].as_str().unwrap_or("")),
        format!("  frustration index phi      = {:.6}", exp.theory.operator.frustration_index),
        format!("  head spectrum (measured)   = {}", v["head_spectrum"]),
        format!("  head spectrum (theory)     = {:?}", exp.theory.head_spectrum),
        format!("  final separation/spread    = {}", v["final_separation_to_spread"]),
        format!("  final accuracy             = {}", v["final_accuracy"]),
        format!("  collapsed                  = {} (fraction of seeds {})", v["collapsed"], v["collapsed_fraction"]),
    ];
    lines.extend(crate::limits::PartialEnsemble::text_line_of(&v));
    Ok(ModelOutput { json: v, text: lines.join("\n") })
}

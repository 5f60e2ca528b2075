//! The SSL model's entry points for the registry.
//!
//! * `theory`: the augmentation-frustration index of the run's
//!   augmentations, Model H's boundaries at its weight decay and Model H's
//!   verdict for the mirrored variant (`super::theory`).
//! * `simulate`: the trained ensemble with per-epoch collapse indicators
//!   (95% CIs over seeds); with `dump = PATH` it first writes the replay
//!   dump of the first `dump_steps` steps of seed `seed` (atomically).
//! * `export` (in [`super::export`]): refused with the reason.
use serde_json::json;

use crate::config::Overrides;
use crate::error::Result;
use crate::model_api::{ModelOutput, RunOptions};
use crate::models::ssl::config::SslConfig;
use crate::models::ssl::experiment::Experiment;
use crate::models::ssl::simulation::{dump, Prepared};
use crate::models::ssl::theory::{augmentation_frustration, model_h_analogue, model_h_boundaries};
use crate::report::atomic::write_json;

pub fn theory(overrides: &Overrides, _opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = SslConfig::from_overrides(overrides)?;
    let prep = Prepared::new(&cfg)?;
    let (aug, clean) = augmentation_frustration(&cfg, &prep);
    let (sym, asym) = model_h_boundaries(cfg.weight_decay);
    let (analogue, verdict) = model_h_analogue(cfg.variant);
    let boundary = match cfg.variant.name() {
        "simsiam" => Some(sym),
        "byol" => Some(asym),
        _ => None,
    };
    let predicted_collapse = boundary.map_or(true, |b| aug.phi >= b);
    let v = json!({
        "model": "ssl",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "config": cfg.to_json(),
        "data": {"source": prep.source, "train_images": prep.samples(), "test_images": prep.xi_test.nrows(), "image_width": prep.width, "image_height": prep.height, "classes": prep.classes},
        "healthy_output_std": 1.0 / (cfg.dim as f64).sqrt(),
        "augmentation_frustration": aug,
        "clean_frustration": clean,
        "model_h_boundary_symmetric": sym,
        "model_h_boundary_asymmetric": asym,
        "model_h_analogue": analogue,
        "model_h_verdict": verdict,
        "predicted_boundary_phi": boundary,
        "predicted_collapse": predicted_collapse,
        "directpred": "linear predictor, simsiam/byol: W_p commutes with F (diagonal in F's eigenbasis) and its eigenvalues are proportional to sqrt of F's (W_p^2 = c F)",
    });
    let text = [
        format!("SSL: {} ({} training images of {} x {} pixels, {} held out)", prep.source, prep.samples(), prep.width, prep.height, prep.xi_test.nrows()),
        format!("  healthy std of normalised outputs 1/sqrt(d) = {:.4}", 1.0 / (cfg.dim as f64).sqrt()),
        format!("  augmentation frustration phi_aug = {:.4} (clean images {:.4})", aug.phi, clean.phi),
        format!("  Model H boundary at lambda = {}: symmetric {sym:.4}, asymmetric {asym:.4}", cfg.weight_decay),
        format!("  variant {} mirrors Model H `{analogue}`: {verdict}", cfg.variant.name()),
        format!("  predicted collapse: {predicted_collapse}"),
    ]
    .join("\n");
    Ok(ModelOutput { json: v, text })
}

pub fn simulate(overrides: &Overrides, _opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = SslConfig::from_overrides(overrides)?;
    let prep = Prepared::new(&cfg)?;
    if let Some(path) = &cfg.dump {
        write_json(path, &dump(&cfg, &prep)?)?;
    }
    let exp = Experiment::run_prepared(&cfg, &prep)?;
    let v = exp.summary_json();
    let mut lines = vec![format!("SSL ensemble: {} seeds, {} encoder, variant {}, loss {}, {} epochs", cfg.seeds, cfg.encoder.name(), cfg.variant.name(), cfg.params.text("loss"), cfg.epochs)];
    for key in ["collapsed", "final_scaled_output_std", "final_effective_rank", "final_knn_accuracy", "final_probe_accuracy", "final_alignment", "final_directpred_residual"] {
        lines.push(format!("  {key:26} = {}", v[key]));
    }
    if let Some(p) = &cfg.dump {
        lines.push(format!("  replay dump written to {}", p.display()));
    }
    Ok(ModelOutput { json: v, text: lines.join("\n") })
}

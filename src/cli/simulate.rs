//! `repcollapse simulate <model>`: an ensemble against its theory.
use std::path::Path;

use crate::cli::ModelName;
use crate::error::Result;
use crate::model::embedding_config::EmbeddingConfig;
use crate::report::atomic::write_json;
use crate::study::embedding_experiment::EmbeddingExperiment;

pub fn run(model: ModelName, sets: &[String], json: bool, out: Option<&Path>) -> Result<()> {
    match model {
        ModelName::TeacherStudent => crate::study::teacher_cli::simulate(sets, json, out),
        ModelName::Embedding => {
            let cfg = EmbeddingConfig::from_sets(sets)?;
            let exp = EmbeddingExperiment::run(&cfg, !json)?;
            let v = exp.summary_json();
            if let Some(path) = out {
                write_json(path, &v)?;
            }
            if json {
                crate::cli::emit(&serde_json::to_string_pretty(&v).expect("JSON serialises"));
            } else {
                let rate = exp.fitted_rate();
                println!("Model E ensemble: {} seeds, {}", cfg.seeds, v["mode"].as_str().unwrap_or(""));
                println!("  frustration index phi   = {:.6}", exp.operator.frustration_index);
                println!("  theory slow rate        = {:.6}", exp.spectrum.slow_rate);
                if let Some(r) = rate {
                    println!("  fitted slow rate        = {:.6}  (95% CI [{:.6}, {:.6}])", r.mean, r.ci95[0], r.ci95[1]);
                }
                println!("  max rel. error vs ODE   = {:.3e}", exp.max_relative_error());
                println!("  final accuracy          = {:.4}", v["final_accuracy"]["mean"].as_f64().unwrap_or(f64::NAN));
                println!("  final separation ratio  = {:.3e}", v["final_separation_ratio"].as_f64().unwrap_or(f64::NAN));
                println!("  collapsed               = {}", exp.collapsed());
            }
            Ok(())
        }
        ModelName::Head => {
            let cfg = crate::model::head_config::HeadConfig::from_sets(sets)?;
            let exp = crate::study::head_experiment::HeadExperiment::run(&cfg)?;
            let v = exp.summary_json();
            if let Some(path) = out {
                write_json(path, &v)?;
            }
            if json {
                crate::cli::emit(&serde_json::to_string_pretty(&v).expect("JSON serialises"));
            } else {
                println!("Model H ensemble ({}): {} seeds, {}", cfg.variant.name(), cfg.base.seeds, v["mode"].as_str().unwrap_or(""));
                println!("  frustration index phi      = {:.6}", exp.theory.operator.frustration_index);
                println!("  head spectrum (measured)   = {}", v["head_spectrum"]);
                println!("  head spectrum (theory)     = {:?}", exp.theory.head_spectrum);
                println!("  final separation/spread    = {}", v["final_separation_to_spread"]);
                println!("  final accuracy             = {}", v["final_accuracy"]);
                println!("  collapsed                  = {} (fraction of seeds {})", v["collapsed"], v["collapsed_fraction"]);
            }
            Ok(())
        }
    }
}

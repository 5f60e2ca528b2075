//! `repcollapse theory <model>`: the reduced theory of one configuration.
use crate::cli::ModelName;
use crate::error::Result;
use crate::model::embedding_config::EmbeddingConfig;
use crate::theory::embedding_theory::EmbeddingTheory;

pub fn run(model: ModelName, sets: &[String], json: bool) -> Result<()> {
    match model {
        ModelName::TeacherStudent => crate::study::teacher_cli::theory(sets, json),
        ModelName::Embedding => {
            let cfg = EmbeddingConfig::from_sets(sets)?;
            let th = EmbeddingTheory::new(&cfg)?;
            let v = th.to_json(&cfg)?;
            if json {
                crate::cli::emit(&serde_json::to_string_pretty(&v).expect("JSON serialises"));
            } else {
                println!("Model E theory");
                println!("  frustration index phi = {:.6}", th.operator.frustration_index);
                println!("  M spectrum            = {:?}", th.operator.spectrum);
                println!("  slow rate             = {:.6} (first order {:.6})", th.spectrum.slow_rate, th.first_order_slow_rate());
                println!("  fast rates            = {:?}", th.spectrum.fast_rates);
                match th.spectrum.collapse_time() {
                    Some(t) => println!("  collapse time 1/rate  = {t:.4}"),
                    None => println!("  no collapse (slow rate 0)"),
                }
                println!("  largest stable dt     = {:.6}", th.spectrum.max_stable_dt());
                for fp in v["fixed_points"].as_array().into_iter().flatten() {
                    println!("  fixed point: stability {}, zero modes {}, family dimension {}", fp["stability"], fp["zero_modes"], fp["family_dimension"]);
                }
            }
            Ok(())
        }
        ModelName::Head => {
            let cfg = crate::model::head_config::HeadConfig::from_sets(sets)?;
            let th = crate::theory::head_theory::HeadTheory::new(&cfg)?;
            let v = th.to_json(&cfg);
            if json {
                crate::cli::emit(&serde_json::to_string_pretty(&v).expect("JSON serialises"));
            } else {
                println!("Model H theory ({})", cfg.variant.name());
                println!("  frustration index phi = {:.6}", th.operator.frustration_index);
                println!("  head spectrum (label subspace) = {:?}", th.head_spectrum);
                for fp in &th.fixed_points {
                    println!("  fixed point {}: w = {:.6}, {:?}, zero modes {} ({})", fp.kind, fp.head_eigenvalue, fp.classification.stability, fp.classification.zero_modes, fp.note);
                }
                match &th.fold {
                    Some(f) => println!("  critical frustration f_c = {:.6} (phi_c = {:.6})", f.critical_frustration, f.critical_phi),
                    None => println!("  critical frustration: {}", th.fold_note.clone().unwrap_or_default()),
                }
            }
            Ok(())
        }
    }
}

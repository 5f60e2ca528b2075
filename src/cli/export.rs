//! `repcollapse export <model>`: the reduced ODE as a symbolic model file,
//! so every engine analysis can run on it (and check the native model).
use std::path::Path;

use crate::cli::ModelName;
use crate::error::Result;
use crate::model::embedding_config::EmbeddingConfig;
use crate::report::atomic::write_atomic;
use crate::theory::simplex::{PARAMS, STATE};

/// The 4-variable simplex system of Model E as model-file text, with the
/// parameter values of `cfg`.
pub fn embedding_model_file(cfg: &EmbeddingConfig) -> String {
    let values = [cfg.design.frustrated, cfg.design.rho, cfg.design.classes as f64, cfg.eta_x, cfg.eta_y];
    let params: Vec<(String, f64)> = PARAMS.iter().map(|s| s.to_string()).zip(values).collect();
    let state: Vec<(String, f64)> = STATE.iter().map(|s| s.to_string()).zip([0.0, 0.0, 0.0, 1.0]).collect();
    let eq = |v: &str, e: &str| (v.to_string(), e.to_string());
    let equations = vec![
        eq("s_u", "-eta_x*(s_u - s)"),
        eq("p", "-eta_x*(p - (1 - rho)*s)"),
        eq("q", "-eta_x*(q - rho*s)"),
        eq(
            "s",
            "-eta_y*((1 - frustrated)*(s - s_u) + frustrated*(1 - rho)*(s - p + q/(classes - 1)) + frustrated*rho*(s - q + p/(classes - 1)))",
        ),
    ];
    let observables = vec![eq("min_label_distance", "abs(s)*sqrt(2*classes/(classes - 1))")];
    crate::symbolic::to_toml_string("embedding-simplex", &params, &state, &equations, &observables)
}

pub fn run(model: ModelName, sets: &[String], out: Option<&Path>) -> Result<()> {
    let text = match model {
        ModelName::Embedding => embedding_model_file(&EmbeddingConfig::from_sets(sets)?),
        ModelName::Head => crate::theory::head_symmetric::model_file(&crate::theory::head_symmetric::HeadSymmetric::from_config(
            &crate::model::head_config::HeadConfig::from_sets(sets)?,
        )),
        ModelName::TeacherStudent => crate::study::teacher_cli::model_file(sets)?,
    };
    match out {
        Some(path) => write_atomic(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

//! Model E's model file: the 4-variable simplex reduction
//! ([`SimplexSystem`](crate::models::embedding::reduced::simplex::SimplexSystem),
//! `docs/embedding.md` section 4) as model-file text, for
//! `repcollapse export embedding`.
use crate::config::Overrides;
use crate::error::Result;
use crate::models::embedding::config::EmbeddingConfig;
use crate::models::embedding::reduced::simplex::{PARAMS, STATE};

/// The 4-variable simplex system of Model E as model-file text, with the
/// parameter values of `cfg`.
pub fn model_file(cfg: &EmbeddingConfig) -> String {
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

/// The simplex system as a model file.
pub fn export(overrides: &Overrides) -> Result<String> {
    Ok(model_file(&EmbeddingConfig::from_overrides(overrides)?))
}

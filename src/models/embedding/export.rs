//! Model E's model file: the 4-variable simplex reduction
//! ([`SimplexSystem`](crate::models::embedding::reduced::simplex::SimplexSystem),
//! `docs/embedding.md` section 4) as model-file text, for
//! `repcollapse export embedding`.
use crate::config::Overrides;
use crate::error::Result;
use crate::models::embedding::config::EmbeddingConfig;
use crate::models::embedding::optimizer::Optimizer;
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

/// The small-step limit of heavy-ball momentum on the simplex system as
/// model-file text (`docs/optimisers.md` section 3): with `mass = dt`,
/// `friction = 1 - beta` and `F` the simplex right-hand side above,
///
/// ```text
///   dz/dt = u,    mass du/dt = F(z) - friction u
/// ```
///
/// for `z = (s_u, p, q, s)` and velocities `u = (v_su, v_p, v_q, v_s)`.
/// Its fixed points are Model E's with `u = 0`; a mode of rate `lambda`
/// becomes the pair of roots of `mass r^2 - friction r + lambda = 0`.
/// `beta` comes from `momentum` (0 for plain GD).
pub fn momentum_model_file(cfg: &EmbeddingConfig) -> String {
    let beta = match cfg.optimizer {
        Optimizer::Momentum { beta } | Optimizer::Nesterov { beta } => beta,
        _ => 0.0,
    };
    let values = [cfg.design.frustrated, cfg.design.rho, cfg.design.classes as f64, cfg.eta_x, cfg.eta_y, cfg.dt, 1.0 - beta];
    let names = PARAMS.iter().map(|s| s.to_string()).chain(["mass".to_string(), "friction".to_string()]);
    let params: Vec<(String, f64)> = names.zip(values).collect();
    let velocity = ["v_su", "v_p", "v_q", "v_s"];
    let state: Vec<(String, f64)> =
        STATE.iter().chain(&velocity).map(|s| s.to_string()).zip([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]).collect();
    let force = [
        "-eta_x*(s_u - s)",
        "-eta_x*(p - (1 - rho)*s)",
        "-eta_x*(q - rho*s)",
        "-eta_y*((1 - frustrated)*(s - s_u) + frustrated*(1 - rho)*(s - p + q/(classes - 1)) + frustrated*rho*(s - q + p/(classes - 1)))",
    ];
    let mut equations: Vec<(String, String)> = STATE.iter().zip(&velocity).map(|(z, v)| (z.to_string(), v.to_string())).collect();
    equations.extend(velocity.iter().zip(&force).map(|(v, f)| (v.to_string(), format!("(({f}) - friction*{v})/mass"))));
    let observables = vec![("min_label_distance".to_string(), "abs(s)*sqrt(2*classes/(classes - 1))".to_string())];
    crate::symbolic::to_toml_string("embedding-simplex-heavy-ball", &params, &state, &equations, &observables)
}

/// The simplex system as a model file; with `optimizer = "momentum"` or
/// `"nesterov"` its heavy-ball limit ([`momentum_model_file`]; Nesterov
/// shares its leading order, `docs/optimisers.md` section 3).
pub fn export(overrides: &Overrides) -> Result<String> {
    let cfg = EmbeddingConfig::from_overrides(overrides)?;
    Ok(match cfg.optimizer {
        Optimizer::Momentum { .. } | Optimizer::Nesterov { .. } => momentum_model_file(&cfg),
        _ => model_file(&cfg),
    })
}

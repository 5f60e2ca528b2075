//! Model H's model file: the 6-variable simplex reduction ([`HeadSimplex`],
//! `docs/head.md`, "Reduced theory") as model-file text, for
//! `repcollapse export head`.
use crate::config::Overrides;
use crate::error::Result;
use crate::models::head::config::{HeadConfig, Variant};
use crate::models::head::reduced::simplex::{HeadSimplex, PARAMS, STATE};

/// The equations of [`HeadSimplex`] as text (state name, right-hand side),
/// in the parameter names of [`PARAMS`], for `repcollapse export head`.
pub fn equations(variant: Variant) -> Vec<(String, String)> {
    let (h, gamma) = match variant {
        Variant::Head => ("1", "1"),
        Variant::Symmetric => ("0", "1"),
        _ => ("0", "0"),
    };
    let x = "((1 - frustrated)*s_u + frustrated*(1 - rho)*(p - q/(classes - 1)) + frustrated*rho*(q - p/(classes - 1)))";
    let dxs = format!("(w^2 + {h} + weight_decay)");
    let e = format!("(1 + {h})*w");
    let (a, b) = match variant {
        Variant::Symmetric => ("w^2", "w"),
        Variant::Head => ("(1 + w^2)", "2*w"),
        _ => ("1", "1"),
    };
    let g1 = "((1 - frustrated)*(w*s_u - s)*s_u + frustrated*((w*p - (1 - rho)*s)*p + (w*q - rho*s)*q \
              - ((w*p - (1 - rho)*s)*q + (w*q - rho*s)*p)/(classes - 1)))/(classes - 1) + w*c";
    let g2 = format!("(w*s - {x})*s/(classes - 1)");
    let dw = if variant.trains_head() { format!("-eta_w*({g1} + {gamma}*{g2} + weight_decay*w)") } else { "0".into() };
    vec![
        ("s_u".into(), format!("-eta_x*({dxs}*s_u - {e}*s)")),
        ("p".into(), format!("-eta_x*({dxs}*p - {e}*(1 - rho)*s)")),
        ("q".into(), format!("-eta_x*({dxs}*q - {e}*rho*s)")),
        ("s".into(), format!("-eta_y*(({a} + weight_decay)*s - {b}*{x})")),
        ("w".into(), dw),
        ("c".into(), format!("-2*eta_x*{dxs}*c")),
    ]
}

/// The reduced system as model-file text (parameters, initial state,
/// equations, observables) for `repcollapse export head`.
pub fn model_file(sys: &HeadSimplex) -> String {
    let params: Vec<(String, f64)> = PARAMS.iter().map(|s| s.to_string()).zip(sys.params).collect();
    let state: Vec<(String, f64)> = STATE.iter().map(|s| s.to_string()).zip(sys.initial).collect();
    let observables = vec![
        ("min_label_distance".to_string(), "abs(s)*sqrt(2*classes/(classes - 1))".to_string()),
        ("head_eigenvalue".to_string(), "w".to_string()),
    ];
    crate::symbolic::to_toml_string(&format!("head-simplex-{}", sys.variant.name()), &params, &state, &equations(sys.variant), &observables)
}

/// The 6-variable simplex reduction as a model file.
pub fn export(overrides: &Overrides) -> Result<String> {
    Ok(model_file(&HeadSimplex::from_config(&HeadConfig::from_overrides(overrides)?)))
}

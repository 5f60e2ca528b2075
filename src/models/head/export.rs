//! Model H's model file: the 6-variable simplex reduction ([`HeadSimplex`],
//! `docs/head.md`, "Reduced theory") as model-file text, for
//! `repcollapse export head`; with `optimizer = "momentum"` or `"nesterov"`
//! its heavy-ball limit ([`momentum_model_file`], `docs/optimisers.md` section 4).
use crate::config::Overrides;
use crate::error::Result;
use crate::models::embedding::optimizer::Optimizer;
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

/// State names of [`momentum_model_file`]: the reduced variables, the
/// velocities of the first five, and the covariance moments.
pub const MOMENTUM_STATE: [&str; 13] = ["s_u", "p", "q", "s", "w", "c", "v_su", "v_p", "v_q", "v_s", "v_w", "c_xv", "c_vv"];

/// The small-step limit of heavy-ball momentum on the simplex reduction as
/// model-file text (`docs/optimisers.md` section 4): with `mass = dt`,
/// `friction = 1 - beta` and `F` the right-hand sides of [`equations`],
///
/// ```text
///   dz/dt = u,   mass du/dt = F(z, c) - friction u          z = (s_u, p, q, s, w)
///   dc/dt = 2 c_xv
///   mass dc_xv/dt = mass c_vv - friction c_xv - eta_x a c    a = w^2 + h + weight_decay
///   mass dc_vv/dt = -2 (friction c_vv + eta_x a c_xv)
/// ```
///
/// The covariance is a second moment of the deviations `delta`, which obey
/// `mass delta'' + friction delta' = -eta_x a delta`; so its velocity alone
/// does not close and the moments `c_xv = <delta delta'>`,
/// `c_vv = <delta'^2>` (per label-subspace dimension) enter. Fixed points:
/// `u = 0`, `c_xv = c_vv = 0`, `c = 0` (`a > 0`), `F = 0`: those of the
/// flow. `beta` comes from `momentum` (0 for plain GD).
pub fn momentum_model_file(cfg: &HeadConfig) -> String {
    let beta = match cfg.base.optimizer {
        Optimizer::Momentum { beta } | Optimizer::Nesterov { beta } => beta,
        _ => 0.0,
    };
    let sys = HeadSimplex::from_config(cfg);
    let names = PARAMS.iter().map(|s| s.to_string()).chain(["mass".to_string(), "friction".to_string()]);
    let values = sys.params.iter().copied().chain([cfg.base.dt, 1.0 - beta]);
    let params: Vec<(String, f64)> = names.zip(values).collect();
    let initial = sys.initial.iter().copied().chain([0.0; 7]);
    let state: Vec<(String, f64)> = MOMENTUM_STATE.iter().map(|s| s.to_string()).zip(initial).collect();
    let force = equations(sys.variant);
    let h = if sys.variant == Variant::Head { "1" } else { "0" };
    let a = format!("(w^2 + {h} + weight_decay)");
    let mut eqs: Vec<(String, String)> = STATE[..5].iter().zip(&MOMENTUM_STATE[6..11]).map(|(z, v)| (z.to_string(), v.to_string())).collect();
    eqs.push(("c".into(), "2*c_xv".into()));
    eqs.extend(MOMENTUM_STATE[6..11].iter().zip(&force[..5]).map(|(v, (_, f))| (v.to_string(), format!("(({f}) - friction*{v})/mass"))));
    eqs.push(("c_xv".into(), format!("c_vv - (friction*c_xv + eta_x*{a}*c)/mass")));
    eqs.push(("c_vv".into(), format!("-2*(friction*c_vv + eta_x*{a}*c_xv)/mass")));
    let observables = vec![
        ("min_label_distance".to_string(), "abs(s)*sqrt(2*classes/(classes - 1))".to_string()),
        ("head_eigenvalue".to_string(), "w".to_string()),
    ];
    crate::symbolic::to_toml_string(&format!("head-simplex-{}-heavy-ball", sys.variant.name()), &params, &state, &eqs, &observables)
}

/// The 6-variable simplex reduction as a model file; with a momentum rule
/// its heavy-ball limit (Nesterov shares its leading order).
pub fn export(overrides: &Overrides) -> Result<String> {
    let cfg = HeadConfig::from_overrides(overrides)?;
    Ok(match cfg.base.optimizer {
        Optimizer::Momentum { .. } | Optimizer::Nesterov { .. } => momentum_model_file(&cfg),
        _ => model_file(&HeadSimplex::from_config(&cfg)),
    })
}

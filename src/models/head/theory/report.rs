//! The reduced theory of Model H for one configuration, as reported by
//! `repcollapse theory head`: frustration operator, the head spectrum on the
//! label subspace predicted at the non-collapsed fixed point, every fixed
//! point of the reduced system with its stability and zero modes, and the
//! weight-decay critical frustration.
use serde_json::{json, Value};

use crate::error::Result;
use crate::models::common::frustration::{FrustrationOperator, Pairing};
use crate::models::head::config::{HeadConfig, Variant};
use crate::models::head::theory::fixed_points::{closed_form_branches, critical_frustration, fixed_points, Fold, HeadFixedPoint};

/// Zero tolerance of the stability classification (relative to the largest
/// eigenvalue modulus, as in `engine::StabilityOptions`).
pub const ZERO_TOL: f64 = 1e-8;

/// Everything the theory says about one Model H configuration.
#[derive(Clone, Debug)]
pub struct HeadTheory {
    pub operator: FrustrationOperator,
    pub variant: Variant,
    /// Whether the 6-variable reduction is exact for this design (balanced
    /// pairing, design not from a file); otherwise it is evaluated at the
    /// balanced design with the same `phi`.
    pub reduction_exact: bool,
    /// Parameters of the reduced system `[f_eff, rho, K, eta_x, eta_y, eta_w, lambda]`.
    pub reduced_params: [f64; 7],
    /// Predicted head eigenvalues on the label subspace (decreasing), empty
    /// when the variant has no non-collapsed state.
    pub head_spectrum: Vec<f64>,
    pub fixed_points: Vec<HeadFixedPoint>,
    pub fold: Option<Fold>,
    /// Why `fold` is absent, when it is.
    pub fold_note: Option<String>,
}

/// Head eigenvalues at the non-collapsed fixed point for a general `M`
/// (eigenvalues `mu_2..mu_K`) without weight decay: `W^2 = M` on the label
/// subspace for `symmetric` (`+sqrt(mu_k)`, the branch continuous with
/// `W = I`), `W = M` for `asymmetric`; no non-collapsed state otherwise
/// (unless `phi = 0`).
pub fn head_spectrum_lambda0(variant: Variant, mu: &[f64]) -> Vec<f64> {
    let rest = &mu[1..];
    match variant {
        Variant::Symmetric => rest.iter().map(|m| m.max(0.0).sqrt()).collect(),
        Variant::Asymmetric => rest.to_vec(),
        _ if rest.iter().all(|m| (m - 1.0).abs() < 1e-12) => rest.to_vec(),
        _ => Vec::new(),
    }
}

impl HeadTheory {
    pub fn new(cfg: &HeadConfig) -> Result<Self> {
        let a = cfg.base.label_weights()?;
        let operator = FrustrationOperator::new(&a)?;
        let d = &cfg.base.design;
        let k = a.classes() as f64;
        let reduction_exact = cfg.base.a_file.is_none() && d.pairing == Pairing::Balanced;
        let rho = if cfg.base.a_file.is_none() { d.rho } else { 0.5 };
        let f_eff = if reduction_exact { d.frustrated } else { operator.frustration_index * (k - 1.0) / (2.0 * k * rho * (1.0 - rho)) };
        let p = [f_eff, rho, k, cfg.base.eta_x, cfg.base.eta_y, cfg.eta_w, cfg.weight_decay];
        let lam = cfg.weight_decay;
        let head_spectrum = if lam == 0.0 {
            head_spectrum_lambda0(cfg.variant, &operator.spectrum)
        } else {
            closed_form_branches(cfg.variant, &p, 1.0)
                .first()
                .map(|(_, z)| vec![z[4]; a.classes() - 1])
                .unwrap_or_default()
        };
        let fixed_points = fixed_points(cfg.variant, &p, ZERO_TOL)?;
        let (fold, fold_note) = if lam == 0.0 {
            (None, Some("no weight decay: the non-collapsed branch exists for every phi < 1".into()))
        } else if !matches!(cfg.variant, Variant::Symmetric | Variant::Asymmetric) {
            (None, Some(format!("variant `{}` has no non-collapsed branch for f > 0", cfg.variant.name())))
        } else {
            match critical_frustration(cfg.variant, &p) {
                Ok(Some(f)) => (Some(f), None),
                Ok(None) => (None, Some("the non-collapsed branch exists up to f = 1".into())),
                Err(e) => (None, Some(e.to_string())),
            }
        };
        Ok(HeadTheory { operator, variant: cfg.variant, reduction_exact, reduced_params: p, head_spectrum, fixed_points, fold, fold_note })
    }

    /// JSON of `repcollapse theory head --json`.
    pub fn to_json(&self, cfg: &HeadConfig) -> Value {
        json!({
            "model": "head",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": cfg.to_json(),
            "variant": self.variant.name(),
            "frustration_index": self.operator.frustration_index,
            "m_spectrum": self.operator.spectrum,
            "head_spectrum": self.head_spectrum,
            "collapses": self.head_spectrum.is_empty(),
            "reduced_system": {"exact_for_this_design": self.reduction_exact, "params": self.reduced_params,
                               "param_names": crate::models::head::reduced::simplex::PARAMS, "state_names": crate::models::head::reduced::simplex::STATE},
            "fixed_points": self.fixed_points,
            "critical_frustration": self.fold.as_ref().map(|f| f.critical_frustration),
            "critical_phi": self.fold.as_ref().map(|f| f.critical_phi),
            "fold": self.fold,
            "fold_note": self.fold_note,
        })
    }
}

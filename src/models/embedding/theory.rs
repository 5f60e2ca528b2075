//! The reduced theory of Model E for one configuration, as reported by
//! `repcollapse theory embedding`: frustration operator, spectrum of the
//! class-level operator (slow and fast rates), the simplex cross-check for
//! the balanced design, and the fixed points with their stability.
use serde_json::{json, Value};

use crate::engine::{find_fixed_points, fixed_points_json, FixedPointOptions};
use crate::engine::jacobian_eigenvalues;
use crate::engine::VectorField;
use crate::error::Result;
use crate::models::embedding::config::EmbeddingConfig;
use crate::models::common::frustration::{FrustrationOperator, Pairing};
use crate::models::embedding::reduced::class_level::{ClassLevelSystem, ClassSpectrum};
use crate::models::embedding::reduced::simplex::SimplexSystem;

/// Everything the theory says about one Model E configuration.
#[derive(Clone, Debug)]
pub struct EmbeddingTheory {
    pub operator: FrustrationOperator,
    pub spectrum: ClassSpectrum,
    /// One-coordinate class-level system (fixed points are the same in every
    /// coordinate).
    pub system: ClassLevelSystem,
    /// Decay rates of the 4-variable simplex system, when it applies (balanced
    /// pairing, design not from a file).
    pub simplex_rates: Option<Vec<f64>>,
}

impl EmbeddingTheory {
    pub fn new(cfg: &EmbeddingConfig) -> Result<Self> {
        let a = cfg.label_weights()?;
        let operator = FrustrationOperator::new(&a)?;
        let system = ClassLevelSystem::new(&a, cfg.eta_x, cfg.eta_y, 1)?;
        let spectrum = system.spectrum()?;
        let simplex_rates = if cfg.a_file.is_none() && cfg.design.pairing == Pairing::Balanced {
            let s = SimplexSystem::new(cfg.design.frustrated, cfg.design.rho, cfg.design.classes, cfg.eta_x, cfg.eta_y);
            let ev = jacobian_eigenvalues(&s, &s.initial_state(), &s.default_params())?;
            let mut r: Vec<f64> = ev.iter().map(|e| -e.re).collect();
            r.sort_by(f64::total_cmp);
            Some(r)
        } else {
            None
        };
        Ok(EmbeddingTheory { operator, spectrum, system, simplex_rates })
    }

    /// First-order slow rate `phi eta_x eta_y / (eta_x + eta_y)`.
    pub fn first_order_slow_rate(&self) -> f64 {
        let (ex, ey) = (self.system.eta_x, self.system.eta_y);
        self.operator.frustration_index * ex * ey / (ex + ey)
    }

    /// JSON of `repcollapse theory embedding --json`.
    pub fn to_json(&self, cfg: &EmbeddingConfig) -> Result<Value> {
        let p = self.system.default_params_vec();
        let opts = FixedPointOptions { starts: 12, seed: cfg.design.seed, ..FixedPointOptions::default() };
        let fps = find_fixed_points(&self.system, &p, &opts)?;
        let k = self.operator.matrix.len();
        let mut fp_json = fixed_points_json(&self.system, &fps)["fixed_points"].clone();
        let components = self.system.components().len();
        for (entry, fp) in fp_json.as_array_mut().into_iter().flatten().zip(&fps) {
            let scale = fp.state.iter().map(|v| v.abs()).fold(1.0, f64::max);
            let (min_dist, _) = self.system.label_distances(&fp.state);
            let generic_separated = fp.report.family_dimension > 1;
            let interpretation = if generic_separated {
                format!(
                    "family of dimension {} (one free centre per connected class component): its generic member keeps the classes apart; no collapse",
                    fp.report.family_dimension
                )
            } else {
                "collapsed: every embedding sits at the conserved global centre of mass (the family is its position)".to_string()
            };
            entry["summary"] = json!({
                "collapsed": !generic_separated && min_dist <= 1e-9 * scale,
                "min_label_distance": min_dist,
                "connected_components": components,
                "interpretation": interpretation,
            });
        }
        let collapse = if self.spectrum.collapses() {
            json!({"collapses": true, "message": format!(
                "frustration contracts the label geometry: separation decays as exp(-{:.6} t)", self.spectrum.slow_rate)})
        } else {
            json!({"collapses": false, "message":
                "no collapse: a conserved centre of mass per connected class component keeps the classes apart (slow rate 0)"})
        };
        Ok(json!({
            "model": "embedding",
            "crate_version": env!("CARGO_PKG_VERSION"),
            "config": cfg.to_json(),
            "frustration_index": self.operator.frustration_index,
            "m_spectrum": self.operator.spectrum,
            "m_matrix": if k <= 16 { json!(self.operator.matrix) } else { Value::Null },
            "slow_rate": self.spectrum.slow_rate,
            "first_order_slow_rate": self.first_order_slow_rate(),
            "fast_rates": self.spectrum.fast_rates,
            "slow_band": self.spectrum.slow_band,
            "deviation_rate": self.spectrum.deviation_rate,
            "modes": self.spectrum.modes,
            "collapse_time": self.spectrum.collapse_time(),
            "collapse": collapse,
            "max_stable_dt": self.spectrum.max_stable_dt(),
            "groups": self.system.n_groups(),
            "simplex_rates": self.simplex_rates,
            "fixed_points": fp_json,
        }))
    }
}

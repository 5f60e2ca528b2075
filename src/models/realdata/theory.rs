//! Theory for the real-data runs.
//!
//! **Linear encoder (exact).** `x = W xi / sqrt(D)` trained by full-batch
//! gradient flow on one-hot (noisy) labels is Model T's finite-data flow
//! with the real, standardised design matrix in place of Gaussian inputs
//! (`models/teacher/finite/reduced.rs`, reused unchanged): per embedding coordinate
//! `z = (w, y)` obeys `dz/dt = -P H_N z` with
//! `H_N = (1/N) [[Xi^T Xi / D, -Xi^T A / sqrt(D)], [., diag(m)]]`, solved
//! exactly by the eigendecomposition of `S = P^{1/2} H_N P^{1/2}`. Its
//! smallest separating rate is the predicted slow rate of the label
//! separation; its hat-matrix operator `M_Pi = diag(m)^{-1} A^T Pi A`
//! (`Pi = Xi (Xi^T Xi)^+ Xi^T`) gives the frustration the encoder induces.
//! On clean labels, `1 - mu_max(M_Pi)` on label differences is the *natural*
//! frustration: zero exactly when least squares fits the one-hot targets
//! (`Pi A = A`), in particular whenever `N <= rank Xi`. It does not depend
//! on the embedding dimension `d` (the flow is the same for every coordinate).
//!
//! **MLP (linearised).** At large width the network stays close to its
//! linearisation (neural tangent kernel regime); see [`ntk`].
use serde::Serialize;

use super::config::{LabelMode, RealConfig};
use super::encoder::EncoderKind;
use super::simulation::{Evaluator, Labels, Prepared, Record, State};
use crate::error::{Error, Result};
use crate::models::head::config::Variant;
use crate::models::teacher::finite::simulation::TrainingSet;
use crate::models::teacher::finite::reduced::{hat_operator, FiniteFlow, FiniteSpectrum};

/// The finite-data training set of Model T holding the real inputs and the
/// observed labels of one draw.
pub fn training_set(prep: &Prepared, observed: &[usize]) -> TrainingSet {
    let tr = &prep.split.train;
    TrainingSet { xi: tr.features.clone(), class: tr.labels.clone(), label: observed.to_vec(), input_dim: tr.dim, classes: tr.classes() }
}

/// Hat-matrix summary of one label assignment.
#[derive(Clone, Debug, Serialize)]
pub struct HatSummary {
    /// Eigenvalues of `M_Pi` (descending).
    pub spectrum: Vec<f64>,
    /// `1 - mu_max(M_Pi)` on label differences.
    pub frustration: f64,
    /// `(eta_y/n) min eig (diag(m) - A^T Pi A)` on label differences: the
    /// slow rate when the encoder is fast (adiabatic limit).
    pub adiabatic_slow_rate: f64,
    /// Whether the linear encoder fits the labels exactly (`frustration < 1e-9`).
    pub fits: bool,
}

/// Hat-matrix summary of `labels` (one-hot) on the training inputs.
pub fn hat_summary(prep: &Prepared, observed: &[usize], eta_y: f64) -> Result<HatSummary> {
    let (spectrum, frustration, adiabatic_slow_rate) = hat_operator(&training_set(prep, observed), eta_y)?;
    Ok(HatSummary { spectrum, frustration, adiabatic_slow_rate, fits: frustration < 1e-9 })
}

/// The exact linear-encoder flow for one noise draw.
pub struct LinearTheory {
    pub flow: FiniteFlow,
    pub spectrum: FiniteSpectrum,
    /// `2 / largest rate`: gradient descent is stable below it.
    pub max_stable_dt: f64,
}

impl LinearTheory {
    /// Checks that the configuration is the one the flow is exact for.
    pub fn applies(cfg: &RealConfig) -> Result<()> {
        if cfg.encoder != EncoderKind::Linear {
            return Err(Error::invalid("encoder", cfg.encoder.name(), "linear (the exact finite-data flow is for the linear encoder; the MLP has the linearised theory)"));
        }
        if cfg.variant != Variant::None {
            return Err(Error::invalid("variant", cfg.variant.name(), "none (the finite-data flow has no head)"));
        }
        if cfg.weight_decay != 0.0 {
            return Err(Error::invalid("weight_decay", cfg.weight_decay, "0 (the finite-data flow has no weight decay)"));
        }
        if !cfg.optimizer.is_plain_gd() {
            return Err(Error::invalid("optimizer", format!("\"{}\"", cfg.params.text("optimizer")), "gd (the finite-data flow is for plain gradient descent; other rules are simulation only, empirical)"));
        }
        if cfg.labels != LabelMode::Sampled {
            return Err(Error::invalid("labels", "\"soft\"", "sampled (the finite-data flow is written for one-hot labels)"));
        }
        Ok(())
    }

    pub fn new(cfg: &RealConfig, prep: &Prepared, labels: &Labels) -> Result<Self> {
        Self::applies(cfg)?;
        let ts = training_set(prep, &labels.observed);
        let flow = FiniteFlow::new(&ts, cfg.eta_x, cfg.eta_y)?;
        let spectrum = flow.spectrum(&ts, cfg.eta_y)?;
        let top = flow.rates.iter().cloned().fold(0.0, f64::max);
        Ok(LinearTheory { flow, spectrum, max_stable_dt: 2.0 / top })
    }

    /// The exact trajectory from `start`, scored by the simulation's own
    /// measurement code at `times`.
    pub fn trajectory(&self, start: &State, prep: &Prepared, labels: &Labels, times: &[f64]) -> Vec<Record> {
        let (d, dd, k) = (start.encoder.dim, start.encoder.input_dim, prep.classes());
        let mut st = start.clone();
        let mut ev = Evaluator::new(&st, prep);
        let mut z0 = vec![0.0; dd + k];
        times
            .iter()
            .map(|&t| {
                for i in 0..d {
                    for j in 0..dd {
                        z0[j] = start.encoder.w1[(i, j)];
                    }
                    for c in 0..k {
                        z0[dd + c] = start.y[(c, i)];
                    }
                    let z = self.flow.evolve(&z0, t);
                    for j in 0..dd {
                        st.encoder.w1[(i, j)] = z[j];
                    }
                    for c in 0..k {
                        st.y[(c, i)] = z[dd + c];
                    }
                }
                ev.measure(t, &st, prep, labels)
            })
            .collect()
    }
}

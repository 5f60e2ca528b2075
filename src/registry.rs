//! The one place that names the built-in models and study kinds. The CLI,
//! the study runner and the Python bindings reach every model through it;
//! adding a model means adding its folder under `models/` and one line here.
use crate::config::{Overrides, ParamSpec};
use crate::error::{suggest, Error, Result};
pub use crate::model_api::{ModelOutput, RunOptions};
use crate::models::{embedding, head, realdata, ssl, teacher};
pub use crate::study::runner::StudyKind;

/// A built-in model: its parameter schema and its entry points.
pub struct ModelEntry {
    /// Name on the command line and in Python (`theory <name>`).
    pub name: &'static str,
    /// One line for help texts.
    pub about: &'static str,
    /// Parameters with ranges and defaults.
    pub schema: fn() -> &'static [ParamSpec],
    /// Reduced theory of one configuration.
    pub theory: fn(&Overrides, &RunOptions) -> Result<ModelOutput>,
    /// Microscopic ensemble compared with the theory.
    pub simulate: fn(&Overrides, &RunOptions) -> Result<ModelOutput>,
    /// The reduced ODE as model-file text.
    pub export: fn(&Overrides) -> Result<String>,
}

static MODELS: &[ModelEntry] = &[
    ModelEntry {
        name: "embedding",
        about: "Model E: free sample and label embeddings",
        schema: || embedding::config::SCHEMA,
        theory: embedding::api::theory,
        simulate: embedding::api::simulate,
        export: embedding::export::export,
    },
    ModelEntry {
        name: "head",
        about: "Model H: shared projection head with stop-gradient variants",
        schema: || head::config::SCHEMA.as_slice(),
        theory: head::api::theory,
        simulate: head::api::simulate,
        export: head::export::export,
    },
    ModelEntry {
        name: "teacher-student",
        about: "Model T: linear teacher-student (online SGD, order-parameter ODE)",
        schema: || teacher::config::SCHEMA,
        theory: teacher::api::theory,
        simulate: teacher::api::simulate,
        export: teacher::export::export,
    },
    ModelEntry {
        name: "real-data",
        about: "Encoders (linear, MLP) trained on real labelled data (bundled UCI digits or a CSV) with label noise",
        schema: || realdata::config::SCHEMA,
        theory: realdata::api::theory,
        simulate: realdata::api::simulate,
        export: realdata::export::export,
    },
    ModelEntry {
        name: "ssl",
        about: "Self-supervised learner (SimSiam, BYOL and their ablations) on augmented images (bundled UCI digits or a CSV)",
        schema: || ssl::config::SCHEMA,
        theory: ssl::api::theory,
        simulate: ssl::api::simulate,
        export: ssl::export::export,
    },
];

static STUDY_KINDS: &[StudyKind] = &[
    StudyKind::whole("two-timescales", embedding::studies::two_timescales::run),
    StudyKind::split("slow-rate", embedding::studies::slow_rate::run, embedding::studies::slow_rate::SWEEP),
    StudyKind::whole("spectrum", embedding::studies::spectrum::run),
    StudyKind::whole("convergence", embedding::studies::convergence::run),
    StudyKind::whole("optim-embedding", embedding::studies::optim::run),
    StudyKind::whole("head-ablation", head::studies::ablation::run),
    StudyKind::whole("head-spectrum", head::studies::spectrum::run),
    StudyKind::split("head-phase", head::studies::phase::run, head::studies::phase::SWEEP),
    StudyKind::whole("head-meanfield", head::studies::meanfield::run),
    StudyKind::whole("optim-head", head::studies::optim::run),
    StudyKind::whole("sphere", head::studies::sphere::run),
    StudyKind::whole("model-analysis", crate::study::model_analysis::run),
    StudyKind::split("teacher-convergence", teacher::studies::convergence::run, teacher::studies::convergence::SWEEP),
    StudyKind::whole("teacher-collapse", teacher::studies::collapse::run),
    StudyKind::split("teacher-finite-data", teacher::studies::finite_map::run, teacher::studies::finite_map::SWEEP),
    StudyKind::whole("teacher-head", teacher::studies::head::run),
    StudyKind::whole("teacher-phase", teacher::studies::phase::run),
    StudyKind::whole("optim-teacher", teacher::studies::optim::run),
    StudyKind::whole("realdata-figure", realdata::studies::figure::run),
    StudyKind::whole("realdata-slow-rate", realdata::studies::slow_rate::run),
    StudyKind::whole("realdata-head", realdata::studies::head::run),
    StudyKind::whole("ssl-ablation", ssl::studies::ablation::run),
    StudyKind::whole("ssl-predictor", ssl::studies::predictor::run),
    StudyKind::split("ssl-collapse-map", ssl::studies::collapse_map::run, ssl::studies::collapse_map::SWEEP),
];

/// Every built-in model, in help-text order.
pub fn models() -> &'static [ModelEntry] {
    crate::limits::deterministic_linear_algebra();
    MODELS
}

/// Model names, for help texts and validation.
pub fn model_names() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.name).collect()
}

/// The model called `name`, or an error naming the valid models.
pub fn model(name: &str) -> Result<&'static ModelEntry> {
    crate::limits::deterministic_linear_algebra();
    MODELS.iter().find(|m| m.name == name).ok_or_else(|| {
        let hint = suggest(name, model_names()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
        Error::invalid("model", format!("\"{name}\"{hint}"), format!("one of {}", model_names().join(" | ")))
    })
}

/// Every study kind.
pub fn study_kinds() -> &'static [StudyKind] {
    crate::limits::deterministic_linear_algebra();
    STUDY_KINDS
}

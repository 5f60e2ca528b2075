//! Configuration of the self-supervised learner (`docs/ssl.md`, "Keys"):
//! images and split, the four augmentations, encoder, projector, predictor,
//! loss, variant, optimiser and schedule. Every key is range-checked by the
//! schema; the keys whose range depends on the data (`shift`, `mask_size`,
//! `image_width`, `batch`) are checked when the images are loaded
//! ([`crate::models::ssl::simulation::Prepared::new`]).
use std::path::PathBuf;

use serde::Serialize;

use crate::config::{Kind, Overrides, ParamSpec, Params};
use crate::error::{Error, Result};
use crate::models::common::optimizer;
use crate::models::realdata::encoder::EncoderKind;

/// The five training variants of `docs/ssl.md` ("Variants"), mirroring
/// Model H's ablation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslVariant {
    /// `D(z1, z2)`, gradient through both branches.
    NoPredictor,
    /// `D(h(z1), z2)`, gradient through both branches.
    PredictorNoSg,
    /// `D(z1, sg z2)`.
    SgNoPredictor,
    /// `D(h(z1), sg z2)` (SimSiam).
    Simsiam,
    /// `D(h(z1), sg z2')` with `z'` from an EMA target network (BYOL).
    Byol,
}

impl SslVariant {
    pub const NAMES: [&'static str; 5] = ["no-predictor", "predictor-no-sg", "sg-no-predictor", "simsiam", "byol"];
    pub const ALL: [SslVariant; 5] = [SslVariant::NoPredictor, SslVariant::PredictorNoSg, SslVariant::SgNoPredictor, SslVariant::Simsiam, SslVariant::Byol];

    pub fn parse(s: &str) -> Result<Self> {
        Self::NAMES.iter().position(|n| *n == s).map(|i| Self::ALL[i]).ok_or_else(|| {
            let hint = crate::error::suggest(s, Self::NAMES).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
            Error::invalid("variant", format!("\"{s}\"{hint}"), Self::NAMES.join(" | "))
        })
    }
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|v| *v == self).expect("listed")]
    }
    /// Whether the online branch passes through the predictor.
    pub fn has_predictor(self) -> bool {
        matches!(self, SslVariant::PredictorNoSg | SslVariant::Simsiam | SslVariant::Byol)
    }
    /// Whether the gradient also flows through the target branch (no stop-gradient).
    pub fn target_gradient(self) -> bool {
        matches!(self, SslVariant::NoPredictor | SslVariant::PredictorNoSg)
    }
}

/// Per-pair loss `D(p, t)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// `-p.t / (|p| |t|)` (SimSiam, BYOL).
    Cosine,
    /// `|p - t|^2 / 2` (Model H).
    Squared,
}

/// The update rule, in PyTorch's conventions (`docs/ssl.md`, "Model").
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SslOptimizer {
    /// `torch.optim.SGD(momentum = mu, weight_decay = lambda)`:
    /// `v <- mu v + g + lambda w;  w <- w - lr v`.
    Sgd,
    /// `torch.optim.SGD(nesterov = True)`: `v <- mu v + d;  w <- w - lr (d + mu v)`
    /// with `d = g + lambda w`.
    Nesterov,
    /// `torch.optim.AdamW`: `w <- (1 - lr lambda) w;  m <- m + (1 - b1)(g - m);
    /// s <- b2 s + (1 - b2) g^2;  w <- w - (lr/(1 - b1^k)) m / (sqrt(s)/sqrt(1 - b2^k) + eps)`.
    AdamW { beta1: f64, beta2: f64, eps: f64 },
}

impl SslOptimizer {
    pub const NAMES: [&'static str; 3] = ["sgd", "nesterov", "adamw"];

    /// Reads `optimizer` and its constants. A key the chosen rule does not
    /// use must keep its default (`momentum` under `adamw`; `beta1`,
    /// `beta2`, `eps` under `sgd` and `nesterov`), so a setting is never
    /// silently ignored.
    pub fn from_params(p: &Params) -> Result<Self> {
        let name = p.text("optimizer");
        let (opt, unused): (Self, &[&ParamSpec]) = match name {
            "sgd" => (SslOptimizer::Sgd, &ADAM_KEYS),
            "nesterov" => (SslOptimizer::Nesterov, &ADAM_KEYS),
            "adamw" => (SslOptimizer::AdamW { beta1: p.real("beta1"), beta2: p.real("beta2"), eps: p.real("eps") }, &[&MOMENTUM_KEY]),
            other => return Err(Error::invalid("optimizer", format!("\"{other}\""), Self::NAMES.join(" | "))),
        };
        for spec in unused {
            let default: f64 = spec.default.parse().expect("numeric default");
            if p.real(spec.name) != default {
                return Err(Error::invalid(
                    spec.name,
                    p.real(spec.name),
                    format!("{} (its default): optimizer = \"{name}\" does not use `{}`", spec.default, spec.name),
                ));
            }
        }
        Ok(opt)
    }
}

/// The shared Adam keys (`beta1`, `beta2`, `eps`: `docs/optimisers.md`, section 1).
const ADAM_KEYS: [&ParamSpec; 3] = [&optimizer::KEYS[2], &optimizer::KEYS[3], &optimizer::KEYS[4]];
const MOMENTUM_KEY: ParamSpec = ParamSpec { name: "momentum", kind: Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: true }, default: "0.9", doc: "momentum mu of `sgd` and `nesterov` (PyTorch convention: v <- mu v + g + lambda theta, theta <- theta - lr v)" };

/// Predictor architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredictorKind {
    /// `p = W_p z`, `W_p` d x d (DirectPred's setting).
    Linear,
    /// `p = W_b relu(W_a z)` with `hidden` units.
    Mlp { hidden: usize },
}

/// Every key of the SSL model.
pub const SCHEMA: &[ParamSpec] = &[
    ParamSpec { name: "data_file", kind: Kind::Text, default: "\"\"", doc: "CSV (plain or gzip) of images, one per row, pixels then label (the real-data loader); empty = the bundled 8x8 digits" },
    ParamSpec { name: "label_column", kind: Kind::Text, default: "\"last\"", doc: "label column: last | first | 0-based index | header name (labels are used only to score the representation)" },
    ParamSpec { name: "image_width", kind: Kind::Int { min: 0, max: 100_000 }, default: "0", doc: "image width in pixels (must divide the number of pixels D); 0 = sqrt(D), D a perfect square" },
    ParamSpec { name: "test_fraction", kind: Kind::Real { min: 0.0, max: 1.0, open_min: true, open_max: true }, default: "0.3", doc: "held-out fraction (kNN and linear-probe accuracy are measured on it)" },
    ParamSpec { name: "train_samples", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "training images used (first of the permuted training split); 0 = all" },
    ParamSpec { name: "split_seed", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "seed of the fixed train/held-out permutation" },
    ParamSpec { name: "shift", kind: Kind::Int { min: 0, max: 100_000 }, default: "1", doc: "random translation by up to `shift` pixels in x and y, zero fill; below the image width and height" },
    ParamSpec { name: "noise_std", kind: Kind::NON_NEGATIVE, default: "0.1", doc: "std of the Gaussian pixel noise (pixels scaled to [0, 1])" },
    ParamSpec { name: "mask_size", kind: Kind::Int { min: 0, max: 100_000 }, default: "3", doc: "cutout square side in pixels (0 = off); at most the image width and height" },
    ParamSpec { name: "mask_prob", kind: Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false }, default: "0.5", doc: "probability that a view gets a cutout" },
    ParamSpec { name: "contrast", kind: Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: true }, default: "0.3", doc: "contrast scaling: pixels times a factor uniform in [1 - contrast, 1 + contrast]" },
    ParamSpec { name: "encoder", kind: Kind::Choice(&EncoderKind::NAMES), default: "\"mlp\"", doc: "encoder of the real-data model: linear x = W xi/sqrt(D) or MLP x = W2 relu(W1 xi/sqrt(D))/sqrt(m)" },
    ParamSpec { name: "width", kind: Kind::Int { min: 1, max: 1_000_000 }, default: "64", doc: "MLP encoder hidden width m" },
    ParamSpec { name: "dim", kind: Kind::Int { min: 1, max: 100_000 }, default: "16", doc: "representation dimension d (encoder, projector and predictor output)" },
    ParamSpec { name: "init_scale", kind: Kind::POSITIVE, default: "1.0", doc: "std of the encoder's last-layer weights" },
    ParamSpec { name: "projector", kind: Kind::Choice(&["linear", "none"]), default: "\"linear\"", doc: "projector z = P x (P d x d, entries N(0, 1/d) at start) or none (z = x)" },
    ParamSpec { name: "predictor", kind: Kind::Choice(&["linear", "mlp"]), default: "\"linear\"", doc: "predictor p = W_p z (d x d) or p = W_b relu(W_a z) (one hidden layer)" },
    ParamSpec { name: "pred_dim", kind: Kind::Int { min: 0, max: 100_000 }, default: "0", doc: "predictor input/output dimension; 0 = dim (any other value must equal dim)" },
    ParamSpec { name: "pred_hidden", kind: Kind::Int { min: 1, max: 1_000_000 }, default: "64", doc: "hidden width of the MLP predictor" },
    ParamSpec { name: "pred_init", kind: Kind::NON_NEGATIVE, default: "1.0", doc: "std of the predictor entries in units of 1/sqrt(fan-in)" },
    ParamSpec { name: "loss", kind: Kind::Choice(&["cosine", "squared"]), default: "\"cosine\"", doc: "negative cosine similarity (SimSiam, BYOL) or Model H's squared distance |p - t|^2/2, symmetrised over the views" },
    ParamSpec { name: "variant", kind: Kind::Choice(&SslVariant::NAMES), default: "\"simsiam\"", doc: "no-predictor | predictor-no-sg | sg-no-predictor | simsiam | byol" },
    ParamSpec { name: "tau", kind: Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false }, default: "0.99", doc: "BYOL target EMA rate: theta' <- tau theta' + (1 - tau) theta after every step" },
    ParamSpec { name: "lr", kind: Kind::RATE, default: "0.05", doc: "learning rate" },
    ParamSpec { name: "optimizer", kind: Kind::Choice(&SslOptimizer::NAMES), default: "\"sgd\"", doc: "update rule (PyTorch's): sgd (heavy ball) | nesterov (SGD with nesterov = True) | adamw (AdamW: bias correction, decoupled weight decay)" },
    MOMENTUM_KEY,
    optimizer::KEYS[2],
    optimizer::KEYS[3],
    optimizer::KEYS[4],
    ParamSpec { name: "weight_decay", kind: Kind::NON_NEGATIVE_RATE, default: "0.0005", doc: "weight decay lambda on every parameter (added to the gradient for sgd and nesterov, decoupled w <- (1 - lr lambda) w for adamw)" },
    ParamSpec { name: "epochs", kind: Kind::Int { min: 1, max: 1_000_000 }, default: "30", doc: "training epochs (indicators are measured after every epoch)" },
    ParamSpec { name: "batch", kind: Kind::Int { min: 1, max: i64::MAX }, default: "128", doc: "images per SGD step (two views each); at most the training set" },
    ParamSpec { name: "seed", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "first seed (initialisation, augmentations, batch order)" },
    ParamSpec { name: "seeds", kind: Kind::Int { min: 1, max: 100_000 }, default: "5", doc: "ensemble size (seeds run in parallel)" },
    ParamSpec { name: "knn_k", kind: Kind::Int { min: 1, max: 1_000 }, default: "5", doc: "neighbours of the kNN accuracy (cosine similarity)" },
    ParamSpec { name: "dump", kind: Kind::Text, default: "\"\"", doc: "path: write the first seed's initial weights, augmented batches and loss trajectory for `dump_steps` steps as JSON (replayed by benches/peers/ssl_torch.py)" },
    ParamSpec { name: "dump_steps", kind: Kind::Int { min: 1, max: 100_000 }, default: "20", doc: "steps recorded in the dump" },
];

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct SslConfig {
    pub data_file: Option<PathBuf>,
    pub label_column: String,
    pub image_width: usize,
    pub test_fraction: f64,
    pub train_samples: usize,
    pub split_seed: u64,
    pub shift: usize,
    pub noise_std: f64,
    pub mask_size: usize,
    pub mask_prob: f64,
    pub contrast: f64,
    pub encoder: EncoderKind,
    pub dim: usize,
    pub init_scale: f64,
    pub projector: bool,
    pub predictor: PredictorKind,
    pub pred_init: f64,
    pub loss: LossKind,
    pub variant: SslVariant,
    pub tau: f64,
    pub lr: f64,
    pub optimizer: SslOptimizer,
    pub momentum: f64,
    pub weight_decay: f64,
    pub epochs: usize,
    pub batch: usize,
    pub seed: u64,
    pub seeds: usize,
    pub knn_k: usize,
    pub dump: Option<PathBuf>,
    pub dump_steps: usize,
    pub params: Params,
}

impl SslConfig {
    pub fn from_table(table: &toml::Table, context: &str) -> Result<Self> {
        Self::from_params(Params::from_table(SCHEMA, table, context)?)
    }
    pub fn from_sets(sets: &[String]) -> Result<Self> {
        Self::from_overrides(&Overrides::from_sets(sets)?)
    }
    pub fn from_overrides(o: &Overrides) -> Result<Self> {
        let context = "ssl parameters";
        Self::from_params(Params::from_table(SCHEMA, &toml::Table::new(), context)?.with_pairs(SCHEMA, o, context)?)
    }

    pub fn from_params(p: Params) -> Result<Self> {
        let dim = p.usize("dim");
        let pred_dim = p.usize("pred_dim");
        if pred_dim != 0 && pred_dim != dim {
            return Err(Error::invalid("pred_dim", pred_dim, format!("0 or {dim} (the predictor maps the d = {dim} dimensional representation to itself)")));
        }
        let encoder = match p.text("encoder") {
            "linear" => EncoderKind::Linear,
            _ => EncoderKind::Mlp { width: p.usize("width") },
        };
        let predictor = match p.text("predictor") {
            "linear" => PredictorKind::Linear,
            _ => PredictorKind::Mlp { hidden: p.usize("pred_hidden") },
        };
        Ok(SslConfig {
            data_file: Some(p.text("data_file")).filter(|s| !s.is_empty()).map(PathBuf::from),
            label_column: p.text("label_column").to_string(),
            image_width: p.usize("image_width"),
            test_fraction: p.real("test_fraction"),
            train_samples: p.usize("train_samples"),
            split_seed: p.int("split_seed") as u64,
            shift: p.usize("shift"),
            noise_std: p.real("noise_std"),
            mask_size: p.usize("mask_size"),
            mask_prob: p.real("mask_prob"),
            contrast: p.real("contrast"),
            encoder,
            dim,
            init_scale: p.real("init_scale"),
            projector: p.text("projector") == "linear",
            predictor,
            pred_init: p.real("pred_init"),
            loss: if p.text("loss") == "cosine" { LossKind::Cosine } else { LossKind::Squared },
            variant: SslVariant::parse(p.text("variant"))?,
            tau: p.real("tau"),
            lr: p.real("lr"),
            optimizer: SslOptimizer::from_params(&p)?,
            momentum: p.real("momentum"),
            weight_decay: p.real("weight_decay"),
            epochs: p.usize("epochs"),
            batch: p.usize("batch"),
            seed: p.int("seed") as u64,
            seeds: p.usize("seeds"),
            knn_k: p.usize("knn_k"),
            dump: Some(p.text("dump")).filter(|s| !s.is_empty()).map(PathBuf::from),
            dump_steps: p.usize("dump_steps"),
            params: p,
        })
    }

    /// The parameter set as JSON, recorded in every result file. The
    /// optimiser keys are left out when all are at their defaults, so that
    /// `sgd` result files record what they recorded before the other rules
    /// existed (`momentum` is always recorded, as before).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = self.params.to_json();
        let at_default = self.optimizer == SslOptimizer::Sgd && ADAM_KEYS.iter().all(|s| self.params.real(s.name) == s.default.parse::<f64>().expect("numeric default"));
        if let (true, Some(obj)) = (at_default, v.as_object_mut()) {
            for key in ["optimizer", "beta1", "beta2", "eps"] {
                obj.remove(key);
            }
        }
        v
    }

    /// A copy with the `key=value` pairs applied (schema-checked), for studies.
    pub fn with_sets(&self, sets: &[String]) -> Result<Self> {
        Self::from_params(self.params.clone().with_overrides(SCHEMA, sets, "ssl parameters")?)
    }
}

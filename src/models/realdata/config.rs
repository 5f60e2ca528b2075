//! Configuration of the real-data model: data file and split, encoder, label
//! noise, head variant, rates and the training schedule.
use std::path::PathBuf;

use serde::Serialize;

use super::encoder::EncoderKind;
use super::noise::NoiseKind;
use crate::config::{Kind, Overrides, ParamSpec, Params};
use crate::models::common::optimizer::{self, Optimizer};
use crate::error::{Error, Result};
use crate::models::embedding::config::log_grid;
use crate::models::head::config::Variant;

/// How noisy labels enter the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelMode {
    /// One observed label per sample drawn from `T` (real label noise): `A_i = e_{l_i}`.
    Sampled,
    /// The expected label weights `A_i = T_{c(i)}` (Model E's frustrated rows).
    Soft,
}

/// Every key the real-data model accepts.
pub const SCHEMA: &[ParamSpec] = &[
    ParamSpec { name: "data_file", kind: Kind::Text, default: "\"\"", doc: "CSV (plain or gzip) with feature columns and a label column; empty = the bundled UCI digits" },
    ParamSpec { name: "label_column", kind: Kind::Text, default: "\"last\"", doc: "label column: last | first | 0-based index | header name" },
    ParamSpec { name: "test_fraction", kind: Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: true }, default: "0.3", doc: "held-out fraction of the fixed split" },
    ParamSpec { name: "train_samples", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "training samples used (subsample of the training split); 0 = all" },
    ParamSpec { name: "split_seed", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "seed of the fixed train/held-out permutation" },
    ParamSpec { name: "inputs", kind: Kind::Choice(&["standardised", "whitened"]), default: "\"standardised\"", doc: "input preprocessing (training statistics): standardised, or standardised then whitened (same hat matrix, equal encoder time scales)" },
    ParamSpec { name: "encoder", kind: Kind::Choice(&EncoderKind::NAMES), default: "\"linear\"", doc: "linear x = W xi/sqrt(D) or MLP x = W2 relu(W1 xi/sqrt(D))/sqrt(m)" },
    ParamSpec { name: "width", kind: Kind::Int { min: 1, max: 1_000_000 }, default: "256", doc: "MLP hidden width m" },
    ParamSpec { name: "dim", kind: Kind::Int { min: 1, max: 100_000 }, default: "10", doc: "embedding dimension d" },
    ParamSpec { name: "noise_kind", kind: Kind::Choice(&NoiseKind::NAMES), default: "\"symmetric\"", doc: "label-noise transition matrix" },
    ParamSpec { name: "noise_rate", kind: Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false }, default: "0.0", doc: "flip probability f (symmetric, pair-flip)" },
    ParamSpec { name: "noise_file", kind: Kind::Text, default: "\"\"", doc: "K x K CSV transition matrix (noise_kind = file)" },
    ParamSpec { name: "labels", kind: Kind::Choice(&["sampled", "soft"]), default: "\"sampled\"", doc: "sampled: one noisy label per sample; soft: A_i = row of T of the true class" },
    ParamSpec { name: "variant", kind: Kind::Choice(&Variant::NAMES), default: "\"none\"", doc: "shared head (Model H's variants; none = no head)" },
    ParamSpec { name: "eta_x", kind: Kind::RATE, default: "0.1", doc: "encoder rate (function-space rate of a sample whose kernel diagonal is 1)" },
    ParamSpec { name: "eta_y", kind: Kind::RATE, default: "1.0", doc: "label-embedding rate" },
    ParamSpec { name: "eta_w", kind: Kind::RATE, default: "1.0", doc: "head rate" },
    ParamSpec { name: "weight_decay", kind: Kind::NON_NEGATIVE_RATE, default: "0.0", doc: "weight decay on encoder weights, labels and head (each at its own rate)" },
    ParamSpec { name: "head_init_noise", kind: Kind::NON_NEGATIVE, default: "0.0", doc: "std of W(0) - I per entry, in units of 1/sqrt(d)" },
    ParamSpec { name: "init_scale", kind: Kind::POSITIVE, default: "1.0", doc: "std of the last-layer weights (labels start with std 1)" },
    ParamSpec { name: "seed", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "first seed (initialisation and noise draw)" },
    ParamSpec { name: "seeds", kind: Kind::Int { min: 1, max: 100_000 }, default: "6", doc: "ensemble size" },
    ParamSpec { name: "t_max", kind: Kind::POSITIVE, default: "60.0", doc: "final time" },
    ParamSpec { name: "t_min", kind: Kind::POSITIVE, default: "0.1", doc: "first non-zero time of the log-spaced output grid" },
    ParamSpec { name: "points", kind: Kind::Int { min: 2, max: 100_000 }, default: "40", doc: "number of log-spaced output times" },
    ParamSpec { name: "dt", kind: Kind::POSITIVE, default: "0.05", doc: "gradient-descent step (time per epoch); checked against 2 / largest rate for the linear encoder" },
    ParamSpec { name: "batch", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "SGD minibatch in samples; 0 = full batch" },
    optimizer::KEYS[0],
    optimizer::KEYS[1],
    optimizer::KEYS[2],
    optimizer::KEYS[3],
    optimizer::KEYS[4],
];

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct RealConfig {
    pub data_file: Option<PathBuf>,
    pub label_column: String,
    pub test_fraction: f64,
    pub train_samples: usize,
    pub split_seed: u64,
    pub whiten: bool,
    pub encoder: EncoderKind,
    pub dim: usize,
    pub noise_kind: NoiseKind,
    pub noise_rate: f64,
    pub labels: LabelMode,
    pub variant: Variant,
    pub eta_x: f64,
    pub eta_y: f64,
    pub eta_w: f64,
    pub weight_decay: f64,
    pub head_init_noise: f64,
    pub init_scale: f64,
    pub seed: u64,
    pub seeds: usize,
    pub t_max: f64,
    pub t_min: f64,
    pub points: usize,
    pub dt: f64,
    /// Samples per SGD step; `None` is full-batch gradient descent.
    pub batch: Option<usize>,
    /// Update rule around the gradient step (`docs/optimisers.md` section 1).
    pub optimizer: Optimizer,
    pub params: Params,
}

impl RealConfig {
    /// Defaults overridden by a TOML table (study file `[params]`).
    pub fn from_table(table: &toml::Table, context: &str) -> Result<Self> {
        Self::from_params(Params::from_table(SCHEMA, table, context)?)
    }

    /// Defaults overridden by `--set key=value` pairs.
    pub fn from_sets(sets: &[String]) -> Result<Self> {
        Self::from_overrides(&Overrides::from_sets(sets)?)
    }

    /// Defaults overridden by typed overrides (CLI, Python).
    pub fn from_overrides(o: &Overrides) -> Result<Self> {
        let context = "real-data parameters";
        Self::from_params(Params::from_table(SCHEMA, &toml::Table::new(), context)?.with_pairs(SCHEMA, o, context)?)
    }

    pub fn from_params(p: Params) -> Result<Self> {
        let encoder = match p.text("encoder") {
            "linear" => EncoderKind::Linear,
            _ => EncoderKind::Mlp { width: p.usize("width") },
        };
        let noise_kind = match p.text("noise_kind") {
            "symmetric" => NoiseKind::Symmetric,
            "pair-flip" => NoiseKind::PairFlip,
            _ => {
                let f = p.text("noise_file");
                if f.is_empty() {
                    return Err(Error::invalid("noise_file", "\"\"", "a path to a K x K CSV transition matrix (required with noise_kind = file)"));
                }
                NoiseKind::File(PathBuf::from(f))
            }
        };
        let batch = match p.usize("batch") {
            0 => None,
            b => Some(b),
        };
        let cfg = RealConfig {
            data_file: Some(p.text("data_file")).filter(|s| !s.is_empty()).map(PathBuf::from),
            label_column: p.text("label_column").to_string(),
            test_fraction: p.real("test_fraction"),
            train_samples: p.usize("train_samples"),
            split_seed: p.int("split_seed") as u64,
            whiten: p.text("inputs") == "whitened",
            encoder,
            dim: p.usize("dim"),
            noise_kind,
            noise_rate: p.real("noise_rate"),
            labels: if p.text("labels") == "soft" { LabelMode::Soft } else { LabelMode::Sampled },
            variant: Variant::parse(p.text("variant"))?,
            eta_x: p.real("eta_x"),
            eta_y: p.real("eta_y"),
            eta_w: p.real("eta_w"),
            weight_decay: p.real("weight_decay"),
            head_init_noise: p.real("head_init_noise"),
            init_scale: p.real("init_scale"),
            seed: p.int("seed") as u64,
            seeds: p.usize("seeds"),
            t_max: p.real("t_max"),
            t_min: p.real("t_min"),
            points: p.usize("points"),
            dt: p.real("dt"),
            batch,
            optimizer: Optimizer::from_params(&p)?,
            params: p,
        };
        if cfg.t_min >= cfg.t_max {
            return Err(Error::invalid("t_min", cfg.t_min, format!("(0, t_max = {})", cfg.t_max)));
        }
        if cfg.dt > cfg.t_max {
            return Err(Error::invalid("dt", cfg.dt, format!("(0, t_max = {}]", cfg.t_max)));
        }
        Ok(cfg)
    }

    /// The log-spaced output grid `0, t_min, ..., t_max`.
    pub fn time_grid(&self) -> Vec<f64> {
        log_grid(self.t_min, self.t_max, self.points)
    }

    /// The parameter set as JSON, recorded in every result file (the
    /// optimiser keys only when one differs from its default).
    pub fn to_json(&self) -> serde_json::Value {
        optimizer::strip_default_keys(self.params.to_json(), &self.params)
    }

    /// A copy with `key = value` overridden (schema-checked), for sweeps.
    pub fn with(&self, key: &str, value: impl Into<toml::Value>) -> Result<Self> {
        let mut t = toml::Table::new();
        for (k, v) in self.to_json().as_object().expect("object") {
            let tv: toml::Value = match v {
                serde_json::Value::String(s) => toml::Value::String(s.clone()),
                serde_json::Value::Number(n) if n.is_i64() => toml::Value::Integer(n.as_i64().expect("i64")),
                serde_json::Value::Number(n) => toml::Value::Float(n.as_f64().expect("f64")),
                serde_json::Value::Bool(b) => toml::Value::Boolean(*b),
                _ => continue,
            };
            t.insert(k.clone(), tv);
        }
        t.insert(key.to_string(), value.into());
        Self::from_table(&t, "real-data sweep")
    }
}

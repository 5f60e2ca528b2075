//! Configuration of Model E (embedding-only) runs: the data design, the
//! rates, the simulation and the ODE tolerances.
use std::path::PathBuf;

use serde::Serialize;

use crate::config::{Kind, Overrides, ParamSpec, Params};
use crate::error::{num, Error, Result};
use crate::models::common::frustration::{Design, LabelWeights, Pairing};
use crate::models::embedding::optimizer::{self, Optimizer};
use crate::models::embedding::sphere::{self, Loss};

/// Every key a Model E config accepts, with its range and default.
pub const SCHEMA: &[ParamSpec] = &[
    ParamSpec { name: "classes", kind: Kind::Int { min: 2, max: 10_000 }, default: "4", doc: "number of classes K" },
    ParamSpec { name: "per_class", kind: Kind::Int { min: 1, max: 100_000_000 }, default: "60", doc: "samples per class n" },
    ParamSpec { name: "dim", kind: Kind::Int { min: 1, max: 100_000 }, default: "8", doc: "embedding dimension d (>= K-1)" },
    ParamSpec { name: "frustrated", kind: Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false }, default: "0.1", doc: "fraction f of frustrated samples per class" },
    ParamSpec { name: "rho", kind: Kind::Real { min: 0.0, max: 0.5, open_min: true, open_max: false }, default: "0.5", doc: "frustration strength rho" },
    ParamSpec { name: "pairing", kind: Kind::Choice(&Pairing::NAMES), default: "\"balanced\"", doc: "partner choice of frustrated samples" },
    ParamSpec { name: "a_file", kind: Kind::Text, default: "\"\"", doc: "CSV file with the label-weight matrix A (overrides the design)" },
    ParamSpec { name: "eta_x", kind: Kind::RATE, default: "1.0", doc: "sample-embedding rate" },
    ParamSpec { name: "eta_y", kind: Kind::RATE, default: "1.0", doc: "label-embedding rate" },
    ParamSpec { name: "init_scale", kind: Kind::POSITIVE, default: "1.0", doc: "std of the initial sample embeddings (labels start with std 1)" },
    ParamSpec { name: "seed", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "first seed of the ensemble" },
    ParamSpec { name: "seeds", kind: Kind::Int { min: 1, max: 100_000 }, default: "8", doc: "ensemble size (seeds seed, seed+1, ...)" },
    ParamSpec { name: "t_max", kind: Kind::POSITIVE, default: "200.0", doc: "final time" },
    ParamSpec { name: "t_min", kind: Kind::POSITIVE, default: "0.01", doc: "first non-zero time of the log-spaced output grid" },
    ParamSpec { name: "points", kind: Kind::Int { min: 2, max: 100_000 }, default: "60", doc: "number of log-spaced output times" },
    ParamSpec { name: "dt", kind: Kind::POSITIVE, default: "0.05", doc: "gradient-descent step (time per epoch)" },
    ParamSpec { name: "batch", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "SGD minibatch in (sample, label) pairs; 0 = full batch" },
    ParamSpec { name: "noise", kind: Kind::NON_NEGATIVE, default: "0.0", doc: "temperature T of additive Langevin noise on the sample embeddings (0 = none)" },
    ParamSpec { name: "rtol", kind: Kind::POSITIVE, default: "1e-9", doc: "relative tolerance of the ODE solver" },
    ParamSpec { name: "atol", kind: Kind::POSITIVE, default: "1e-12", doc: "absolute tolerance of the ODE solver" },
    optimizer::KEYS[0],
    optimizer::KEYS[1],
    optimizer::KEYS[2],
    optimizer::KEYS[3],
    optimizer::KEYS[4],
    sphere::KEY,
];

/// A validated Model E configuration.
#[derive(Clone, Debug, Serialize)]
pub struct EmbeddingConfig {
    pub design: Design,
    pub a_file: Option<PathBuf>,
    pub dim: usize,
    pub eta_x: f64,
    pub eta_y: f64,
    pub init_scale: f64,
    pub seeds: usize,
    pub t_max: f64,
    pub t_min: f64,
    pub points: usize,
    pub dt: f64,
    /// Pairs per SGD step; `None` is full-batch gradient descent.
    pub batch: Option<usize>,
    /// Temperature `T` of additive noise: each step adds `sqrt(2 T tau) xi`
    /// to every sample embedding (`tau` = time per step).
    pub noise: f64,
    pub rtol: f64,
    pub atol: f64,
    /// The update rule (`docs/optimisers.md`); plain GD by default.
    pub optimizer: Optimizer,
    /// Squared loss on free embeddings, or the cosine loss on the unit
    /// sphere (`docs/embedding.md` section 8).
    pub loss: Loss,
    /// The raw parameter set, recorded in result files.
    #[serde(skip)]
    pub params: Params,
}

impl EmbeddingConfig {
    /// Builds and cross-validates a config from a checked parameter set.
    pub fn from_params(p: Params) -> Result<Self> {
        let design = Design {
            classes: p.usize("classes"),
            per_class: p.usize("per_class"),
            frustrated: p.real("frustrated"),
            rho: p.real("rho"),
            pairing: Pairing::parse(p.text("pairing"))?,
            seed: p.int("seed") as u64,
        };
        let a_file = Some(p.text("a_file")).filter(|s| !s.is_empty()).map(PathBuf::from);
        let cfg = EmbeddingConfig {
            design,
            a_file,
            dim: p.usize("dim"),
            eta_x: p.real("eta_x"),
            eta_y: p.real("eta_y"),
            init_scale: p.real("init_scale"),
            seeds: p.usize("seeds"),
            t_max: p.real("t_max"),
            t_min: p.real("t_min"),
            points: p.usize("points"),
            dt: p.real("dt"),
            batch: Some(p.usize("batch")).filter(|&b| b > 0),
            noise: p.real("noise"),
            rtol: p.real("rtol"),
            atol: p.real("atol"),
            optimizer: Optimizer::from_params(&p)?,
            loss: Loss::parse(p.text("loss"))?,
            params: p,
        };
        if cfg.t_min >= cfg.t_max {
            return Err(Error::invalid("t_min", cfg.t_min, format!("(0, t_max = {})", num(cfg.t_max))));
        }
        if cfg.dt > cfg.t_max {
            return Err(Error::invalid("dt", cfg.dt, format!("(0, t_max = {}]", num(cfg.t_max))));
        }
        if cfg.loss == Loss::Cosine {
            cfg.check_sphere()?;
        }
        cfg.check_memory()?;
        Ok(cfg)
    }

    /// Estimated peak memory in bytes of theory plus simulation, before
    /// anything is allocated: `N (96 + 32 d c) + 216 K^2` with `N` samples,
    /// `c = min(seeds, threads)` seeds in flight, four `N x d` arrays per
    /// seed (embeddings, step scratch, theory reconstruction, metrics),
    /// ~96 bytes of design bookkeeping per sample, and three dense
    /// class-level operators of side up to `3K`.
    pub fn memory_estimate(&self) -> f64 {
        let n = self.design.classes as f64 * self.design.per_class as f64;
        let k = self.design.classes as f64;
        let c = self.seeds.min(rayon::current_num_threads()).max(1) as f64;
        n * (96.0 + 32.0 * self.dim as f64 * c) + 216.0 * k * k
    }

    /// The cosine loss is implemented for full-batch gradient descent only
    /// (`docs/embedding.md` section 8): a key it would ignore is refused.
    fn check_sphere(&self) -> Result<()> {
        let why = "its default: loss = \"cosine\" runs full-batch gradient descent on the sphere";
        if let Some(b) = self.batch {
            return Err(Error::invalid("batch", b, format!("0 ({why})")));
        }
        if self.noise != 0.0 {
            return Err(Error::invalid("noise", self.noise, format!("0 ({why})")));
        }
        if !self.optimizer.is_plain_gd() {
            return Err(Error::invalid("optimizer", format!("\"{}\"", self.params.text("optimizer")), format!("\"gd\" ({why})")));
        }
        Ok(())
    }

    fn check_memory(&self) -> Result<()> {
        crate::limits::check_memory(
            "per_class",
            self.design.per_class,
            self.memory_estimate(),
            &format!("classes x per_class x (96 + 32 dim x seeds in flight) bytes with classes = {}, dim = {}", self.design.classes, self.dim),
        )
    }

    /// Config from `--set` pairs over the defaults.
    pub fn from_sets(sets: &[String]) -> Result<Self> {
        Self::from_overrides(&Overrides::from_sets(sets)?)
    }

    /// Config from typed overrides over the defaults.
    pub fn from_overrides(overrides: &Overrides) -> Result<Self> {
        let p = Params::from_table(SCHEMA, &toml::Table::new(), "embedding parameters")?
            .with_pairs(SCHEMA, overrides, "embedding parameters")?;
        Self::from_params(p)
    }

    /// Config from a TOML table (a study file's `[params]`) plus overrides.
    pub fn from_table(table: &toml::Table, sets: &[String], context: &str) -> Result<Self> {
        let p = Params::from_table(SCHEMA, table, context)?.with_overrides(SCHEMA, sets, context)?;
        Self::from_params(p)
    }

    /// The label weights: from `a_file` if given, else from the design. Checks
    /// that `dim >= K - 1` (K labels need K-1 dimensions to be mutually
    /// equidistant) and that `batch` does not exceed the number of pairs.
    pub fn label_weights(&self) -> Result<LabelWeights> {
        let a = match &self.a_file {
            Some(path) => LabelWeights::from_csv(path)?,
            None => LabelWeights::from_design(&self.design)?,
        };
        let k = a.classes();
        if self.dim + 1 < k {
            return Err(Error::invalid("dim", self.dim, format!("integer >= classes - 1 = {}", k - 1)));
        }
        if let Some(b) = self.batch {
            if b > a.pairs() {
                return Err(Error::invalid("batch", b, format!("0 (full batch) or [1, {}] (number of (sample, label) pairs)", a.pairs())));
            }
        }
        Ok(a)
    }

    /// The log-spaced output grid `0, t_min, ..., t_max`.
    pub fn time_grid(&self) -> Vec<f64> {
        log_grid(self.t_min, self.t_max, self.points)
    }

    /// The parameter set as JSON, recorded in every result file.
    /// The optimiser keys are left out while they are all at their
    /// defaults (plain GD), so that such files are unchanged.
    pub fn to_json(&self) -> serde_json::Value {
        sphere::strip_default_key(optimizer::strip_default_keys(self.params.to_json(), &self.params))
    }
}

/// `0` followed by `points` log-spaced times from `t_min` to `t_max`.
pub fn log_grid(t_min: f64, t_max: f64, points: usize) -> Vec<f64> {
    let (a, b) = (t_min.ln(), t_max.ln());
    let mut g = vec![0.0];
    g.extend((0..points).map(|k| (a + (b - a) * k as f64 / (points - 1).max(1) as f64).exp()));
    *g.last_mut().expect("non-empty") = t_max;
    g
}

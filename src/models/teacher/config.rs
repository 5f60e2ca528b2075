//! Configuration of Model T (linear teacher-student) runs: teacher, label
//! noise, student sizes, rates, initial order parameters, output grid.
use serde::Serialize;

use crate::config::{Kind, Overrides, ParamSpec, Params};
use crate::error::{num, Error, Result};
use crate::models::common::optimizer::{self, Optimizer};
use crate::models::embedding::config::log_grid;

/// The two teacher kinds of `docs/teacher.md` section 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TeacherKind {
    /// Class `c` uniform, `lambda = a e_c + sigma z`: linearly realizable.
    Mixture,
    /// `lambda ~ N(0, I_K)`, `c = argmax_k lambda_k`: not linearly realizable.
    Argmax,
}

impl TeacherKind {
    pub const NAMES: [&'static str; 2] = ["mixture", "argmax"];

    /// Parses a teacher name; the message lists the valid names.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "mixture" => Ok(TeacherKind::Mixture),
            "argmax" => Ok(TeacherKind::Argmax),
            other => Err(Error::invalid("teacher", format!("\"{other}\""), "one of mixture | argmax")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            TeacherKind::Mixture => "mixture",
            TeacherKind::Argmax => "argmax",
        }
    }
}

/// Projection-head variants of Model H available in Model T.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeadKind {
    /// No head (the order-parameter ODE of `models::teacher::online::reduced`).
    None,
    /// x, W from 1/2|W x - sg(y)|^2; y, W from 1/2|W y - sg(x)|^2.
    Symmetric,
    /// x, W from 1/2|W x - sg(y)|^2; y from 1/2|y - sg(x)|^2.
    Asymmetric,
}

impl HeadKind {
    pub const NAMES: [&'static str; 3] = ["none", "symmetric", "asymmetric"];
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(HeadKind::None),
            "symmetric" => Ok(HeadKind::Symmetric),
            "asymmetric" => Ok(HeadKind::Asymmetric),
            other => Err(Error::invalid("head", format!("\"{other}\""), "one of none | symmetric | asymmetric")),
        }
    }
    pub fn name(self) -> &'static str {
        HeadKind::NAMES[self as usize]
    }
}

/// Every key a Model T config accepts, with its range and default.
pub const SCHEMA: &[ParamSpec] = &[
    ParamSpec { name: "teacher", kind: Kind::Choice(&TeacherKind::NAMES), default: "\"mixture\"", doc: "teacher kind" },
    ParamSpec { name: "classes", kind: Kind::Int { min: 2, max: 64 }, default: "3", doc: "number of classes K" },
    ParamSpec { name: "dim", kind: Kind::Int { min: 1, max: 64 }, default: "3", doc: "student embedding dimension d (>= K - 1)" },
    ParamSpec { name: "input_dim", kind: Kind::Int { min: 3, max: 1_000_000 }, default: "400", doc: "input dimension D (>= K + 1)" },
    ParamSpec { name: "a", kind: Kind::POSITIVE, default: "1.5", doc: "mixture: class-mean amplitude a along the teacher direction" },
    ParamSpec { name: "sigma", kind: Kind::NON_NEGATIVE, default: "0.0", doc: "mixture: within-class std sigma of the teacher fields" },
    ParamSpec { name: "label_noise", kind: Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: true }, default: "0.1", doc: "probability f that a label is replaced by a uniformly drawn other class" },
    ParamSpec { name: "eta_x", kind: Kind::Real { min: 0.0, max: 2.0, open_min: true, open_max: true }, default: "0.5", doc: "encoder rate (SGD is stable for eta_x < 2)" },
    ParamSpec { name: "eta_y", kind: Kind::RATE, default: "0.5", doc: "label-embedding rate" },
    ParamSpec { name: "init_r", kind: Kind::NON_NEGATIVE, default: "0.3", doc: "std of the initial overlaps R_ik (shared by all D and seeds)" },
    ParamSpec { name: "init_y", kind: Kind::NON_NEGATIVE, default: "0.5", doc: "std of the initial label embeddings (shared by all D and seeds)" },
    ParamSpec { name: "init_w", kind: Kind::NON_NEGATIVE, default: "0.5", doc: "std of the initial encoder weights orthogonal to the teacher (Q - R R^T ~ init_w^2 I)" },
    ParamSpec { name: "init_seed", kind: Kind::Int { min: 0, max: i64::MAX }, default: "12345", doc: "seed of the initial order parameters R(0), y(0)" },
    ParamSpec { name: "seed", kind: Kind::Int { min: 0, max: i64::MAX }, default: "0", doc: "first seed of the ensemble" },
    ParamSpec { name: "seeds", kind: Kind::Int { min: 1, max: 100_000 }, default: "8", doc: "ensemble size" },
    ParamSpec { name: "t_max", kind: Kind::POSITIVE, default: "40.0", doc: "final time (t = steps / D online, gradient-flow time with finite data)" },
    ParamSpec { name: "t_min", kind: Kind::POSITIVE, default: "0.05", doc: "first non-zero output time (log grid)" },
    ParamSpec { name: "points", kind: Kind::Int { min: 2, max: 100_000 }, default: "40", doc: "number of log-spaced output times" },
    ParamSpec { name: "samples", kind: Kind::Int { min: 0, max: 100_000 }, default: "0", doc: "finite training set size N (0 = online, fresh sample every step)" },
    ParamSpec { name: "dt", kind: Kind::POSITIVE, default: "0.02", doc: "finite data: gradient-descent step of the encoder flow" },
    ParamSpec { name: "head", kind: Kind::Choice(&HeadKind::NAMES), default: "\"none\"", doc: "projection head variant (Model H): none | symmetric | asymmetric" },
    ParamSpec { name: "eta_w", kind: Kind::RATE, default: "0.5", doc: "head rate (head variants only)" },
    ParamSpec { name: "weight_decay", kind: Kind::NON_NEGATIVE_RATE, default: "0.0", doc: "weight decay lambda on encoder, labels and head, scaled by each rate (head variants only)" },
    ParamSpec { name: "rtol", kind: Kind::POSITIVE, default: "1e-9", doc: "relative tolerance of the ODE solver" },
    ParamSpec { name: "atol", kind: Kind::POSITIVE, default: "1e-18", doc: "absolute tolerance of the ODE solver (tiny: the spread Sigma decays to ~1e-12 during a collapse)" },
    optimizer::KEYS[0],
    optimizer::KEYS[1],
    optimizer::KEYS[2],
    optimizer::KEYS[3],
    optimizer::KEYS[4],
];

/// A validated Model T configuration.
#[derive(Clone, Debug, Serialize)]
pub struct TeacherConfig {
    pub teacher: TeacherKind,
    pub classes: usize,
    pub dim: usize,
    pub input_dim: usize,
    pub a: f64,
    pub sigma: f64,
    pub label_noise: f64,
    pub eta_x: f64,
    pub eta_y: f64,
    pub init_r: f64,
    pub init_y: f64,
    pub init_w: f64,
    pub init_seed: u64,
    pub seed: u64,
    pub seeds: usize,
    pub t_max: f64,
    pub t_min: f64,
    pub points: usize,
    /// `Some(N)` for a finite training set, `None` for online SGD.
    pub samples: Option<usize>,
    pub dt: f64,
    pub head: HeadKind,
    pub eta_w: f64,
    /// Weight decay `lambda` (head variants): `theta -= rate (grad + lambda theta)` per unit time.
    pub weight_decay: f64,
    pub rtol: f64,
    pub atol: f64,
    /// Update rule of online SGD (`docs/optimisers.md` section 8; online, no head).
    #[serde(skip)]
    pub optimizer: Optimizer,
    #[serde(skip)]
    pub params: Params,
}

impl TeacherConfig {
    /// Builds and cross-validates a config from a checked parameter set.
    pub fn from_params(p: Params) -> Result<Self> {
        let cfg = TeacherConfig {
            teacher: TeacherKind::parse(p.text("teacher"))?,
            classes: p.usize("classes"),
            dim: p.usize("dim"),
            input_dim: p.usize("input_dim"),
            a: p.real("a"),
            sigma: p.real("sigma"),
            label_noise: p.real("label_noise"),
            eta_x: p.real("eta_x"),
            eta_y: p.real("eta_y"),
            init_r: p.real("init_r"),
            init_y: p.real("init_y"),
            init_w: p.real("init_w"),
            init_seed: p.int("init_seed") as u64,
            seed: p.int("seed") as u64,
            seeds: p.usize("seeds"),
            t_max: p.real("t_max"),
            t_min: p.real("t_min"),
            points: p.usize("points"),
            samples: Some(p.usize("samples")).filter(|&n| n > 0),
            dt: p.real("dt"),
            head: HeadKind::parse(p.text("head"))?,
            eta_w: p.real("eta_w"),
            weight_decay: p.real("weight_decay"),
            rtol: p.real("rtol"),
            atol: p.real("atol"),
            optimizer: Optimizer::from_params(&p)?,
            params: p,
        };
        let k = cfg.classes;
        if cfg.dim + 1 < k {
            return Err(Error::invalid("dim", cfg.dim, format!("integer >= classes - 1 = {} (K labels need K-1 dimensions)", k - 1)));
        }
        if cfg.input_dim < k + 1 {
            return Err(Error::invalid("input_dim", cfg.input_dim, format!("integer >= classes + 1 = {}", k + 1)));
        }
        if cfg.label_noise > (k - 1) as f64 / k as f64 {
            return Err(Error::invalid("label_noise", cfg.label_noise, format!("[0, (K-1)/K = {}] (beyond it labels anti-correlate with the teacher)", num((k - 1) as f64 / k as f64))));
        }
        if cfg.weight_decay > 0.0 && cfg.head == HeadKind::None {
            return Err(Error::invalid("weight_decay", cfg.weight_decay, "0 without a head (weight decay is implemented for head = symmetric | asymmetric)"));
        }
        if !cfg.optimizer.is_plain_gd() && (cfg.head != HeadKind::None || cfg.samples.is_some()) {
            return Err(Error::invalid(
                "optimizer",
                format!("\"{}\"", cfg.params.text("optimizer")),
                "\"gd\" with a head or a finite training set (the optimisers run in online SGD without a head)",
            ));
        }
        if let Some(beta) = cfg.momentum_beta() {
            // Online SGD with momentum is SGD at rate eta/(1-beta) (docs/optimisers.md
            // section 8), stable for eta_x/(1-beta) < 2.
            if cfg.eta_x >= 2.0 * (1.0 - beta) {
                return Err(Error::invalid("eta_x", cfg.eta_x, format!("(0, 2 (1 - momentum) = {}) (online SGD with momentum is stable for eta_x/(1-beta) < 2)", num(2.0 * (1.0 - beta)))));
            }
        }
        if cfg.t_min >= cfg.t_max {
            return Err(Error::invalid("t_min", cfg.t_min, format!("(0, t_max = {})", num(cfg.t_max))));
        }
        if cfg.samples.is_some() && cfg.dt > cfg.t_max {
            return Err(Error::invalid("dt", cfg.dt, format!("(0, t_max = {}]", num(cfg.t_max))));
        }
        cfg.check_memory()?;
        Ok(cfg)
    }

    /// Estimated peak memory in bytes, before anything is allocated, with
    /// `D` = input_dim, `d` = dim, `K` = classes, `c = min(seeds, threads)`
    /// seeds in flight and `S = 2dK + d(d+1)/2` ODE states:
    /// online, `c (24 d D + 8 D) + 32 S^2` (encoder, its update, a sample;
    /// dense ODE Jacobians), plus `8 b c d D` for an optimiser's `b` buffers
    /// over `W` (momentum and Nesterov 2, Adam 3); finite data with `N` samples additionally
    /// `c (8 N D + 16 N d)` (the inputs and embeddings). The finite-data
    /// theory's dense flow operator is estimated by
    /// [`flow_memory_estimate`](Self::flow_memory_estimate).
    pub fn memory_estimate(&self) -> (f64, &'static str, usize) {
        let (dd, d, k) = (self.input_dim as f64, self.dim as f64, self.classes as f64);
        let c = self.seeds.min(rayon::current_num_threads()).max(1) as f64;
        let states = 2.0 * d * k + d * (d + 1.0) / 2.0;
        let buffers = match self.optimizer {
            Optimizer::Gd => 0.0,
            Optimizer::Momentum { .. } | Optimizer::Nesterov { .. } => 2.0,
            Optimizer::Adam { .. } => 3.0,
        };
        let online = c * ((24.0 + 8.0 * buffers) * d * dd + 8.0 * dd) + 32.0 * states * states;
        match self.samples {
            None => (online, "input_dim", self.input_dim),
            Some(n) => {
                let n = n as f64;
                // The dense flow operator is checked where it is built
                // (`FiniteExperiment::run`), since the GD path alone does not need it.
                let finite = c * (8.0 * n * dd + 16.0 * n * d);
                (online + finite, "samples", self.samples.unwrap_or(0))
            }
        }
    }

    /// Memory of the exact finite-data flow for all seeds in flight:
    /// `32 c (D + K)^2` bytes (the operator, its eigenvectors and the
    /// factorisation workspace, each dense of side `D + K`).
    pub fn flow_memory_estimate(&self) -> f64 {
        let c = self.seeds.min(rayon::current_num_threads()).max(1) as f64;
        let side = self.input_dim as f64 + self.classes as f64;
        32.0 * c * side * side
    }

    fn check_memory(&self) -> Result<()> {
        let (bytes, key, value) = self.memory_estimate();
        let formula = format!(
            "input_dim = {}, samples = {}, dim = {}, classes = {}, seeds in flight x (8 samples x input_dim + 24 dim x input_dim) bytes",
            self.input_dim,
            self.samples.unwrap_or(0),
            self.dim,
            self.classes
        );
        crate::limits::check_memory(key, value, bytes, &formula)
    }

    /// Config from `--set` pairs over the defaults.
    pub fn from_sets(sets: &[String]) -> Result<Self> {
        Self::from_overrides(&Overrides::from_sets(sets)?)
    }

    /// Config from typed overrides over the defaults.
    pub fn from_overrides(overrides: &Overrides) -> Result<Self> {
        let context = "teacher-student parameters";
        Self::from_params(Params::from_table(SCHEMA, &toml::Table::new(), context)?.with_pairs(SCHEMA, overrides, context)?)
    }

    /// Config from a TOML table (a study file's `[params]`) plus overrides.
    pub fn from_table(table: &toml::Table, sets: &[String], context: &str) -> Result<Self> {
        let p = Params::from_table(SCHEMA, table, context)?.with_overrides(SCHEMA, sets, context)?;
        Self::from_params(p)
    }

    /// The log-spaced output grid `0, t_min, ..., t_max`.
    pub fn time_grid(&self) -> Vec<f64> {
        log_grid(self.t_min, self.t_max, self.points)
    }

    /// The ODE parameter vector `[eta_x, eta_y, f, sigma, a]`. Under heavy-ball
    /// momentum or Nesterov the rates are the online limit's effective rates
    /// `eta/(1-beta)` (`docs/optimisers.md` section 8: in the `D -> infinity`
    /// limit at fixed `beta` both rules are online SGD at these rates, drift
    /// and noise).
    pub fn ode_params(&self) -> Vec<f64> {
        let scale = self.momentum_beta().map_or(1.0, |b| 1.0 / (1.0 - b));
        vec![scale * self.eta_x, scale * self.eta_y, self.label_noise, self.sigma, self.a]
    }

    /// `beta` of heavy-ball momentum or Nesterov, `None` for GD and Adam.
    pub fn momentum_beta(&self) -> Option<f64> {
        match self.optimizer {
            Optimizer::Momentum { beta } | Optimizer::Nesterov { beta } => Some(beta),
            Optimizer::Gd | Optimizer::Adam { .. } => None,
        }
    }

    /// Whether the order parameters have a closed reduced theory under the
    /// configured rule (every rule but Adam, `docs/optimisers.md` section 5).
    pub fn has_closure(&self) -> bool {
        !matches!(self.optimizer, Optimizer::Adam { .. })
    }

    /// The parameter set as JSON, recorded in every result file (the
    /// optimiser keys only when one differs from its default).
    pub fn to_json(&self) -> serde_json::Value {
        optimizer::strip_default_keys(self.params.to_json(), &self.params)
    }
}

//! Optimisers on top of a model's gradient-descent step (`docs/optimisers.md`):
//! heavy-ball momentum, Nesterov and Adam (with bias correction and AdamW's
//! decoupled weight decay), shared by Models E, H and T, the real-data and
//! the SSL learners.
//!
//! Every model already has a step that moves each parameter group by
//! `-lr g` (`lr = dt eta` of the group, `g` its gradient at the point the step
//! is taken). The optimisers wrap that step instead of rewriting it:
//! [`OptimizerState::begin`] remembers `theta_k` (and, for Nesterov, moves
//! the parameters to the look-ahead point), the model's own step runs, and
//! [`OptimizerState::finish`] reads the step `delta = -lr g` off the
//! parameters and applies the rule:
//!
//! ```text
//!   momentum:  v_{k+1} = beta v_k - lr g(theta_k),             theta_{k+1} = theta_k + v_{k+1}
//!   nesterov:  v_{k+1} = beta v_k - lr g(theta_k + beta v_k),  theta_{k+1} = theta_k + v_{k+1}
//!   adam:      m = b1 m + (1-b1) g,  s = b2 s + (1-b2) g^2,
//!              theta_{k+1} = theta_k - lr [ (m/(1-b1^k)) / (sqrt(s/(1-b2^k)) + eps) + lambda theta_k ]
//! ```
//!
//! (`v` is the displacement per step, so momentum is Polyak's
//! `theta_{k+1} = theta_k - lr g_k + beta (theta_k - theta_{k-1})`.) Adam's
//! gradient is recovered as `g = (theta_k - theta')/lr`, exact up to the
//! rounding of `theta` (a relative `1e-16 |theta| / (lr |g|)`). Plain GD
//! never calls this module, so its path is unchanged bit for bit. Every
//! operation is element-wise, so the result does not depend on the number
//! of threads; the buffers are sized once, so a step allocates nothing.
use serde::Serialize;

use crate::config::{Kind, ParamSpec, Params};
use crate::error::{Error, Result};

/// The optimiser keys, appended to each model's schema.
pub const KEYS: [ParamSpec; 5] = [
    ParamSpec { name: "optimizer", kind: Kind::Choice(&Optimizer::NAMES), default: "\"gd\"", doc: "update rule: gd | momentum (heavy ball) | nesterov | adam (AdamW: decoupled weight decay)" },
    ParamSpec { name: "momentum", kind: UNIT_INTERVAL, default: "0.0", doc: "momentum beta of `momentum` and `nesterov`" },
    ParamSpec { name: "beta1", kind: UNIT_INTERVAL, default: "0.9", doc: "Adam's first-moment decay" },
    ParamSpec { name: "beta2", kind: UNIT_INTERVAL, default: "0.999", doc: "Adam's second-moment decay" },
    ParamSpec { name: "eps", kind: Kind::POSITIVE, default: "1e-8", doc: "Adam's denominator offset" },
];

/// `[0, 1)`.
const UNIT_INTERVAL: Kind = Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: true };

/// An update rule and its constants.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "optimizer", rename_all = "kebab-case")]
pub enum Optimizer {
    /// Plain (full-batch or minibatch) gradient descent.
    Gd,
    /// Heavy ball, `beta` in `[0, 1)`.
    Momentum { beta: f64 },
    /// Nesterov's accelerated gradient (gradient at the look-ahead point).
    Nesterov { beta: f64 },
    /// Adam with bias correction; weight decay is decoupled (AdamW).
    Adam { beta1: f64, beta2: f64, eps: f64 },
}

impl Optimizer {
    pub const NAMES: [&'static str; 4] = ["gd", "momentum", "nesterov", "adam"];

    /// Reads the optimiser keys. A key the chosen rule does not use must keep
    /// its default, so that a setting is never silently ignored.
    pub fn from_params(p: &Params) -> Result<Self> {
        let name = p.text("optimizer");
        let opt = match name {
            "gd" => Optimizer::Gd,
            "momentum" => Optimizer::Momentum { beta: p.real("momentum") },
            "nesterov" => Optimizer::Nesterov { beta: p.real("momentum") },
            "adam" => Optimizer::Adam { beta1: p.real("beta1"), beta2: p.real("beta2"), eps: p.real("eps") },
            other => return Err(Error::invalid("optimizer", format!("\"{other}\""), "one of gd | momentum | nesterov | adam")),
        };
        let used: &[&str] = match opt {
            Optimizer::Gd => &[],
            Optimizer::Momentum { .. } | Optimizer::Nesterov { .. } => &["momentum"],
            Optimizer::Adam { .. } => &["beta1", "beta2", "eps"],
        };
        for spec in &KEYS[1..] {
            let default: f64 = spec.default.parse().expect("numeric default");
            if !used.contains(&spec.name) && p.real(spec.name) != default {
                return Err(Error::invalid(
                    spec.name,
                    p.real(spec.name),
                    format!("{} (its default): optimizer = \"{name}\" does not use `{}`", spec.default, spec.name),
                ));
            }
        }
        Ok(opt)
    }

    /// Whether this is plain gradient descent (the unwrapped step).
    pub fn is_plain_gd(&self) -> bool {
        *self == Optimizer::Gd
    }

    /// Factor on gradient descent's largest stable step `2/lambda_max` for a
    /// linear gradient field: heavy ball is stable for `dt lambda < 2(1+beta)`,
    /// Nesterov for `dt lambda < 2(1+beta)/(1+2 beta)` (Jury conditions on
    /// the characteristic polynomials of `reduced::momentum`); Adam's step is
    /// bounded per coordinate and has no such bound (infinite factor).
    pub fn stable_step_factor(&self) -> f64 {
        match *self {
            Optimizer::Gd => 1.0,
            Optimizer::Momentum { beta } => 1.0 + beta,
            Optimizer::Nesterov { beta } => (1.0 + beta) / (1.0 + 2.0 * beta),
            Optimizer::Adam { .. } => f64::INFINITY,
        }
    }

    /// Whether weight decay is decoupled from the gradient (AdamW) and is
    /// therefore applied by [`OptimizerState::finish`], not by the model's step.
    pub fn decoupled_decay(&self) -> bool {
        matches!(self, Optimizer::Adam { .. })
    }
}

/// Drops the optimiser keys from a config's JSON when they are all at their
/// defaults, so that plain-GD result files record what they recorded
/// before the optimisers existed (and any non-default choice is recorded).
pub fn strip_default_keys(mut v: serde_json::Value, p: &Params) -> serde_json::Value {
    let at_default = p.text("optimizer") == "gd" && KEYS[1..].iter().all(|s| p.real(s.name) == s.default.parse::<f64>().expect("numeric default"));
    if let (true, Some(obj)) = (at_default, v.as_object_mut()) {
        for s in &KEYS {
            obj.remove(s.name);
        }
    }
    v
}

/// The optimiser's memory over a flat parameter vector made of groups at
/// fixed offsets (Model E: `x`, `y`; Model H: `x`, `y`, `W`).
#[derive(Clone, Debug)]
pub struct OptimizerState {
    pub opt: Optimizer,
    /// `theta_k` of the current step.
    prev: Vec<f64>,
    /// Heavy ball / Nesterov: the displacement `v`; Adam: the first moment `m`.
    first: Vec<f64>,
    /// Adam's second moment `s`.
    second: Vec<f64>,
    /// Steps begun (Adam's bias-correction exponent).
    steps: i32,
    /// `1 - b1^k`, `1 - b2^k` of the current step.
    corrections: (f64, f64),
}

impl OptimizerState {
    /// Zero memory for `len` parameters (no buffers for plain GD).
    pub fn new(opt: Optimizer, len: usize) -> Self {
        let n = if opt.is_plain_gd() { 0 } else { len };
        let s = if matches!(opt, Optimizer::Adam { .. }) { len } else { 0 };
        OptimizerState { opt, prev: vec![0.0; n], first: vec![0.0; n], second: vec![0.0; s], steps: 0, corrections: (1.0, 1.0) }
    }

    /// Starts a step (call once per step, before the groups' [`begin`](Self::begin)).
    pub fn next_step(&mut self) {
        self.steps = self.steps.saturating_add(1);
        if let Optimizer::Adam { beta1, beta2, .. } = self.opt {
            self.corrections = (1.0 - beta1.powi(self.steps), 1.0 - beta2.powi(self.steps));
        }
    }

    /// Before the model's step: remembers the group `theta` (at `offset`)
    /// and, for Nesterov, moves it to the look-ahead point `theta + beta v`
    /// where the model's step will evaluate the gradient.
    pub fn begin(&mut self, offset: usize, theta: &mut [f64]) {
        let prev = &mut self.prev[offset..offset + theta.len()];
        prev.copy_from_slice(theta);
        if let Optimizer::Nesterov { beta } = self.opt {
            for (t, (&p, &v)) in theta.iter_mut().zip(prev.iter().zip(&self.first[offset..])) {
                *t = p + beta * v;
            }
        }
    }

    /// After the model's step, which left `theta' = theta_eval - lr g` in
    /// `theta` (`theta_eval` = `theta_k`, or the look-ahead point for
    /// Nesterov): applies the rule of the module doc. `decay` is the
    /// decoupled weight decay per unit `lr` (AdamW's `lambda`; 0 for the
    /// other rules, whose decay is inside `g`).
    pub fn finish(&mut self, offset: usize, theta: &mut [f64], lr: f64, decay: f64) {
        let len = theta.len();
        let prev = &self.prev[offset..offset + len];
        let first = &mut self.first[offset..offset + len];
        match self.opt {
            Optimizer::Gd => {}
            Optimizer::Momentum { beta } => {
                for ((t, &p), v) in theta.iter_mut().zip(prev).zip(first.iter_mut()) {
                    *v = beta * *v + (*t - p);
                    *t = p + *v;
                }
            }
            Optimizer::Nesterov { beta } => {
                for ((t, &p), v) in theta.iter_mut().zip(prev).zip(first.iter_mut()) {
                    // The look-ahead point, recomputed exactly as in `begin`.
                    let look = p + beta * *v;
                    *v = beta * *v + (*t - look);
                    *t = p + *v;
                }
            }
            Optimizer::Adam { beta1, beta2, eps } => {
                let (c1, c2) = self.corrections;
                let second = &mut self.second[offset..offset + len];
                for (((t, &p), m), s) in theta.iter_mut().zip(prev).zip(first.iter_mut()).zip(second.iter_mut()) {
                    let g = (p - *t) / lr;
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *s = beta2 * *s + (1.0 - beta2) * g * g;
                    *t = p - lr * ((*m / c1) / ((*s / c2).sqrt() + eps) + decay * p);
                }
            }
        }
    }
}

//! Mean-field self-consistency of Model H for heterogeneous frustration.
//!
//! Each frustrated sample carries its own strength `rho_i` drawn from a
//! distribution, with a uniformly random partner class. In the
//! simplex-symmetric description (exact in expectation over the random
//! pairings) one *effective sample* of strength `rho` (`rho = 0` for a
//! consistent one) sits, at stationarity, in the field of the head `w`:
//!
//! ```text
//!   p(rho; w) = w (1-rho) s / (w^2 + lambda),   q(rho; w) = w rho s / (w^2 + lambda)
//! ```
//!
//! and the head is fixed self-consistently by the average over that sample
//! of its pull on its labels,
//!
//! ```text
//!   X(w) = E_rho[ (1-rho)(p - q/(K-1)) + rho (q - p/(K-1)) ] / s,   rho ~ (1-f) delta_0 + f P(rho)
//!   symmetric:  w (w - X(w)) + lambda = 0      asymmetric:  1 + lambda - X(w) = 0
//! ```
//!
//! solved for the upper root with Brent's method (argmin `BrentRoot`). The
//! average is a quadrature over the effective sample's law; the heterogeneity
//! enters only through `E[rho (1-rho)]` (which the tests use as an
//! independent check: `phi_eff = 2 f E[rho(1-rho)] K/(K-1)`). At finite `n`
//! the empirical `M` fluctuates around its mean and the measured head
//! eigenvalues scatter around the mean-field value by `O(1/sqrt(f n))`.
use std::path::Path;

use argmin::core::{CostFunction, Executor};
use argmin::solver::brent::BrentRoot;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;

use crate::error::{Error, Result};
use crate::models::common::frustration::LabelWeights;
use crate::models::head::config::Variant;

/// The law of the frustration strength `rho in (0, 1/2]` of frustrated samples.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum RhoDistribution {
    /// `rho = a` with probability `prob`, else `b`.
    TwoPoint { a: f64, b: f64, prob: f64 },
    /// Uniform on `[lo, hi]`.
    Uniform { lo: f64, hi: f64 },
    /// `rho = B / 2` with `B ~ Beta(alpha, beta)`, `alpha, beta >= 1`.
    Beta { alpha: f64, beta: f64 },
}

const SPEC: &str = "two-point:a,b,prob | uniform:lo,hi | beta:alpha,beta (rho = Beta/2, alpha, beta >= 1), with 0 < a, b, lo < hi <= 0.5";

impl RhoDistribution {
    /// Parses `two-point:0.1,0.5,0.5`, `uniform:0.05,0.5` or `beta:2,4`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || Error::invalid("rho_distribution", s, SPEC);
        let (kind, args) = s.split_once(':').ok_or_else(bad)?;
        let v: Vec<f64> = args.split(',').map(|x| x.trim().parse::<f64>()).collect::<std::result::Result<_, _>>().map_err(|_| bad())?;
        let in_range = |r: f64| r > 0.0 && r <= 0.5;
        let d = match (kind.trim(), v.as_slice()) {
            ("two-point", [a, b, p]) if in_range(*a) && in_range(*b) && (0.0..=1.0).contains(p) => RhoDistribution::TwoPoint { a: *a, b: *b, prob: *p },
            ("uniform", [lo, hi]) if in_range(*lo) && in_range(*hi) && lo < hi => RhoDistribution::Uniform { lo: *lo, hi: *hi },
            ("beta", [a, b]) if *a >= 1.0 && *b >= 1.0 => RhoDistribution::Beta { alpha: *a, beta: *b },
            _ => return Err(bad()),
        };
        Ok(d)
    }

    /// `E[g(rho)]` by exact sum (two-point) or composite Simpson quadrature
    /// of the density (4000 intervals; the integrands are smooth).
    pub fn expect(&self, g: impl Fn(f64) -> f64) -> f64 {
        match *self {
            RhoDistribution::TwoPoint { a, b, prob } => prob * g(a) + (1.0 - prob) * g(b),
            RhoDistribution::Uniform { lo, hi } => simpson(|r| g(r) / (hi - lo), lo, hi),
            RhoDistribution::Beta { alpha, beta } => {
                let ln_b = ln_beta(alpha, beta);
                simpson(|u| g(0.5 * u) * ((alpha - 1.0) * u.max(1e-300).ln() + (beta - 1.0) * (1.0 - u).max(1e-300).ln() - ln_b).exp(), 0.0, 1.0)
            }
        }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut impl Rng) -> f64 {
        match *self {
            RhoDistribution::TwoPoint { a, b, prob } => if rng.random::<f64>() < prob { a } else { b },
            RhoDistribution::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
            RhoDistribution::Beta { alpha, beta } => 0.5 * rand_distr::Beta::new(alpha, beta).expect("alpha, beta >= 1").sample(rng),
        }
        .max(1e-12)
    }
}

fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const N: usize = 4000;
    let h = (b - a) / N as f64;
    let mut s = f(a) + f(b);
    for k in 1..N {
        s += if k % 2 == 1 { 4.0 } else { 2.0 } * f(a + k as f64 * h);
    }
    s * h / 3.0
}

fn ln_beta(a: f64, b: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Label pull `X(w)` of the effective sample (per unit label scale).
pub fn effective_pull(w: f64, f: f64, k: f64, lambda: f64, dist: &RhoDistribution) -> f64 {
    let k1 = k - 1.0;
    let pull = |rho: f64| {
        let p = w * (1.0 - rho) / (w * w + lambda);
        let q = w * rho / (w * w + lambda);
        (1.0 - rho) * (p - q / k1) + rho * (q - p / k1)
    };
    (1.0 - f) * pull(0.0) + f * dist.expect(pull)
}

struct Residual<'a> {
    variant: Variant,
    f: f64,
    k: f64,
    lambda: f64,
    dist: &'a RhoDistribution,
}

impl CostFunction for Residual<'_> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, w: &f64) -> std::result::Result<f64, argmin::core::Error> {
        let x = effective_pull(*w, self.f, self.k, self.lambda, self.dist);
        Ok(match self.variant {
            Variant::Symmetric => w * (w - x) + self.lambda,
            _ => 1.0 + self.lambda - x,
        })
    }
}

/// The self-consistent head eigenvalue on the label subspace (upper root),
/// or `None` when no non-collapsed solution exists. The bracket is found by
/// scanning down from `w = 1` (where the residual is positive) for the first
/// sign change; Brent's method then polishes to `1e-13`.
pub fn self_consistent_head(variant: Variant, f: f64, k: usize, lambda: f64, dist: &RhoDistribution) -> Result<Option<f64>> {
    if !matches!(variant, Variant::Symmetric | Variant::Asymmetric) {
        return Ok(None);
    }
    let res = Residual { variant, f, k: k as f64, lambda, dist };
    let r = |w: f64| res.cost(&w).expect("finite");
    let mut hi = 1.0;
    let r1 = r(1.0);
    if r1 <= 0.0 {
        return Err(Error::numerical("mean-field head", format!("residual at w = 1 is {r1}, expected > 0")));
    }
    const STEPS: usize = 2000;
    for j in 1..STEPS {
        let lo = 1.0 - j as f64 / STEPS as f64;
        let r_lo = r(lo);
        if r_lo <= 0.0 {
            let solver = BrentRoot::new(lo, hi, 1e-13);
            let out = Executor::new(res, solver)
                .configure(|s| s.param(0.5 * (lo + hi)).max_iters(200))
                .run()
                .map_err(|e| Error::numerical("mean-field head (BrentRoot)", e.to_string()))?;
            return Ok(out.state.best_param);
        }
        hi = lo;
    }
    Ok(None)
}

/// Label weights with heterogeneous frustration: `K` classes of `n`
/// samples, the first `round(f n)` of each frustrated with `rho_i ~ dist`
/// and a uniformly random partner class (ChaCha8 stream of `seed`).
pub fn heterogeneous_weights(k: usize, n: usize, f: f64, dist: &RhoDistribution, seed: u64) -> Result<LabelWeights> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x3e7e_0000);
    let nf = (f * n as f64).round() as usize;
    let mut text = String::from("class");
    (0..k).for_each(|c| text += &format!(",y{c}"));
    text.push('\n');
    for c in 0..k {
        for j in 0..n {
            let mut row = vec![0.0; k];
            if j < nf {
                let rho = dist.sample(&mut rng);
                let b = (c + 1 + rng.random_range(0..k - 1)) % k;
                row[c] = 1.0 - rho;
                row[b] = rho;
            } else {
                row[c] = 1.0;
            }
            text += &format!("{c}");
            row.iter().for_each(|v| text += &format!(",{v:e}"));
            text.push('\n');
        }
    }
    LabelWeights::from_csv_str(&text, Path::new("<heterogeneous design>"))
}

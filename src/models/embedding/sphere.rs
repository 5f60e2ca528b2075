//! Normalised embeddings with the cosine loss (`docs/embedding.md`
//! section 8): the `loss` key and the step of Model E on the unit sphere.
//!
//! With `loss = "cosine"` every sample `x_i` and label `y_c` is a unit
//! vector and the loss is `L = (1/N) sum_i sum_c A_ic (1 - x_i . y_c)`,
//! which on the sphere equals the squared loss `(1/2N) sum A_ic |x_i - y_c|^2`
//! (so the recorded `loss` metric is the same number). The flow is the
//! Riemannian (projected) gradient flow with Model E's rates,
//!
//! ```text
//!   dx_i/dt = eta_x (I - x_i x_i^T) ybar_i,          ybar_i = sum_c A_ic y_c
//!   dy_c/dt = (eta_y / n) (I - y_c y_c^T) S_c,       S_c = sum_i A_ic x_i
//! ```
//!
//! and one step is the projected gradient step followed by the retraction
//! `R(v) = v / |v|` (the metric projection back onto the sphere):
//!
//! ```text
//!   x_i <- R( x_i + dt eta_x (ybar_i - (x_i . ybar_i) x_i) )
//!   y_c <- R( y_c + (dt eta_y / n) (S_c - (y_c . S_c) y_c) )
//! ```
//!
//! with every right-hand side at the old state. It is a first-order method
//! for the flow (local error `O(dt^2)`). Near the collapsed point the
//! sphere is locally flat and the step is Model E's `Z <- (I - dt L) Z` in
//! the tangent plane, so the same stable-step bound `dt < 2/lambda_max`
//! applies.
use crate::config::{Kind, ParamSpec};
use crate::error::{Error, Result};
use crate::models::common::frustration::LabelWeights;

/// The loss key, appended to Model E's schema (and so to Model H's).
pub const KEY: ParamSpec = ParamSpec {
    name: "loss",
    kind: Kind::Choice(&Loss::NAMES),
    default: "\"squared\"",
    doc: "squared (free embeddings) | cosine (x and y on the unit sphere, loss 1 - cos; full-batch gd only)",
};

/// The loss of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// `(1/2N) sum A_ic |x_i - y_c|^2` on free embeddings.
    Squared,
    /// `(1/N) sum A_ic (1 - cos(x_i, y_c))` on the unit sphere.
    Cosine,
}

impl Loss {
    pub const NAMES: [&'static str; 2] = ["squared", "cosine"];

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "squared" => Ok(Loss::Squared),
            "cosine" => Ok(Loss::Cosine),
            other => Err(Error::invalid("loss", format!("\"{other}\""), "one of squared | cosine")),
        }
    }
}

/// Drops the `loss` key from a config's JSON while it is at its default, so
/// that result files of the squared loss are unchanged.
pub fn strip_default_key(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(obj) = v.as_object_mut() {
        if obj.get(KEY.name).and_then(|l| l.as_str()) == Some("squared") {
            obj.remove(KEY.name);
        }
    }
    v
}

/// Scales every row (of length `d`) of `v` to unit length: the retraction
/// `R(v) = v / |v|`. A zero row is left at zero (it has no direction; the
/// random starts give one with probability 0).
pub fn normalize_rows(v: &mut [f64], d: usize) {
    for row in v.chunks_exact_mut(d) {
        let n = row.iter().map(|a| a * a).sum::<f64>().sqrt();
        if n > 0.0 {
            for a in row.iter_mut() {
                *a /= n;
            }
        }
    }
}

/// `x <- R(x + c (g - (x . g) x))`: a projected gradient step of length `c`
/// along the pull `g`, then the retraction (module doc).
pub fn tangent_step(x: &mut [f64], g: &[f64], c: f64) {
    let dot: f64 = x.iter().zip(g).map(|(a, b)| a * b).sum();
    for (xv, &gv) in x.iter_mut().zip(g) {
        *xv += c * (gv - dot * *xv);
    }
    normalize_rows(x, x.len());
}

/// Samples per chunk of the parallel step; the class sums are accumulated
/// per chunk and the chunk sums added in chunk order, so the step is
/// bit-identical for any number of threads (as Model E's `gd_step`).
pub const CHUNK: usize = 2048;

/// One full-batch step of the cosine loss on the sphere (module doc), in
/// place; `x` is `N x d`, `y` is `K x d`, `cx = dt eta_x`,
/// `cy = dt eta_y / n`. `scratch` grows once to `chunks x (K + 1) x d`
/// values; later steps of the same shape allocate nothing.
pub fn gd_step(a: &LabelWeights, x: &mut [f64], y: &mut [f64], d: usize, cx: f64, cy: f64, scratch: &mut Vec<f64>) {
    let (k, n) = (a.classes(), a.samples());
    let chunks = n.div_ceil(CHUNK).max(1);
    let per = (k + 1) * d;
    if scratch.len() < chunks * per {
        scratch.resize(chunks * per, 0.0);
    }
    let labels: &[f64] = y;
    let work = |(ci, (xs, buf)): (usize, (&mut [f64], &mut [f64]))| {
        let (pull, target) = buf.split_at_mut(k * d);
        sample_chunk(a, ci * CHUNK, xs, labels, d, cx, pull, &mut target[..d]);
    };
    if chunks > 1 {
        use rayon::prelude::*;
        x.par_chunks_mut(CHUNK * d).zip(scratch[..chunks * per].par_chunks_mut(per)).enumerate().for_each(work);
    } else {
        x.chunks_mut(CHUNK * d).zip(scratch[..chunks * per].chunks_mut(per)).enumerate().for_each(work);
    }
    let (first, rest) = scratch[..chunks * per].split_at_mut(per);
    for part in rest.chunks(per) {
        for (s, v) in first[..k * d].iter_mut().zip(&part[..k * d]) {
            *s += v;
        }
    }
    for c in 0..k {
        tangent_step(&mut y[c * d..(c + 1) * d], &first[c * d..(c + 1) * d], cy);
    }
}

/// Class sums `sum_i A_ic x_i` (old `x`) and the sample steps of the samples
/// `first..first + xs.len()/d`.
#[allow(clippy::too_many_arguments)]
fn sample_chunk(a: &LabelWeights, first: usize, xs: &mut [f64], y: &[f64], d: usize, cx: f64, pull: &mut [f64], target: &mut [f64]) {
    pull.fill(0.0);
    for (off, xi) in xs.chunks_exact_mut(d).enumerate() {
        let (cols, vals) = a.row_slices(first + off);
        target.fill(0.0);
        for (&c, &w) in cols.iter().zip(vals) {
            for (p, &xv) in pull[c * d..(c + 1) * d].iter_mut().zip(xi.iter()) {
                *p += w * xv;
            }
            for (t, &yv) in target.iter_mut().zip(&y[c * d..(c + 1) * d]) {
                *t += w * yv;
            }
        }
        tangent_step(xi, target, cx);
    }
}

/// Mean cosine over the pairs `a < b` of the `K` unit labels in `y` (`K x d`):
/// `1 - ` it is the label-geometry contraction of the sphere studies
/// (`(1/2) |y_a - y_b|^2` averaged over pairs).
pub fn mean_label_cosine(y: &[f64], k: usize, d: usize) -> f64 {
    let norm = |c: usize| y[c * d..(c + 1) * d].iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut sum = 0.0;
    for a in 0..k {
        for b in a + 1..k {
            let dot: f64 = (0..d).map(|j| y[a * d + j] * y[b * d + j]).sum();
            sum += dot / (norm(a) * norm(b));
        }
    }
    sum / (k * (k - 1) / 2) as f64
}

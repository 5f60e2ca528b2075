//! Fixed points of the reduced Model H system ([`HeadSimplex`]): closed
//! forms, their stability (the engine's `engine::classify`, zero
//! modes attributed to [`HeadSimplex`]'s declared invariants), and the
//! weight-decay saddle-node `f_c`.
//!
//! Closed forms (derived in `docs/head.md`; `r = sqrt(1 - phi)`):
//! - `symmetric`: `x` stationary gives `v = w tau s/(w^2+lambda)`, so
//!   `X = (1-phi) w s/(w^2+lambda)`; the label equation then needs
//!   `(w^2+lambda)^2 = w^2 (1-phi)`, i.e. `w^2 - r|w| + lambda = 0`, and the head
//!   equation fixes the scale `s^2 = (K-1) w^2 / 2` (for `lambda > 0`; the
//!   scale is free at `lambda = 0`, where `w = +-r`: `W^2 = M`).
//! - `asymmetric`: `(1+lambda) (w^2+lambda) = (1-phi) w`, `s^2 = (K-1)(w^2+lambda)^2/(1-phi)`;
//!   at `lambda = 0`, `w = 1-phi` (`W = M`).
//! - `head`: `(1+w^2)^2 = 4 w^2 (1-phi)` has no real root for `phi > 0`;
//!   `none`/`sg-only`: Model E, `phi s = 0`. Only collapsed fixed points.
//!
//! The branch exists while the discriminant is non-negative: the two roots
//! `w+-` merge in a saddle-node at `phi_c = 1 - 4 lambda` (symmetric) and
//! `phi_c = 1 - 2 sqrt(lambda) (1+lambda)` (asymmetric), independent of the
//! rates. [`critical_frustration`] finds `f_c` numerically from the vector
//! field alone (scan + bisection + Newton on `F = 0, det J = 0`); the closed
//! forms above are only used by the tests, as an independent check.
use serde::Serialize;

use crate::engine::jacobian_matrix;
pub use crate::engine::Stability;
use crate::engine::{classify, StabilityOptions, StabilityReport};
use crate::engine::VectorField;
use crate::error::{Error, Result};
use crate::models::head::config::Variant;
use crate::models::head::reduced::simplex::HeadSimplex;

/// Whether an engine verdict is asymptotically stable (transversally to
/// the attributed zero modes).
pub fn is_stable(s: Stability) -> bool {
    matches!(s, Stability::StableNode | Stability::StableFocus)
}

/// A fixed point of the reduced system with its classification.
#[derive(Clone, Debug, Serialize)]
pub struct HeadFixedPoint {
    /// `collapsed` or `non-collapsed (w+)` etc.
    pub kind: String,
    pub state: Vec<f64>,
    /// Head eigenvalue on the label subspace.
    pub head_eigenvalue: f64,
    /// The engine's verdict (`engine::classify`): eigenvalues,
    /// stability type, zero modes and the invariants they are attributed to.
    #[serde(flatten)]
    pub classification: StabilityReport,
    /// Why the zero modes are there (or why it is stable/unstable).
    pub note: String,
}

/// Non-collapsed fixed points of the closed forms above, as states
/// `[s_u, p, q, s, w, c]` (at `lambda = 0` the scale is set by `s0`).
/// Empty when the branch does not exist.
pub fn closed_form_branches(variant: Variant, p: &[f64], s0: f64) -> Vec<(String, [f64; 6])> {
    let (rho, k1, lam) = (p[1], p[2] - 1.0, p[6]);
    let phi = HeadSimplex::phi(p);
    let mut ws: Vec<(String, f64, f64)> = Vec::new();
    match variant {
        Variant::Symmetric => {
            let r = (1.0 - phi).max(0.0).sqrt();
            let disc = r * r - 4.0 * lam;
            if disc >= 0.0 && phi < 1.0 {
                let roots: Vec<(&str, f64)> =
                    if lam == 0.0 { vec![("w+", r)] } else { vec![("w+", 0.5 * (r + disc.sqrt())), ("w-", 0.5 * (r - disc.sqrt()))] };
                for (name, w) in roots {
                    for sign in [1.0, -1.0] {
                        let s = if lam == 0.0 { s0 } else { w * (k1 / 2.0).sqrt() };
                        let label = format!("non-collapsed ({name}{})", if sign < 0.0 { ", mirrored head -w" } else { "" });
                        ws.push((label, sign * w, s));
                    }
                }
            }
        }
        Variant::Asymmetric => {
            let disc = (1.0 - phi).powi(2) - 4.0 * lam * (1.0 + lam).powi(2);
            if disc >= 0.0 && phi < 1.0 {
                let roots: Vec<(&str, f64)> = if lam == 0.0 {
                    vec![("w+", 1.0 - phi)]
                } else {
                    vec![("w+", ((1.0 - phi) + disc.sqrt()) / (2.0 * (1.0 + lam))), ("w-", ((1.0 - phi) - disc.sqrt()) / (2.0 * (1.0 + lam)))]
                };
                for (name, w) in roots {
                    let s = if lam == 0.0 { s0 } else { (k1 / (1.0 - phi)).sqrt() * (w * w + lam) };
                    ws.push((format!("non-collapsed ({name})"), w, s));
                }
            }
        }
        _ => {
            if phi == 0.0 && lam == 0.0 {
                ws.push(("non-collapsed (consistent data)".into(), 1.0, s0));
            }
        }
    }
    ws.into_iter()
        .map(|(name, w, s)| {
            let h = if variant == Variant::Head { 1.0 } else { 0.0 };
            let su = (1.0 + h) * w * s / (w * w + h + lam);
            (name, [su, (1.0 - rho) * su, rho * su, s, w, 0.0])
        })
        .collect()
}

/// Every fixed point of the reduced system of `variant` at parameters `p`,
/// classified: the non-collapsed branch(es) and the collapsed state(s).
/// Classification is `engine::classify` with `zero_tol` (an
/// eigenvalue is a zero mode when `|lambda| <= zero_tol max(1, max|lambda|)`);
/// the zero modes are attributed to [`HeadSimplex::invariants`].
pub fn fixed_points(variant: Variant, p: &[f64], zero_tol: f64) -> Result<Vec<HeadFixedPoint>> {
    let sys = HeadSimplex::new(variant, p[..7].try_into().expect("7 parameters"));
    let lam = p[6];
    let phi = HeadSimplex::phi(p);
    let opts = StabilityOptions { zero_tol };
    let mut out = Vec::new();
    for (kind, z) in closed_form_branches(variant, p, 1.0) {
        let cls = classify(&sys, &z, p, &opts)?;
        let note = if lam == 0.0 {
            "one zero mode: the overall scale of the embedding is free without weight decay (family of fixed points)".to_string()
        } else if !is_stable(cls.stability) {
            "saddle: its stable manifold separates the basins of the non-collapsed and the collapsed state".to_string()
        } else {
            "isolated: weight decay fixes the scale".to_string()
        };
        out.push(HeadFixedPoint { kind, head_eigenvalue: z[4], state: z.to_vec(), classification: cls, note });
    }
    // Collapsed states.
    let collapsed_ws: Vec<f64> = if !variant.trains_head() {
        vec![1.0]
    } else if lam > 0.0 {
        vec![0.0]
    } else {
        // A line of collapsed points (w free); show its two halves.
        let thr = match variant {
            Variant::Symmetric => (1.0 - phi).max(0.0).sqrt(),
            Variant::Asymmetric => 1.0 - phi,
            _ => 0.0,
        };
        if thr > 0.0 { vec![0.5 * thr, 1.0 + 0.5 * thr] } else { vec![1.0] }
    };
    for w in collapsed_ws {
        let z = [0.0, 0.0, 0.0, 0.0, w, 0.0];
        let cls = classify(&sys, &z, p, &opts)?;
        let note = match (variant, lam > 0.0) {
            (Variant::None | Variant::SgOnly, _) => {
                "Model E: W = I is not trained (one conserved zero mode); the label geometry contracts at the slow rate for phi > 0".into()
            }
            (_, true) => "weight decay makes the collapsed state an attractor (all rates ~ lambda)".into(),
            (Variant::Head, false) => "full gradient flow of a loss minimised by collapse: s decays for every w; w is neutral along the collapsed line".into(),
            (_, false) => format!(
                "line of collapsed points (w free: one zero mode); s grows (unstable) where the head is too weak, {}",
                if variant == Variant::Symmetric { "w^2 < 1-phi" } else { "w < 1-phi" }
            ),
        };
        out.push(HeadFixedPoint { kind: "collapsed".into(), head_eigenvalue: w, state: z.to_vec(), classification: cls, note });
    }
    Ok(out)
}

/// Residual of the reduced fixed-point problem along the head eigenvalue:
/// for a given `w`, the sample equations (linear in `s_u, p, q`) are solved
/// at `s = 1, c = 0` from two field evaluations, and the label equation's
/// residual per unit `s` is returned together with the scale `s^2` that the
/// head equation would need (`dw/dt` is `s^2 Q(w) - eta_w lambda w`; invalid
/// when negative). Uses only the vector field.
pub fn branch_residual(sys: &HeadSimplex, p: &[f64], w: f64) -> (f64, f64) {
    let mut z = [0.0, 0.0, 0.0, 1.0, w, 0.0];
    let (mut f0, mut f1) = ([0.0; 6], [0.0; 6]);
    sys.rhs(&z, p, &mut f0);
    let mut z1 = z;
    z1[..3].fill(1.0);
    sys.rhs(&z1, p, &mut f1);
    for i in 0..3 {
        z[i] = -f0[i] / (f1[i] - f0[i]);
    }
    let mut fz = [0.0; 6];
    sys.rhs(&z, p, &mut fz);
    // dw/dt at s = 1 is Q(w) - eta_w lambda w; dw/dt = s^2 Q - eta_w lambda w.
    let q = fz[4] + p[5] * p[6] * w;
    let s2 = if q.abs() > 0.0 { p[5] * p[6] * w / q } else { f64::NAN };
    (fz[3], s2)
}

/// Whether a non-collapsed fixed point exists at `p`: a sign change of
/// [`branch_residual`] on a fine grid of `w in (0, 2]` with a positive
/// scale `s^2`.
pub fn branch_exists(sys: &HeadSimplex, p: &[f64]) -> Option<f64> {
    const GRID: usize = 4000;
    let mut prev: Option<(f64, f64)> = None;
    for k in 1..=GRID {
        let w = 2.0 * k as f64 / GRID as f64;
        let (r, s2) = branch_residual(sys, p, w);
        if let Some((wp, rp)) = prev {
            if rp.signum() != r.signum() && (p[6] == 0.0 || s2 > 0.0) {
                return Some(0.5 * (w + wp));
            }
        }
        prev = Some((w, r));
    }
    None
}

/// The saddle-node of the non-collapsed branch.
#[derive(Clone, Debug, Serialize)]
pub struct Fold {
    pub critical_frustration: f64,
    pub critical_phi: f64,
    /// State at the fold `[s_u, p, q, s, w, c]`.
    pub state: Vec<f64>,
    /// `|F|` and `|det J|` after the Newton polish.
    pub residual: [f64; 2],
    pub method: String,
}

/// Critical frustration `f_c` where the non-collapsed branch of `variant`
/// disappears (`p[0]` is ignored). Robust part: bisection on `f in [0, 1]`
/// of [`branch_exists`] (the fold is where the two roots `w+-` merge);
/// polish: Newton on the augmented system `F(z; f) = 0, det J(z; f) = 0` in
/// the 7 unknowns `(z, f)` with a finite-difference Jacobian, started from
/// the bisection bracket. Written against [`VectorField`] so that the
/// engine's two-parameter fold continuation can replace or cross-check it.
/// `Ok(None)`: the branch exists for every `f <= 1` (or for none, see `Err`).
pub fn critical_frustration(variant: Variant, p: &[f64]) -> Result<Option<Fold>> {
    if !matches!(variant, Variant::Symmetric | Variant::Asymmetric) {
        return Err(Error::invalid("variant", variant.name(), "symmetric | asymmetric (the other variants have no non-collapsed branch for f > 0)"));
    }
    if p[6] <= 0.0 {
        return Err(Error::invalid("weight_decay", p[6], "(0, inf) for a critical frustration (without weight decay the branch exists up to phi = 1)"));
    }
    let mut pp: [f64; 7] = p[..7].try_into().expect("7 parameters");
    let sys = HeadSimplex::new(variant, pp);
    let exists = |f: f64, pp: &mut [f64; 7]| {
        pp[0] = f;
        branch_exists(&sys, pp)
    };
    let (mut lo, mut hi) = (0.0, 1.0);
    if exists(lo, &mut pp).is_none() {
        return Err(Error::numerical("critical frustration", "no non-collapsed branch even at f = 0 (weight decay too large)"));
    }
    if exists(hi, &mut pp).is_some() {
        return Ok(None);
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if exists(mid, &mut pp).is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // Initial state: the merging root at f = lo, completed from the field.
    pp[0] = lo;
    let w0 = branch_exists(&sys, &pp).unwrap_or(0.5);
    let (_, s2) = branch_residual(&sys, &pp, w0);
    let mut z = state_on_branch(&sys, &pp, w0, s2.max(1e-12).sqrt());
    let mut f = lo;
    let aug = |z: &[f64; 6], f: f64| -> Result<[f64; 7]> {
        let mut q = pp;
        q[0] = f;
        let mut out = [0.0; 7];
        sys.rhs(z, &q, &mut out[..6]);
        out[6] = det(&jacobian_matrix(&sys, z, &q))?;
        Ok(out)
    };
    let mut res = aug(&z, f)?;
    for _ in 0..30 {
        let norm = res.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm < 1e-13 {
            break;
        }
        let mut jm = nalgebra::DMatrix::<f64>::zeros(7, 7);
        for j in 0..7 {
            let h = 1e-7 * if j < 6 { z[j].abs().max(1e-3) } else { f.abs().max(1e-3) };
            let (mut zp, mut zm, mut fp, mut fm) = (z, z, f, f);
            if j < 6 {
                zp[j] += h;
                zm[j] -= h;
            } else {
                fp += h;
                fm -= h;
            }
            let (rp, rm) = (aug(&zp, fp)?, aug(&zm, fm)?);
            for i in 0..7 {
                jm[(i, j)] = (rp[i] - rm[i]) / (2.0 * h);
            }
        }
        let rhs = nalgebra::DVector::from_iterator(7, res.iter().map(|v| -v));
        let Some(step) = jm.lu().solve(&rhs) else { break };
        for j in 0..6 {
            z[j] += step[j];
        }
        f += step[6];
        res = aug(&z, f)?;
    }
    let mut q = pp;
    q[0] = f;
    let fnorm = res[..6].iter().map(|v| v * v).sum::<f64>().sqrt();
    // Accept the polish only if it stayed inside the bisection bracket.
    let (f, method) = if (f - lo).abs() <= 1e-6 + 1e-3 * lo && fnorm < 1e-8 {
        (f, "bisection on branch existence + Newton on (F = 0, det J = 0)")
    } else {
        (0.5 * (lo + hi), "bisection on branch existence (Newton polish rejected)")
    };
    q[0] = f;
    Ok(Some(Fold { critical_frustration: f, critical_phi: HeadSimplex::phi(&q), state: z.to_vec(), residual: [fnorm, res[6].abs()], method: method.into() }))
}

/// The state on the branch at head eigenvalue `w` and scale `s`.
fn state_on_branch(sys: &HeadSimplex, p: &[f64], w: f64, s: f64) -> [f64; 6] {
    let mut z = [0.0, 0.0, 0.0, s, w, 0.0];
    let (mut f0, mut f1) = ([0.0; 6], [0.0; 6]);
    sys.rhs(&z, p, &mut f0);
    let mut z1 = z;
    z1[..3].fill(1.0);
    sys.rhs(&z1, p, &mut f1);
    for i in 0..3 {
        z[i] = -f0[i] / (f1[i] - f0[i]);
    }
    z
}

/// Determinant from the LU factorisation (nalgebra).
fn det(m: &faer::Mat<f64>) -> Result<f64> {
    let n = m.nrows();
    let d = nalgebra::DMatrix::from_fn(n, n, |i, j| m[(i, j)]).determinant();
    if d.is_finite() { Ok(d) } else { Err(Error::numerical("det J", "non-finite determinant")) }
}

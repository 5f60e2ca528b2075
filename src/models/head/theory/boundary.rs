//! The weight-decay phase boundary of Model H from the generic engine: fold
//! detection by one-parameter continuation in `frustrated`, then
//! two-parameter continuation of the fold in `(frustrated, weight_decay)`.
//!
//! This is the engine's cross-check of
//! [`critical_frustration`](crate::models::head::theory::fixed_points::critical_frustration)
//! (bisection on branch existence + Newton on `F = 0, det J = 0`): both use
//! only the [`VectorField`](crate::engine::VectorField) of [`HeadSimplex`],
//! but share no numerical code. The closed forms `phi_c = 1 - 4 lambda`
//! (symmetric) and `1 - 2 sqrt(lambda) (1 + lambda)` (asymmetric) appear only
//! in the tests.
//!
//! Start: the closed-form non-collapsed fixed point `w+` at `f = 0`
//! ([`closed_form_branches`]). For `lambda > 0` it is an isolated stable
//! equilibrium (weight decay fixes the scale), so pseudo-arclength
//! continuation in `f` follows it to the saddle-node where it meets `w-`;
//! the fold is located by the sign change of the parameter component of the
//! tangent. At `lambda = 0` the scale of the embedding is free: every
//! equilibrium lies on a one-parameter family, `[J | F_f]` is rank deficient
//! and the continuation cannot start (the fold curve system degenerates as
//! `lambda -> 0`, where the scale mode's eigenvalue `~lambda` joins the
//! fold's zero eigenvalue). The engine path therefore requires
//! `weight_decay > 0` and the traced curve is restricted to
//! `lambda >= lam_min > 0` (traced without trouble down to `lam_min = 5e-4`).
use crate::engine::{continue_boundary, BoundaryCurve, BoundaryParams};
use crate::engine::{continue_equilibria, Bifurcation, BifurcationKind, ContinuationParams};
use crate::error::{Error, Result};
use crate::models::head::config::Variant;
use crate::models::head::theory::fixed_points::closed_form_branches;
use crate::models::head::reduced::simplex::HeadSimplex;

/// Index of `frustrated` in [`PARAMS`](crate::models::head::reduced::simplex::PARAMS).
pub const FRUSTRATED: usize = 0;
/// Index of `weight_decay` in [`PARAMS`](crate::models::head::reduced::simplex::PARAMS).
pub const WEIGHT_DECAY: usize = 6;

/// The largest `f` with `phi < 1` (`phi = 2 f rho (1-rho) K/(K-1)`): the
/// non-collapsed branch cannot extend beyond it.
fn f_at_phi_one(p: &[f64; 7]) -> f64 {
    (p[2] - 1.0) / (2.0 * p[2] * p[1] * (1.0 - p[1]))
}

fn check(variant: Variant, p: &[f64; 7]) -> Result<()> {
    if !matches!(variant, Variant::Symmetric | Variant::Asymmetric) {
        return Err(Error::invalid("variant", variant.name(), "symmetric | asymmetric (the other variants have no non-collapsed branch for f > 0)"));
    }
    if !(p[WEIGHT_DECAY] > 0.0 && p[WEIGHT_DECAY].is_finite()) {
        return Err(Error::invalid(
            "weight_decay",
            p[WEIGHT_DECAY],
            "(0, inf): at lambda = 0 the scale family makes the equilibria non-isolated and continuation impossible",
        ));
    }
    if !(p[1] > 0.0 && p[1] < 1.0 && p[2] >= 2.0) {
        return Err(Error::invalid("rho/classes", format!("{}/{}", p[1], p[2]), "rho in (0, 1), classes >= 2"));
    }
    Ok(())
}

/// The saddle-node of the non-collapsed branch found by the engine:
/// [`continue_equilibria`] in `frustrated` on `[0, f(phi = 1)]` from the
/// closed-form `w+` at `f = 0` (`p[0]` is ignored), returning the first
/// located fold. `Ok(None)`: the branch reaches `phi = 1` without a fold.
pub fn engine_fold(variant: Variant, p: &[f64; 7]) -> Result<Option<Bifurcation>> {
    check(variant, p)?;
    let mut p0 = *p;
    p0[FRUSTRATED] = 0.0;
    let branches = closed_form_branches(variant, &p0, 1.0);
    let (_, z0) = branches
        .iter()
        .find(|(name, _)| name.starts_with("non-collapsed (w+)"))
        .ok_or_else(|| Error::numerical("engine fold", format!("no non-collapsed branch even at f = 0 (weight decay {} too large)", p[WEIGHT_DECAY])))?;
    let sys = HeadSimplex::new(variant, p0);
    // The branch turns at the fold and returns along w- to f = 0, where it
    // stops on the bound (a few dozen steps).
    let cp = ContinuationParams::new(FRUSTRATED, 0.0, f_at_phi_one(p));
    let res = continue_equilibria(&sys, z0, &p0, &cp)?;
    Ok(res.bifurcations.into_iter().find(|b| b.kind == BifurcationKind::Fold && b.branch == 0))
}

/// The engine's fold and the fold curve through it.
#[derive(Clone, Debug)]
pub struct EngineBoundary {
    /// The fold located at `weight_decay = p[6]`.
    pub fold: Bifurcation,
    /// The fold curve in `(p1, p2) = (frustrated, weight_decay)`.
    pub curve: BoundaryCurve,
}

/// The whole phase boundary `f_c(lambda)` for `lambda in [lam_min, lam_max]`:
/// [`engine_fold`] at `lambda = p[6]` (which must lie in that range), then
/// [`continue_boundary`] of the fold in `(frustrated, weight_decay)` both
/// ways, with `f` kept in `[0, f(phi = 1)]` and arclength steps up to
/// `ds_max` (a smaller `ds_max` gives more points on the curve).
pub fn engine_boundary(variant: Variant, p: &[f64; 7], lam_min: f64, lam_max: f64, ds_max: f64) -> Result<EngineBoundary> {
    check(variant, p)?;
    if !(lam_min > 0.0 && lam_min <= p[WEIGHT_DECAY] && p[WEIGHT_DECAY] <= lam_max && lam_max.is_finite()) {
        return Err(Error::invalid(
            "lam_min/lam_max",
            format!("[{lam_min}, {lam_max}]"),
            format!("0 < lam_min <= weight_decay = {} <= lam_max (the scale family at lambda = 0 makes the fold system singular)", p[WEIGHT_DECAY]),
        ));
    }
    let fold = engine_fold(variant, p)?
        .ok_or_else(|| Error::numerical("engine boundary", format!("no fold of the non-collapsed branch below phi = 1 at lambda = {}", p[WEIGHT_DECAY])))?;
    let mut bp = BoundaryParams::new(FRUSTRATED, WEIGHT_DECAY, lam_min, lam_max);
    bp.p1_min = 0.0;
    bp.p1_max = f_at_phi_one(p);
    bp.arclength.ds_max = ds_max;
    bp.arclength.ds = bp.arclength.ds.min(ds_max);
    let mut pb = *p;
    pb[FRUSTRATED] = fold.param;
    let sys = HeadSimplex::new(variant, pb);
    let curve = continue_boundary(&sys, &fold, &pb, &bp)?;
    Ok(EngineBoundary { fold, curve })
}

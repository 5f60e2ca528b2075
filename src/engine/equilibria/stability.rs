//! Linear stability of a fixed point from the exact Jacobian, with zero modes
//! attributed to symmetries and conservation laws.
//!
//! At a fixed point `x*` the linearisation `d(dx)/dt = J dx`, `J = dF/dx (x*)`,
//! decides stability through the eigenvalues of `J`. Models with continuous
//! symmetries or conserved quantities have *structural* zero eigenvalues:
//!
//! * a conserved quantity `C(x)` with gradient `c` gives `c^T J = 0` (a left
//!   null vector); `J` maps everything into `T = {dx : c^T dx = 0}`, so it has
//!   one zero eigenvalue on the quotient `R^n / T` and the remaining spectrum
//!   is that of `J` restricted to `T`;
//! * a continuous symmetry with generator `v` gives `J v = 0` at a fixed point
//!   (a right null vector), tangent to a family of fixed points.
//!
//! A symmetry generator that is not inside `T` moves the conserved quantity
//! and therefore explains the *same* zero mode as the conservation law (e.g.
//! `x' = y - x, y' = x - y`: conserved `x + y`, family along `(1, 1)`). The
//! number of zero modes explained by `r_c` independent conservation gradients
//! (spanning `C`) and symmetry generators spanning `S` is therefore
//!
//! ```text
//!     explained = r_c + dim(S ∩ C^⊥) = r_c + dim S - rank(Q_C^T Q_S),
//! ```
//!
//! with `Q_C`, `Q_S` orthonormal bases of the projections of the declared
//! vectors onto the numerical left and right kernels of `J` (faer SVD).
//! Explained zero modes are neutral directions *along a family of fixed
//! points*; they do not make a point marginal, which is decided by the
//! transverse (non-zero) eigenvalues. Unexplained zero modes (a genuine
//! centre direction: bifurcation point, Jordan block, undeclared symmetry)
//! make it [`Stability::Marginal`] unless an eigenvalue with positive real
//! part already makes it unstable.
use faer::Mat;
use serde::{Deserialize, Serialize};

use crate::engine::equilibria::newton::{newton_with_workspace, NewtonOptions, SvdWorkspace};
use crate::engine::linalg::block_spectrum::{block_eigenvalues, BlockSpectrum};
use crate::engine::linalg::sparse_jacobian::SparseJacobian;
use crate::engine::linalg::spectrum::{jacobian_matrix, sorted_eigenvalues};
use crate::engine::{InvariantKind, VectorField};
use crate::error::{Error, Result};

/// One eigenvalue `re + i im` of the Jacobian.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eigenvalue {
    pub re: f64,
    pub im: f64,
}

/// Linear stability type of a fixed point (or of a family of fixed points,
/// judged on its transverse eigenvalues).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stability {
    /// All transverse eigenvalues real and negative.
    StableNode,
    /// All transverse eigenvalues with negative real part, some complex.
    StableFocus,
    /// All non-zero eigenvalues with positive real part, all real.
    UnstableNode,
    /// All non-zero eigenvalues with positive real part, some complex.
    UnstableFocus,
    /// Eigenvalues with positive and with negative real parts.
    Saddle,
    /// No eigenvalue with positive real part but an unexplained zero mode or
    /// a purely imaginary pair: linear analysis is inconclusive.
    Marginal,
    /// The spectrum of a large system was not computed (the report's
    /// `spectrum_note` says why and how to get it).
    NotComputed,
}

/// A zero mode explained by a declared (or numerically detected) invariant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZeroModeAttribution {
    pub name: String,
    pub kind: InvariantKind,
}

/// Result of [`classify`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StabilityReport {
    /// All eigenvalues of `J`, sorted by decreasing real part.
    pub eigenvalues: Vec<Eigenvalue>,
    pub stability: Stability,
    /// Number of eigenvalues with `|lambda| <= zero_tol * max(1, max|lambda|)`.
    pub zero_modes: usize,
    /// The invariants that explain zero modes (one entry per explained mode).
    pub attributed: Vec<ZeroModeAttribution>,
    /// `zero_modes` minus the number of explained modes.
    pub unexplained_zero_modes: usize,
    /// Dimension of the family of fixed points through `x` implied by the
    /// explained zero modes (0 for an isolated fixed point).
    pub family_dimension: usize,
    /// For large sparse systems only: how the spectrum was obtained, or why
    /// it was not (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spectrum_note: Option<String>,
}

/// Largest diagonal block of a large sparse Jacobian whose eigenvalues are
/// computed densely (about 0.1 s each): beyond it, the stability of a large
/// system is reported as not computed, never paid for as an `n^3` eigenproblem
/// at every point.
pub const MAX_DENSE_BLOCK: usize = 400;

/// Controls of [`classify`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StabilityOptions {
    /// An eigenvalue is a zero mode when `|lambda| <= zero_tol * max(1,
    /// max|lambda|)`; a singular value is in the numerical kernel when
    /// `sigma <= zero_tol * max(1, sigma_max)`; real parts within the same
    /// threshold of 0 count as neutral.
    pub zero_tol: f64,
}

impl Default for StabilityOptions {
    /// `1e-7`: above the ~1e-8 eigenvalue splitting a double zero eigenvalue
    /// suffers from round-off at a polished fixed point, far below any
    /// physically meaningful rate in O(1)-scaled models.
    fn default() -> Self {
        StabilityOptions { zero_tol: 1e-7 }
    }
}

/// Orthonormal-basis tolerance: a vector adds a direction when its component
/// orthogonal to the current basis keeps this fraction of its norm.
const INDEPENDENCE_TOL: f64 = 1e-6;
/// Relative displacement used by the numerical family test.
const FAMILY_EPS: f64 = 1e-3;

/// Classifies the fixed point `x` of `field` at parameters `p`.
///
/// Zero modes are attributed to `field.invariants(x, p)` as in the module
/// docs. When the field declares no invariants, each right-kernel direction
/// `v` is tested numerically: `x + eps v` (`eps = 1e-3 max(1, ||x||)`) is
/// Newton-corrected back onto `F = 0` with minimum-norm steps (which are
/// orthogonal to the kernel, so they cannot slide along it). On a genuine
/// family the corrected point stays at distance `~eps` from `x`; at an
/// isolated degenerate point (saddle-node, pitchfork) Newton returns towards
/// `x` (distance `<< eps`) or fails. Directions whose corrected displacement
/// has length in `[0.5, 1.5] eps` count as family directions (their number is
/// the rank of the displacement matrix); kernel bases that mix family and
/// non-family directions are under-attributed (conservative: Marginal).
///
/// Classification uses the non-zero eigenvalues: positive and negative real
/// parts give a saddle, only positive ones an unstable node/focus (even with
/// zero modes, which cannot restore stability). Otherwise unexplained zero
/// modes, purely imaginary pairs, or the absence of any non-zero eigenvalue
/// give Marginal, and all-negative real parts a stable node/focus. Focus when
/// some non-zero eigenvalue has `|im|` above the zero threshold.
pub fn classify(
    field: &dyn VectorField,
    x: &[f64],
    p: &[f64],
    opts: &StabilityOptions,
) -> Result<StabilityReport> {
    let n = field.dim();
    if x.len() != n {
        return Err(Error::invalid("x (length)", x.len(), format!("{n} (state dimension)")));
    }
    let m = field.param_names().len();
    if p.len() != m {
        return Err(Error::invalid("p (length)", p.len(), format!("{m} (parameters of `{}`)", field.name())));
    }
    if !(opts.zero_tol > 0.0 && opts.zero_tol < 1.0) {
        return Err(Error::invalid("stability.zero_tol", opts.zero_tol, "(0, 1)"));
    }
    let mut spectrum_note = None;
    let sparse = SparseJacobian::for_field(field);
    let ev = match sparse {
        None => sorted_eigenvalues(&jacobian_matrix(field, x, p))?,
        Some(mut sp) => {
            if !sp.evaluate(field, x, p) {
                return Err(Error::numerical("eigenvalue decomposition", "matrix has non-finite entries"));
            }
            match block_eigenvalues(n, sp.pattern(), sp.entries(), MAX_DENSE_BLOCK)? {
                BlockSpectrum::Full(ev) => {
                    spectrum_note = Some(format!(
                        "large sparse system (n = {n}): eigenvalues from the diagonal blocks of its block triangular form \
                         (largest block <= {MAX_DENSE_BLOCK}); zero modes are not attributed to invariants"
                    ));
                    ev
                }
                BlockSpectrum::TooLarge { largest, limit } => {
                    return Ok(StabilityReport {
                        eigenvalues: Vec::new(),
                        stability: Stability::NotComputed,
                        zero_modes: 0,
                        attributed: Vec::new(),
                        unexplained_zero_modes: 0,
                        family_dimension: 0,
                        spectrum_note: Some(spectrum_not_computed(n, largest, limit)),
                    });
                }
            }
        }
    };
    let lam_scale = ev.iter().map(|l| l.norm()).fold(1.0_f64, f64::max);
    let lam_thr = opts.zero_tol * lam_scale;
    let is_zero: Vec<bool> = ev.iter().map(|l| l.norm() <= lam_thr).collect();
    let zero_modes = is_zero.iter().filter(|z| **z).count();

    let mut attributed = Vec::new();
    let mut family_dimension = 0;
    let mut explained = 0;
    if zero_modes > 0 && spectrum_note.is_none() {
        let mut ws = SvdWorkspace::new(n);
        ws.factor(field, x, p)?;
        let (right, left) = kernels(&ws, opts.zero_tol);
        let invariants = field.invariants(x, p);
        if invariants.is_empty() {
            explained = numerical_family_directions(field, x, p, &right, &mut ws)?;
            attributed = (1..=explained)
                .map(|i| ZeroModeAttribution {
                    name: format!("numerical family direction {i}"),
                    kind: InvariantKind::Symmetry,
                })
                .collect();
        } else {
            let check_tol = 10.0 * lam_thr;
            let mut c_basis: Vec<Vec<f64>> = Vec::new();
            let mut s_basis: Vec<Vec<f64>> = Vec::new();
            let mut s_in_t = 0;
            // Conservation laws first: they explain their modes regardless of
            // which symmetries are declared.
            let mut order: Vec<usize> = (0..invariants.len()).collect();
            order.sort_by_key(|&i| invariants[i].kind != InvariantKind::Conservation);
            for &i in &order {
                let inv = &invariants[i];
                if inv.vector.len() != n {
                    return Err(Error::invalid(
                        format!("invariant `{}` of `{}` (vector length)", inv.name, field.name()),
                        inv.vector.len(),
                        format!("{n} (state dimension)"),
                    ));
                }
                let Some(unit) = normalized(&inv.vector) else { continue };
                match inv.kind {
                    InvariantKind::Conservation => {
                        // c^T J = 0 must hold numerically, else the declared law
                        // does not apply here.
                        if max_abs_transposed_product(&ws, &unit) > check_tol {
                            continue;
                        }
                        let proj = project(&left, &unit);
                        if add_direction(&mut c_basis, &proj) {
                            attributed.push(ZeroModeAttribution { name: inv.name.clone(), kind: inv.kind });
                        }
                    }
                    InvariantKind::Symmetry => {
                        if max_abs_product(&ws, &unit) > check_tol {
                            continue;
                        }
                        let proj = project(&right, &unit);
                        if add_direction(&mut s_basis, &proj) {
                            let now = s_basis.len() - cross_rank(&c_basis, &s_basis);
                            if now > s_in_t {
                                s_in_t = now;
                                attributed
                                    .push(ZeroModeAttribution { name: inv.name.clone(), kind: inv.kind });
                            }
                        }
                    }
                }
            }
            explained = c_basis.len() + s_in_t;
        }
        family_dimension = explained.min(right.len());
    }
    let explained = explained.min(zero_modes);
    let unexplained = zero_modes - explained;

    let (mut n_pos, mut n_neg, mut n_neutral, mut focus) = (0, 0, 0, false);
    for (l, zero) in ev.iter().zip(&is_zero) {
        if *zero {
            continue;
        }
        if l.re > lam_thr {
            n_pos += 1;
        } else if l.re < -lam_thr {
            n_neg += 1;
        } else {
            n_neutral += 1;
        }
        focus |= l.im.abs() > lam_thr;
    }
    let stability = if n_pos > 0 && n_neg > 0 {
        Stability::Saddle
    } else if n_pos > 0 {
        if focus { Stability::UnstableFocus } else { Stability::UnstableNode }
    } else if unexplained > 0 || n_neutral > 0 || n_neg == 0 {
        Stability::Marginal
    } else if focus {
        Stability::StableFocus
    } else {
        Stability::StableNode
    };

    Ok(StabilityReport {
        eigenvalues: ev.iter().map(|l| Eigenvalue { re: l.re, im: l.im }).collect(),
        stability,
        zero_modes,
        attributed,
        unexplained_zero_modes: unexplained,
        family_dimension,
        spectrum_note,
    })
}

/// Why the spectrum of a large system was not computed, and what it would cost.
pub fn spectrum_not_computed(n: usize, largest: usize, limit: usize) -> String {
    format!(
        "stability not computed: the Jacobian (n = {n}) has a strongly coupled block of {largest} states, \
         above the dense-eigenvalue limit of {limit} (a dense eigenproblem costs ~n^3 = {:.1e} flops per point); \
         integrate the model (`analyze FILE integrate`) from a perturbed fixed point to probe its stability",
        (largest as f64).powi(3) * 10.0
    )
}

/// Orthonormal basis of the numerical right kernel of `J(x; p)`: right
/// singular vectors with `sigma <= zero_tol * max(1, sigma_max)`.
pub fn right_kernel(field: &dyn VectorField, x: &[f64], p: &[f64], zero_tol: f64) -> Result<Vec<Vec<f64>>> {
    if x.len() != field.dim() {
        return Err(Error::invalid("x (length)", x.len(), format!("{} (state dimension)", field.dim())));
    }
    let mut ws = SvdWorkspace::new(field.dim());
    ws.factor(field, x, p)?;
    Ok(kernels(&ws, zero_tol).0)
}

/// (right, left) numerical kernels of the factored Jacobian in `ws`.
pub(crate) fn kernels(ws: &SvdWorkspace, zero_tol: f64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let n = ws.jac.nrows();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let thr = zero_tol * ws.sigma(0).max(1.0);
    let (mut right, mut left) = (Vec::new(), Vec::new());
    for i in 0..n {
        if ws.sigma(i) <= thr {
            right.push((0..n).map(|r| ws.v[(r, i)]).collect());
            left.push((0..n).map(|r| ws.u[(r, i)]).collect());
        }
    }
    (right, left)
}

/// Number of independent family directions among the right-kernel vectors
/// (see [`classify`]).
fn numerical_family_directions(
    field: &dyn VectorField,
    x: &[f64],
    p: &[f64],
    right: &[Vec<f64>],
    ws: &mut SvdWorkspace,
) -> Result<usize> {
    let n = x.len();
    let x_norm = x.iter().map(|a| a * a).sum::<f64>().sqrt();
    let eps = FAMILY_EPS * x_norm.max(1.0);
    // Far below eps^2 so that Newton towards an isolated degenerate point
    // (where ||F(x + eps v)|| ~ eps^2 or eps^3) gets visibly closer than eps.
    let newton = NewtonOptions {
        tol: 1e-12 * ws.sigma(0).max(1.0) * x_norm.max(1.0),
        max_iter: 100,
        rcond: 1e-10,
    };
    let mut displacements: Vec<Vec<f64>> = Vec::new();
    let mut start = vec![0.0; n];
    for v in right {
        for i in 0..n {
            start[i] = x[i] + eps * v[i];
        }
        let out = newton_with_workspace(field, &start, p, &newton, ws)?;
        if !out.converged {
            continue;
        }
        let d: Vec<f64> = out.x.iter().zip(x).map(|(a, b)| (a - b) / eps).collect();
        let len = d.iter().map(|a| a * a).sum::<f64>().sqrt();
        if (0.5..=1.5).contains(&len) {
            displacements.push(d);
        }
    }
    if displacements.is_empty() {
        return Ok(0);
    }
    let d = Mat::from_fn(n, displacements.len(), |i, j| displacements[j][i]);
    let sv = d.singular_values().map_err(|e| Error::numerical("family test SVD", format!("{e:?}")))?;
    Ok(sv.iter().filter(|s| **s > 0.3).count())
}

fn normalized(v: &[f64]) -> Option<Vec<f64>> {
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    (norm > 0.0 && norm.is_finite()).then(|| v.iter().map(|a| a / norm).collect())
}

/// `max_i |(J v)_i|` for the Jacobian stored in `ws`.
fn max_abs_product(ws: &SvdWorkspace, v: &[f64]) -> f64 {
    let n = v.len();
    (0..n).map(|i| (0..n).map(|j| ws.jac[(i, j)] * v[j]).sum::<f64>().abs()).fold(0.0, f64::max)
}

/// `max_j |(c^T J)_j|` for the Jacobian stored in `ws`.
fn max_abs_transposed_product(ws: &SvdWorkspace, c: &[f64]) -> f64 {
    let n = c.len();
    (0..n).map(|j| (0..n).map(|i| c[i] * ws.jac[(i, j)]).sum::<f64>().abs()).fold(0.0, f64::max)
}

/// Orthogonal projection of `v` onto the span of the orthonormal `basis`.
fn project(basis: &[Vec<f64>], v: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    for b in basis {
        let c: f64 = b.iter().zip(v).map(|(x, y)| x * y).sum();
        for (o, bi) in out.iter_mut().zip(b) {
            *o += c * bi;
        }
    }
    out
}

/// Gram-Schmidt (twice, for orthogonality to round-off): adds the normalised
/// new direction of `v` to `basis` if `v` (a vector of norm <= 1) has a
/// component of norm > [`INDEPENDENCE_TOL`] outside it.
fn add_direction(basis: &mut Vec<Vec<f64>>, v: &[f64]) -> bool {
    let mut w = v.to_vec();
    for _ in 0..2 {
        for b in basis.iter() {
            let c: f64 = b.iter().zip(&w).map(|(x, y)| x * y).sum();
            for (wi, bi) in w.iter_mut().zip(b) {
                *wi -= c * bi;
            }
        }
    }
    let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm > INDEPENDENCE_TOL {
        basis.push(w.iter().map(|a| a / norm).collect());
        true
    } else {
        false
    }
}

/// `rank(Q_C^T Q_S)` for orthonormal bases given as lists of vectors: the
/// number of symmetry directions that move a conserved quantity.
fn cross_rank(c_basis: &[Vec<f64>], s_basis: &[Vec<f64>]) -> usize {
    if c_basis.is_empty() || s_basis.is_empty() {
        return 0;
    }
    let m = Mat::from_fn(c_basis.len(), s_basis.len(), |i, j| {
        c_basis[i].iter().zip(&s_basis[j]).map(|(a, b)| a * b).sum::<f64>()
    });
    m.singular_values()
        .map(|sv| sv.iter().filter(|s| **s > INDEPENDENCE_TOL).count())
        .unwrap_or(0)
}

//! Up-front cost of a fixed-point search or a continuation on a large model,
//! from its size and its Jacobian's sparsity, and the default bound on that
//! cost (issue 24: a user who asks for a 5,000-state continuation is told
//! what it will cost before it runs).
//!
//! The work of both verbs is dominated by LU factorisations of the
//! Jacobian (see `docs/sparse-scaling.md`). One factorisation costs
//!
//! ```text
//!     t_LU = flops / rate,   flops = sum_j c_j^2,
//! ```
//!
//! `c_j` the column counts of the predicted factor
//! ([`predict_fill`]), `rate` the measured multiply-add rate of the LU
//! that runs ([`SIMPLICIAL_RATE`], [`SUPERNODAL_RATE`], [`DENSE_RATE`]).
//! The count of factorisations has a floor that every run pays and a
//! ceiling set by the iteration bounds:
//!
//! * fixed points: every start pays at least one Newton step (the L-BFGS
//!   pre-minimisation has no factorisation) and at most
//!   [`NEWTON_MAX_ITER`] of them;
//! * continuation: the two fixed-point searches of the range ends (24
//!   starts each, cut to `8000 / n`), then per branch at least
//!   `1 / 0.05 = 20` steps (a step moves the parameter by at most 1/20 of the
//!   range) of one tangent and at least one corrector iteration, on the
//!   bordered Jacobian (a dense last row and column; the determinant of the
//!   branch-point test keeps it on the simplicial LU).
//!
//! Above [`DEFAULT_WORK_SECONDS`] of predicted floor, a run without a
//! wall-time budget stops before it starts and says so
//! ([`CostEstimate::check_bound`]); a budget (`--max-seconds S`) runs it
//! for at most `S` seconds and keeps what it found.
use serde::Serialize;

use crate::engine::equilibria::search::LARGE_START_BUDGET;
use crate::engine::linalg::sparse_jacobian::{SPARSE_MAX_DENSITY, SPARSE_MIN_DIM};
use crate::engine::{predict_fill, LuFill, VectorField};
use crate::error::{Error, Result};

/// Predicted multiply-adds per second of faer's simplicial (left-looking,
/// one scalar at a time) sparse LU: measured on random sparse Jacobians, 4
/// non-zeros a row (`docs/sparse-scaling.md`): 17.4 s for the predicted
/// 4.6e9 at n = 5,000, 0.12 s for 3.7e7 at n = 1,000 (the prediction is an
/// upper bound on the work, so this rate is below the machine's).
pub const SIMPLICIAL_RATE: f64 = 3.0e8;
/// The same for faer's supernodal LU (dense blocks): 0.9 s on the n = 5,000 matrix.
pub const SUPERNODAL_RATE: f64 = 5.0e9;
/// Seconds per stored entry of the factor (index work, allocation), which
/// dominates on a pattern that does not fill in.
const SECONDS_PER_ENTRY: f64 = 2e-8;
/// A dense factorisation below the sparse threshold (the SVD of the
/// fixed-point Newton step costs ~10 times an LU's `n^3 / 3`).
pub const DENSE_RATE: f64 = 2.0e9;
/// Predicted flops per stored entry of the factor above which faer picks
/// the supernodal LU for a system without determinant (its
/// `LU_SUPERNODAL_RATIO_FACTOR`; our `flops / fill` is a close proxy).
const SUPERNODAL_FLOPS_PER_ENTRY: f64 = 40.0;
/// Newton iterations of one start's polish (`NewtonOptions::default`).
pub const NEWTON_MAX_ITER: usize = 50;
/// Fewest continuation steps of a branch that crosses the range: a step
/// moves the parameter by at most 1/20 of `[from, to]`.
const MIN_BRANCH_STEPS: usize = 20;
/// Starts of each fixed-point search of `full_diagram` before the cut.
const DIAGRAM_STARTS: usize = 24;
/// Predicted seconds (floor) above which the estimate goes to stderr.
pub const REPORT_SECONDS: f64 = 3.0;
/// Default bound on the predicted floor of a run without a wall-time
/// budget: above it the command stops before starting.
pub const DEFAULT_WORK_SECONDS: f64 = 60.0;

/// What a fixed-point search or a continuation will cost, predicted.
#[derive(Clone, Debug, Serialize)]
pub struct CostEstimate {
    /// The verb (`fixed-points`, `continue`, `boundary`, `periodic`).
    pub verb: &'static str,
    /// State dimension.
    pub n: usize,
    /// Structural non-zeros of the Jacobian (`n^2` when it is solved dense).
    pub nnz: usize,
    /// `"dense"`, `"simplicial"` or `"supernodal"`: the factorisation of a Newton step.
    pub lu: &'static str,
    /// Predicted non-zeros of the LU factor (upper bound), and its ratio to `nnz`.
    pub lu_fill: usize,
    pub fill_ratio: f64,
    /// Predicted seconds of one factorisation of a Newton step.
    pub seconds_per_factorisation: f64,
    /// Continuation only: the same for the bordered matrix of a step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_per_continuation_factorisation: Option<f64>,
    /// Factorisations every run pays (floor) and the iteration bounds' ceiling.
    pub factorisations_floor: usize,
    pub factorisations_ceiling: usize,
    /// `seconds_floor` to `seconds_ceiling`: predicted wall time of the factorisations.
    pub seconds_floor: f64,
    pub seconds_ceiling: f64,
    /// The same in one sentence.
    pub text: String,
}

/// Fill and per-factorisation seconds of the Newton system of `field`:
/// `(nnz, fill, lu kind, seconds)`, and the pattern when it is solved sparse.
fn newton_cost(field: &dyn VectorField, determinant: bool) -> (LuFill, &'static str, f64, Option<Vec<(usize, usize)>>) {
    let n = field.dim();
    let pattern = (n >= SPARSE_MIN_DIM).then(|| field.jacobian_pattern()).flatten();
    match pattern {
        Some(mut pattern) if pattern.len() as f64 <= SPARSE_MAX_DENSITY * (n as f64) * (n as f64) => {
            let structural = pattern.len();
            pattern.extend((0..n).map(|i| (i, i)));
            let mut fill = predict_fill(n, &pattern);
            fill.nnz = structural;
            let (kind, secs) = lu_seconds(&fill, determinant);
            (fill, kind, secs, Some(pattern))
        }
        _ => {
            let nf = n as f64;
            let fill = LuFill { nnz: n * n, fill: n * n, flops: 10.0 * nf * nf * nf / 3.0 };
            (fill, "dense", fill.flops / DENSE_RATE, None)
        }
    }
}

/// The LU that runs on `fill` and its predicted seconds.
fn lu_seconds(fill: &LuFill, determinant: bool) -> (&'static str, f64) {
    let overhead = SECONDS_PER_ENTRY * fill.fill as f64;
    if !determinant && fill.flops > SUPERNODAL_FLOPS_PER_ENTRY * fill.fill as f64 {
        ("supernodal", fill.flops / SUPERNODAL_RATE + overhead)
    } else {
        ("simplicial", fill.flops / SIMPLICIAL_RATE + overhead)
    }
}

/// Random starts a default search runs on `field` (the large-system cut
/// of the fixed-point search), plus the initial state and the origin.
fn default_starts(field: &dyn VectorField, base: usize, sparse: bool) -> usize {
    let random = if sparse { base.min((LARGE_START_BUDGET / field.dim()).max(2)) } else { base };
    random + 2
}

impl CostEstimate {
    /// The fixed-point search of `field` with `starts` random starts
    /// (`None`: the default, cut on a large sparse system). `None` below
    /// [`SPARSE_MIN_DIM`] states, where every search takes well under a second.
    pub fn fixed_points(field: &dyn VectorField, starts: Option<usize>) -> Option<CostEstimate> {
        let n = field.dim();
        if n < SPARSE_MIN_DIM {
            return None;
        }
        let (fill, lu, secs, pattern) = newton_cost(field, false);
        let total_starts = match starts {
            Some(s) => s + 2,
            None => default_starts(field, 32, pattern.is_some()),
        };
        let floor = total_starts;
        let ceiling = total_starts * NEWTON_MAX_ITER;
        let text = format!(
            "fixed-points on {n} states: {} starts, at least one Newton step each (at most {NEWTON_MAX_ITER}); \
             one step factors the Jacobian ({} non-zeros, {lu} LU, predicted fill {:.3e} = {:.0}x) in ~{}",
            total_starts,
            fill.nnz,
            fill.fill as f64,
            fill.fill as f64 / fill.nnz.max(1) as f64,
            seconds_text(secs)
        );
        Some(Self::assemble("fixed-points", n, fill, lu, secs, None, (floor, ceiling), (floor as f64 * secs, ceiling as f64 * secs), text))
    }

    /// The continuation of every branch of `field` (`full_diagram`) with at
    /// most `max_steps` steps per branch, the work of `continue` and the
    /// floor of `boundary` and `periodic` (`verb`), which start from that
    /// diagram. `None` below [`SPARSE_MIN_DIM`] states.
    pub fn continuation(verb: &'static str, field: &dyn VectorField, max_steps: usize, newton_max_iter: usize) -> Option<CostEstimate> {
        let n = field.dim();
        if n < SPARSE_MIN_DIM {
            return None;
        }
        let (fill, lu, secs, pattern) = newton_cost(field, false);
        let starts = 2 * default_starts(field, DIAGRAM_STARTS, pattern.is_some());
        // The bordered matrix [J, dF/dp; t^T] of every step, on the
        // simplicial LU (its determinant is the branch-point test). Its
        // dense last row would make the A^T A bound of `predict_fill` dense,
        // so it is counted as one more row and column, eliminated last: the
        // factor of J plus 2n entries, and one pass over the factor.
        let step_secs = match pattern {
            Some(_) => {
                let bordered = LuFill { nnz: fill.nnz + 2 * n + 1, fill: fill.fill + 2 * n + 1, flops: fill.flops + 2.0 * fill.fill as f64 };
                lu_seconds(&bordered, true).1
            }
            None => secs / 10.0 * 3.0, // a dense LU, not an SVD
        };
        let steps_floor = MIN_BRANCH_STEPS.min(max_steps);
        let (floor, ceiling) = (steps_floor * 2, max_steps * (newton_max_iter + 1));
        let seconds_floor = starts as f64 * secs + floor as f64 * step_secs;
        let seconds_ceiling = starts as f64 * NEWTON_MAX_ITER as f64 * secs + ceiling as f64 * step_secs;
        let text = format!(
            "{verb} on {n} states: the diagram of equilibria, two fixed-point searches ({starts} starts, ~{} a Newton step, {lu} LU), then per branch \
             at least {steps_floor} steps (at most {max_steps}) of at least 2 factorisations of the bordered Jacobian \
             (~{} each; {} non-zeros, predicted fill {:.0}x)",
            seconds_text(secs),
            seconds_text(step_secs),
            fill.nnz,
            fill.fill as f64 / fill.nnz.max(1) as f64,
        );
        Some(Self::assemble(verb, n, fill, lu, secs, Some(step_secs), (floor, ceiling), (seconds_floor, seconds_ceiling), text))
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        verb: &'static str,
        n: usize,
        fill: LuFill,
        lu: &'static str,
        secs: f64,
        step_secs: Option<f64>,
        (floor, ceiling): (usize, usize),
        (seconds_floor, seconds_ceiling): (f64, f64),
        text: String,
    ) -> CostEstimate {
        let text = format!("{text}: {} to {} in all", seconds_text(seconds_floor), seconds_text(seconds_ceiling));
        CostEstimate {
            verb,
            n,
            nnz: fill.nnz,
            lu,
            lu_fill: fill.fill,
            fill_ratio: fill.fill as f64 / fill.nnz.max(1) as f64,
            seconds_per_factorisation: secs,
            seconds_per_continuation_factorisation: step_secs,
            factorisations_floor: floor,
            factorisations_ceiling: ceiling,
            seconds_floor,
            seconds_ceiling,
            text,
        }
    }

    /// Whether the estimate is worth telling the user (floor above [`REPORT_SECONDS`]).
    pub fn worth_reporting(&self) -> bool {
        self.seconds_floor > REPORT_SECONDS
    }

    /// The default work bound: without a wall-time budget, a run whose
    /// predicted floor exceeds [`DEFAULT_WORK_SECONDS`] is refused before it
    /// starts, with the estimate and the options that run it anyway.
    pub fn check_bound(&self, budget_seconds: f64) -> Result<()> {
        if budget_seconds.is_finite() || self.seconds_floor <= DEFAULT_WORK_SECONDS {
            return Ok(());
        }
        let fewer = if self.verb == "fixed-points" { "fewer starts (--starts N) or " } else { "" };
        Err(Error::WorkBound {
            what: self.verb.to_string(),
            detail: format!(
                "the predicted cost is above the default work bound of {bound} s for a run without a wall-time budget \
                 (nothing was computed). Estimate: {text}. Give {fewer}a budget, --max-seconds S (Python: max_seconds), \
                 to run it for at most S seconds and keep what it finds",
                bound = DEFAULT_WORK_SECONDS,
                text = self.text,
            ),
        })
    }
}

/// Seconds for a message: `< 0.01 s`, `0.02 s`, `3.1 s`, `41 min`, `2.3 h`
/// (never a tiny time printed as zero).
fn seconds_text(s: f64) -> String {
    if s < 0.01 {
        "< 0.01 s".to_string()
    } else if s < 0.1 {
        format!("{s:.2} s")
    } else if s < 100.0 {
        format!("{s:.1} s")
    } else if s < 6000.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

//! `boundary`: two-parameter continuation of a fold or Hopf point (a phase
//! boundary), optionally checked against a brute-force grid.
use crate::engine::{boundary_analysis, BifurcationKind, BoundaryParams, BoundaryReport, VectorField};
use crate::error::{Error, Result};

use super::{finite, param_index, start_inside, Syntax};

/// Largest grid of the brute-force check per parameter: the check runs a
/// multistart fixed-point search in each of `grid^2` cells.
pub const MAX_GRID: usize = 400;

/// A boundary request: the first fold or Hopf point (or the first of
/// `kind`) on the equilibria in `param` over `[from, to]`, continued in
/// (`param`, `param2`) over `[from, to] x [from2, to2]`.
#[derive(Clone, Debug)]
pub struct BoundaryRequest {
    /// First parameter (the one of the bifurcation diagram that finds the start).
    pub param: String,
    pub from: f64,
    pub to: f64,
    /// Second parameter.
    pub param2: String,
    pub from2: f64,
    pub to2: f64,
    /// Which special point to continue (`None`: the first fold or Hopf).
    pub kind: Option<BifurcationKind>,
    /// Check the traced curves against a `grid x grid` classification.
    pub grid_check: bool,
    /// Cells per parameter of the check, in `[2, MAX_GRID]`.
    pub grid: usize,
    /// Accepted steps of each curve per direction (default 2000, the
    /// engine's [`ArclengthParams`](crate::engine::ArclengthParams)).
    pub max_steps: usize,
}

impl BoundaryRequest {
    /// Cells per parameter of the grid check unless set.
    pub const DEFAULT_GRID: usize = 24;

    /// The box `[from, to] x [from2, to2]`, no grid check (24 cells per
    /// parameter when it is asked for), the first fold or Hopf point.
    pub fn new(param: impl Into<String>, from: f64, to: f64, param2: impl Into<String>, from2: f64, to2: f64) -> Self {
        BoundaryRequest { param: param.into(), from, to, param2: param2.into(), from2, to2, kind: None, grid_check: false, grid: Self::DEFAULT_GRID, max_steps: crate::engine::ArclengthParams::default().max_steps }
    }

    /// A special-point kind by its name (`fold`, `hopf`).
    pub fn kind_named(name: &str) -> Option<BifurcationKind> {
        match name {
            "fold" => Some(BifurcationKind::Fold),
            "hopf" => Some(BifurcationKind::Hopf),
            _ => None,
        }
    }

    /// The engine's settings, every field checked and named in `syntax`.
    pub fn params(&self, model: &dyn VectorField, syntax: Syntax) -> Result<BoundaryParams> {
        let name = |f: &str| syntax.field(f);
        if self.grid_check && !(2..=MAX_GRID).contains(&self.grid) {
            return Err(Error::invalid(name("grid"), self.grid, format!("an integer in [2, {MAX_GRID}] with the grid check")));
        }
        let k1 = param_index(model, &name("param"), &self.param)?;
        let k2 = param_index(model, &name("param2"), &self.param2)?;
        if k1 == k2 {
            return Err(Error::invalid(name("param2"), &self.param2, format!("a parameter other than `{}`", self.param)));
        }
        let (from, to) = (finite(&name("from"), self.from)?, finite(&name("to"), self.to)?);
        let (from2, to2) = (finite(&name("from2"), self.from2)?, finite(&name("to2"), self.to2)?);
        if self.max_steps == 0 {
            return Err(Error::invalid(name("max_steps"), 0, ">= 1"));
        }
        let mut bp = BoundaryParams { p1_min: from.min(to), p1_max: from.max(to), ..BoundaryParams::new(k1, k2, from2.min(to2), from2.max(to2)) };
        bp.arclength.max_steps = self.max_steps;
        Ok(bp)
    }

    /// Validates the request and traces the boundary from the parameters
    /// `p`, with both continued parameters moved inside their ranges.
    pub fn run(&self, model: &dyn VectorField, p: &[f64], syntax: Syntax) -> Result<BoundaryReport> {
        let bp = self.params(model, syntax)?;
        // The start is found on the diagram of equilibria in `param`: its
        // cost is the floor of the whole run (the curves add to it).
        let a = crate::engine::ArclengthParams::default();
        super::announce_cost(super::CostEstimate::continuation("boundary", model, a.max_steps, a.newton_max_iter).as_ref())?;
        let p_run = start_inside(&start_inside(p, bp.param, bp.p1_min, bp.p1_max), bp.param2, bp.p2_min, bp.p2_max);
        boundary_analysis(model, &p_run, &bp, self.kind, if self.grid_check { self.grid } else { 0 })
    }
}

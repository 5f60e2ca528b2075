//! Generic analysis engine for parametrised vector fields `dx/dt = F(x; p)`:
//! integration, equilibria and their stability, continuation of equilibria,
//! and two-parameter bifurcation boundaries.
//!
//! This module is the front door: everything a caller outside the engine
//! needs is re-exported here, so callers write `crate::engine::X`. The
//! sub-folders hold one capability each, one file per method:
//!
//! * [`vector_field`]: the [`VectorField`] trait every analysis is generic over;
//! * [`linalg`]: LU factorisations, Jacobian spectra;
//! * [`ode`]: explicit Runge-Kutta and Radau IIA steppers, the integration driver;
//! * [`equilibria`]: Newton polish, deflated multi-start search, stability;
//! * [`continuation`]: the arclength core, equilibrium branches, test
//!   functions, codimension-2 boundaries, Bogdanov-Takens points, grid check;
//! * [`analysis`]: whole-diagram analyses that combine the above;
//! * [`test_models`]: hand-written reference fields with closed-form answers.
//!
//! Dependency order (each layer imports only from layers above it, so there
//! is no import circle):
//!
//! ```text
//!   vector_field
//!   linalg
//!   ode                      (vector_field, linalg)
//!   equilibria               (vector_field, linalg)
//!   continuation             (vector_field, linalg)
//!   analysis                 (equilibria, continuation)
//!   test_models              (vector_field)
//! ```
pub mod analysis;
pub mod continuation;
pub mod equilibria;
pub mod linalg;
pub mod ode;
pub mod test_models;
pub mod vector_field;

pub use vector_field::{Invariant, InvariantKind, VectorField};

pub use linalg::lu::{ComplexLu, RealLu};
pub use linalg::spectrum::{jacobian_eigenvalues, jacobian_matrix, sorted_eigenvalues};

pub use ode::explicit_rk::{Attempt, ExplicitStepper, Pair, StepStats};
pub use ode::integrate::{
    grid_times, integrate, integrate_partial, Grid, IntegrateOptions, Integration, IntegrationStats, IntegrationStop, Method,
    Trajectory,
};
pub use ode::radau::{RadauFailure, RadauStepper};

pub use equilibria::newton::{newton_polish, NewtonOptions, NewtonOutcome};
pub use equilibria::search::{
    accept_fixed_point, default_box, find_fixed_points, find_fixed_points_report, fixed_points_json, FixedPoint,
    FixedPointOptions, FixedPointSearch, SkippedPoint,
};
pub use equilibria::stability::{classify, right_kernel, Eigenvalue, Stability, StabilityOptions, StabilityReport, ZeroModeAttribution};

pub use continuation::bogdanov_takens::{critical_pair, locate_bogdanov_takens, BtOptions, BtPoint, BtSystem};
pub use continuation::boundary::{
    brute_force_grid, continue_boundary, BoundaryCurve, BoundaryParams, BoundaryPoint, BoundaryStop, Codim2Kind, Codim2Point,
    GridCell, GridParams,
};
pub use continuation::branches::{
    arclength_step, continue_equilibria, ArclengthSolver, Branch, BranchPoint, ContinuationParams, ContinuationResult,
    ImplicitCurve, StepControl, StopReason,
};
pub use continuation::grid_check::{grid_agreement, segment_distance, GridAgreement};
pub use continuation::test_functions::{Bifurcation, BifurcationKind, SignedLog, TestFunctions};

pub use analysis::{boundary_analysis, full_diagram, BoundaryReport};

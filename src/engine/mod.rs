//! Generic analysis engine for parametrised vector fields `dx/dt = F(x; p)`:
//! integration, equilibria and their stability, continuation of equilibria,
//! and two-parameter bifurcation boundaries.
//!
//! This module is the front door: everything a caller outside the engine
//! needs is re-exported here, so callers write `crate::engine::X`. The
//! sub-folders hold one capability each, one file per method:
//!
//! * [`vector_field`]: the [`VectorField`] trait every analysis is generic over;
//! * [`linalg`]: dense and sparse LU factorisations, Jacobian spectra;
//! * [`ode`]: explicit Runge-Kutta and Radau IIA steppers, the integration driver;
//! * [`equilibria`]: Newton polish, deflated multi-start search, stability;
//! * [`continuation`]: the arclength core, equilibrium branches, test
//!   functions, codimension-2 boundaries, Bogdanov-Takens points, grid check;
//! * [`cycles`]: periodic orbits by collocation, Floquet multipliers, their
//!   continuation with LPC, PD and NS points;
//! * [`analysis`]: whole-diagram analyses that combine the above;
//! * [`test_models`]: hand-written reference fields with closed-form answers.
//!
//! Dependency order of the `use` lines (each module imports only from
//! modules listed before it, so there is no import circle; inside a
//! sub-folder the order is given in its `mod.rs`):
//!
//! ```text
//!   vector_field
//!   linalg        vector, signed_log <- lu, sparse_lu; spectrum
//!   ode           stepper <- explicit_rk, radau (linalg::lu) <- integrate
//!   equilibria    newton (linalg) <- stability <- search; lyapunov (linalg)
//!   continuation  params, arclength (linalg) <- test_functions <- results
//!                 <- branches; bogdanov_takens (linalg), grid
//!                 <- boundary <- grid_check
//!   cycles        gauss, orbit <- collocation <- floquet (linalg), mesh
//!                 <- start (ode, equilibria::lyapunov) <- branch (continuation::results)
//!   analysis      (equilibria::search, continuation)
//!   test_models   (vector_field only)
//! ```
pub mod analysis;
pub mod central_differences;
pub mod continuation;
pub mod cycles;
pub mod equilibria;
pub mod linalg;
pub mod ode;
pub mod test_models;
pub mod vector_field;

pub use vector_field::{Invariant, InvariantKind, VectorField};
pub use central_differences::{central_jacobian, central_param_derivative};

pub use linalg::lu::{ComplexLu, DenseLu, RealLu};
pub use linalg::signed_log::SignedLog;
pub use linalg::sparse_lu::{predict_fill, LuFill, SparseLu};
pub use linalg::spectrum::{jacobian_eigenvalues, jacobian_matrix, sorted_eigenvalues};

pub use ode::explicit_rk::{ExplicitStepper, Pair};
pub use ode::integrate::{
    grid_times, integrate, integrate_partial, Grid, IntegrateOptions, Integration, IntegrationStats, IntegrationStop, Method,
    Trajectory,
};
pub use ode::radau::RadauStepper;
pub use ode::stepper::{Attempt, StepFailure, StepStats, Stepper};

pub use equilibria::newton::{newton_polish, NewtonOptions, NewtonOutcome};
pub use equilibria::search::{
    accept_fixed_point, default_box, find_fixed_points, find_fixed_points_report, fixed_points_json, FixedPoint,
    FixedPointOptions, FixedPointSearch, SkippedPoint,
};
pub use equilibria::lyapunov::{first_lyapunov_coefficient, Criticality, HopfNormalForm};
pub use equilibria::stability::{classify, right_kernel, Eigenvalue, Stability, StabilityOptions, StabilityReport, ZeroModeAttribution};

pub use continuation::bogdanov_takens::{critical_pair, locate_bogdanov_takens, BtOptions, BtPoint, BtSystem};
pub use continuation::arclength::{arclength_step, ArclengthSolver, ImplicitCurve, StepControl};
pub use continuation::boundary::{
    continue_boundary, BoundaryCurve, BoundaryParams, BoundaryPoint, BoundaryStop, Codim2Kind, Codim2Point,
};
pub use continuation::branches::continue_equilibria;
pub use continuation::grid::{brute_force_grid, GridCell, GridParams};
pub use continuation::grid_check::{grid_agreement, segment_distance, GridAgreement};
pub use continuation::params::{ArclengthParams, ContinuationParams};
pub use continuation::results::{Branch, BranchPoint, ContinuationResult, StopReason};
pub use continuation::test_functions::{Bifurcation, BifurcationKind, TestFunctions};

pub use cycles::{
    continue_cycles, continue_cycles_from_hopf, continue_cycles_from_period_doubling, hopf_start, orbit_from_trajectory, solve_orbit, Cycle, CycleBifurcation,
    CycleBifurcationKind, CycleBranch, CycleContinuationParams, CyclePoint, Multipliers, OrbitOptions, PeriodicOrbit,
    continue_lpc_curve, continue_lpc_from_bautin, LpcCurve, LpcCurveParams, LpcPoint,
};

pub use analysis::{boundary_analysis, full_diagram, BoundaryReport};

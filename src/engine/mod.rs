//! Generic analysis engine: vector fields, integration, fixed points,
//! stability, continuation and two-parameter boundaries.
pub mod analysis;
pub mod bifurcation;
pub mod bogdanov_takens;
pub mod boundary;
pub mod continuation;
pub mod dense_lu;
pub mod examples;
pub mod fixed_points;
pub mod grid_check;
pub mod integrate;
pub mod newton;
pub mod radau;
pub mod rk;
pub mod spectrum;
pub mod stability;
pub mod vector_field;

pub use fixed_points::{
    accept_fixed_point, find_fixed_points, find_fixed_points_report, fixed_points_json, FixedPoint, FixedPointOptions,
    FixedPointSearch, SkippedPoint,
};
pub use integrate::{integrate, integrate_partial, Grid, IntegrateOptions, Integration, IntegrationStop, Method, Trajectory};
pub use newton::{newton_polish, NewtonOptions, NewtonOutcome};
pub use stability::{classify, Eigenvalue, Stability, StabilityOptions, StabilityReport, ZeroModeAttribution};
pub use vector_field::{Invariant, InvariantKind, VectorField};

//! Limit cycles: the criticality of the Hopf points that create them, their
//! computation by orthogonal collocation, their Floquet multipliers and
//! their continuation in one parameter.
//!
//! * [`gauss`]: Gauss-Legendre points and the Lagrange basis of the scheme;
//! * [`orbit`]: a periodic orbit in collocation form;
//! * [`collocation`]: the collocation equations and their sparse Newton solve;
//! * [`periodic_qr`]: eigenvalues of a product of matrices, factor by factor;
//! * [`floquet`]: multipliers from the condensed interval transition matrices;
//! * [`mesh`]: mesh adaptation by equidistribution;
//! * [`start`]: orbits at fixed parameters, first guesses from a Hopf point
//!   or a trajectory;
//! * [`period_doubling`]: the doubled orbit and direction at a PD point;
//! * [`lpc_curve`]: curves of folds of cycles in two parameters (from a
//!   fold, or from a Bautin point of a Hopf curve);
//! * [`branch`]: pseudo-arclength continuation of cycles, LPC, PD and NS
//!   points, and branch switching at PD points.
//!
//! Dependency order: `gauss`, `orbit` -> `collocation`, `periodic_qr` -> `floquet`, `mesh`
//! -> `start`, `period_doubling` -> `branch` -> `lpc_curve`. From the rest of the engine the cycles use the
//! front door only (the first Lyapunov coefficient of a Hopf point lives in
//! [`equilibria::lyapunov`](crate::engine::equilibria::lyapunov), the
//! integrators in `ode`, `StopReason` in `continuation`), and nothing below
//! imports from here, so there is no import circle.
pub mod branch;
pub mod collocation;
pub mod floquet;
pub mod gauss;
pub mod lpc_curve;
pub mod mesh;
pub mod orbit;
pub mod period_doubling;
pub mod periodic_qr;
pub mod start;

pub use branch::{continue_cycles, continue_cycles_from_hopf, continue_cycles_from_period_doubling, CycleBifurcation, CycleBifurcationKind, CycleBranch, CycleContinuationParams, CyclePoint};
pub use floquet::Multipliers;
pub use lpc_curve::{continue_lpc_curve, continue_lpc_from_bautin, LpcCurve, LpcCurveParams, LpcPoint};
pub use orbit::PeriodicOrbit;
pub use start::{hopf_start, orbit_from_trajectory, solve_orbit, Cycle, OrbitOptions};

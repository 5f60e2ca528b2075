//! What the reduced Model H system predicts (`docs/head.md`): the report for
//! one configuration ([`HeadTheory`]) and the analyses it draws on, one file
//! each.
pub mod attractor;
pub mod boundary;
pub mod fixed_points;
pub mod meanfield;
pub mod report;
pub mod roots;

pub use report::HeadTheory;

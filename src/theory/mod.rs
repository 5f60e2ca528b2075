//! Reduced order-parameter ODEs and their closed forms.
pub mod class_level;
pub mod embedding_theory;
pub mod embedding_trajectory;
pub mod head_class_level;
pub mod head_boundary;
pub mod head_fixed_points;
pub mod head_meanfield;
pub mod head_symmetric;
pub mod head_theory;
pub mod simplex;

//! Reduced order-parameter ODEs and their closed forms.
pub mod class_level;
pub mod embedding_theory;
pub mod embedding_trajectory;
pub mod simplex;

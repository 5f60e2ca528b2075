//! Reduced order-parameter ODEs and their closed forms.
pub mod class_level;
pub mod simplex;

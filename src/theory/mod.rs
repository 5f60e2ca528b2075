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
pub mod teacher_metrics;
pub mod teacher_ode;
pub mod teacher_stats;
pub mod teacher_theory;
pub mod teacher_finite;
pub mod teacher_head;
pub mod teacher_head_channel;

//! Microscopic models and their simulation.
pub mod embedding;
pub mod embedding_config;
pub mod frustration;
pub mod head;
pub mod head_config;
pub mod metrics;
pub mod teacher;
pub mod teacher_config;
pub mod teacher_finite;
pub mod teacher_head;

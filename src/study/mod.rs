//! Studies: the experiments behind each figure, driven by files in `analysis/`.
pub mod convergence;
pub mod embedding_experiment;
pub mod runner;
pub mod slow_rate;
pub mod spectrum;
pub mod two_timescales;
pub mod teacher_experiment;
pub mod teacher_cli;
pub mod teacher_finite;
pub mod teacher_collapse;
pub mod teacher_convergence;
pub mod teacher_finite_map;
pub mod teacher_head;

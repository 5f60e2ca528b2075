//! Studies: the experiments behind each figure, driven by files in `analysis/`.
pub mod convergence;
pub mod embedding_experiment;
pub mod head_ablation;
pub mod head_experiment;
pub mod head_meanfield;
pub mod head_phase;
pub mod head_spectrum;
pub mod model_analysis;
pub mod runner;
pub mod slow_rate;
pub mod spectrum;
pub mod two_timescales;

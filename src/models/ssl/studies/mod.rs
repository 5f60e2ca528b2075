//! The SSL studies: the ablation figure (s1) and the predictor figure (s2).
pub mod ablation;
pub mod predictor;

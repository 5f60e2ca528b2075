//! The SSL studies: the ablation figure (s1), the predictor figure (s2) and
//! the collapse map (s3).
pub mod ablation;
pub mod collapse_map;
pub mod predictor;

//! The SSL studies: the ablation figure and the predictor figure.

//! Self-supervised learning on images: an encoder (the real-data model's
//! linear or MLP encoder) with a projector and a predictor, trained on two
//! augmented views of each image (translation, contrast, cutout, pixel
//! noise) with the symmetrised cosine or squared loss, in the five variants
//! that mirror Model H's ablation (no predictor, predictor without
//! stop-gradient, stop-gradient without predictor, SimSiam, BYOL), by SGD
//! with momentum and weight decay; collapse indicators per epoch and the
//! DirectPred relation of the linear predictor. Theory: `docs/ssl.md`.
//! Layout: `src/models/README.md`; `augment.rs` holds the augmentations
//! (an input of the model, like the real-data model's `noise.rs`).
pub mod api;
pub mod augment;
pub mod config;
pub mod experiment;
pub mod frustration;
pub mod export;
pub mod simulation;
pub mod studies;
pub mod theory;

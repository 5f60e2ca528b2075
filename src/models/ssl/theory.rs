//! What the toolkit's theory says about the SSL learner before training
//! (`docs/ssl.md`, "Theory and where it applies"):
//!
//! * the augmentation-frustration index `phi_aug`: the fraction of training
//!   images whose view is nearer (Euclidean, centred pixels) to another
//!   image's view of a *different* class than to any view of its own class
//!   except itself; the role Model H's frustration `phi` plays for labels
//!   (a view that sits among another class's views is pulled towards them
//!   by any encoder that maps nearby inputs nearby). Estimated from one
//!   view per image drawn with the run's augmentations (stream 7 of `seed`),
//!   with the clean-image value alongside;
//! * Model H's weight-decay boundaries at the run's `weight_decay`,
//!   `phi_c = 1 - 4 lambda` (`symmetric`) and `1 - 2 sqrt(lambda) (1 + lambda)`
//!   (`asymmetric`), `docs/head.md`, "Weight-decay phase boundary";
//! * Model H's verdict for the variant that each SSL variant mirrors
//!   (`docs/head.md`, "Fixed points and stability"), and the DirectPred
//!   relation for the linear predictor (`W_p` diagonal in F's eigenbasis,
//!   eigenvalues proportional to `sqrt` of F's).
//!
//! The mapping between the two models is an analogy, not a reduction: the
//! SSL targets are other views, not label embeddings, and the cosine loss
//! normalises; `docs/ssl.md` says where it fails.
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::augment::Augment;
use super::config::{SslConfig, SslVariant};
use super::simulation::Prepared;

/// Nearest-view frustration of one set of views.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Frustration {
    /// Fraction of images whose nearest other view is of another class.
    pub phi: f64,
    pub images: usize,
}

/// `phi` of the views in `rows` (row-major, `d` pixels) with classes `labels`.
pub fn nearest_view_frustration(rows: &[f64], labels: &[usize], d: usize) -> Frustration {
    let n = labels.len();
    let mut wrong = 0usize;
    for i in 0..n {
        let ri = &rows[i * d..(i + 1) * d];
        let mut best = (f64::INFINITY, usize::MAX);
        for j in (0..n).filter(|&j| j != i) {
            let dist: f64 = ri.iter().zip(&rows[j * d..(j + 1) * d]).map(|(a, b)| (a - b) * (a - b)).sum();
            if dist < best.0 || (dist == best.0 && j < best.1) {
                best = (dist, j);
            }
        }
        wrong += usize::from(labels[best.1] != labels[i]);
    }
    Frustration { phi: wrong as f64 / n as f64, images: n }
}

/// `phi_aug` with the run's augmentations (one view per image) and the clean value.
pub fn augmentation_frustration(cfg: &SslConfig, prep: &Prepared) -> (Frustration, Frustration) {
    let (n, d) = (prep.samples(), prep.pixels());
    let aug = Augment::new(cfg, prep.width, prep.height);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    rng.set_stream(7);
    let mut views = vec![0.0; n * d];
    for i in 0..n {
        aug.view(prep.pixel_row(i), &prep.mean_image, &mut views[i * d..(i + 1) * d], &mut rng);
    }
    let clean: Vec<f64> = (0..n).flat_map(|i| (0..d).map(move |j| (i, j))).map(|(i, j)| prep.xi[(i, j)]).collect();
    (nearest_view_frustration(&views, &prep.train_labels, d), nearest_view_frustration(&clean, &prep.train_labels, d))
}

/// Model H's boundary `phi_c(lambda)` for the symmetric and asymmetric heads.
pub fn model_h_boundaries(lambda: f64) -> (f64, f64) {
    (1.0 - 4.0 * lambda, 1.0 - 2.0 * lambda.sqrt() * (1.0 + lambda))
}

/// The Model H variant an SSL variant mirrors, and Model H's verdict for it.
pub fn model_h_analogue(v: SslVariant) -> (&'static str, &'static str) {
    match v {
        SslVariant::NoPredictor => ("none (Model E: no head, both sides trained)", "collapses under any frustration"),
        SslVariant::PredictorNoSg => ("head (full gradient through the head)", "collapses: gradient flow of a loss minimised by collapse"),
        SslVariant::SgNoPredictor => ("sg-only (stop-gradient, W = I)", "collapses: equal to Model E"),
        SslVariant::Simsiam => ("symmetric (trained head, stop-gradient both ways)", "non-collapsed (W^2 = M) while phi < 1 - 4 lambda"),
        SslVariant::Byol => ("asymmetric (trained head, target not trained through the head)", "non-collapsed (W = M) while phi < 1 - 2 sqrt(lambda)(1 + lambda)"),
    }
}

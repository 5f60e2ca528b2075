//! The augmentation-frustration operator and Model H's prediction of the
//! collapse boundary from it (`docs/ssl.md`, "Collapse map").
//!
//! Each training image `i` (class `c(i)`) gets `R` augmented views. For a
//! view `v` of image `i`, `n(v)` is the nearest (Euclidean, centred pixels)
//! view of any *other* image. The soft label of image `i` is
//!
//! ```text
//!   A_ic = (1/R) #{views v of i : class of n(v) = c}        (rows sum to 1)
//! ```
//!
//! the probability that a view of `i` sits nearer to class `c`'s views than
//! to any other view: `1 - A_{i c(i)}` is the probability that a view is
//! nearer another class's views. An encoder that maps nearby inputs nearby
//! pulls `i` towards the classes of its neighbours, which is what Model H's
//! label-weight row `A_i` does to a frustrated sample. The operator is
//! Model H's (Model E's) frustration operator of this `A`
//! (`docs/embedding.md`),
//!
//! ```text
//!   M_aug = diag(m)^-1 A^T A,  m_c = sum_i A_ic,   phi_aug = 1 - mu_2(M_aug)
//! ```
//!
//! with `A^T A` estimated without bias from the `R` views: the plug-in
//! `sum_i A_ic A_ic'` of the estimated `A` overweights the diagonal by each
//! row's sampling variance (with `R` views and neighbours at chance it gives
//! `mu_2 ~ 1/2` instead of 0), so the products are averaged over pairs of
//! *distinct* views, `(A^T A)_cc' = sum_i (R A_ic A_ic' - A_ic delta_cc')/(R - 1)`
//! (a U-statistic; rows still sum to `m_c`). Estimated from the augmented
//! data alone: no network, no training run (the views come from stream
//! [`FRUSTRATION_STREAM`] of the seed, which training never uses).
//!
//! Prediction: Model H's saddle-node `phi_c(lambda)` (the non-collapsed
//! branch of the symmetric or asymmetric head exists only for
//! `phi < phi_c(lambda)`, `docs/head.md`), from the head model's own
//! [`critical_frustration`]. The boundary depends on the design only through
//! `phi = 2 f rho (1-rho) K/(K-1)`; it is evaluated at `K = 2, rho = 1/2`,
//! where `phi = f`, so that Model H's frustrated fraction `f = phi_aug`
//! covers every `phi_aug` in `[0, 1]` (a balanced design with the digits'
//! `K = 10` reaches only `phi <= 5/9`). The network is predicted to collapse
//! where `phi_aug(strength) >= phi_c(weight_decay)`.
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::augment::Augment;
use super::config::{SslConfig, SslVariant};
use super::simulation::Prepared;
use crate::error::{Error, Result};
use crate::models::ssl::simulation::eigen_desc;
use crate::models::head::config::Variant;
use crate::models::head::reduced::simplex::HeadSimplex;
use crate::models::head::theory::fixed_points::critical_frustration;

/// Generator stream of the frustration views (training uses 0, 1 and 5;
/// `theory ssl`'s one-view index uses 7).
pub const FRUSTRATION_STREAM: u64 = 9;

/// The augmentation operator of one augmentation setting.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AugmentationOperator {
    /// `phi_aug = 1 - mu_2(M_aug)`.
    pub phi: f64,
    /// Eigenvalues of `M_aug`, descending.
    pub spectrum: Vec<f64>,
    /// Mean over images of `1 - A_{i c(i)}`: the probability that a view
    /// is nearer another class's views.
    pub wrong_neighbour: f64,
    pub images: usize,
    pub views_per_image: usize,
}

/// `A` (row-major `N x K`) from views: `views` holds `R` consecutive rows of
/// `d` pixels per image (image `i`'s views are rows `i R .. (i+1) R`);
/// `labels[i]` is image `i`'s class. Ties go to the lower view index.
pub fn view_soft_labels(views: &[f64], labels: &[usize], classes: usize, per_image: usize, d: usize) -> Vec<f64> {
    let n = labels.len();
    let rows = n * per_image;
    let mut a = vec![0.0; n * classes];
    for v in 0..rows {
        let owner = v / per_image;
        let x = &views[v * d..(v + 1) * d];
        let mut best = (f64::INFINITY, usize::MAX);
        for u in (0..rows).filter(|u| u / per_image != owner) {
            let dist: f64 = x.iter().zip(&views[u * d..(u + 1) * d]).map(|(a, b)| (a - b) * (a - b)).sum();
            if dist < best.0 {
                best = (dist, u);
            }
        }
        a[owner * classes + labels[best.1 / per_image]] += 1.0 / per_image as f64;
    }
    a
}

/// `M_aug`, its spectrum and `phi_aug` from the soft labels `A` (`N x K`,
/// row-major) of `per_image >= 2` views each (unbiased `A^T A`, module doc).
pub fn operator_of(a: &[f64], labels: &[usize], classes: usize, per_image: usize) -> Result<AugmentationOperator> {
    if per_image < 2 {
        return Err(Error::invalid("frustration_views", per_image, "[2, 64] (the unbiased A^T A needs two distinct views per image)"));
    }
    let (n, k, r) = (labels.len(), classes, per_image as f64);
    let mut ata = faer::Mat::<f64>::zeros(k, k);
    for row in a.chunks(k) {
        for c in 0..k {
            for c2 in 0..k {
                ata[(c, c2)] += (r * row[c] * row[c2] - if c == c2 { row[c] } else { 0.0 }) / (r - 1.0);
            }
        }
    }
    let m: Vec<f64> = (0..k).map(|c| a.chunks(k).map(|row| row[c]).sum()).collect();
    if let Some(c) = (0..k).find(|&c| m[c] == 0.0) {
        return Err(Error::numerical("augmentation operator", format!("class {c} receives no nearest views (zero mass): M_aug is undefined")));
    }
    // diag(m)^-1 A^T A is similar to the symmetric diag(m)^-1/2 A^T A diag(m)^-1/2.
    let sym = faer::Mat::<f64>::from_fn(k, k, |i, j| ata[(i, j)] / (m[i] * m[j]).sqrt());
    let (spectrum, _) = eigen_desc(sym.as_ref(), "ssl: spectrum of M_aug")?;
    let wrong = (0..n).map(|i| 1.0 - a[i * k + labels[i]]).sum::<f64>() / n as f64;
    Ok(AugmentationOperator { phi: (1.0 - spectrum[1]).max(0.0), spectrum, wrong_neighbour: wrong, images: n, views_per_image: per_image })
}

/// The operator of `cfg`'s augmentations on the training images of `prep`,
/// `per_image` views each, drawn from stream [`FRUSTRATION_STREAM`] of `cfg.seed`.
pub fn augmentation_operator(cfg: &SslConfig, prep: &Prepared, per_image: usize) -> Result<AugmentationOperator> {
    let (n, d) = (prep.samples(), prep.pixels());
    let aug = Augment::new(cfg, prep.width, prep.height);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    rng.set_stream(FRUSTRATION_STREAM);
    let mut views = vec![0.0; n * per_image * d];
    for (v, out) in views.chunks_mut(d).enumerate() {
        aug.view(prep.pixel_row(v / per_image), &prep.mean_image, out, &mut rng);
    }
    let a = view_soft_labels(&views, &prep.train_labels, prep.classes, per_image, d);
    operator_of(&a, &prep.train_labels, prep.classes, per_image)
}

/// The Model H variant whose boundary applies to an SSL variant: SimSiam
/// mirrors the symmetric head, BYOL the asymmetric one; the other variants
/// collapse at every frustration (no boundary).
pub fn model_h_variant(v: SslVariant) -> Option<Variant> {
    match v {
        SslVariant::Simsiam => Some(Variant::Symmetric),
        SslVariant::Byol => Some(Variant::Asymmetric),
        _ => None,
    }
}

/// Model H's critical frustration index `phi_c(lambda)` of `variant`, from
/// [`critical_frustration`] at the design `K = 2, rho = 1/2` (unit rates):
/// `1` without weight decay and when the non-collapsed branch survives
/// every `phi <= 1`, `0` when it does not exist even at `phi = 0` (weight
/// decay too large).
pub fn critical_phi(variant: Variant, weight_decay: f64) -> f64 {
    if weight_decay <= 0.0 {
        return 1.0;
    }
    let p = [0.0, 0.5, 2.0, 1.0, 1.0, 1.0, weight_decay];
    match critical_frustration(variant, &p) {
        Ok(Some(fold)) => fold.critical_phi,
        Ok(None) => HeadSimplex::phi(&[1.0, 0.5, 2.0]),
        Err(_) => 0.0,
    }
}

/// The strength at which `phi_aug` first reaches `phi_c`, by linear
/// interpolation of the curve `(strength, phi_aug)` (sorted by strength):
/// `Some(first strength)` when `phi_aug` is already above at the first
/// point, `None` when it stays below over the whole curve.
pub fn crossing(curve: &[(f64, f64)], level: f64) -> Option<f64> {
    let first = curve.first()?;
    if first.1 >= level {
        return Some(first.0);
    }
    curve.windows(2).find(|w| w[1].1 >= level).map(|w| {
        let (a, b) = (w[0], w[1]);
        a.0 + (b.0 - a.0) * (level - a.1) / (b.1 - a.1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_interpolates_and_reports_the_ends() {
        let c = [(0.0, 0.1), (1.0, 0.5), (2.0, 0.9)];
        assert_eq!(crossing(&c, 0.05), Some(0.0));
        assert!((crossing(&c, 0.3).unwrap() - 0.5).abs() < 1e-15);
        assert!((crossing(&c, 0.8).unwrap() - 1.75).abs() < 1e-15);
        assert_eq!(crossing(&c, 0.95), None);
    }

    #[test]
    fn critical_phi_does_not_depend_on_the_design() {
        // The K = 2, rho = 1/2 design used for the prediction against a
        // K = 4, rho = 1/2 design (phi <= 2/3 at f = 1), both through critical_frustration.
        for (v, lam) in [(Variant::Symmetric, 0.1), (Variant::Symmetric, 0.2), (Variant::Asymmetric, 0.05)] {
            let other = critical_frustration(v, &[0.0, 0.5, 4.0, 1.0, 1.0, 1.0, lam]).unwrap().unwrap().critical_phi;
            assert!((critical_phi(v, lam) - other).abs() < 1e-8, "{v:?} lambda {lam}: {} vs {other}", critical_phi(v, lam));
        }
        assert_eq!(critical_phi(Variant::Symmetric, 0.3), 0.0, "no branch at lambda > 1/4");
        assert_eq!(critical_phi(Variant::Symmetric, 0.0), 1.0, "no boundary without weight decay");
    }
}

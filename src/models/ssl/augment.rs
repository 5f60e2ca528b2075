//! The four augmentations that make two views of an image
//! (`docs/ssl.md`, "Augmentations"), applied in this order to the scaled
//! pixels `v` (row-major, `width` x `height`):
//!
//! ```text
//!   translation:  v'(r, c) = v(r - dy, c - dx), 0 outside;  dx, dy uniform in {-shift, ..., shift}
//!   contrast:     v' = s v,  s uniform in [1 - contrast, 1 + contrast]
//!   cutout:       with probability mask_prob a mask_size x mask_size square, top-left corner uniform
//!                 over the positions inside the image, is set to 0
//!   noise:        v' = v + noise_std n,  n ~ N(0, I)
//! ```
//!
//! and the clean training mean image is subtracted last. The draws come
//! from the caller's generator (one stream per seed), so a seed's views are
//! reproducible; nothing is allocated.
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::models::ssl::config::SslConfig;

/// Augmentation strengths and the image shape.
#[derive(Clone, Copy, Debug)]
pub struct Augment {
    pub width: usize,
    pub height: usize,
    pub shift: usize,
    pub noise_std: f64,
    pub mask_size: usize,
    pub mask_prob: f64,
    pub contrast: f64,
}

impl Augment {
    pub fn new(cfg: &SslConfig, width: usize, height: usize) -> Self {
        Augment { width, height, shift: cfg.shift, noise_std: cfg.noise_std, mask_size: cfg.mask_size, mask_prob: cfg.mask_prob, contrast: cfg.contrast }
    }

    /// One view of `src` into `out` (both `width * height`), centred by `mean`.
    pub fn view(&self, src: &[f64], mean: &[f64], out: &mut [f64], rng: &mut ChaCha8Rng) {
        let (w, h) = (self.width as i64, self.height as i64);
        let s = self.shift as i64;
        let (dx, dy) = if s > 0 { (rng.random_range(-s..=s), rng.random_range(-s..=s)) } else { (0, 0) };
        let scale = if self.contrast > 0.0 { rng.random_range(1.0 - self.contrast..=1.0 + self.contrast) } else { 1.0 };
        for r in 0..h {
            for c in 0..w {
                let (sr, sc) = (r - dy, c - dx);
                let v = if (0..h).contains(&sr) && (0..w).contains(&sc) { src[(sr * w + sc) as usize] } else { 0.0 };
                out[(r * w + c) as usize] = scale * v;
            }
        }
        if self.mask_size > 0 && self.mask_prob > 0.0 && rng.random::<f64>() < self.mask_prob {
            let m = self.mask_size;
            let r0 = rng.random_range(0..=self.height - m);
            let c0 = rng.random_range(0..=self.width - m);
            for r in r0..r0 + m {
                for c in c0..c0 + m {
                    out[r * self.width + c] = 0.0;
                }
            }
        }
        for (o, m) in out.iter_mut().zip(mean) {
            let n: f64 = if self.noise_std > 0.0 { StandardNormal.sample(rng) } else { 0.0 };
            *o = *o + self.noise_std * n - m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn aug(shift: usize, noise: f64, mask: usize, prob: f64, contrast: f64) -> Augment {
        Augment { width: 4, height: 3, shift, noise_std: noise, mask_size: mask, mask_prob: prob, contrast }
    }

    #[test]
    fn identity_without_strength_and_translation_zero_fills() {
        let src: Vec<f64> = (1..=12).map(f64::from).collect();
        let zero = vec![0.0; 12];
        let mut out = vec![0.0; 12];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        aug(0, 0.0, 0, 0.0, 0.0).view(&src, &zero, &mut out, &mut rng);
        assert_eq!(out, src);
        // With shift 1 every output pixel is a source pixel moved by at most one, or 0.
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            aug(1, 0.0, 0, 0.0, 0.0).view(&src, &zero, &mut out, &mut rng);
            let moved = (-1i64..=1).flat_map(|dy| (-1i64..=1).map(move |dx| (dx, dy))).any(|(dx, dy)| {
                (0..3i64).all(|r| (0..4i64).all(|c| {
                    let (sr, sc) = (r - dy, c - dx);
                    let want = if (0..3).contains(&sr) && (0..4).contains(&sc) { src[(sr * 4 + sc) as usize] } else { 0.0 };
                    out[(r * 4 + c) as usize] == want
                }))
            });
            assert!(moved, "seed {seed}: {out:?} is no translation of the source");
        }
    }

    #[test]
    fn cutout_contrast_and_noise_have_their_strengths() {
        let src = vec![1.0; 12];
        let zero = vec![0.0; 12];
        let mut out = vec![0.0; 12];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        aug(0, 0.0, 2, 1.0, 0.0).view(&src, &zero, &mut out, &mut rng);
        assert_eq!(out.iter().filter(|v| **v == 0.0).count(), 4, "a 2x2 cutout: {out:?}");
        for _ in 0..50 {
            aug(0, 0.0, 0, 0.0, 0.25).view(&src, &zero, &mut out, &mut rng);
            assert!(out.iter().all(|v| (0.75..=1.25).contains(v) && *v == out[0]));
        }
        let mut sq = 0.0;
        for _ in 0..2000 {
            aug(0, 0.5, 0, 0.0, 0.0).view(&src, &zero, &mut out, &mut rng);
            sq += out.iter().map(|v| (v - 1.0).powi(2)).sum::<f64>();
        }
        let sd = (sq / 24000.0).sqrt();
        assert!((sd - 0.5).abs() < 0.02, "noise std {sd}");
    }
}

//! The images shared by every seed: loaded (bundled digits or a CSV through
//! the real-data loader), split, scaled to `[0, 1]` by the largest training
//! pixel, and centred by the clean training mean image; plus the checks of
//! the keys whose range depends on the image size.
use faer::Mat;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::models::realdata::data::{Dataset, LabelColumn};
use crate::models::ssl::config::SslConfig;

/// Images as rows of `width * height` pixels.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Training pixels, scaled (not centred), row-major N x D: the source of the augmented views.
    pub train_pixels: Vec<f64>,
    pub train_labels: Vec<usize>,
    pub test_labels: Vec<usize>,
    /// The clean training mean image (scaled), subtracted from every view.
    pub mean_image: Vec<f64>,
    /// Clean centred training and held-out images (N x D, N_test x D): the measurement inputs.
    pub xi: Mat<f64>,
    pub xi_test: Mat<f64>,
    pub width: usize,
    pub height: usize,
    pub classes: usize,
    pub source: String,
    /// The divisor that scaled the pixels to `[0, 1]`.
    pub pixel_scale: f64,
}

impl Prepared {
    pub fn new(cfg: &SslConfig) -> Result<Self> {
        let data = match &cfg.data_file {
            None => Dataset::digits()?,
            Some(p) => Dataset::from_file(p, &LabelColumn::parse(&cfg.label_column))?,
        };
        let dd = data.dim;
        let width = if cfg.image_width == 0 {
            let w = (dd as f64).sqrt().round() as usize;
            if w * w != dd {
                return Err(Error::invalid("image_width", 0, format!("a divisor of the {dd} pixels per image (0 = square images only; {dd} is not a square)")));
            }
            w
        } else if dd % cfg.image_width == 0 {
            cfg.image_width
        } else {
            return Err(Error::invalid("image_width", cfg.image_width, format!("0 or a divisor of the {dd} pixels per image")));
        };
        let height = dd / width;
        let side = width.min(height);
        if cfg.shift >= side {
            return Err(Error::invalid("shift", cfg.shift, format!("[0, {}] (images are {width} x {height} pixels; a shift must be narrower than the image)", side - 1)));
        }
        if cfg.mask_size > side {
            return Err(Error::invalid("mask_size", cfg.mask_size, format!("[0, {side}] (images are {width} x {height} pixels)")));
        }
        let n = data.len();
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.split_seed ^ 0x55_1u64));
        let n_test = (cfg.test_fraction * n as f64).round() as usize;
        let available = n - n_test;
        let n_train = if cfg.train_samples == 0 { available } else { cfg.train_samples };
        if n_test == 0 || n_train > available || n_train < 2 {
            return Err(Error::invalid("train_samples", cfg.train_samples, format!("0 (all) or an integer in [2, {available}] ({n} images, {n_test} held out; test_fraction must leave both parts non-empty)")));
        }
        if cfg.batch > n_train {
            return Err(Error::invalid("batch", cfg.batch, format!("[1, {n_train}] (the training images)")));
        }
        let train = data.select(&perm[n_test..n_test + n_train]);
        let test = data.select(&perm[..n_test]);
        let max = train.features.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 { max } else { 1.0 };
        let train_pixels: Vec<f64> = train.features.iter().map(|v| v / scale).collect();
        let mean_image: Vec<f64> = (0..dd).map(|j| (0..n_train).map(|i| train_pixels[i * dd + j]).sum::<f64>() / n_train as f64).collect();
        let xi = Mat::from_fn(n_train, dd, |i, j| train_pixels[i * dd + j] - mean_image[j]);
        let xi_test = Mat::from_fn(n_test, dd, |i, j| test.features[i * dd + j] / scale - mean_image[j]);
        Ok(Prepared {
            train_pixels,
            train_labels: train.labels.clone(),
            test_labels: test.labels.clone(),
            mean_image,
            xi,
            xi_test,
            width,
            height,
            classes: data.classes(),
            source: data.source.clone(),
            pixel_scale: scale,
        })
    }
    pub fn samples(&self) -> usize {
        self.train_labels.len()
    }
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }
    pub fn pixel_row(&self, i: usize) -> &[f64] {
        let d = self.pixels();
        &self.train_pixels[i * d..(i + 1) * d]
    }
}

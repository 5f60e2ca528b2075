//! Encoders from inputs `xi in R^D` to the shared embedding space `R^d`, in
//! the neural-tangent parametrisation (every weight O(1), the fan-in
//! scaling written into the forward pass, so the kernel's diagonal is O(1)
//! for standardised inputs and the rates are those of Model E):
//!
//! ```text
//!   linear:  x = W xi / sqrt(D)                                   (W: d x D)
//!   MLP:     x = W2 relu(W1 xi / sqrt(D)) / sqrt(m)               (W1: m x D, W2: d x m)
//! ```
//!
//! The linear encoder is `x = W' xi` with `W' = W / sqrt(D)`; the factor
//! makes its gradient flow Model T's finite-data flow verbatim
//! (`models/teacher/finite/reduced.rs`). Gradients of `sum_i g_i . x_i` (the
//! embedding-space gradient `g_i = dL/dx_i` back-propagated) are written
//! out by hand: the network has one hidden layer.
//!
//! ```text
//!   linear:  dW  = G^T Xi / sqrt(D)
//!   MLP:     dW2 = G^T H / sqrt(m),  dZ = (G W2 / sqrt(m)) .* 1[Z > 0],  dW1 = dZ^T Xi / sqrt(D)
//! ```
//!
//! Matrices are faer `Mat`s (column-major); the products are faer matmuls
//! into preallocated buffers.
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Encoder architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncoderKind {
    Linear,
    /// Two-layer ReLU network with `width` hidden units.
    Mlp { width: usize },
}

impl EncoderKind {
    pub const NAMES: [&'static str; 2] = ["linear", "mlp"];
    pub fn name(self) -> &'static str {
        match self {
            EncoderKind::Linear => "linear",
            EncoderKind::Mlp { .. } => "mlp",
        }
    }
}

/// Encoder weights. For the linear encoder `w1` is `W` (d x D) and `w2` is empty.
#[derive(Clone, Debug)]
pub struct Encoder {
    pub kind: EncoderKind,
    pub input_dim: usize,
    pub dim: usize,
    pub w1: Mat<f64>,
    pub w2: Mat<f64>,
}

/// Forward and backward buffers for up to `rows` samples; nothing is
/// allocated after construction.
#[derive(Clone, Debug)]
pub struct EncoderBuffers {
    /// Pre-activations `Z` (rows x m).
    pub z: Mat<f64>,
    /// Activations `H = relu(Z)`.
    pub h: Mat<f64>,
    /// Back-propagated `dZ`.
    pub dz: Mat<f64>,
    /// Gradients of `w1`, `w2`.
    pub g1: Mat<f64>,
    pub g2: Mat<f64>,
}

impl Encoder {
    /// Random start from stream 0 of `seed`: linear `W_ij ~ N(0, s^2)`
    /// (so `x` has std ~ s); MLP `W1_ij ~ N(0, 1)` (unit-variance
    /// pre-activations), `W2_ij ~ N(0, s^2)`.
    pub fn random(kind: EncoderKind, input_dim: usize, dim: usize, init_scale: f64, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0);
        let mut draw = |r: usize, c: usize, s: f64| {
            let mut m = Mat::<f64>::zeros(r, c);
            // Row by row so the draw order does not depend on the storage order.
            for i in 0..r {
                for j in 0..c {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    m[(i, j)] = s * z;
                }
            }
            m
        };
        match kind {
            EncoderKind::Linear => Encoder { kind, input_dim, dim, w1: draw(dim, input_dim, init_scale), w2: Mat::zeros(0, 0) },
            EncoderKind::Mlp { width } => {
                let w1 = draw(width, input_dim, 1.0);
                let w2 = draw(dim, width, init_scale);
                Encoder { kind, input_dim, dim, w1, w2 }
            }
        }
    }

    pub fn width(&self) -> usize {
        match self.kind {
            EncoderKind::Linear => 0,
            EncoderKind::Mlp { width } => width,
        }
    }

    /// Number of trainable weights.
    pub fn parameters(&self) -> usize {
        self.w1.nrows() * self.w1.ncols() + self.w2.nrows() * self.w2.ncols()
    }

    /// Buffers for batches of up to `rows` samples.
    pub fn buffers(&self, rows: usize) -> EncoderBuffers {
        let m = self.width();
        EncoderBuffers {
            z: Mat::zeros(rows, m),
            h: Mat::zeros(rows, m),
            dz: Mat::zeros(rows, m),
            g1: Mat::zeros(self.w1.nrows(), self.w1.ncols()),
            g2: Mat::zeros(self.w2.nrows(), self.w2.ncols()),
        }
    }

    /// `x = f(xi)` for the rows of `xi` (b x D) into `x` (b x d); the MLP
    /// keeps `Z` and `H` in `buf` (first b rows) for the backward pass.
    pub fn forward(&self, xi: MatRef<'_, f64>, x: MatMut<'_, f64>, buf: &mut EncoderBuffers) {
        let b = xi.nrows();
        let sd = 1.0 / (self.input_dim as f64).sqrt();
        match self.kind {
            EncoderKind::Linear => matmul(x, Accum::Replace, xi, self.w1.transpose(), sd, Par::Seq),
            EncoderKind::Mlp { width } => {
                let mut z = buf.z.as_mut().subrows_mut(0, b);
                matmul(z.as_mut(), Accum::Replace, xi, self.w1.transpose(), sd, Par::Seq);
                let mut h = buf.h.as_mut().subrows_mut(0, b);
                for j in 0..width {
                    for i in 0..b {
                        h[(i, j)] = z[(i, j)].max(0.0);
                    }
                }
                matmul(x, Accum::Replace, h.as_ref(), self.w2.transpose(), 1.0 / (width as f64).sqrt(), Par::Seq);
            }
        }
    }

    /// Gradients of `sum_i g_i . x_i` with respect to the weights, into
    /// `buf.g1`, `buf.g2` (needs the `Z`, `H` of the last [`forward`](Self::forward)
    /// on the same `xi`).
    pub fn backward(&self, xi: MatRef<'_, f64>, g: MatRef<'_, f64>, buf: &mut EncoderBuffers) {
        let b = xi.nrows();
        let sd = 1.0 / (self.input_dim as f64).sqrt();
        match self.kind {
            EncoderKind::Linear => matmul(buf.g1.as_mut(), Accum::Replace, g.transpose(), xi, sd, Par::Seq),
            EncoderKind::Mlp { width } => {
                let sm = 1.0 / (width as f64).sqrt();
                matmul(buf.g2.as_mut(), Accum::Replace, g.transpose(), buf.h.as_ref().subrows(0, b), sm, Par::Seq);
                let mut dz = buf.dz.as_mut().subrows_mut(0, b);
                matmul(dz.as_mut(), Accum::Replace, g, self.w2.as_ref(), sm, Par::Seq);
                let z = buf.z.as_ref().subrows(0, b);
                for j in 0..width {
                    for i in 0..b {
                        if z[(i, j)] <= 0.0 {
                            dz[(i, j)] = 0.0;
                        }
                    }
                }
                matmul(buf.g1.as_mut(), Accum::Replace, dz.as_ref().transpose(), xi, sd, Par::Seq);
            }
        }
    }

    /// `theta -= step (grad + decay theta)` for both layers.
    pub fn update(&mut self, buf: &EncoderBuffers, step: f64, decay: f64) {
        for (w, g) in [(&mut self.w1, &buf.g1), (&mut self.w2, &buf.g2)] {
            for j in 0..w.ncols() {
                for i in 0..w.nrows() {
                    let v = w[(i, j)];
                    w[(i, j)] = v - step * (g[(i, j)] + decay * v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loss `sum_i g_i . x_i`; its weight gradient by central differences
    /// (exact up to rounding for the linear encoder, O(h^2) for the MLP away
    /// from ReLU kinks) against the hand-written backward pass.
    fn get(e: &mut Encoder, layer: usize) -> &mut Mat<f64> {
        if layer == 0 {
            &mut e.w1
        } else {
            &mut e.w2
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        for kind in [EncoderKind::Linear, EncoderKind::Mlp { width: 7 }] {
            let (b, dd, d) = (5, 4, 3);
            let mut enc = Encoder::random(kind, dd, d, 0.8, 11);
            let xi = Mat::<f64>::from_fn(b, dd, |i, j| ((i * 7 + j * 3) % 5) as f64 - 2.0 + 0.1 * j as f64);
            let g = Mat::<f64>::from_fn(b, d, |i, j| ((i + 2 * j) % 3) as f64 - 1.0);
            let mut buf = enc.buffers(b);
            let mut x = Mat::<f64>::zeros(b, d);
            let loss = |enc: &Encoder, buf: &mut EncoderBuffers, x: &mut Mat<f64>| {
                enc.forward(xi.as_ref(), x.as_mut(), buf);
                (0..b).map(|i| (0..d).map(|j| g[(i, j)] * x[(i, j)]).sum::<f64>()).sum::<f64>()
            };
            loss(&enc, &mut buf, &mut x);
            enc.backward(xi.as_ref(), g.as_ref(), &mut buf);
            let (g1, g2) = (buf.g1.clone(), buf.g2.clone());
            let h = 1e-6;
            for layer in 0..2 {
                let (r, c) = if layer == 0 { (enc.w1.nrows(), enc.w1.ncols()) } else { (enc.w2.nrows(), enc.w2.ncols()) };
                for i in 0..r {
                    for j in 0..c {
                        let v = get(&mut enc, layer)[(i, j)];
                        get(&mut enc, layer)[(i, j)] = v + h;
                        let lp = loss(&enc, &mut buf, &mut x);
                        get(&mut enc, layer)[(i, j)] = v - h;
                        let lm = loss(&enc, &mut buf, &mut x);
                        get(&mut enc, layer)[(i, j)] = v;
                        let fd = (lp - lm) / (2.0 * h);
                        let an = if layer == 0 { g1[(i, j)] } else { g2[(i, j)] };
                        assert!((fd - an).abs() < 1e-6 * (1.0 + an.abs()), "{kind:?} layer {layer} ({i},{j}): fd {fd} vs {an}");
                    }
                }
            }
        }
    }
}

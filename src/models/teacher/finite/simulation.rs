//! Model T with a finite training set: `N` fixed samples `xi_mu` (rows of
//! `Xi`, N x D) with fixed noisy labels `l_mu`, trained by full-batch
//! gradient descent on the loss `L = (1/2N) sum_mu |x_mu - y_{l_mu}|^2`,
//! `x_mu = W xi_mu / sqrt(D)`:
//!
//! ```text
//!     W   <- W   - dt eta_x sum_mu (x_mu - y_{l_mu}) xi_mu^T / sqrt(D)     (= -dt eta_x N dL/dW)
//!     y_c <- y_c + dt (eta_y / n) sum_{mu: l_mu = c} (x_mu - y_c),          n = N / K
//! ```
//!
//! so that `dx_mu/dt = -eta_x sum_nu K_{mu nu} (x_nu - y_{l_nu})` with the
//! kernel `K = Xi Xi^T / D`. For `D >> N`, `K -> I` and this is Model E's
//! gradient descent with one-hot label weights `A_mu = e_{l_mu}` step for
//! step (`docs/teacher.md` section 3; tested in `tests/models/teacher/finite.rs`).
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::models::common::frustration::LabelWeights;
use crate::models::teacher::online::simulation::{Stream, Student};
use crate::models::teacher::config::TeacherConfig;

/// A fixed training set.
#[derive(Clone, Debug)]
pub struct TrainingSet {
    /// N x D row-major.
    pub xi: Vec<f64>,
    /// Teacher (true) classes.
    pub class: Vec<usize>,
    /// Observed (possibly flipped) labels.
    pub label: Vec<usize>,
    pub input_dim: usize,
    pub classes: usize,
}

impl TrainingSet {
    /// Draws `n` samples from the config's teacher with seed `seed`.
    pub fn draw(cfg: &TeacherConfig, n: usize, seed: u64) -> Self {
        let stream = Stream::from_config(cfg);
        let dd = cfg.input_dim;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xda7a_5e7);
        let mut xi = vec![0.0; n * dd];
        let mut class = Vec::with_capacity(n);
        let mut label = Vec::with_capacity(n);
        for mu in 0..n {
            let (c, l) = stream.sample(&mut rng, &mut xi[mu * dd..(mu + 1) * dd]);
            class.push(c);
            label.push(l);
        }
        TrainingSet { xi, class, label, input_dim: dd, classes: cfg.classes }
    }
    pub fn len(&self) -> usize {
        self.class.len()
    }
    pub fn is_empty(&self) -> bool {
        self.class.is_empty()
    }
    /// One-hot label weights `A_mu = e_{l_mu}` with the teacher class as the
    /// primary class (Model E's representation of this data set). Fails if a
    /// class has no label.
    pub fn label_weights(&self) -> Result<LabelWeights> {
        let k = self.classes;
        let mut text = String::from("class");
        for c in 0..k {
            text += &format!(",w{c}");
        }
        text.push('\n');
        for mu in 0..self.len() {
            text += &self.class[mu].to_string();
            for c in 0..k {
                text += if c == self.label[mu] { ",1" } else { ",0" };
            }
            text.push('\n');
        }
        LabelWeights::from_csv_str(&text, std::path::Path::new("<training set>"))
            .map_err(|e| Error::invalid("samples", self.len(), format!("enough samples for every class to carry a label ({e})")))
    }
    /// Class counts of the observed labels (`m_c`).
    pub fn label_mass(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.classes];
        for &l in &self.label {
            m[l] += 1.0;
        }
        m
    }
}

/// Workspace of a full-batch step: embeddings `x` (N x d) and the weight
/// gradient (d x D), so that a step allocates nothing.
#[derive(Clone, Debug)]
pub struct FiniteWorkspace {
    pub x: Vec<f64>,
    pub grad: Vec<f64>,
    pub pull: Vec<f64>,
}

impl FiniteWorkspace {
    pub fn new(n: usize, d: usize, dd: usize, k: usize) -> Self {
        FiniteWorkspace { x: vec![0.0; n * d], grad: vec![0.0; d * dd], pull: vec![0.0; k * d] }
    }
}

/// Embeddings `x_mu = W xi_mu / sqrt(D)` of every training sample (N x d).
pub fn embed_all(student: &Student, data: &TrainingSet, x: &mut [f64]) {
    let d = student.dim;
    let dd = data.input_dim;
    for mu in 0..data.len() {
        student.embed(&data.xi[mu * dd..(mu + 1) * dd], &mut x[mu * d..(mu + 1) * d]);
    }
}

/// One full-batch gradient-descent step (module doc), `O(N D d)`.
pub fn gd_step(student: &mut Student, data: &TrainingSet, eta_x: f64, eta_y: f64, dt: f64, ws: &mut FiniteWorkspace) {
    let (d, dd, k) = (student.dim, data.input_dim, data.classes);
    let n = data.len();
    embed_all(student, data, &mut ws.x);
    ws.grad.fill(0.0);
    ws.pull.fill(0.0);
    for mu in 0..n {
        let l = data.label[mu];
        let xi = &data.xi[mu * dd..(mu + 1) * dd];
        for i in 0..d {
            let e = ws.x[mu * d + i] - student.y[l * d + i];
            ws.pull[l * d + i] += e;
            let g = &mut ws.grad[i * dd..(i + 1) * dd];
            for (gv, xv) in g.iter_mut().zip(xi) {
                *gv += e * xv;
            }
        }
    }
    let cw = dt * eta_x / (dd as f64).sqrt();
    for (wv, gv) in student.w.iter_mut().zip(&ws.grad) {
        *wv -= cw * gv;
    }
    let cy = dt * eta_y * k as f64 / n as f64;
    for (yv, pv) in student.y.iter_mut().zip(&ws.pull) {
        *yv += cy * pv;
    }
}

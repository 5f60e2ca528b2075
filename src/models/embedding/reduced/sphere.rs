//! The simplex-symmetric reduction of Model E on the unit sphere
//! (`docs/embedding.md` section 8): balanced design, large `N` and `d`.
//!
//! All vectors live in the span of the unit simplex vertices `e_a`
//! (`e_a . e_b = -kappa`, `kappa = 1/(K-1)`, `sum_a e_a = 0`) and one
//! unit "pole" `u` orthogonal to them, plus private directions of the
//! samples (orthogonal to everything as `d -> infinity`, and averaging out
//! of the class sums as `n -> infinity`):
//!
//! ```text
//!   y_a = s e_a + h u,   consistent x = s_u e_a + h_u u + xi,   frustrated a -> b: x = p e_a + q e_b + h_v u + xi
//! ```
//!
//! With `normalized = true` the projected flow of [`crate::models::embedding::sphere`] gives
//!
//! ```text
//!   ds_u/dt = eta_x (s - c_u s_u),               dh_u/dt = eta_x (h - c_u h_u),             c_u = s s_u + h h_u
//!   dp/dt   = eta_x ((1-rho) s - c_v p),         dq/dt   = eta_x (rho s - c_v q),            dh_v/dt = eta_x (h - c_v h_v)
//!             c_v = s [(1-rho)(p - kappa q) + rho (q - kappa p)] + h h_v
//!   ds/dt   = eta_y (sigma - c_y s),             dh/dt   = eta_y (eta - c_y h),               c_y = s sigma + h eta
//!   sigma   = (1-f) s_u + f (1-rho)(p - kappa q) + f rho (q - kappa p),   eta = (1-f) h_u + f h_v
//! ```
//!
//! (`c = x . target`: the projection terms). With `normalized = false`
//! every `c` is 1 and the system is Model E's 4-variable simplex
//! reduction (`simplex.rs`) plus the pole components, which relax to the
//! conserved centre. The label cosine is `(h^2 - kappa s^2)/(h^2 + s^2)`.
use faer::MatMut;

use crate::engine::{central_jacobian, central_param_derivative, Invariant, VectorField};

/// State order of [`SphereSimplex`].
pub const STATE: [&str; 7] = ["s_u", "h_u", "p", "q", "h_v", "s", "h"];
/// Parameter order (as Model E's simplex reduction).
pub const PARAMS: [&str; 5] = ["frustrated", "rho", "classes", "eta_x", "eta_y"];

/// The 7-variable system of the module doc.
#[derive(Clone, Debug)]
pub struct SphereSimplex {
    /// `[f, rho, K, eta_x, eta_y]`.
    pub params: [f64; 5],
    /// Projection terms on (the sphere) or off (free embeddings).
    pub normalized: bool,
}

impl SphereSimplex {
    pub fn new(f: f64, rho: f64, k: usize, eta_x: f64, eta_y: f64, normalized: bool) -> Self {
        SphereSimplex { params: [f, rho, k as f64, eta_x, eta_y], normalized }
    }

    /// The `d -> infinity` random start: `K` orthonormal labels
    /// (`s = sqrt((K-1)/K)`, `h = 1/sqrt(K)`: label cosine 0) and samples
    /// with only private components.
    pub fn random_start(k: usize) -> [f64; 7] {
        let kf = k as f64;
        [0.0, 0.0, 0.0, 0.0, 0.0, ((kf - 1.0) / kf).sqrt(), 1.0 / kf.sqrt()]
    }

    /// The collapsed state: every vector at the pole `u`.
    pub fn collapsed() -> [f64; 7] {
        [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    }

    /// The centred critical point: labels on the regular simplex (`h = 0`,
    /// `s = 1`), consistent samples on their labels, frustrated samples at
    /// their normalised targets `((1-rho) e_a + rho e_b)/sqrt(1 - gamma)`,
    /// `gamma = 2 rho (1-rho) K/(K-1)`. A fixed point of the normalised
    /// flow only (the free flow shrinks `s`).
    pub fn centred(rho: f64, k: usize) -> [f64; 7] {
        let kf = k as f64;
        let g = (1.0 - 2.0 * rho * (1.0 - rho) * kf / (kf - 1.0)).sqrt();
        [1.0, 0.0, (1.0 - rho) / g, rho / g, 0.0, 1.0, 0.0]
    }

    /// Mean inter-label cosine `(h^2 - kappa s^2)/(h^2 + s^2)`.
    pub fn label_cosine(z: &[f64], k: f64) -> f64 {
        let (s, h) = (z[5], z[6]);
        (h * h - s * s / (k - 1.0)) / (h * h + s * s)
    }
}

impl VectorField for SphereSimplex {
    fn name(&self) -> &str {
        if self.normalized { "embedding-sphere-simplex" } else { "embedding-free-simplex-with-pole" }
    }
    fn dim(&self) -> usize {
        7
    }
    fn state_names(&self) -> Vec<String> {
        STATE.iter().map(|s| s.to_string()).collect()
    }
    fn param_names(&self) -> Vec<String> {
        PARAMS.iter().map(|s| s.to_string()).collect()
    }
    fn default_params(&self) -> Vec<f64> {
        self.params.to_vec()
    }
    fn initial_state(&self) -> Vec<f64> {
        Self::random_start(self.params[2] as usize).to_vec()
    }

    fn rhs(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        let (f, rho, k, ex, ey) = (p[0], p[1], p[2], p[3], p[4]);
        let kap = 1.0 / (k - 1.0);
        let (su, hu, pp, q, hv, s, h) = (z[0], z[1], z[2], z[3], z[4], z[5], z[6]);
        let on = self.normalized;
        let cu = if on { s * su + h * hu } else { 1.0 };
        out[0] = ex * (s - cu * su);
        out[1] = ex * (h - cu * hu);
        let cv = if on { s * ((1.0 - rho) * (pp - kap * q) + rho * (q - kap * pp)) + h * hv } else { 1.0 };
        out[2] = ex * ((1.0 - rho) * s - cv * pp);
        out[3] = ex * (rho * s - cv * q);
        out[4] = ex * (h - cv * hv);
        let sigma = (1.0 - f) * su + f * (1.0 - rho) * (pp - kap * q) + f * rho * (q - kap * pp);
        let eta = (1.0 - f) * hu + f * hv;
        let cy = if on { s * sigma + h * eta } else { 1.0 };
        out[5] = ey * (sigma - cy * s);
        out[6] = ey * (eta - cy * h);
    }

    /// Central differences of [`rhs`](VectorField::rhs) (step `1e-6` per
    /// unit of the coordinate's size): the field is a cubic polynomial, so
    /// the truncation error is `O(1e-12)` relative, far below the
    /// classification's zero threshold.
    fn jacobian(&self, z: &[f64], p: &[f64], jac: MatMut<'_, f64>) {
        central_jacobian(self, z, p, 1.0, jac);
    }

    /// Central differences in the parameter (`central_param_derivative`).
    fn param_derivative(&self, z: &[f64], p: &[f64], idx: usize, out: &mut [f64]) {
        central_param_derivative(self, z, p, idx, 1.0, out);
    }

    fn observable_names(&self) -> Vec<String> {
        vec!["label_cosine".into(), "min_label_distance".into()]
    }
    fn observables(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        out[0] = Self::label_cosine(z, p[2]);
        out[1] = z[5].abs() * (2.0 * p[2] / (p[2] - 1.0)).sqrt();
    }

    fn invariants(&self, _z: &[f64], _p: &[f64]) -> Vec<Invariant> {
        Vec::new()
    }
}

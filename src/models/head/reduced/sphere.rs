//! The simplex-symmetric reduction of Model H on the unit sphere
//! (`docs/head.md`, "Normalised embeddings and the cosine loss").
//!
//! Balanced design; every vector in the span of the unit simplex vertices
//! `e_a` (`e_a . e_b = -kappa`, `kappa = 1/(K-1)`) and the pole `u`, with no
//! private components (an exact invariant subspace of the microscopic flow
//! for `d >= K` when all samples of a group start equal), and the head
//! `W = w_e P_e + w_u u u^T` (`P_e` the projector on the simplex span):
//!
//! ```text
//!   y_a = s e_a + h u,   consistent x = s_u e_a + h_u u,   frustrated a -> b: x = p e_a + q e_b + h_v u
//! ```
//!
//! Each vector is a coefficient triple on `(e_a, e_b, u)` with the Gram
//! product `a . b = a_1 b_1 + a_2 b_2 - kappa (a_1 b_2 + a_2 b_1) + a_3 b_3`;
//! `W` scales the triple by `(w_e, w_e, w_u)`. With
//! `g(v; t) = (t - (zhat . t) zhat)/|z|`, `z = W v` (the microscopic step's
//! pull, `src/models/head/simulation/sphere.rs`) and `P_v w = w - (v . w) v`:
//!
//! ```text
//!   dx/dt   = eta_x P_x W g(x; ybar)                  ybar = (s, 0, h) consistent, ((1-rho) s, rho s, h) frustrated
//!   dy/dt   = eta_y P_y W g(y; S)   (symmetric)   or   eta_y P_y S   (asymmetric, none, sg-only)
//!             S = (sigma, 0, eta),  sigma = (1-f) s_u + f (1-rho)(p - kappa q) + f rho (q - kappa p),  eta = (1-f) h_u + f h_v
//!   dw_e/dt = eta_w/(K-1) [ (1-f) g_u .e x_u + f g_v .e x_v + g2 g_y,1 s ]
//!   dw_u/dt = eta_w [ (1-f) g_u,3 x_u,3 + f g_v,3 x_v,3 + g2 g_y,3 h ]
//! ```
//!
//! (`.e`: the Gram product restricted to the first two coefficients;
//! `g2 = 1` for `symmetric`; `w` frozen for `none`/`sg-only`). The head's
//! equations are the traces of `dW/dt` against `P_e/(K-1)` and `u u^T`: the
//! sums over a symmetric configuration commute with the class permutations,
//! so `dW/dt` keeps the form of `W`. Since the loss is scale-free in `W`,
//! `(K-1) w_e^2 + w_u^2` is conserved and every fixed point comes with its
//! ray `a W` (a family direction). Off the sphere the field adds
//! `eta (1 - |v|^2) v` to each vector's equation (zero on the sphere), so
//! that the norm directions are attracting rather than neutral.
use faer::MatMut;

use crate::engine::{central_jacobian, central_param_derivative, Invariant, VectorField};
use crate::models::head::config::Variant;

/// State order of [`HeadSphereSimplex`].
pub const STATE: [&str; 9] = ["s_u", "h_u", "p", "q", "h_v", "s", "h", "w_e", "w_u"];
/// Parameter order.
pub const PARAMS: [&str; 6] = ["frustrated", "rho", "classes", "eta_x", "eta_y", "eta_w"];

/// The 9-variable system of the module doc for one variant (`head` is not
/// implemented on the sphere).
#[derive(Clone, Debug)]
pub struct HeadSphereSimplex {
    pub variant: Variant,
    /// `[f, rho, K, eta_x, eta_y, eta_w]`.
    pub params: [f64; 6],
}

type Triple = [f64; 3];

fn gram(a: Triple, b: Triple, kap: f64) -> f64 {
    a[0] * b[0] + a[1] * b[1] - kap * (a[0] * b[1] + a[1] * b[0]) + a[2] * b[2]
}

/// `(P_x W g, g)` for a vector `x` pulled towards `t` through `W = (w_e, w_e, w_u)`.
fn pull(x: Triple, t: Triple, w: Triple, kap: f64) -> (Triple, Triple) {
    let z = [w[0] * x[0], w[1] * x[1], w[2] * x[2]];
    let nz = gram(z, z, kap).sqrt();
    let a = gram(z, t, kap) / nz;
    let g = [0, 1, 2].map(|j| (t[j] - a * z[j] / nz) / nz);
    let v = [w[0] * g[0], w[1] * g[1], w[2] * g[2]];
    let xv = gram(x, v, kap);
    ([0, 1, 2].map(|j| v[j] - xv * x[j]), g)
}

impl HeadSphereSimplex {
    pub fn new(variant: Variant, params: [f64; 6]) -> Self {
        HeadSphereSimplex { variant, params }
    }

    /// The start after the fast phase from orthonormal labels
    /// (`s = sqrt((K-1)/K)`, `h = 1/sqrt(K)`, label cosine 0): samples on
    /// their normalised targets, `W = I`.
    pub fn aligned_start(rho: f64, k: usize) -> [f64; 9] {
        let kf = k as f64;
        let kap = 1.0 / (kf - 1.0);
        let (s, h) = (((kf - 1.0) / kf).sqrt(), 1.0 / kf.sqrt());
        let t = [(1.0 - rho) * s, rho * s, h];
        let n = gram(t, t, kap).sqrt();
        [s, h, t[0] / n, t[1] / n, t[2] / n, s, h, 1.0, 1.0]
    }

    /// Mean inter-label cosine `(h^2 - kappa s^2)/(h^2 + s^2)`.
    pub fn label_cosine(z: &[f64], k: f64) -> f64 {
        let (s, h) = (z[5], z[6]);
        (h * h - s * s / (k - 1.0)) / (h * h + s * s)
    }
}

impl VectorField for HeadSphereSimplex {
    fn name(&self) -> &str {
        "head-sphere-simplex"
    }
    fn dim(&self) -> usize {
        9
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
        Self::aligned_start(self.params[1], self.params[2] as usize).to_vec()
    }

    fn rhs(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        let (f, rho, k, ex, ey, ew) = (p[0], p[1], p[2], p[3], p[4], p[5]);
        let kap = 1.0 / (k - 1.0);
        let w = [z[7], z[7], z[8]];
        let (s, h) = (z[5], z[6]);
        let xu = [z[0], 0.0, z[1]];
        let xv = [z[2], z[3], z[4]];
        let (du, gu) = pull(xu, [s, 0.0, h], w, kap);
        let (dv, gv) = pull(xv, [(1.0 - rho) * s, rho * s, h], w, kap);
        out[0] = ex * du[0];
        out[1] = ex * du[2];
        out[2] = ex * dv[0];
        out[3] = ex * dv[1];
        out[4] = ex * dv[2];
        let sigma = (1.0 - f) * z[0] + f * (1.0 - rho) * (z[2] - kap * z[3]) + f * rho * (z[3] - kap * z[2]);
        let eta = (1.0 - f) * z[1] + f * z[4];
        let edot = |g: Triple, x: Triple| g[0] * x[0] + g[1] * x[1] - kap * (g[0] * x[1] + g[1] * x[0]);
        let mut dwe = ((1.0 - f) * edot(gu, xu) + f * edot(gv, xv)) / (k - 1.0);
        let mut dwu = (1.0 - f) * gu[2] * xu[2] + f * gv[2] * xv[2];
        if self.variant == Variant::Symmetric {
            let (dy, gy) = pull([s, 0.0, h], [sigma, 0.0, eta], w, kap);
            out[5] = ey * dy[0];
            out[6] = ey * dy[2];
            dwe += gy[0] * s / (k - 1.0);
            dwu += gy[2] * h;
        } else {
            let c = s * sigma + h * eta;
            out[5] = ey * (sigma - c * s);
            out[6] = ey * (eta - c * h);
        }
        // The normal restoring term (1 - |v|^2) v: zero on the sphere, where
        // the microscopic flow lives, and it makes the three norm directions
        // attracting (eigenvalue -2 rate) instead of neutral (the cosine
        // flow is scale-free in each vector off the sphere), so that the
        // classification sees the tangent dynamics only.
        let restore = |v: Triple| 1.0 - gram(v, v, kap);
        let (ru, rv, ry) = (restore(xu), restore(xv), restore([s, 0.0, h]));
        out[0] += ex * ru * z[0];
        out[1] += ex * ru * z[1];
        out[2] += ex * rv * z[2];
        out[3] += ex * rv * z[3];
        out[4] += ex * rv * z[4];
        out[5] += ey * ry * s;
        out[6] += ey * ry * h;
        let trains = self.variant.trains_head();
        out[7] = if trains { ew * dwe } else { 0.0 };
        out[8] = if trains { ew * dwu } else { 0.0 };
    }

    /// Central differences of [`rhs`](VectorField::rhs) (`central_jacobian`).
    fn jacobian(&self, z: &[f64], p: &[f64], jac: MatMut<'_, f64>) {
        central_jacobian(self, z, p, 1.0, jac);
    }

    /// Central differences in the parameter (`central_param_derivative`).
    fn param_derivative(&self, z: &[f64], p: &[f64], idx: usize, out: &mut [f64]) {
        central_param_derivative(self, z, p, idx, 1.0, out);
    }

    fn observable_names(&self) -> Vec<String> {
        vec!["label_cosine".into()]
    }
    fn observables(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        out[0] = Self::label_cosine(z, p[2]);
    }

    /// None declared: the fixed points come in families (the ray `a W`,
    /// since the cosine is scale-free in `W`; the member of the
    /// non-collapsed family; a frozen or arbitrary head at collapse), and
    /// the engine's numerical family test attributes each zero mode.
    fn invariants(&self, _z: &[f64], _p: &[f64]) -> Vec<Invariant> {
        Vec::new()
    }
}

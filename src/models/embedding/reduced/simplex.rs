//! The 4-variable simplex-symmetric reduction of Model E (balanced design).
//!
//! With labels `y_a = s e_a` on a regular simplex, consistent means
//! `u_a = s_u e_a` and frustrated means `v_ab = p e_a + q e_b`:
//!
//! ```text
//!     ds_u/dt = -eta_x (s_u - s)
//!     dp/dt   = -eta_x (p - (1-rho) s)
//!     dq/dt   = -eta_x (q - rho s)
//!     ds/dt   = -eta_y [ (1-f)(s - s_u) + f(1-rho)(s - p + q/(K-1))
//!                        + f rho (s - q + p/(K-1)) ]
//! ```
//!
//! The minimum inter-label distance is `|s| sqrt(2K/(K-1))`.
use faer::MatMut;

use crate::engine::{Invariant, InvariantKind, VectorField};

/// Parameter order of [`SimplexSystem`].
pub const PARAMS: [&str; 5] = ["frustrated", "rho", "classes", "eta_x", "eta_y"];
/// State order of [`SimplexSystem`].
pub const STATE: [&str; 4] = ["s_u", "p", "q", "s"];

/// The 4-variable linear system above; `classes` enters as a real parameter.
#[derive(Clone, Debug)]
pub struct SimplexSystem {
    /// `[f, rho, K, eta_x, eta_y]`.
    pub params: [f64; 5],
    /// Initial `[s_u, p, q, s]`.
    pub initial: [f64; 4],
}

impl SimplexSystem {
    /// System at the given design and rates, started from samples at the
    /// origin and labels at unit simplex scale.
    pub fn new(f: f64, rho: f64, k: usize, eta_x: f64, eta_y: f64) -> Self {
        SimplexSystem { params: [f, rho, k as f64, eta_x, eta_y], initial: [0.0, 0.0, 0.0, 1.0] }
    }
    /// Distance between two simplex vertices of unit norm: `sqrt(2K/(K-1))`.
    pub fn vertex_distance(k: f64) -> f64 {
        (2.0 * k / (k - 1.0)).sqrt()
    }
}

impl VectorField for SimplexSystem {
    fn name(&self) -> &str {
        "embedding-simplex"
    }
    fn dim(&self) -> usize {
        4
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
        self.initial.to_vec()
    }

    fn rhs(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        let (f, rho, k, ex, ey) = (p[0], p[1], p[2], p[3], p[4]);
        let (su, pp, q, s) = (z[0], z[1], z[2], z[3]);
        out[0] = -ex * (su - s);
        out[1] = -ex * (pp - (1.0 - rho) * s);
        out[2] = -ex * (q - rho * s);
        out[3] = -ey * label_force(f, rho, k, z);
    }

    fn jacobian(&self, _z: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (f, rho, k, ex, ey) = (p[0], p[1], p[2], p[3], p[4]);
        let k1 = k - 1.0;
        jac.fill(0.0);
        jac[(0, 0)] = -ex;
        jac[(0, 3)] = ex;
        jac[(1, 1)] = -ex;
        jac[(1, 3)] = ex * (1.0 - rho);
        jac[(2, 2)] = -ex;
        jac[(2, 3)] = ex * rho;
        jac[(3, 0)] = ey * (1.0 - f);
        jac[(3, 1)] = -ey * (-f * (1.0 - rho) + f * rho / k1);
        jac[(3, 2)] = -ey * (f * (1.0 - rho) / k1 - f * rho);
        jac[(3, 3)] = -ey;
    }

    fn param_derivative(&self, z: &[f64], p: &[f64], idx: usize, out: &mut [f64]) {
        let (f, rho, k, ex, ey) = (p[0], p[1], p[2], p[3], p[4]);
        let (su, pp, q, s) = (z[0], z[1], z[2], z[3]);
        let k1 = k - 1.0;
        out.fill(0.0);
        match idx {
            0 => {
                let db = -(s - su) + (1.0 - rho) * (s - pp + q / k1) + rho * (s - q + pp / k1);
                out[3] = -ey * db;
            }
            1 => {
                out[1] = -ex * s;
                out[2] = ex * s;
                out[3] = -ey * f * (-(s - pp + q / k1) + (s - q + pp / k1));
            }
            2 => out[3] = -ey * f * ((1.0 - rho) * (-q / (k1 * k1)) + rho * (-pp / (k1 * k1))),
            3 => {
                out[0] = -(su - s);
                out[1] = -(pp - (1.0 - rho) * s);
                out[2] = -(q - rho * s);
            }
            _ => out[3] = -label_force(f, rho, k, z),
        }
    }

    fn observable_names(&self) -> Vec<String> {
        vec!["min_label_distance".into()]
    }
    fn observables(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        out[0] = z[3].abs() * Self::vertex_distance(p[2]);
    }

    fn invariants(&self, _z: &[f64], p: &[f64]) -> Vec<Invariant> {
        let (f, rho, ex, ey) = (p[0], p[1], p[3], p[4]);
        if f == 0.0 {
            // Consistent data: the class centre of mass (1-f) s_u/eta_x + s/eta_y
            // is conserved and every (s_u, s = s_u) is a fixed point; p and q
            // follow s without feeding back.
            vec![
                Invariant {
                    name: "conserved class centre of mass s_u/eta_x + s/eta_y".into(),
                    kind: InvariantKind::Conservation,
                    vector: vec![1.0 / ex, 0.0, 0.0, 1.0 / ey],
                },
                Invariant {
                    name: "scale of the label simplex (family s_u = s, p = (1-rho) s, q = rho s)".into(),
                    kind: InvariantKind::Symmetry,
                    vector: vec![1.0, 1.0 - rho, rho, 1.0],
                },
            ]
        } else {
            Vec::new()
        }
    }
}

/// The bracket of `ds/dt = -eta_y [...]`.
fn label_force(f: f64, rho: f64, k: f64, z: &[f64]) -> f64 {
    let (su, pp, q, s) = (z[0], z[1], z[2], z[3]);
    let k1 = k - 1.0;
    (1.0 - f) * (s - su) + f * (1.0 - rho) * (s - pp + q / k1) + f * rho * (s - q + pp / k1)
}

/// Unit simplex vertex `e_a = sqrt(K/(K-1)) (delta_a - 1/K)` in `R^K`:
/// `|e_a| = 1`, `e_a . e_b = -1/(K-1)`, `sum_a e_a = 0`.
pub fn vertex(a: usize, k: usize, coord: usize) -> f64 {
    let kf = k as f64;
    (kf / (kf - 1.0)).sqrt() * (f64::from(u8::from(a == coord)) - 1.0 / kf)
}

/// Lifts a simplex state `[s_u, p, q, s]` to the class-level state of `sys`
/// (which must have `columns == K`): labels `s e_a`, consistent groups
/// `s_u e_a`, frustrated groups of class `a` with partner `b` at
/// `p e_a + q e_b`. Used to check the reduction against the exact system.
pub fn lift(z: &[f64], sys: &crate::models::embedding::reduced::class_level::ClassLevelSystem) -> Vec<f64> {
    let k = sys.classes;
    assert_eq!(sys.columns, k, "lift needs one column per class");
    let mut out = vec![0.0; sys.units() * k];
    for (g, grp) in sys.groups.iter().enumerate() {
        let a = grp.class;
        let partner = grp.row.iter().find(|(c, _)| *c != a).map(|(c, _)| *c);
        for j in 0..k {
            out[g * k + j] = match partner {
                None => z[0] * vertex(a, k, j),
                Some(b) => z[1] * vertex(a, k, j) + z[2] * vertex(b, k, j),
            };
        }
    }
    let off = sys.n_groups() * k;
    for c in 0..k {
        for j in 0..k {
            out[off + c * k + j] = z[3] * vertex(c, k, j);
        }
    }
    out
}

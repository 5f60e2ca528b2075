//! Central-difference derivatives of any [`VectorField`]'s right-hand side,
//! for fields whose exact Jacobian is not written out (the sphere
//! reductions of Models E and H, low-degree rational fields):
//!
//! ```text
//!     J_ij   ~ [F_i(x + h_j e_j) - F_i(x - h_j e_j)] / 2 h_j,   h_j = 1e-6 max(|x_j|, floor)
//!     dF/dp_k ~ [F(x; p + h e_k) - F(x; p - h e_k)] / 2 h,       h   = 1e-6 max(|p_k|, floor)
//! ```
//!
//! `floor` sets the step near zero: 1 for order-one fields (the sphere
//! reductions), smaller for fields with small entries (the fast-head field
//! of `src/models/teacher/head/finite_d.rs` uses `1e-3`).
//!
//! The truncation error is `O(h^2)` relative (`~1e-12`), far below the
//! zero threshold of the fixed-point classification. They allocate: they
//! serve analyses, not integration hot loops.

use faer::MatMut;

use crate::engine::vector_field::VectorField;

/// The state Jacobian by central differences (formula in the module doc).
pub fn central_jacobian(field: &dyn VectorField, z: &[f64], p: &[f64], floor: f64, mut jac: MatMut<'_, f64>) {
    let n = z.len();
    let (mut zp, mut zm) = (z.to_vec(), z.to_vec());
    let (mut fp, mut fm) = (vec![0.0; n], vec![0.0; n]);
    for j in 0..n {
        let h = 1e-6 * z[j].abs().max(floor);
        zp[j] = z[j] + h;
        zm[j] = z[j] - h;
        field.rhs(&zp, p, &mut fp);
        field.rhs(&zm, p, &mut fm);
        for i in 0..n {
            jac[(i, j)] = (fp[i] - fm[i]) / (2.0 * h);
        }
        zp[j] = z[j];
        zm[j] = z[j];
    }
}

/// The derivative in parameter `idx` by central differences (formula in the
/// module doc), into `out`.
pub fn central_param_derivative(field: &dyn VectorField, z: &[f64], p: &[f64], idx: usize, floor: f64, out: &mut [f64]) {
    let h = 1e-6 * p[idx].abs().max(floor);
    let (mut lo, mut hi) = (p.to_vec(), p.to_vec());
    lo[idx] -= h;
    hi[idx] += h;
    let mut below = vec![0.0; out.len()];
    field.rhs(z, &hi, out);
    field.rhs(z, &lo, &mut below);
    for (o, v) in out.iter_mut().zip(&below) {
        *o = (*o - v) / (2.0 * h);
    }
}

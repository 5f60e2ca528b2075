//! Jacobian matrices and their (complex) spectra, the raw material of every
//! stability statement.
use faer::{c64, Mat};

use crate::engine::VectorField;
use crate::error::{Error, Result};

/// The exact Jacobian `J_ij = dF_i/dx_j (x; p)` as a dense faer matrix.
pub fn jacobian_matrix(field: &dyn VectorField, x: &[f64], p: &[f64]) -> Mat<f64> {
    let n = field.dim();
    let mut jac = Mat::<f64>::zeros(n, n);
    field.jacobian(x, p, jac.as_mut());
    jac
}

/// Eigenvalues of a real square matrix, sorted by decreasing real part (ties
/// by decreasing imaginary part), so index 0 is the leading eigenvalue.
pub fn sorted_eigenvalues(m: &Mat<f64>) -> Result<Vec<c64>> {
    if m.nrows() == 0 {
        return Ok(Vec::new());
    }
    if m.as_ref().is_all_finite() {
        let mut ev = m
            .eigenvalues()
            .map_err(|e| Error::numerical("eigenvalue decomposition", format!("{e:?}")))?;
        ev.sort_by(|a, b| b.re.total_cmp(&a.re).then(b.im.total_cmp(&a.im)));
        Ok(ev)
    } else {
        Err(Error::numerical("eigenvalue decomposition", "matrix has non-finite entries"))
    }
}

/// Eigenvalues of the Jacobian of `field` at `(x, p)`, sorted as in
/// [`sorted_eigenvalues`].
pub fn jacobian_eigenvalues(field: &dyn VectorField, x: &[f64], p: &[f64]) -> Result<Vec<c64>> {
    sorted_eigenvalues(&jacobian_matrix(field, x, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_generator_has_imaginary_pair() {
        // [[ -1, -2 ], [ 2, -1 ]] has eigenvalues -1 +- 2i.
        let m = Mat::from_fn(2, 2, |i, j| [[-1.0, -2.0], [2.0, -1.0]][i][j]);
        let ev = sorted_eigenvalues(&m).unwrap();
        assert!((ev[0].re + 1.0).abs() < 1e-12 && (ev[0].im - 2.0).abs() < 1e-12);
        assert!((ev[1].im + 2.0).abs() < 1e-12);
    }
}

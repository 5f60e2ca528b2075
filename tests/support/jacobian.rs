//! Central differences of a vector field, the independent check of every
//! exact Jacobian and parameter derivative in the tests.
//!
//! `(F(v + h e_j) - F(v - h e_j)) / (2 h)` has truncation error
//! `h^2 |F'''| / 6` and round-off about `eps |F| / h`; each caller picks `h`
//! (absolute, or relative to `|v_j|`) and justifies its tolerance from these
//! two terms.
use repcollapse::engine::VectorField;

/// `J[i][j] ~ dF_i/dx_j` at `(x, p)`, with step `step(x_j)` in coordinate `j`.
pub fn central_jacobian(sys: &(impl VectorField + ?Sized), x: &[f64], p: &[f64], step: impl Fn(f64) -> f64) -> Vec<Vec<f64>> {
    let n = x.len();
    let (mut xx, mut fp, mut fm) = (x.to_vec(), vec![0.0; n], vec![0.0; n]);
    let mut jac = vec![vec![0.0; n]; n];
    for j in 0..n {
        let h = step(x[j]);
        xx[j] = x[j] + h;
        sys.rhs(&xx, p, &mut fp);
        xx[j] = x[j] - h;
        sys.rhs(&xx, p, &mut fm);
        xx[j] = x[j];
        for i in 0..n {
            jac[i][j] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
    jac
}

/// `dF_i/dp_k ~` central difference in parameter `k`, with step `step(p_k)`.
pub fn central_param_derivative(sys: &(impl VectorField + ?Sized), x: &[f64], p: &[f64], k: usize, step: impl Fn(f64) -> f64) -> Vec<f64> {
    let n = x.len();
    let h = step(p[k]);
    let (mut pp, mut pm) = (p.to_vec(), p.to_vec());
    pp[k] += h;
    pm[k] -= h;
    let (mut fp, mut fm) = (vec![0.0; n], vec![0.0; n]);
    sys.rhs(x, &pp, &mut fp);
    sys.rhs(x, &pm, &mut fm);
    (0..n).map(|i| (fp[i] - fm[i]) / (2.0 * h)).collect()
}

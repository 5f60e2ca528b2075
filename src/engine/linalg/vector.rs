//! Vector helpers on slices shared by the solvers: inner product, Euclidean
//! and max norms, Euclidean distance. One definition each, so every caller
//! sums in the same order (left to right) and gets the same bits.

/// `<a, b> = sum_i a_i b_i`, summed left to right.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `||a||_2 = sqrt(sum_i a_i^2)`, summed left to right.
pub fn norm(a: &[f64]) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `||a - b||_2 = sqrt(sum_i (a_i - b_i)^2)`, summed left to right.
pub fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// `||a||_inf = max_i |a_i|`, NaN if any entry is NaN (so a non-finite
/// residual is never mistaken for a small one).
pub fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| if v.abs() > m || v.is_nan() { v.abs() } else { m })
}

//! Gaussian orthant probabilities of any dimension by Genz's separation of
//! variables on a randomly shifted rank-1 (Richtmyer) lattice:
//! [`ORTHANT_POINTS`] points times [`ORTHANT_SHIFTS`] shifts, with the
//! standard error over shifts.
//!
//! Two savings leave every bit of the result unchanged:
//! * the Baker-transformed lattice coordinates depend only on the dimension
//!   (the shifts come from a fixed seed), so they are tabulated once per
//!   program and dimension;
//! * the state of the sequential conditioning after row `i` (the product of
//!   the conditional probabilities and the inverse-CDF draws) depends only on
//!   rows `0..=i` of the mean and of the Cholesky factor. Callers that score
//!   many covariances sharing leading rows (the argmax teacher: the rows
//!   `lambda_c0 - lambda_c > 0` do not depend on the student) reuse those
//!   states from the previous call on the same thread.
use std::cell::RefCell;
use std::f64::consts::SQRT_2;
use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::function::erf::{erfc, erfc_inv};

pub const ORTHANT_POINTS: usize = 1024;
pub const ORTHANT_SHIFTS: usize = 8;

const LATTICE_SIZE: usize = ORTHANT_POINTS * ORTHANT_SHIFTS;
/// Dimensions whose lattice coordinates are kept for the whole program.
const TABULATED_DIMS: usize = 16;

/// `Phi(x) = erfc(-x / sqrt 2) / 2`, the unit normal CDF, written exactly as
/// statrs' `Normal::cdf` with mean 0 and standard deviation 1 evaluates it
/// (so the lattice's values are those it gave through the wrapper).
#[inline]
fn unit_normal_cdf(x: f64) -> f64 {
    0.5 * erfc((0.0 - x) / SQRT_2)
}

/// `Phi^-1(z) = -sqrt 2 erfc^-1(2 z)`, written exactly as statrs'
/// `Normal::inverse_cdf` with mean 0 and standard deviation 1 evaluates it.
#[inline]
fn unit_normal_inverse_cdf(z: f64) -> f64 {
    assert!((0.0..=1.0).contains(&z), "x must be in [0, 1]");
    0.0 - SQRT_2 * erfc_inv(2.0 * z)
}

/// Baker-transformed lattice coordinates `u = 1 - |2 frac(p g_i + s_i) - 1|`
/// for every shift `s` (drawn from a fixed seed, `m` draws per shift), point
/// `p = 1..=ORTHANT_POINTS` and coordinate `i < m`, with the Richtmyer
/// generators `g_i = frac(sqrt(prime_i))`; index `(s * POINTS + p - 1) * m + i`.
fn lattice_coordinates(m: usize) -> Vec<f64> {
    const PRIMES: [f64; 16] = [2., 3., 5., 7., 11., 13., 17., 19., 23., 29., 31., 37., 41., 43., 47., 53.];
    let gen: Vec<f64> = (0..m).map(|i| PRIMES[i % 16].sqrt().fract()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(0x0a17_4a47);
    let mut table = Vec::with_capacity(LATTICE_SIZE * m);
    for _ in 0..ORTHANT_SHIFTS {
        let shift: Vec<f64> = (0..m).map(|_| rng.random::<f64>()).collect();
        for p in 1..=ORTHANT_POINTS {
            for i in 0..m {
                let u = (p as f64 * gen[i] + shift[i]).fract();
                table.push(1.0 - (2.0 * u - 1.0).abs());
            }
        }
    }
    table
}

/// [`lattice_coordinates`] of dimension `m`, computed once per program for
/// `m < TABULATED_DIMS`.
fn with_lattice_coordinates<R>(m: usize, f: impl FnOnce(&[f64]) -> R) -> R {
    static TABLES: [OnceLock<Vec<f64>>; TABULATED_DIMS] = [const { OnceLock::new() }; TABULATED_DIMS];
    if m < TABULATED_DIMS {
        f(TABLES[m].get_or_init(|| lattice_coordinates(m)))
    } else {
        f(&lattice_coordinates(m))
    }
}

/// The conditioning state of every lattice point after each row, for the
/// rows (mean and Cholesky row, as bits) it was computed from.
#[derive(Default)]
struct PrefixStates {
    m: usize,
    /// Per row `i`: the bits of `mean[i]` and `l[i][0..=i]`.
    keys: Vec<Vec<u64>>,
    /// Per row `i`, per point: the draw `w_i` (0 when not drawn).
    draws: Vec<Vec<f64>>,
    /// Per row `i`, per point: the product of conditional probabilities so far.
    probs: Vec<Vec<f64>>,
    /// Per row `i`, per point: the point's product is final (it stopped at or
    /// before row `i`).
    done: Vec<Vec<bool>>,
}

thread_local! {
    static PREFIX: RefCell<PrefixStates> = RefCell::new(PrefixStates::default());
}

/// `P(mean + L w > 0)` for `w ~ N(0, I)` and `cov = L L^T` (m x m row-major)
/// by Genz's separation of variables on a randomly shifted lattice (any m),
/// with its standard error over lattice shifts:
///
/// ```text
///     P = E_u prod_i (1 - Phi(-(mean_i + sum_{k<i} L_ik w_k) / L_ii)),
///     w_k = Phi^-1(lo_k + u_k (1 - lo_k)),   lo_k = Phi(-(mean_k + sum_{j<k} L_kj w_j) / L_kk).
/// ```
///
/// Degenerate directions (pivot < 1e-14 of the scale) are treated as
/// deterministic constraints.
pub fn orthant_probability_lattice(mean: &[f64], cov: &[f64]) -> (f64, f64) {
    let m = mean.len();
    // Scaling a constraint by a positive factor does not change the event;
    // standardising every row to unit variance keeps constraints of very
    // different scales (teacher fields O(1), score differences O(separation^2))
    // from being floored as degenerate. A zero-variance constraint stays
    // deterministic.
    let sd: Vec<f64> = (0..m).map(|i| cov[i * m + i].max(0.0).sqrt()).collect();
    let mean: Vec<f64> = (0..m).map(|i| if sd[i] > 0.0 { mean[i] / sd[i] } else { mean[i] }).collect();
    let cov: Vec<f64> = (0..m * m)
        .map(|ij| {
            let (i, j) = (ij / m, ij % m);
            if sd[i] > 0.0 && sd[j] > 0.0 { cov[ij] / (sd[i] * sd[j]) } else { 0.0 }
        })
        .collect();
    let scale = 1.0;
    // Cholesky with pivot flooring.
    let mut l = vec![0.0; m * m];
    for j in 0..m {
        let mut s = cov[j * m + j];
        for k in 0..j {
            s -= l[j * m + k] * l[j * m + k];
        }
        let piv = if s > 1e-14 * scale { s.sqrt() } else { 0.0 };
        l[j * m + j] = piv;
        for i in j + 1..m {
            let mut s = cov[i * m + j];
            for k in 0..j {
                s -= l[i * m + k] * l[j * m + k];
            }
            l[i * m + j] = if piv > 0.0 { s / piv } else { 0.0 };
        }
    }
    if m == 0 {
        // No constraint: every point contributes 1.
        return (1.0, 0.0);
    }
    let keys: Vec<Vec<u64>> = (0..m)
        .map(|i| std::iter::once(mean[i].to_bits()).chain(l[i * m..=i * m + i].iter().map(|v| v.to_bits())).collect())
        .collect();
    // The first constraint's bound depends on no lattice coordinate: the
    // same `Phi` value at every point, evaluated once.
    let first_lo = (l[0] != 0.0).then(|| unit_normal_cdf(-(std::iter::empty::<f64>().sum::<f64>() + mean[0]) / l[0]));
    with_lattice_coordinates(m, |coords| {
        PREFIX.with_borrow_mut(|cache| {
            // Rows 0..reuse match the previous call's: their states are kept.
            // The last row is never stored (it ends every point).
            let reuse = if cache.m == m { keys.iter().zip(&cache.keys).take(m - 1).take_while(|(a, b)| a == b).count() } else { 0 };
            if cache.m != m {
                *cache = PrefixStates {
                    m,
                    keys: Vec::new(),
                    draws: vec![vec![0.0; LATTICE_SIZE]; m - 1],
                    probs: vec![vec![0.0; LATTICE_SIZE]; m - 1],
                    done: vec![vec![false; LATTICE_SIZE]; m - 1],
                };
            }
            // Valid again only once every state is written.
            cache.keys.clear();
            let mut w = vec![0.0; m];
            let mut shift_means = Vec::with_capacity(ORTHANT_SHIFTS);
            for s in 0..ORTHANT_SHIFTS {
                let mut acc = 0.0;
                for p in 0..ORTHANT_POINTS {
                    let point = s * ORTHANT_POINTS + p;
                    let u = &coords[point * m..point * m + m];
                    let mut prob = 1.0;
                    let mut done = false;
                    if reuse > 0 {
                        for (k, wk) in w.iter_mut().enumerate().take(reuse) {
                            *wk = cache.draws[k][point];
                        }
                        prob = cache.probs[reuse - 1][point];
                        done = cache.done[reuse - 1][point];
                    }
                    for i in reuse..m {
                        if !done {
                            done = condition_row(i, m, &l, &mean, first_lo, u, &mut w, &mut prob);
                        }
                        if i + 1 < m {
                            cache.draws[i][point] = w[i];
                            cache.probs[i][point] = prob;
                            cache.done[i][point] = done;
                        }
                    }
                    acc += prob;
                }
                shift_means.push(acc / ORTHANT_POINTS as f64);
            }
            cache.keys = keys[..m - 1].to_vec();
            let mu = shift_means.iter().sum::<f64>() / ORTHANT_SHIFTS as f64;
            let var = shift_means.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (ORTHANT_SHIFTS * (ORTHANT_SHIFTS - 1)) as f64;
            (mu, var.sqrt())
        })
    })
}

/// One step of the separation of variables at row `i` of one lattice point:
/// multiplies `prob` by `P(row i holds | w_0..w_{i-1})` and draws `w_i`.
/// Returns whether the point's product is final.
#[inline]
#[allow(clippy::too_many_arguments)]
fn condition_row(i: usize, m: usize, l: &[f64], mean: &[f64], first_lo: Option<f64>, u: &[f64], w: &mut [f64], prob: &mut f64) -> bool {
    let partial: f64 = (0..i).map(|k| l[i * m + k] * w[k]).sum::<f64>() + mean[i];
    let lii = l[i * m + i];
    if lii == 0.0 {
        if partial <= 0.0 {
            *prob = 0.0;
            return true;
        }
        w[i] = 0.0;
        return i + 1 == m;
    }
    let lo = match first_lo {
        Some(lo) if i == 0 => lo,
        _ => unit_normal_cdf(-partial / lii),
    };
    let e = 1.0 - lo;
    *prob *= e;
    if *prob <= 0.0 || i + 1 == m {
        // The last coordinate's draw would feed no later constraint.
        return true;
    }
    // Baker transform of the lattice point for a periodic integrand.
    let z = (lo + u[i] * e).clamp(1e-300, 1.0 - 1e-16);
    w[i] = unit_normal_inverse_cdf(z);
    false
}

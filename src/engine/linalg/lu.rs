//! Dense LU factorisation with partial pivoting, the one LU layer of the
//! engine:
//!
//! ```text
//!     P A = L U,   solve A x = b  by  L y = P b,  U x = y.
//! ```
//!
//! Every factorisation has the same API: `new(n)` allocates once,
//! `matrix_mut()` is filled, `factor()` returns `false` on a zero or
//! non-finite pivot, `solve_in_place` overwrites the right-hand side.
//!
//! * [`DenseLu`] is faer's partial-pivoting LU (column-major) with a
//!   preallocated scratch buffer and the determinant ([`DenseLu::log_det`])
//!   that continuation's branch-point test needs;
//! * [`RealLu`] and [`ComplexLu`] are a plain right-looking elimination in
//!   row-major storage for the implicit integrator and the Bogdanov-Takens
//!   solver: they factor small `n x n` matrices a few times per Jacobian,
//!   where this is faster than a general library call and keeps the stepper
//!   allocation-free. (They are kept apart from faer's because replacing
//!   either by the other would change results in the last bits.)
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor as lu_factor, solve as lu_solve};
use faer::perm::PermRef;
use faer::{Mat, MatMut, Par};

use crate::engine::linalg::signed_log::SignedLog;

/// LU with partial pivoting from faer's low-level API, column-major, with a
/// preallocated scratch buffer: the bordered Newton systems of continuation
/// and the grid classification.
pub struct DenseLu {
    n: usize,
    mat: Mat<f64>,
    perm: Vec<usize>,
    perm_inv: Vec<usize>,
    transpositions: usize,
    buf: MemBuffer,
}

impl DenseLu {
    /// Workspace for `n x n` matrices (the only allocation).
    pub fn new(n: usize) -> Self {
        let req = lu_factor::lu_in_place_scratch::<usize, f64>(n, n, Par::Seq, Default::default())
            .or(lu_solve::solve_in_place_scratch::<usize, f64>(n, 1, Par::Seq));
        DenseLu { n, mat: Mat::zeros(n, n), perm: vec![0; n], perm_inv: vec![0; n], transpositions: 0, buf: MemBuffer::new(req) }
    }

    /// The matrix to fill before [`factor`](Self::factor).
    pub fn matrix_mut(&mut self) -> MatMut<'_, f64> {
        self.mat.as_mut()
    }

    /// Factors in place; `false` if a pivot is zero or not finite.
    pub fn factor(&mut self) -> bool {
        let (info, _) = lu_factor::lu_in_place(
            self.mat.as_mut(),
            &mut self.perm,
            &mut self.perm_inv,
            Par::Seq,
            MemStack::new(&mut self.buf),
            Default::default(),
        );
        self.transpositions = info.transposition_count;
        (0..self.n).all(|i| {
            let d = self.mat[(i, i)];
            d != 0.0 && d.is_finite()
        })
    }

    /// `det A = (-1)^(transpositions) prod_i U_ii` of the last successful
    /// factorisation, as a [`SignedLog`] (log-moduli summed in row order).
    pub fn log_det(&self) -> SignedLog {
        let mut sign = if self.transpositions % 2 == 0 { 1.0 } else { -1.0 };
        let mut log = 0.0;
        for i in 0..self.n {
            let d = self.mat[(i, i)];
            if d < 0.0 {
                sign = -sign;
            }
            log += d.abs().ln();
        }
        SignedLog { sign, log }
    }

    /// Overwrites `b` with `A^-1 b` using the last factorisation.
    pub fn solve_in_place(&mut self, b: &mut [f64]) {
        let perm = PermRef::new_checked(&self.perm, &self.perm_inv, self.n);
        let rhs = MatMut::from_column_major_slice_mut(b, self.n, 1);
        lu_solve::solve_in_place::<usize, f64, f64>(
            self.mat.as_ref(),
            self.mat.as_ref(),
            perm,
            rhs,
            Par::Seq,
            MemStack::new(&mut self.buf),
        );
    }
}

/// Real LU of an `n x n` matrix.
pub struct RealLu {
    n: usize,
    a: Vec<f64>,
    piv: Vec<usize>,
}

impl RealLu {
    /// Workspace for `n x n` matrices (the only allocation).
    pub fn new(n: usize) -> Self {
        RealLu { n, a: vec![0.0; n * n], piv: vec![0; n] }
    }

    /// Row-major storage to fill before [`factor`](Self::factor).
    pub fn matrix_mut(&mut self) -> &mut [f64] {
        &mut self.a
    }

    /// Factors in place; `false` if a pivot is zero or not finite.
    pub fn factor(&mut self) -> bool {
        let n = self.n;
        let a = &mut self.a;
        for k in 0..n {
            let mut p = k;
            let mut best = a[k * n + k].abs();
            for r in k + 1..n {
                let v = a[r * n + k].abs();
                if v > best {
                    best = v;
                    p = r;
                }
            }
            if !(best > 0.0 && best.is_finite()) {
                return false;
            }
            self.piv[k] = p;
            if p != k {
                for c in 0..n {
                    a.swap(k * n + c, p * n + c);
                }
            }
            let inv = 1.0 / a[k * n + k];
            for r in k + 1..n {
                let l = a[r * n + k] * inv;
                a[r * n + k] = l;
                if l != 0.0 {
                    for c in k + 1..n {
                        a[r * n + c] -= l * a[k * n + c];
                    }
                }
            }
        }
        true
    }

    /// Overwrites `b` with `A^-1 b`.
    pub fn solve_in_place(&self, b: &mut [f64]) {
        let n = self.n;
        let a = &self.a;
        for k in 0..n {
            b.swap(k, self.piv[k]);
        }
        for r in 0..n {
            let mut s = b[r];
            for c in 0..r {
                s -= a[r * n + c] * b[c];
            }
            b[r] = s;
        }
        for r in (0..n).rev() {
            let mut s = b[r];
            for c in r + 1..n {
                s -= a[r * n + c] * b[c];
            }
            b[r] = s / a[r * n + r];
        }
    }
}

/// Complex LU of an `n x n` matrix stored as separate real and imaginary
/// parts.
pub struct ComplexLu {
    n: usize,
    re: Vec<f64>,
    im: Vec<f64>,
    piv: Vec<usize>,
}

impl ComplexLu {
    /// Workspace for `n x n` matrices (the only allocation).
    pub fn new(n: usize) -> Self {
        ComplexLu { n, re: vec![0.0; n * n], im: vec![0.0; n * n], piv: vec![0; n] }
    }

    /// Row-major real and imaginary parts to fill before factoring.
    pub fn matrix_mut(&mut self) -> (&mut [f64], &mut [f64]) {
        (&mut self.re, &mut self.im)
    }

    /// Factors in place; `false` if a pivot is zero or not finite.
    pub fn factor(&mut self) -> bool {
        let n = self.n;
        let (re, im) = (&mut self.re, &mut self.im);
        for k in 0..n {
            let mut p = k;
            let mut best = re[k * n + k].hypot(im[k * n + k]);
            for r in k + 1..n {
                let v = re[r * n + k].hypot(im[r * n + k]);
                if v > best {
                    best = v;
                    p = r;
                }
            }
            if !(best > 0.0 && best.is_finite()) {
                return false;
            }
            self.piv[k] = p;
            if p != k {
                for c in 0..n {
                    re.swap(k * n + c, p * n + c);
                    im.swap(k * n + c, p * n + c);
                }
            }
            let (pr, pi) = (re[k * n + k], im[k * n + k]);
            let d = pr * pr + pi * pi;
            let (ir, ii) = (pr / d, -pi / d);
            for r in k + 1..n {
                let (ar, ai) = (re[r * n + k], im[r * n + k]);
                let (lr, li) = (ar * ir - ai * ii, ar * ii + ai * ir);
                re[r * n + k] = lr;
                im[r * n + k] = li;
                if lr != 0.0 || li != 0.0 {
                    for c in k + 1..n {
                        let (ur, ui) = (re[k * n + c], im[k * n + c]);
                        re[r * n + c] -= lr * ur - li * ui;
                        im[r * n + c] -= lr * ui + li * ur;
                    }
                }
            }
        }
        true
    }

    /// Overwrites `(br, bi)` with `A^-1 (br + i bi)`.
    pub fn solve_in_place(&self, br: &mut [f64], bi: &mut [f64]) {
        let n = self.n;
        let (re, im) = (&self.re, &self.im);
        for k in 0..n {
            br.swap(k, self.piv[k]);
            bi.swap(k, self.piv[k]);
        }
        for r in 0..n {
            let (mut sr, mut si) = (br[r], bi[r]);
            for c in 0..r {
                let (lr, li) = (re[r * n + c], im[r * n + c]);
                sr -= lr * br[c] - li * bi[c];
                si -= lr * bi[c] + li * br[c];
            }
            br[r] = sr;
            bi[r] = si;
        }
        for r in (0..n).rev() {
            let (mut sr, mut si) = (br[r], bi[r]);
            for c in r + 1..n {
                let (ur, ui) = (re[r * n + c], im[r * n + c]);
                sr -= ur * br[c] - ui * bi[c];
                si -= ur * bi[c] + ui * br[c];
            }
            let (pr, pi) = (re[r * n + r], im[r * n + r]);
            let d = pr * pr + pi * pi;
            br[r] = (sr * pr + si * pi) / d;
            bi[r] = (si * pr - sr * pi) / d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_and_complex_solves_reproduce_the_right_hand_side() {
        // A needs pivoting (zero leading entry).
        let a = [0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 3.0, 0.0, 4.0];
        let x = [1.0, -2.0, 0.5];
        let mut lu = RealLu::new(3);
        lu.matrix_mut().copy_from_slice(&a);
        assert!(lu.factor());
        let mut b: Vec<f64> = (0..3).map(|r| (0..3).map(|c| a[r * 3 + c] * x[c]).sum()).collect();
        lu.solve_in_place(&mut b);
        for i in 0..3 {
            assert!((b[i] - x[i]).abs() < 1e-14);
        }
        // (A + i I) z = b for z = x + i x.
        let mut c = ComplexLu::new(3);
        {
            let (re, im) = c.matrix_mut();
            re.copy_from_slice(&a);
            for i in 0..3 {
                im[i * 4] = 1.0;
            }
        }
        assert!(c.factor());
        // (A + iI)(x + ix) = (Ax - x) + i(Ax + x)
        let ax: Vec<f64> = (0..3).map(|r| (0..3).map(|k| a[r * 3 + k] * x[k]).sum()).collect();
        let mut br: Vec<f64> = (0..3).map(|i| ax[i] - x[i]).collect();
        let mut bi: Vec<f64> = (0..3).map(|i| ax[i] + x[i]).collect();
        c.solve_in_place(&mut br, &mut bi);
        for i in 0..3 {
            assert!((br[i] - x[i]).abs() < 1e-14 && (bi[i] - x[i]).abs() < 1e-14);
        }
        let mut singular = RealLu::new(2);
        singular.matrix_mut().copy_from_slice(&[1.0, 2.0, 2.0, 4.0]);
        assert!(!singular.factor());
    }
}

//! When a Jacobian is solved sparse, and the sparse Jacobian `J = dF/dx`
//! of a [`VectorField`] held in a [`SparseLu`] on its structural pattern.
//!
//! A field is solved sparse when it reports its pattern
//! ([`VectorField::jacobian_pattern`]) and
//!
//! ```text
//!     n >= SPARSE_MIN_DIM   and   nnz(J) <= SPARSE_MAX_DENSITY n^2;
//! ```
//!
//! below that size the dense factorisations are as fast and every existing
//! result stays bit-for-bit what it was.
use crate::engine::linalg::sparse_lu::SparseLu;
use crate::engine::VectorField;

/// Smallest state dimension solved sparse.
pub const SPARSE_MIN_DIM: usize = 200;
/// Largest fraction of structurally non-zero entries solved sparse.
pub const SPARSE_MAX_DENSITY: f64 = 0.1;

/// The Jacobian pattern of `field` if it is to be solved sparse (module
/// docs), `None` for the dense path.
pub fn sparse_pattern(field: &dyn VectorField) -> Option<Vec<(usize, usize)>> {
    let n = field.dim();
    if n < SPARSE_MIN_DIM {
        return None;
    }
    let pattern = field.jacobian_pattern()?;
    (pattern.len() as f64 <= SPARSE_MAX_DENSITY * (n as f64) * (n as f64)).then_some(pattern)
}

/// `J(x; p)` of a field on its pattern, factored by sparse LU. The pattern
/// gets its diagonal added (explicit zeros where `F_i` does not depend on
/// `x_i`), so the same storage serves shifted systems `J - sigma I`.
pub struct SparseJacobian {
    pattern: Vec<(usize, usize)>,
    /// `slots[k]`: where `pattern[k]` lives in the LU's value array.
    slots: Vec<usize>,
    entries: Vec<f64>,
    lu: SparseLu,
}

impl SparseJacobian {
    /// `Some` when `field` is solved sparse (see [`sparse_pattern`]).
    pub fn for_field(field: &dyn VectorField) -> Option<Self> {
        let pattern = sparse_pattern(field)?;
        let n = field.dim();
        let mut with_diagonal = pattern.clone();
        with_diagonal.extend((0..n).map(|i| (i, i)));
        // Newton never asks for det J: let faer pick the supernodal LU when the
        // pattern fills in (see `sparse_lu`).
        let lu = SparseLu::without_determinant(n, &with_diagonal);
        let slots = pattern.iter().map(|&(i, j)| lu.slot(i, j).expect("pattern entry in its own LU")).collect();
        Some(SparseJacobian { entries: vec![0.0; pattern.len()], pattern, slots, lu })
    }

    /// The structural pattern (without the added diagonal).
    pub fn pattern(&self) -> &[(usize, usize)] {
        &self.pattern
    }

    /// `J(x; p)` on the pattern, in [`pattern`](Self::pattern) order, as
    /// last evaluated by [`evaluate`](Self::evaluate).
    pub fn entries(&self) -> &[f64] {
        &self.entries
    }

    /// Evaluates `J(x; p)`; `false` if an entry is not finite.
    pub fn evaluate(&mut self, field: &dyn VectorField, x: &[f64], p: &[f64]) -> bool {
        field.jacobian_entries(x, p, &self.pattern, &mut self.entries);
        self.entries.iter().all(|v| v.is_finite())
    }

    /// Factors `J - sigma I` of the last evaluation; `false` if singular.
    pub fn factor_shifted(&mut self, sigma: f64) -> bool {
        let vals = self.lu.values_mut();
        vals.fill(0.0);
        for (&k, &v) in self.slots.iter().zip(&self.entries) {
            vals[k] += v;
        }
        if sigma != 0.0 {
            for i in 0..self.lu.dim() {
                let k = self.lu.slot(i, i).expect("diagonal in the pattern");
                self.lu.values_mut()[k] -= sigma;
            }
        }
        self.lu.factor()
    }

    /// Overwrites `b` with `(J - sigma I)^-1 b` of the last factorisation.
    pub fn solve_in_place(&mut self, b: &mut [f64]) {
        self.lu.solve_in_place(b);
    }

    /// `out = J v` of the last evaluation.
    pub fn mul(&self, v: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for (&(i, j), &a) in self.pattern.iter().zip(&self.entries) {
            out[i] += a * v[j];
        }
    }

    /// `out = J^T v` of the last evaluation.
    pub fn mul_transpose(&self, v: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for (&(i, j), &a) in self.pattern.iter().zip(&self.entries) {
            out[j] += a * v[i];
        }
    }
}

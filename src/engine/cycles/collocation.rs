//! The collocation equations of a periodic orbit and their sparse Newton
//! solve (Doedel, Keller & Kernevez, *Int. J. Bifurcation and Chaos* 1 (1991);
//! the AUTO-07p manual, ch. "Periodic solutions").
//!
//! In rescaled time `tau = t/T` the orbit solves `U' = T F(U; p)`,
//! `U(0) = U(1)`. With the representation of [`super::orbit`] the unknowns
//! are the node values, the period `T` and, when continuing, the parameter
//! `p_k`; the equations are
//!
//! ```text
//!   sum_k L_k'(sigma_i) U_{j,k} - h_j T F(U_j(sigma_i); p) = 0    (N m n collocation equations)
//!   U_{0,0} - U_{N-1,m} = 0                                       (n periodicity equations)
//!   sum_j sum_i w_i <U_j(sigma_i), U_ref,j'(sigma_i)> = 0          (integral phase condition)
//! ```
//!
//! The phase condition `int_0^1 <U, U_ref'> dtau = 0` picks, among the
//! time-shifted copies of the orbit, the one closest to the reference orbit
//! `U_ref` (AUTO's condition; the Gauss rule integrates it exactly, and the
//! `h_j` of the measure cancels the `1/h_j` of the derivative).
//!
//! The Jacobian is assembled as sparse triplets (each collocation block
//! couples the `m + 1` nodes of one interval; periodicity couples the first
//! and last node; the phase row and the `T` and `p` columns are dense),
//! `n^2 (m + 1) N m + O(N m n)` entries, and factored by faer's sparse LU.
//! The symbolic factorisation is computed once per mesh and reused by every
//! Newton iteration. No dense `(N m n)^2` matrix is ever formed.
use faer::sparse::linalg::solvers::{Lu, SymbolicLu};
use faer::sparse::{SparseColMat, Triplet};
use faer::Mat;

use super::gauss::Scheme;
use super::orbit::PeriodicOrbit;
use crate::engine::VectorField;

/// Newton settings of the collocation solve.
#[derive(Clone, Copy, Debug)]
pub struct NewtonSettings {
    /// Converged when the residual max-norm is below `tol`, or the update
    /// below `tol (1 + |z|)` with the residual below `1e3 tol`.
    pub tol: f64,
    pub max_iter: usize,
}

impl Default for NewtonSettings {
    fn default() -> Self {
        NewtonSettings { tol: 1e-10, max_iter: 12 }
    }
}

/// The collocation system on one mesh.
pub struct CollocationSystem<'a> {
    pub field: &'a dyn VectorField,
    pub scheme: Scheme,
    pub mesh: Vec<f64>,
    pub n: usize,
    /// The continued parameter (an extra unknown after `T`), or `None`.
    pub param: Option<usize>,
    /// Further free parameters (unknowns after `p`, in this order), for
    /// curves of codimension-one cycles in two parameters; empty otherwise.
    pub extra_params: Vec<usize>,
    /// Parameter vector (the continued entry is overwritten from the unknowns).
    pub params: Vec<f64>,
    /// `U_ref,j'(sigma_i)` (derivative in the local coordinate), `N m n` values.
    dref: Vec<f64>,
    symbolic: Option<(bool, SymbolicLu<usize>)>,
    // Scratch.
    x: Vec<f64>,
    f: Vec<f64>,
    fp: Vec<f64>,
    jac: Mat<f64>,
}

/// `max |a_i|`, NaN-propagating.
pub fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| if v.abs() > m || v.is_nan() { v.abs() } else { m })
}

impl<'a> CollocationSystem<'a> {
    /// The system on the mesh and with the collocation degree of `orbit`,
    /// with `orbit` as phase reference.
    pub fn new(field: &'a dyn VectorField, orbit: &PeriodicOrbit, param: Option<usize>) -> Self {
        let n = field.dim();
        let mut s = CollocationSystem {
            field,
            scheme: Scheme::new(orbit.ncol),
            mesh: orbit.mesh.clone(),
            n,
            param,
            extra_params: Vec::new(),
            params: orbit.params.clone(),
            dref: Vec::new(),
            symbolic: None,
            x: vec![0.0; n],
            f: vec![0.0; n],
            fp: vec![0.0; n],
            jac: Mat::zeros(n, n),
        };
        s.set_reference(&orbit.nodes);
        s
    }

    pub fn ntst(&self) -> usize {
        self.mesh.len() - 1
    }
    pub fn n_nodes(&self) -> usize {
        self.ntst() * self.scheme.ncol + 1
    }
    /// Index of the period among the unknowns.
    pub fn t_index(&self) -> usize {
        self.n_nodes() * self.n
    }
    /// Number of unknowns: nodes, `T`, `p_k` if continuing, and the extra
    /// free parameters.
    pub fn n_unknowns(&self) -> usize {
        self.t_index() + 1 + usize::from(self.param.is_some()) + self.extra_params.len()
    }

    /// Free the parameters `extra` too (after the continued one, which
    /// must be set): their columns follow `p`'s.
    pub fn with_extra_params(mut self, extra: Vec<usize>) -> Self {
        assert!(self.param.is_some() || extra.is_empty(), "extra free parameters need a continued parameter");
        self.extra_params = extra;
        self
    }
    /// Number of equations without a border row.
    pub fn n_equations(&self) -> usize {
        self.ntst() * self.scheme.ncol * self.n + self.n + 1
    }

    /// Use the node values `nodes` (this mesh) as the phase reference.
    pub fn set_reference(&mut self, nodes: &[f64]) {
        let (n, m) = (self.n, self.scheme.ncol);
        let mut d = vec![0.0; self.ntst() * m * n];
        for j in 0..self.ntst() {
            for i in 0..m {
                for k in 0..=m {
                    let c = self.scheme.deriv[i][k];
                    let g = j * m + k;
                    for r in 0..n {
                        d[(j * m + i) * n + r] += c * nodes[g * n + r];
                    }
                }
            }
        }
        self.dref = d;
    }

    /// Unknown vector of `orbit` on this system.
    pub fn pack(&self, orbit: &PeriodicOrbit) -> Vec<f64> {
        let mut z = orbit.nodes.clone();
        z.push(orbit.period);
        if let Some(k) = self.param {
            z.push(orbit.params[k]);
        }
        z.extend(self.extra_params.iter().map(|&e| orbit.params[e]));
        z
    }

    /// The orbit of the unknown vector `z`.
    pub fn unpack(&self, z: &[f64]) -> PeriodicOrbit {
        let ti = self.t_index();
        let mut params = self.params.clone();
        if let Some(k) = self.param {
            params[k] = z[ti + 1];
        }
        for (i, &e) in self.extra_params.iter().enumerate() {
            params[e] = z[ti + 2 + i];
        }
        PeriodicOrbit { dim: self.n, ncol: self.scheme.ncol, mesh: self.mesh.clone(), nodes: z[..ti].to_vec(), period: z[ti], params }
    }

    fn set_param(&mut self, z: &[f64]) {
        let ti = self.t_index();
        if let Some(k) = self.param {
            self.params[k] = z[ti + 1];
        }
        for (i, &e) in self.extra_params.iter().enumerate() {
            self.params[e] = z[ti + 2 + i];
        }
    }

    /// The state at Gauss point `i` of interval `j` into `self.x`.
    fn collocation_state(&mut self, z: &[f64], j: usize, i: usize) {
        let (n, m) = (self.n, self.scheme.ncol);
        self.x.fill(0.0);
        for k in 0..=m {
            let c = self.scheme.value[i][k];
            let g = j * m + k;
            for r in 0..n {
                self.x[r] += c * z[g * n + r];
            }
        }
    }

    /// Residual (`n_equations()` entries, plus the border row if `border`
    /// is given: `<row, z> - gamma`) and, if `triplets` is given, the
    /// Jacobian as triplets (every structural entry emitted, zeros
    /// included, so the pattern is fixed for a mesh).
    pub fn evaluate(&mut self, z: &[f64], border: Option<(&[f64], f64)>, res: &mut [f64], mut triplets: Option<&mut Vec<Triplet<usize, usize, f64>>>) {
        let (n, m, nt) = (self.n, self.scheme.ncol, self.ntst());
        self.set_param(z);
        let ti = self.t_index();
        let period = z[ti];
        if let Some(t) = triplets.as_deref_mut() {
            t.clear();
        }
        for j in 0..nt {
            let h = self.mesh[j + 1] - self.mesh[j];
            for i in 0..m {
                let row0 = (j * m + i) * n;
                self.collocation_state(z, j, i);
                self.field.rhs(&self.x, &self.params, &mut self.f);
                for r in 0..n {
                    let mut acc = -h * period * self.f[r];
                    for k in 0..=m {
                        acc += self.scheme.deriv[i][k] * z[(j * m + k) * n + r];
                    }
                    res[row0 + r] = acc;
                }
                if let Some(t) = triplets.as_deref_mut() {
                    self.field.jacobian(&self.x, &self.params, self.jac.as_mut());
                    for k in 0..=m {
                        let (lv, ld) = (self.scheme.value[i][k], self.scheme.deriv[i][k]);
                        let col0 = (j * m + k) * n;
                        for r in 0..n {
                            for c in 0..n {
                                let mut v = -h * period * lv * self.jac[(r, c)];
                                if r == c {
                                    v += ld;
                                }
                                t.push(Triplet::new(row0 + r, col0 + c, v));
                            }
                        }
                    }
                    for r in 0..n {
                        t.push(Triplet::new(row0 + r, ti, -h * self.f[r]));
                    }
                    if let Some(k) = self.param {
                        self.field.param_derivative(&self.x, &self.params, k, &mut self.fp);
                        for r in 0..n {
                            t.push(Triplet::new(row0 + r, ti + 1, -h * period * self.fp[r]));
                        }
                    }
                    for (e_i, &e) in self.extra_params.iter().enumerate() {
                        self.field.param_derivative(&self.x, &self.params, e, &mut self.fp);
                        for r in 0..n {
                            t.push(Triplet::new(row0 + r, ti + 2 + e_i, -h * period * self.fp[r]));
                        }
                    }
                }
            }
        }
        // Periodicity.
        let prow = nt * m * n;
        let last = nt * m;
        for r in 0..n {
            res[prow + r] = z[r] - z[last * n + r];
            if let Some(t) = triplets.as_deref_mut() {
                t.push(Triplet::new(prow + r, r, 1.0));
                t.push(Triplet::new(prow + r, last * n + r, -1.0));
            }
        }
        // Phase condition.
        let phrow = prow + n;
        let mut phase = 0.0;
        for j in 0..nt {
            for i in 0..m {
                let w = self.scheme.weights[i];
                let d = &self.dref[(j * m + i) * n..(j * m + i + 1) * n];
                for k in 0..=m {
                    let c = w * self.scheme.value[i][k];
                    let g = j * m + k;
                    for r in 0..n {
                        phase += c * d[r] * z[g * n + r];
                        if let Some(t) = triplets.as_deref_mut() {
                            t.push(Triplet::new(phrow, g * n + r, c * d[r]));
                        }
                    }
                }
            }
        }
        res[phrow] = phase;
        if let Some((row, gamma)) = border {
            let brow = phrow + 1;
            res[brow] = row.iter().zip(z).map(|(a, b)| a * b).sum::<f64>() - gamma;
            if let Some(t) = triplets.as_deref_mut() {
                for (c, &v) in row.iter().enumerate() {
                    t.push(Triplet::new(brow, c, v));
                }
            }
        }
    }

    /// Factor the Jacobian at `z` (with the border row if given).
    pub fn factor(&mut self, z: &[f64], border: Option<(&[f64], f64)>, res: &mut [f64]) -> Option<Lu<usize, f64>> {
        let nu = self.n_unknowns();
        let mut trip = Vec::new();
        self.evaluate(z, border, res, Some(&mut trip));
        let neq = self.n_equations() + usize::from(border.is_some());
        if neq != nu {
            return None;
        }
        if trip.iter().any(|t| !t.val.is_finite()) {
            return None;
        }
        let mat = SparseColMat::<usize, f64>::try_new_from_triplets(neq, nu, &trip).ok()?;
        let bordered = border.is_some();
        let symbolic = match &self.symbolic {
            Some((b, s)) if *b == bordered => s.clone(),
            _ => {
                let s = SymbolicLu::try_new(mat.symbolic()).ok()?;
                self.symbolic = Some((bordered, s.clone()));
                s
            }
        };
        Lu::try_new_with_symbolic(symbolic, mat.as_ref()).ok()
    }

    /// Newton's method on the system (with the border row if given, which
    /// is required when a parameter is continued), updating `z` in place.
    /// Returns the number of iterations, or `None` on failure.
    pub fn newton(&mut self, z: &mut [f64], border: Option<(&[f64], f64)>, settings: NewtonSettings) -> Option<usize> {
        use faer::linalg::solvers::Solve;
        let neq = self.n_equations() + usize::from(border.is_some());
        let mut res = vec![0.0; neq];
        let mut last_du = f64::INFINITY;
        for it in 0..=settings.max_iter {
            self.evaluate(z, border, &mut res, None);
            let rn = inf_norm(&res);
            if !rn.is_finite() {
                return None;
            }
            if rn <= settings.tol || (last_du <= settings.tol * (1.0 + inf_norm(z)) && rn <= 1e3 * settings.tol) {
                return Some(it);
            }
            if it == settings.max_iter {
                break;
            }
            let lu = self.factor(z, border, &mut res)?;
            let mut rhs = Mat::<f64>::from_fn(neq, 1, |i, _| res[i]);
            lu.solve_in_place(rhs.as_mut());
            let du = (0..neq).fold(0.0_f64, |m, i| if rhs[(i, 0)].abs() > m || rhs[(i, 0)].is_nan() { rhs[(i, 0)].abs() } else { m });
            if !du.is_finite() || (it >= 2 && du > 2.0 * last_du) {
                return None;
            }
            for (i, zi) in z.iter_mut().enumerate() {
                *zi -= rhs[(i, 0)];
            }
            last_du = du;
            let ti = self.t_index();
            if !(z[ti] > 0.0) {
                return None;
            }
        }
        None
    }

    /// Unit tangent (in the Euclidean norm of `scaled`) of the solution curve
    /// at `z`: solves `[G_z; row] t = e_last`; the caller normalises with its
    /// own inner product. Returns the raw solution.
    pub fn tangent(&mut self, z: &[f64], row: &[f64]) -> Option<Vec<f64>> {
        use faer::linalg::solvers::Solve;
        let nu = self.n_unknowns();
        let mut res = vec![0.0; nu];
        let lu = self.factor(z, Some((row, 0.0)), &mut res)?;
        let mut rhs = Mat::<f64>::zeros(nu, 1);
        rhs[(nu - 1, 0)] = 1.0;
        lu.solve_in_place(rhs.as_mut());
        let t: Vec<f64> = (0..nu).map(|i| rhs[(i, 0)]).collect();
        t.iter().all(|v| v.is_finite()).then_some(t)
    }

    /// Condensed transfer blocks of the orbit `z`, one per mesh interval:
    /// on interval `j` the `m n` linearised collocation equations in the
    /// `(m + 1) n` node values are solved for the `m n` values after the
    /// first node, `[C_1 .. C_m] X_j = -C_0`. `X_j` (`m n x n`) maps a
    /// perturbation at the interval's first node to its values at the other
    /// `m` nodes; its last `n` rows are the interval's transition matrix
    /// `Phi_j` (the discrete flow of the variational equation over the
    /// interval).
    pub fn transfers(&mut self, z: &[f64]) -> Vec<Mat<f64>> {
        use faer::linalg::solvers::Solve;
        let (n, m, nt) = (self.n, self.scheme.ncol, self.ntst());
        self.set_param(z);
        let period = z[self.t_index()];
        let mn = m * n;
        let mut out = Vec::with_capacity(nt);
        for j in 0..nt {
            let h = self.mesh[j + 1] - self.mesh[j];
            let mut right = Mat::<f64>::zeros(mn, mn);
            let mut left = Mat::<f64>::zeros(mn, n);
            for i in 0..m {
                self.collocation_state(z, j, i);
                self.field.jacobian(&self.x, &self.params, self.jac.as_mut());
                for k in 0..=m {
                    let (lv, ld) = (self.scheme.value[i][k], self.scheme.deriv[i][k]);
                    for r in 0..n {
                        for c in 0..n {
                            let mut v = -h * period * lv * self.jac[(r, c)];
                            if r == c {
                                v += ld;
                            }
                            if k == 0 {
                                left[(i * n + r, c)] = -v;
                            } else {
                                right[(i * n + r, (k - 1) * n + c)] = v;
                            }
                        }
                    }
                }
            }
            right.partial_piv_lu().solve_in_place(left.as_mut());
            out.push(left);
        }
        out
    }

    /// The interval transition matrices `Phi_j` (last `n` rows of each
    /// [`transfers`](Self::transfers) block), `M = Phi_{N-1} ... Phi_0`.
    pub fn transitions(&mut self, z: &[f64]) -> Vec<Mat<f64>> {
        let (n, mn) = (self.n, self.n * self.scheme.ncol);
        self.transfers(z).into_iter().map(|x| x.as_ref().submatrix(mn - n, 0, n, n).to_owned()).collect()
    }

    /// Monodromy matrix of the orbit `z` by condensation of the collocation
    /// blocks, `M = Phi_{N-1} ... Phi_0` (see [`transfers`](Self::transfers)).
    pub fn monodromy(&mut self, z: &[f64]) -> Mat<f64> {
        let n = self.n;
        let mut mono = Mat::<f64>::identity(n, n);
        for phi in self.transitions(z) {
            mono = &phi * &mono;
        }
        mono
    }
}

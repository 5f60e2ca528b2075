//! The exact class-level reduction of Model E for any label-weight matrix.
//!
//! Samples with identical label rows `a_g` form a group `g` of size `n_g`.
//! Their mean `xbar_g` and the labels `y_c` obey the closed linear system
//!
//! ```text
//!     dxbar_g/dt = -eta_x (xbar_g - sum_c a_gc y_c)
//!     dy_c/dt    = -(eta_y / n) (m_c y_c - sum_g n_g a_gc xbar_g),   n = N / K,
//! ```
//!
//! i.e. `dZ/dt = -L Z` acting identically on each of the `d` coordinates,
//! while each sample's deviation from its group mean decays as
//! `exp(-eta_x t)`. `L = D H` with `H` the Hessian of the loss in the group
//! means and `D = diag(eta_x N/n_g, eta_y N/n)`, so `L` is similar to the
//! symmetric `S = D^{1/2} H D^{1/2}`: its spectrum is real and non-negative.
use faer::{Mat, MatMut, Side};
use serde::Serialize;

use crate::engine::{Invariant, InvariantKind, VectorField};
use crate::error::{Error, Result};
use crate::models::common::frustration::LabelWeights;

/// Groups beyond which the dense spectrum would be too large to be useful.
const MAX_UNITS: usize = 4000;

/// One group of samples sharing a label row.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// Non-zero entries `(c, a_gc)` of the shared label row.
    pub row: Vec<(usize, f64)>,
    /// Number of samples `n_g`.
    pub count: usize,
    /// Primary class of the members (they share a row, hence a class unless
    /// the row came from a file with explicit classes).
    pub class: usize,
}

/// The class-level linear system `dZ/dt = -L Z` with `Z` holding the group
/// means and the labels (`units = G + K` rows) times `columns` coordinates.
#[derive(Clone, Debug)]
pub struct ClassLevelSystem {
    pub groups: Vec<Group>,
    /// Group index of every sample.
    pub sample_group: Vec<usize>,
    pub classes: usize,
    /// `n = N / K`.
    pub per_class: f64,
    pub mass: Vec<f64>,
    pub eta_x: f64,
    pub eta_y: f64,
    /// Coordinates integrated at once (`d` for trajectories, 1 for analysis).
    pub columns: usize,
}

/// One distinct decay rate of the class-level system.
#[derive(Clone, Debug, Serialize)]
pub struct Mode {
    pub rate: f64,
    pub multiplicity: usize,
    /// Whether the eigenspace moves labels relative to one another (changes
    /// inter-label distances), as opposed to a common translation or a
    /// sample-only rearrangement.
    pub separating: bool,
}

/// The spectrum of `L` interpreted for collapse.
#[derive(Clone, Debug, Serialize)]
pub struct ClassSpectrum {
    /// Distinct rates, ascending, with multiplicities.
    pub modes: Vec<Mode>,
    /// Smallest decay rate of a separating mode; 0 means the separation is
    /// conserved (no collapse).
    pub slow_rate: f64,
    /// All distinct positive rates below the spectral gap (the slow band,
    /// one rate for symmetric designs, several for irregular ones), ascending.
    pub slow_band: Vec<f64>,
    /// Distinct rates above the largest spectral gap (fast alignment), ascending.
    pub fast_rates: Vec<f64>,
    /// The within-group deviation rate `eta_x` (not a mode of `L`).
    pub deviation_rate: f64,
    /// Largest rate of the microscopic linear dynamics,
    /// `max(lambda_max(L), eta_x)`; gradient descent is stable iff
    /// `dt < 2 / largest_rate`.
    pub largest_rate: f64,
}

impl ClassSpectrum {
    /// Whether the separation decays (some separating mode has a positive rate
    /// and none is conserved).
    pub fn collapses(&self) -> bool {
        self.slow_rate > 0.0
    }
    /// e-folding time of the separation, `1 / slow_rate`; `None` without
    /// collapse.
    pub fn collapse_time(&self) -> Option<f64> {
        self.collapses().then(|| 1.0 / self.slow_rate)
    }
    /// The smallest non-zero rate above the slow one: the end of the fast
    /// phase is a few of its e-folding times.
    pub fn slowest_fast_rate(&self) -> f64 {
        self.fast_rates.first().copied().unwrap_or(self.deviation_rate)
    }
    /// The largest gradient-descent step for which `I - dt L` is stable.
    pub fn max_stable_dt(&self) -> f64 {
        2.0 / self.largest_rate
    }
}

impl ClassLevelSystem {
    /// Groups the samples of `a` by identical label rows.
    pub fn new(a: &LabelWeights, eta_x: f64, eta_y: f64, columns: usize) -> Result<Self> {
        let mut groups: Vec<Group> = Vec::new();
        let mut index: std::collections::HashMap<(usize, Vec<(usize, u64)>), usize> = Default::default();
        let mut sample_group = Vec::with_capacity(a.samples());
        for i in 0..a.samples() {
            let key_row: Vec<(usize, u64)> = a.row(i).map(|(c, v)| (c, v.to_bits())).collect();
            let key = (a.primary(i), key_row);
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Group { row: a.row(i).collect(), count: 0, class: a.primary(i) });
                groups.len() - 1
            });
            groups[g].count += 1;
            sample_group.push(g);
        }
        if groups.len() + a.classes() > MAX_UNITS {
            return Err(Error::invalid(
                "a_file",
                format!("{} distinct label rows", groups.len()),
                format!("at most {} distinct rows plus classes for the class-level theory", MAX_UNITS),
            ));
        }
        let mass = (0..a.classes()).map(|c| a.class_mass(c)).collect();
        Ok(ClassLevelSystem {
            groups,
            sample_group,
            classes: a.classes(),
            per_class: a.per_class(),
            mass,
            eta_x,
            eta_y,
            columns,
        })
    }

    /// `[eta_x, eta_y]`, the field's parameter vector.
    pub fn default_params_vec(&self) -> Vec<f64> {
        vec![self.eta_x, self.eta_y]
    }

    /// Number of groups `G`.
    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }
    /// Rows of `Z`: `G + K`.
    pub fn units(&self) -> usize {
        self.groups.len() + self.classes
    }
    /// The same system acting on `columns` coordinates.
    pub fn with_columns(&self, columns: usize) -> Self {
        ClassLevelSystem { columns, ..self.clone() }
    }

    /// Class-level state (row-major `units x columns`) from microscopic
    /// embeddings `x` (N x d) and `y` (K x d), both row-major.
    pub fn project(&self, x: &[f64], y: &[f64]) -> Vec<f64> {
        let d = self.columns;
        let mut z = vec![0.0; self.units() * d];
        for (i, &g) in self.sample_group.iter().enumerate() {
            for k in 0..d {
                z[g * d + k] += x[i * d + k];
            }
        }
        for (g, grp) in self.groups.iter().enumerate() {
            for k in 0..d {
                z[g * d + k] /= grp.count as f64;
            }
        }
        z[self.n_groups() * d..].copy_from_slice(y);
        z
    }

    /// The symmetric matrix `S = D^{1/2} H D^{1/2}` similar to `L`.
    fn symmetric_operator(&self) -> Mat<f64> {
        let (g, u) = (self.n_groups(), self.units());
        let mut s = Mat::<f64>::zeros(u, u);
        for (gi, grp) in self.groups.iter().enumerate() {
            s[(gi, gi)] = self.eta_x;
            let w = (self.eta_x * self.eta_y * grp.count as f64 / self.per_class).sqrt();
            for &(c, a) in &grp.row {
                s[(gi, g + c)] = -a * w;
                s[(g + c, gi)] = -a * w;
            }
        }
        for c in 0..self.classes {
            s[(g + c, g + c)] = self.eta_y * self.mass[c] / self.per_class;
        }
        s
    }

    /// `L` as a dense matrix (so that `dZ/dt = -L Z`).
    pub fn operator(&self) -> Mat<f64> {
        let one = self.with_columns(1);
        let u = self.units();
        let mut jac = Mat::<f64>::zeros(u, u);
        one.jacobian(&vec![0.0; u], &[], jac.as_mut());
        Mat::from_fn(u, u, |r, c| -jac[(r, c)])
    }

    /// Spectrum of `L` from the symmetric form, grouped into distinct rates
    /// and classified for collapse.
    pub fn spectrum(&self) -> Result<ClassSpectrum> {
        let s = self.symmetric_operator();
        let eig = s.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical("spectrum of L", format!("{e:?}")))?;
        let (vals, vecs) = (eig.S().column_vector(), eig.U());
        let u = self.units();
        let g = self.n_groups();
        let scale = self.eta_x.max(self.eta_y) * (1.0 + self.mass.iter().cloned().fold(0.0, f64::max) / self.per_class);
        let tol = 1e-9 * scale;
        // D^{1/2} maps eigenvectors of S to eigenvectors of L; only the label
        // block matters for separation and there D is the constant eta_y N / n.
        let separating_content = |j: usize| -> f64 {
            let ys: Vec<f64> = (0..self.classes).map(|c| vecs[(g + c, j)]).collect();
            let mean = ys.iter().sum::<f64>() / ys.len() as f64;
            ys.iter().map(|v| (v - mean).powi(2)).sum::<f64>().sqrt()
        };
        let mut modes: Vec<Mode> = Vec::new();
        for j in 0..u {
            let rate = if vals[j].abs() < tol { 0.0 } else { vals[j] };
            let sep = separating_content(j) > 1e-7;
            match modes.last_mut() {
                Some(m) if (m.rate - rate).abs() <= tol.max(1e-9 * rate.abs()) => {
                    m.multiplicity += 1;
                    m.separating |= sep;
                }
                _ => modes.push(Mode { rate, multiplicity: 1, separating: sep }),
            }
        }
        let slow_rate = modes.iter().find(|m| m.separating).map(|m| m.rate).unwrap_or(0.0);
        // Fast rates lie above the largest spectral gap (largest ratio between
        // consecutive positive rates): alignment is O(eta), frustration-driven
        // contraction O(phi eta). Without a gap every rate above the slow one
        // counts as fast.
        let positive: Vec<f64> = modes.iter().map(|m| m.rate).filter(|&r| r > 0.0).collect();
        let gap_at = (1..positive.len())
            .max_by(|&i, &j| (positive[i] / positive[i - 1]).total_cmp(&(positive[j] / positive[j - 1])))
            .filter(|&i| positive[i] / positive[i - 1] > 3.0 && positive[i - 1] >= slow_rate);
        let fast_rates: Vec<f64> = match gap_at {
            Some(i) => positive[i..].to_vec(),
            None => positive.iter().copied().filter(|&r| r > slow_rate + tol).collect(),
        };
        let slow_band: Vec<f64> = positive.iter().copied().filter(|r| fast_rates.first().is_none_or(|f| r < f)).collect();
        Ok(ClassSpectrum { modes, slow_rate, slow_band, fast_rates, deviation_rate: self.eta_x, largest_rate: positive.last().copied().unwrap_or(0.0).max(self.eta_x) })
    }

    /// Connected components of the bipartite graph groups <-> labels; each
    /// carries one conserved centre of mass and one translation symmetry.
    pub fn components(&self) -> Vec<Vec<usize>> {
        let (g, u) = (self.n_groups(), self.units());
        let mut parent: Vec<usize> = (0..u).collect();
        fn find(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        for (gi, grp) in self.groups.iter().enumerate() {
            for &(c, _) in &grp.row {
                let (a, b) = (find(&mut parent, gi), find(&mut parent, g + c));
                parent[a] = b;
            }
        }
        let mut comps: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for i in 0..u {
            let r = find(&mut parent, i);
            comps.entry(r).or_default().push(i);
        }
        let mut v: Vec<Vec<usize>> = comps.into_values().collect();
        v.sort();
        v
    }

    /// Pairwise label distances from a class-level state: minimum and mean.
    pub fn label_distances(&self, z: &[f64]) -> (f64, f64) {
        let d = self.columns;
        let y = &z[self.n_groups() * d..];
        crate::models::common::metrics::label_distances(y, self.classes, d)
    }
}

impl VectorField for ClassLevelSystem {
    fn name(&self) -> &str {
        "embedding-class-level"
    }
    fn dim(&self) -> usize {
        self.units() * self.columns
    }
    fn state_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.dim());
        for (gi, grp) in self.groups.iter().enumerate() {
            for k in 0..self.columns {
                let row: Vec<String> = grp.row.iter().map(|(c, a)| format!("{a}*y{c}")).collect();
                names.push(format!("xbar_g{gi}[{}]_{k}", row.join("+")));
            }
        }
        for c in 0..self.classes {
            for k in 0..self.columns {
                names.push(format!("y{c}_{k}"));
            }
        }
        names
    }
    fn param_names(&self) -> Vec<String> {
        vec!["eta_x".into(), "eta_y".into()]
    }
    fn default_params(&self) -> Vec<f64> {
        vec![self.eta_x, self.eta_y]
    }
    fn initial_state(&self) -> Vec<f64> {
        // A generic non-collapsed start: labels on distinct points, samples at
        // the origin.
        let mut z = vec![0.0; self.dim()];
        let off = self.n_groups() * self.columns;
        for c in 0..self.classes {
            for k in 0..self.columns {
                z[off + c * self.columns + k] = ((c + 1) as f64 * (k + 1) as f64).sin();
            }
        }
        z
    }

    fn rhs(&self, z: &[f64], p: &[f64], out: &mut [f64]) {
        let (eta_x, eta_y) = params_or(p, self.eta_x, self.eta_y);
        let d = self.columns;
        let g = self.n_groups();
        let (zx, zy) = z.split_at(g * d);
        let (ox, oy) = out.split_at_mut(g * d);
        for (c, m) in self.mass.iter().enumerate() {
            for k in 0..d {
                oy[c * d + k] = -eta_y / self.per_class * m * zy[c * d + k];
            }
        }
        for (gi, grp) in self.groups.iter().enumerate() {
            let w = eta_y / self.per_class * grp.count as f64;
            for k in 0..d {
                let mut target = 0.0;
                for &(c, a) in &grp.row {
                    target += a * zy[c * d + k];
                    oy[c * d + k] += w * a * zx[gi * d + k];
                }
                ox[gi * d + k] = -eta_x * (zx[gi * d + k] - target);
            }
        }
    }

    fn jacobian(&self, _z: &[f64], p: &[f64], mut jac: MatMut<'_, f64>) {
        let (eta_x, eta_y) = params_or(p, self.eta_x, self.eta_y);
        let d = self.columns;
        let g = self.n_groups();
        jac.fill(0.0);
        for k in 0..d {
            for (gi, grp) in self.groups.iter().enumerate() {
                jac[(gi * d + k, gi * d + k)] = -eta_x;
                for &(c, a) in &grp.row {
                    jac[(gi * d + k, (g + c) * d + k)] = eta_x * a;
                    jac[((g + c) * d + k, gi * d + k)] += eta_y / self.per_class * grp.count as f64 * a;
                }
            }
            for (c, m) in self.mass.iter().enumerate() {
                jac[((g + c) * d + k, (g + c) * d + k)] = -eta_y / self.per_class * m;
            }
        }
    }

    fn param_derivative(&self, z: &[f64], _p: &[f64], k: usize, out: &mut [f64]) {
        // F is linear in each rate separately, so dF/deta_k = F with that rate
        // set to 1 and the other to 0 (independent of the current values).
        let unit = if k == 0 { [1.0, 0.0] } else { [0.0, 1.0] };
        self.rhs(z, &unit, out);
    }

    fn observable_names(&self) -> Vec<String> {
        vec!["min_label_distance".into(), "mean_label_distance".into()]
    }
    fn observables(&self, z: &[f64], _p: &[f64], out: &mut [f64]) {
        let (mn, mean) = self.label_distances(z);
        out[0] = mn;
        out[1] = mean;
    }

    fn invariants(&self, _z: &[f64], p: &[f64]) -> Vec<Invariant> {
        let (eta_x, eta_y) = params_or(p, self.eta_x, self.eta_y);
        let d = self.columns;
        let g = self.n_groups();
        let mut out = Vec::new();
        for (ci, comp) in self.components().iter().enumerate() {
            let classes: Vec<String> = comp.iter().filter(|&&u| u >= g).map(|u| (u - g).to_string()).collect();
            for k in 0..d {
                let mut grad = vec![0.0; self.dim()];
                let mut gen = vec![0.0; self.dim()];
                for &u in comp {
                    grad[u * d + k] = if u < g { self.groups[u].count as f64 / eta_x } else { self.per_class / eta_y };
                    gen[u * d + k] = 1.0;
                }
                let what = format!("component {ci} (classes {}), coordinate {k}", classes.join(","));
                out.push(Invariant { name: format!("conserved centre of mass of {what}"), kind: InvariantKind::Conservation, vector: grad });
                out.push(Invariant { name: format!("translation of {what}"), kind: InvariantKind::Symmetry, vector: gen });
            }
        }
        out
    }
}

fn params_or(p: &[f64], eta_x: f64, eta_y: f64) -> (f64, f64) {
    match p {
        [a, b, ..] => (*a, *b),
        _ => (eta_x, eta_y),
    }
}

impl ClassLevelSystem {
    /// Closed-form solution `Z(t) = D^{1/2} U exp(-Lambda t) U^T D^{-1/2} Z(0)`
    /// from the eigendecomposition of the symmetric form (an integration-free
    /// route used to check the ODE solver).
    pub fn evolve_exact(&self, z0: &[f64], t: f64) -> Result<Vec<f64>> {
        let s = self.symmetric_operator();
        let eig = s.self_adjoint_eigen(Side::Lower).map_err(|e| Error::numerical("spectrum of L", format!("{e:?}")))?;
        let (vals, u) = (eig.S().column_vector(), eig.U());
        let n_total = self.sample_group.len() as f64;
        let units = self.units();
        let dsqrt: Vec<f64> = (0..units)
            .map(|i| {
                if i < self.n_groups() {
                    (self.eta_x * n_total / self.groups[i].count as f64).sqrt()
                } else {
                    (self.eta_y * n_total / self.per_class).sqrt()
                }
            })
            .collect();
        let d = self.columns;
        let mut out = vec![0.0; units * d];
        for k in 0..d {
            let w0: Vec<f64> = (0..units).map(|i| z0[i * d + k] / dsqrt[i]).collect();
            for j in 0..units {
                let coef: f64 = (0..units).map(|i| u[(i, j)] * w0[i]).sum::<f64>() * (-vals[j] * t).exp();
                for i in 0..units {
                    out[i * d + k] += dsqrt[i] * u[(i, j)] * coef;
                }
            }
        }
        Ok(out)
    }
}

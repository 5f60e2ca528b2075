//! Floquet multipliers of a periodic orbit: the eigenvalues of its
//! monodromy matrix `M = Phi_{N-1} ... Phi_0`, the product of the interval
//! transition matrices of the condensed collocation system
//! ([`CollocationSystem::transitions`](super::collocation::CollocationSystem::transitions)),
//! computed by the periodic QR iteration over the factors
//! ([`super::periodic_qr`]) so that multipliers far below `eps |M|` (strongly
//! stable directions) keep their relative accuracy; the trivial multiplier
//! `1` (the flow direction) is set apart.
use faer::c64;

use super::periodic_qr::product_eigenvalues;
use crate::engine::sorted_eigenvalues;
use crate::error::Result;

/// Multipliers of one orbit.
#[derive(Clone, Debug)]
pub struct Multipliers {
    /// All `n` multipliers, by decreasing modulus.
    pub all: Vec<c64>,
    /// Index in `all` of the trivial multiplier (the one closest to `1`).
    pub trivial: usize,
}

/// A multiplier counts as outside the unit circle when `|mu| > 1 + UNIT_TOL`
/// (the collocation error of the multipliers on the meshes used is far
/// below this).
pub const UNIT_TOL: f64 = 1e-6;

impl Multipliers {
    /// Eigenvalues of the formed product `monodromy` (multipliers below
    /// `eps |M|` are lost to round-off; see [`Self::from_transitions`]).
    pub fn from_monodromy(monodromy: &faer::Mat<f64>) -> Result<Self> {
        Ok(Self::from_eigenvalues(sorted_eigenvalues(monodromy)?))
    }

    /// Eigenvalues of `transitions[N-1] ... transitions[0]` by the periodic QR.
    pub fn from_transitions(transitions: &[faer::Mat<f64>]) -> Result<Self> {
        Ok(Self::from_eigenvalues(product_eigenvalues(transitions)?))
    }

    fn from_eigenvalues(mut all: Vec<c64>) -> Self {
        all.sort_by(|a, b| b.norm().total_cmp(&a.norm()));
        let trivial = (0..all.len())
            .min_by(|&i, &j| (all[i] - 1.0).norm().total_cmp(&(all[j] - 1.0).norm()))
            .unwrap_or(0);
        Multipliers { all, trivial }
    }

    /// The multipliers other than the trivial one.
    pub fn nontrivial(&self) -> impl Iterator<Item = c64> + '_ {
        self.all.iter().enumerate().filter(move |(i, _)| *i != self.trivial).map(|(_, m)| *m)
    }

    /// Distance of the trivial multiplier from `1`: an accuracy indicator.
    pub fn trivial_error(&self) -> f64 {
        self.all.get(self.trivial).map_or(f64::NAN, |m| (m - 1.0).norm())
    }

    /// Number of non-trivial multipliers with `|mu| > 1 + UNIT_TOL`.
    pub fn n_unstable(&self) -> usize {
        self.nontrivial().filter(|m| m.norm() > 1.0 + UNIT_TOL).count()
    }

    /// Orbitally asymptotically stable: every non-trivial multiplier inside the unit circle.
    pub fn stable(&self) -> bool {
        self.nontrivial().all(|m| m.norm() < 1.0 - UNIT_TOL)
    }

    /// Test function of a fold of cycles seen in the multipliers: the real
    /// non-trivial multiplier closest to `+1`, minus 1 (`None` if none is real).
    pub fn fold_test(&self) -> Option<f64> {
        self.real_nearest(1.0).map(|m| m - 1.0)
    }

    /// Period-doubling test function: `mu + 1` for the real multiplier
    /// closest to `-1` (`None` if no multiplier is real and negative).
    pub fn period_doubling_test(&self) -> Option<f64> {
        self.real_nearest(-1.0).filter(|m| *m < 0.0).map(|m| m + 1.0)
    }

    /// Neimark-Sacker test function: `|mu| - 1` for the complex pair
    /// closest to the unit circle (`None` if no multiplier is complex).
    pub fn neimark_sacker_test(&self) -> Option<f64> {
        self.nontrivial()
            .filter(|m| m.im.abs() > UNIT_TOL * m.norm().max(1.0))
            .map(|m| m.norm() - 1.0)
            .min_by(|a, b| a.abs().total_cmp(&b.abs()))
    }

    /// Number of real multipliers below `-1` (parity flips at period doubling).
    pub fn n_below_minus_one(&self) -> usize {
        self.nontrivial().filter(|m| m.im.abs() <= UNIT_TOL * m.norm().max(1.0) && m.re < -1.0).count()
    }

    /// Number of complex (non-real) multipliers outside the unit circle
    /// (changes by two at a Neimark-Sacker point).
    pub fn n_complex_outside(&self) -> usize {
        self.nontrivial().filter(|m| m.im.abs() > UNIT_TOL * m.norm().max(1.0) && m.norm() > 1.0).count()
    }

    fn real_nearest(&self, target: f64) -> Option<f64> {
        self.nontrivial()
            .filter(|m| m.im.abs() <= UNIT_TOL * m.norm().max(1.0))
            .map(|m| m.re)
            .min_by(|a, b| (a - target).abs().total_cmp(&(b - target).abs()))
    }
}

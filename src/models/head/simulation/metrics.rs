//! Model H's collapse measures: Model E's, in the head's output space, plus
//! the head's spectrum on the label subspace.
use serde::Serialize;

use crate::models::common::frustration::LabelWeights;
use crate::models::common::metrics::{measure, Metrics, MetricsWorkspace};

use super::kernels::matvec;
use super::spectrum::{compression_spectrum, label_subspace, label_subspace_invariance, square};
use super::state::HeadState;

/// Metrics of Model H at one time: the Model E measures computed in the
/// head's output space (samples `W x_i` against labels `y_c`; the loss is the
/// sample branch's `l1`), plus the head spectrum on the label subspace.
#[derive(Clone, Debug, Serialize)]
pub struct HeadMetrics {
    #[serde(flatten)]
    pub base: Metrics,
    pub head_spectrum: Vec<[f64; 2]>,
    /// Eigenvalues of the compression of `W^2` (exactly `M`'s non-trivial
    /// eigenvalues at the symmetric fixed point, invariant subspace or not).
    pub head_squared_spectrum: Vec<[f64; 2]>,
    /// [`label_subspace_invariance`] of `W`.
    pub head_invariance_residual: f64,
}

/// Measures a state (allocates only the small spectrum).
pub fn measure_head(t: f64, a: &LabelWeights, st: &HeadState, outputs: &mut [f64], mws: &mut MetricsWorkspace) -> HeadMetrics {
    let d = st.dim;
    for i in 0..a.samples() {
        matvec(&st.w, &st.x[i * d..(i + 1) * d], &mut outputs[i * d..(i + 1) * d]);
    }
    let q = label_subspace(&st.y, a.classes(), d);
    HeadMetrics {
        base: measure(t, outputs, &st.y, a, d, mws),
        head_spectrum: compression_spectrum(&st.w, &q, d),
        head_squared_spectrum: compression_spectrum(&square(&st.w, d), &q, d),
        head_invariance_residual: label_subspace_invariance(&st.w, &st.y, a.classes(), d),
    }
}

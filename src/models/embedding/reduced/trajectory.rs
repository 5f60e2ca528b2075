//! Theory curves for a simulated run: the class-level ODE integrated from the
//! run's own initial group means, with each sample's deviation from its group
//! mean decaying as `exp(-eta_x t)`. This reconstructs every sample exactly
//! (for gradient flow), so theory and simulation are scored by the same
//! metric code.
use crate::engine::{integrate, Grid, IntegrateOptions, Method};
use crate::error::Result;
use crate::models::embedding::simulation::Embeddings;
use crate::models::common::frustration::LabelWeights;
use crate::models::common::metrics::{measure, Metrics, MetricsWorkspace};
use crate::models::embedding::reduced::class_level::ClassLevelSystem;

/// Metrics predicted by the class-level theory at `times` for a run started
/// from `start`. `sys` must have `columns == start.dim`.
pub fn theory_metrics(
    sys: &ClassLevelSystem,
    a: &LabelWeights,
    start: &Embeddings,
    times: &[f64],
    rtol: f64,
    atol: f64,
) -> Result<Vec<Metrics>> {
    let d = start.dim;
    debug_assert_eq!(sys.columns, d);
    let z0 = sys.project(&start.x, &start.y);
    let t_max = times.last().copied().unwrap_or(0.0);
    let opts = IntegrateOptions {
        method: Method::Dop853,
        rtol,
        atol,
        t_max,
        grid: Grid::Times(times.to_vec()),
        max_steps: crate::limits::max_ode_steps(),
        max_seconds: crate::limits::remaining_seconds(),
    };
    let traj = integrate(sys, &z0, &sys.default_params_vec(), &opts)?;
    let g = sys.n_groups();
    let mut x = vec![0.0; start.x.len()];
    let mut ws = MetricsWorkspace::new(a.classes(), d);
    let mut out = Vec::with_capacity(times.len());
    for (t, z) in traj.t.iter().zip(&traj.states) {
        let decay = (-sys.eta_x * t).exp();
        for (i, &grp) in sys.sample_group.iter().enumerate() {
            for k in 0..d {
                let dev0 = start.x[i * d + k] - z0[grp * d + k];
                x[i * d + k] = z[grp * d + k] + decay * dev0;
            }
        }
        out.push(measure(*t, &x, &z[g * d..], a, d, &mut ws));
    }
    Ok(out)
}

//! One diffsol solve of a stiff problem (benches/peers/stiff_problems.rs) to
//! its end point, as CVODE is run in benches/peers/cvode_peer.c: scalar
//! tolerances, the analytic Jacobian (diffsol takes it as its action
//! J(y) v and assembles the dense matrix from it), dense LU (nalgebra
//! backend), the end time set as a stop time so the solver lands on it
//! rather than interpolating back, and every other setting diffsol's
//! default except the minimum step: diffsol's default floor of 1e-13
//! (absolute) stops its BDF at t = 3e-14 on the scaled Van der Pol problem,
//! so it is set to 0, CVODE's default `hmin`. `solve_fn` takes any
//! right-hand side (the Model T head ODE's comes from its model file).
//! Shared by benches/diffsol_peer.rs and tests/engine/diffsol_peer.rs.
// Included by a bench and by a test crate, each of which uses a part.
#![allow(dead_code)]
use std::time::Instant;

use diffsol::{NalgebraLU, NalgebraMat, OdeBuilder, OdeSolverMethod, OdeSolverStopReason, Vector};

use crate::stiff_problems::StiffProblem;

type M = NalgebraMat<f64>;
type LS = NalgebraLU<f64>;

/// diffsol's methods: variable-order BDF (orders 1-5, an NDF-type scheme
/// after MATLAB's ode15s), the SDIRK family with the ESDIRK3(4) tableau
/// (Kennedy & Carpenter) and TR-BDF2, and for the non-stiff problems its
/// explicit Tsitouras 5(4) pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DiffsolMethod {
    Bdf,
    Esdirk34,
    TrBdf2,
    Tsit45,
}

impl DiffsolMethod {
    pub const ALL: [DiffsolMethod; 4] = [DiffsolMethod::Bdf, DiffsolMethod::Esdirk34, DiffsolMethod::TrBdf2, DiffsolMethod::Tsit45];

    pub fn name(self) -> &'static str {
        match self {
            DiffsolMethod::Bdf => "diffsol_bdf",
            DiffsolMethod::Esdirk34 => "diffsol_esdirk34",
            DiffsolMethod::TrBdf2 => "diffsol_tr_bdf2",
            DiffsolMethod::Tsit45 => "diffsol_tsit45",
        }
    }

    pub fn from_name(name: &str) -> Option<DiffsolMethod> {
        DiffsolMethod::ALL.into_iter().find(|m| m.name() == name || m.name().strip_prefix("diffsol_") == Some(name))
    }
}

/// The end state and diffsol's counters of one solve.
pub struct DiffsolOutcome {
    pub end: Vec<f64>,
    pub steps: usize,
    pub error_test_fails: usize,
    pub nonlinear_iterations: usize,
    pub factorizations: usize,
}

/// Solves `pb` from t = 0 to its end time. Stops with an error past
/// `budget_seconds` of wall time (checked between steps).
pub fn solve(pb: &StiffProblem, method: DiffsolMethod, rtol: f64, atol: f64, budget_seconds: f64) -> Result<DiffsolOutcome, String> {
    solve_fn(pb.n, pb.t_end, pb.y0, &pb.rhs, &pb.jacobian, method, rtol, atol, budget_seconds)
}

/// Solves y' = rhs(y), y(0) = y0 from t = 0 to `t_end`, with the dense
/// Jacobian `jacobian(y)` (row-major n x n). diffsol takes the Jacobian as
/// its action J(y) v and assembles the dense matrix from n products at the
/// same y; the last Jacobian is kept with its y, so one assembly costs one
/// Jacobian evaluation, as it does for CVODE and repcollapse.
#[allow(clippy::too_many_arguments)]
pub fn solve_fn(
    n: usize,
    t_end: f64,
    y0: &[f64],
    rhs: &dyn Fn(&[f64], &mut [f64]),
    jacobian: &dyn Fn(&[f64], &mut [f64]),
    method: DiffsolMethod,
    rtol: f64,
    atol: f64,
    budget_seconds: f64,
) -> Result<DiffsolOutcome, String> {
    let cache = std::cell::RefCell::new((vec![f64::NAN; n], vec![0.0f64; n * n]));
    let mut problem = OdeBuilder::<M>::new()
        .rtol(rtol)
        .atol(vec![atol; n])
        .rhs_implicit(
            |x: &[f64], _p: &[f64], _t: f64, y: &mut [f64]| rhs(x, y),
            |x: &[f64], _p: &[f64], _t: f64, v: &[f64], y: &mut [f64]| {
                let mut c = cache.borrow_mut();
                let (cx, j) = &mut *c;
                if cx.as_slice() != x {
                    jacobian(x, j);
                    cx.copy_from_slice(x);
                }
                for (r, yr) in y.iter_mut().enumerate() {
                    *yr = (0..n).map(|c| j[n * r + c] * v[c]).sum();
                }
            },
        )
        .init(|_p: &[f64], _t: f64, y: &mut [f64]| y.copy_from_slice(y0), n)
        .build()
        .map_err(|e| e.to_string())?;
    problem.ode_options.min_timestep = 0.0;
    let started = Instant::now();
    macro_rules! run {
        ($solver:expr) => {{
            let mut s = $solver.map_err(|e| e.to_string())?;
            s.set_stop_time(t_end).map_err(|e| e.to_string())?;
            loop {
                match s.step().map_err(|e| e.to_string())? {
                    OdeSolverStopReason::TstopReached => break,
                    _ if started.elapsed().as_secs_f64() > budget_seconds => {
                        return Err(format!("budget of {budget_seconds} s exceeded at t = {:e}", s.state().t));
                    }
                    _ => {}
                }
            }
            let st = s.get_statistics();
            DiffsolOutcome {
                end: s.state().y.clone_as_vec(),
                steps: st.number_of_steps,
                error_test_fails: st.number_of_error_test_failures,
                nonlinear_iterations: st.number_of_nonlinear_solver_iterations,
                factorizations: st.number_of_linear_solver_setups,
            }
        }};
    }
    Ok(match method {
        DiffsolMethod::Bdf => run!(problem.bdf::<LS>()),
        DiffsolMethod::Esdirk34 => run!(problem.esdirk34::<LS>()),
        DiffsolMethod::TrBdf2 => run!(problem.tr_bdf2::<LS>()),
        DiffsolMethod::Tsit45 => run!(problem.tsit45()),
    })
}

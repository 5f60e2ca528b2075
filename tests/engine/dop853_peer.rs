//! The project's DOP853 against an independent implementation of the same
//! method, ode_solvers' `Dop853` (a dev-dependency kept for this job), on
//! non-stiff problems: both asked for the same tolerances, both must land
//! on the reference within what those tolerances promise.
//!
//! - Arenstorf's restricted three-body orbit (Hairer, Norsett & Wanner,
//!   Solving ODEs I, Sect. II.0, eq. (0.1); defined once in
//!   benches/peers/arenstorf.rs): periodic, so the state after one period T
//!   is the initial state, a reference known to all digits.
//! - Lorenz (examples/models/lorenz.toml) to t = 20: chaotic (largest
//!   Lyapunov exponent ~0.91), so the two solvers are compared with each
//!   other and with the project's own tighter solve, the spread allowed by
//!   error growth e^(0.91 t) ~ 1e8 of the local tolerance.
use ode_solvers::dop853::Dop853;
use ode_solvers::{DVector, System};
use repcollapse::engine::{integrate, Grid, IntegrateOptions, Method, VectorField};
use repcollapse::symbolic::SymbolicModel;

use crate::arenstorf::{ARENSTORF, ARENSTORF_PERIOD};

/// ode_solvers' view of any of the project's vector fields.
struct Peer<'a> {
    field: &'a dyn VectorField,
    p: Vec<f64>,
}

impl System<f64, DVector<f64>> for Peer<'_> {
    fn system(&self, _t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) {
        self.field.rhs(y.as_slice(), &self.p, dy.as_mut_slice());
    }
}

fn ours(field: &dyn VectorField, x0: &[f64], t_end: f64, tol: f64) -> Vec<f64> {
    let o = IntegrateOptions {
        method: Method::Dop853,
        rtol: tol,
        atol: tol,
        t_max: t_end,
        grid: Grid::Times(vec![t_end]),
        max_steps: 10_000_000,
        max_seconds: f64::INFINITY,
    };
    integrate(field, x0, &field.default_params(), &o).unwrap().last().unwrap().to_vec()
}

fn theirs(field: &dyn VectorField, x0: &[f64], t_end: f64, tol: f64) -> Vec<f64> {
    let peer = Peer { field, p: field.default_params() };
    // Sparse output: the accepted steps only, the last one at t_end.
    let mut s = Dop853::from_param(
        peer,
        0.0,
        t_end,
        t_end,
        DVector::from_column_slice(x0),
        tol,
        tol,
        0.9,
        0.0,
        0.333,
        6.0,
        t_end,
        0.0,
        10_000_000,
        1000,
        ode_solvers::dop_shared::OutputType::Sparse,
    );
    s.integrate().unwrap();
    assert_eq!(*s.x_out().last().unwrap(), t_end);
    s.y_out().last().unwrap().as_slice().to_vec()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn dop853_and_ode_solvers_return_to_the_start_of_the_arenstorf_orbit() {
    let m = SymbolicModel::from_toml_str(ARENSTORF, "arenstorf.toml").unwrap();
    let x0 = m.initial_state();
    for tol in [1e-6, 1e-8, 1e-10] {
        let a = ours(&m, &x0, ARENSTORF_PERIOD, tol);
        let b = theirs(&m, &x0, ARENSTORF_PERIOD, tol);
        let (ea, eb, between) = (max_abs_diff(&a, &x0), max_abs_diff(&b, &x0), max_abs_diff(&a, &b));
        eprintln!("arenstorf tol {tol:e}: error ours {ea:.2e}, ode_solvers {eb:.2e}, between {between:.2e}");
        // The orbit passes close to the small body twice, where errors grow:
        // both land within 2e4 tol of the start (measured: ~7e3-9e3 tol).
        assert!(ea < 2e4 * tol, "ours: {a:?} after one period, error {ea:e}");
        assert!(eb < 2e4 * tol, "ode_solvers: {b:?} after one period, error {eb:e}");
        // The same method with the same step-size controller: the two end
        // points agree far better than either meets the reference.
        assert!(between < 100.0 * tol, "ours {a:?} vs ode_solvers {b:?}");
    }
}

#[test]
fn dop853_and_ode_solvers_agree_on_lorenz_to_t_20() {
    let m = SymbolicModel::from_path(format!("{}/examples/models/lorenz.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let x0 = m.initial_state();
    // The reference: our own solve at a tolerance 100x tighter than the
    // tightest compared, good to ~1e-14 * e^(0.91 * 20) ~ 1e-6.
    let reference = ours(&m, &x0, 20.0, 1e-14);
    for tol in [1e-8, 1e-10, 1e-12] {
        let a = ours(&m, &x0, 20.0, tol);
        let b = theirs(&m, &x0, 20.0, tol);
        let (ea, eb) = (max_abs_diff(&a, &reference), max_abs_diff(&b, &reference));
        eprintln!("lorenz tol {tol:e}: error ours {ea:.2e}, ode_solvers {eb:.2e}, between {:.2e}", max_abs_diff(&a, &b));
        // |x| ~ 20; local tolerance amplified by e^(0.91 * 20) ~ 1e8.
        let allowed = 20.0 * 1e8 * tol + 1e-5;
        assert!(ea < allowed && eb < allowed && max_abs_diff(&a, &b) < allowed, "tol {tol:e}: {a:?} vs {b:?}");
    }
}

#[test]
fn dop853_and_ode_solvers_reach_the_lorenz_reference_at_t_10() {
    // The end point of the work-precision diagrams (benches/peers/work_precision.py):
    // both land on the arbitrary-precision reference within the error
    // growth e^(0.906 t) ~ 8.6e3 of the tolerance (relative, floored at 1).
    use crate::stiff_problems::{LORENZ_REFERENCE, LORENZ_T_END};
    let m = SymbolicModel::from_path(format!("{}/examples/models/lorenz.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let x0 = m.initial_state();
    let err = |y: &[f64]| y.iter().zip(&LORENZ_REFERENCE).map(|(a, r)| (a - r).abs() / (r.abs() + 1.0)).fold(0.0, f64::max);
    for tol in [1e-6, 1e-8, 1e-10] {
        let (ea, eb) = (err(&ours(&m, &x0, LORENZ_T_END, tol)), err(&theirs(&m, &x0, LORENZ_T_END, tol)));
        eprintln!("lorenz t = 10, tol {tol:e}: error ours {ea:.2e}, ode_solvers {eb:.2e}");
        assert!(ea <= 8.6e3 * tol && eb <= 8.6e3 * tol, "tol {tol:e}: errors {ea:e}, {eb:e}");
    }
    // The reference itself: the project's DOP853 at 1e-14 agrees with it far
    // below the errors compared (double-precision rounding grows by the same 8.6e3).
    let tight = err(&ours(&m, &x0, LORENZ_T_END, 1e-14));
    assert!(tight < 1e-11, "DOP853 at 1e-14 vs the Taylor reference: {tight:e}");
}

//! The project's DOP853 against ode_solvers' `Dop853` (the same method, the
//! same language, an independent implementation) on the non-stiff problems
//! of `tests/engine/dop853_peer.rs`: Lorenz (examples/models/lorenz.toml)
//! to t = 20 and Arenstorf's orbit over one period, at rtol = atol = 1e-6,
//! 1e-9, 1e-12, both timed in-process (median of >= 5 solves, more while
//! the total stays under 0.5 s).
//!
//! Run with `cargo bench --bench dop853_peer`. Prints one JSON object per
//! line: problem, tolerance, each side's seconds, accepted steps (ours) and
//! end-point difference between the two. Both sides evaluate the same
//! right-hand side (the model file through the project's JIT); ode_solvers
//! works on fixed-size nalgebra vectors (`SVector<f64, N>`, no heap
//! allocation per stage) and is asked for sparse output (it stores every
//! accepted step, which is how it returns the end point), the project for
//! the end point only.
use std::time::Instant;

use ode_solvers::dop853::Dop853;
use ode_solvers::dop_shared::OutputType;
use ode_solvers::{SVector, System};
use repcollapse::engine::{integrate, Grid, IntegrateOptions, Method, VectorField};
use repcollapse::symbolic::SymbolicModel;
use serde_json::json;

#[path = "peers/arenstorf.rs"]
mod arenstorf;
use arenstorf::{ARENSTORF, ARENSTORF_PERIOD};

struct Peer<'a> {
    field: &'a dyn VectorField,
    p: Vec<f64>,
}

impl<const N: usize> System<f64, SVector<f64, N>> for Peer<'_> {
    fn system(&self, _t: f64, y: &SVector<f64, N>, dy: &mut SVector<f64, N>) {
        self.field.rhs(y.as_slice(), &self.p, dy.as_mut_slice());
    }
}

fn timed<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut secs = Vec::new();
    let mut total = 0.0;
    let mut last = None;
    while secs.len() < 5 || (total < 0.5 && secs.len() < 200) {
        let t0 = Instant::now();
        let r = f();
        let s = t0.elapsed().as_secs_f64();
        total += s;
        secs.push(s);
        last = Some(r);
    }
    secs.sort_by(f64::total_cmp);
    (secs[secs.len() / 2], last.expect("one solve"))
}

/// Times both sides on one problem of dimension `N` and prints the rows.
fn compare<const N: usize>(label: &str, m: &SymbolicModel, t_end: f64) {
    let (x0, p) = (m.initial_state(), m.default_params());
    for tol in [1e-6, 1e-9, 1e-12] {
        let opts = IntegrateOptions {
            method: Method::Dop853,
            rtol: tol,
            atol: tol,
            t_max: t_end,
            grid: Grid::Times(vec![t_end]),
            max_steps: 10_000_000,
            max_seconds: f64::INFINITY,
        };
        let (s_ours, tr) = timed(|| integrate(m, &x0, &p, &opts).expect("integrates"));
        let (s_theirs, (end, steps)) = timed(|| {
            let peer = Peer { field: m, p: p.clone() };
            let y0 = SVector::<f64, N>::from_column_slice(&x0);
            let mut s = Dop853::from_param(peer, 0.0, t_end, t_end, y0, tol, tol, 0.9, 0.0, 0.333, 6.0, t_end, 0.0, 10_000_000, 1000, OutputType::Sparse);
            let stats = s.integrate().expect("integrates");
            (s.y_out().last().expect("end").as_slice().to_vec(), stats.accepted_steps)
        });
        let ours_end = tr.last().expect("end");
        let diff = ours_end.iter().zip(&end).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!(
            "{}",
            json!({"problem": label, "tol": tol, "repcollapse_dop853_s": s_ours, "ode_solvers_dop853_s": s_theirs,
                   "ratio": s_ours / s_theirs, "steps_ours": tr.stats.steps.accepted, "steps_ode_solvers": steps,
                   "end_difference": diff})
        );
    }
}

fn main() {
    let lorenz = SymbolicModel::from_path(format!("{}/examples/models/lorenz.toml", env!("CARGO_MANIFEST_DIR"))).expect("lorenz.toml");
    let arenstorf = SymbolicModel::from_toml_str(ARENSTORF, "arenstorf.toml").expect("arenstorf");
    compare::<3>("lorenz, t = 20", &lorenz, 20.0);
    compare::<4>("arenstorf, one period", &arenstorf, ARENSTORF_PERIOD);
}

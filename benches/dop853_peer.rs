//! The project's DOP853 against ode_solvers' `Dop853` (the same method, the
//! same language, an independent implementation) on the non-stiff problems
//! of `tests/engine/dop853_peer.rs`: Lorenz (examples/models/lorenz.toml)
//! to t = 20 and Arenstorf's orbit over one period, at rtol = atol = 1e-6,
//! 1e-9, 1e-12, both timed in-process (median of >= 5 solves, more while
//! the total stays under 0.5 s).
//!
//! Run with `cargo bench --bench dop853_peer`. With arguments
//!
//! ```text
//! cargo bench --bench dop853_peer -- MODEL.toml T_END ATOL_OVER_RTOL MAX_REPEATS RTOL...
//! ```
//!
//! it is instead ode_solvers' side of the work-precision diagrams
//! (benches/peers/work_precision.py): for each RTOL one untimed solve whose
//! end state is printed for the driver to check, then timed solves (median
//! process CPU and wall time of >= 3, more while the total stays under
//! 0.5 s), one JSON object per line as benches/work_precision.rs prints. A
//! solve that fails (ode_solvers' stiffness detection, the step limit of
//! 1e7) is reported and tighter tolerances are not tried.
//!
//! Without arguments it prints one JSON object per
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

#[path = "peers/cpu_time.rs"]
mod cpu_time;
use cpu_time::process_cpu_seconds;

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

/// ode_solvers' Dop853 from the model's initial state to `t_end`: end state
/// and accepted steps, or the failure.
fn solve_peer<const N: usize>(m: &SymbolicModel, t_end: f64, rtol: f64, atol: f64) -> Result<(Vec<f64>, usize), String> {
    let peer = Peer { field: m, p: m.default_params() };
    let y0 = SVector::<f64, N>::from_column_slice(&m.initial_state());
    let mut s = Dop853::from_param(peer, 0.0, t_end, t_end, y0, rtol, atol, 0.9, 0.0, 0.333, 6.0, t_end, 0.0, 10_000_000, 1000, OutputType::Sparse);
    let stats = s.integrate().map_err(|e| format!("{e:?}"))?;
    if *s.x_out().last().expect("end") != t_end {
        return Err(format!("stopped at t = {}", s.x_out().last().expect("end")));
    }
    Ok((s.y_out().last().expect("end").as_slice().to_vec(), stats.accepted_steps as usize))
}

/// The work-precision rows of ode_solvers' Dop853 on one model file.
fn work_precision<const N: usize>(m: &SymbolicModel, t_end: f64, atol_over_rtol: f64, max_repeats: usize, rtols: &[f64]) {
    for &rtol in rtols {
        let atol = rtol * atol_over_rtol;
        let mut row = json!({"method": "ode_solvers_dop853", "rtol": rtol, "atol": atol});
        let (end, steps) = match solve_peer::<N>(m, t_end, rtol, atol) {
            Ok(r) => r,
            Err(e) => {
                row["error"] = json!(e);
                println!("{row}");
                break;
            }
        };
        let (mut secs, mut cpu, mut total) = (Vec::new(), Vec::new(), 0.0);
        while secs.len() < max_repeats.max(3) && (secs.len() < 3 || total < 0.5) {
            let (c0, t0) = (process_cpu_seconds(), Instant::now());
            let (e, _) = solve_peer::<N>(m, t_end, rtol, atol).expect("a solve that passed once passes again");
            let s = t0.elapsed().as_secs_f64();
            cpu.push(process_cpu_seconds() - c0);
            assert_eq!(e, end, "timed solves reproduce the checked one");
            total += s;
            secs.push(s);
        }
        secs.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        row["seconds"] = json!(secs[secs.len() / 2]);
        row["cpu_seconds"] = json!(cpu[cpu.len() / 2]);
        row["repeats"] = json!(secs.len());
        row["steps"] = json!(steps);
        row["end"] = json!(end);
        println!("{row}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.len() >= 5 {
        let num = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {s}"));
        let m = SymbolicModel::from_path(&args[0]).expect("model file parses");
        let (t_end, atol_over_rtol, max_repeats) = (num(&args[1]), num(&args[2]), num(&args[3]) as usize);
        let rtols: Vec<f64> = args[4..].iter().map(|s| num(s)).collect();
        // Fixed-size vectors, as ode_solvers is meant to be used.
        match m.dim() {
            3 => work_precision::<3>(&m, t_end, atol_over_rtol, max_repeats, &rtols),
            29 => work_precision::<29>(&m, t_end, atol_over_rtol, max_repeats, &rtols),
            n => panic!("no fixed size for {n} states"),
        }
        return;
    }
    let lorenz = SymbolicModel::from_path(format!("{}/examples/models/lorenz.toml", env!("CARGO_MANIFEST_DIR"))).expect("lorenz.toml");
    let arenstorf = SymbolicModel::from_toml_str(ARENSTORF, "arenstorf.toml").expect("arenstorf");
    compare::<3>("lorenz, t = 20", &lorenz, 20.0);
    compare::<4>("arenstorf, one period", &arenstorf, ARENSTORF_PERIOD);
}

//! diffsol's side of the work-precision diagrams
//! (`benches/peers/work_precision.py`): diffsol's BDF, ESDIRK34, TR-BDF2 or
//! Tsit45 on one problem, over a range of tolerances, each solve timed
//! in-process as in benches/work_precision.rs and benches/peers/cvode_peer.c.
//!
//! ```text
//! cargo bench --bench diffsol_peer -- PROBLEM METHODS ATOL_OVER_RTOL MAX_REPEATS BUDGET_S RTOL...
//! ```
//!
//! PROBLEM is a name of benches/peers/stiff_problems.rs (hand-written
//! right-hand side and Jacobian) or `MODEL.toml@T_END`: a model file's
//! right-hand side and symbolic Jacobian through the project's JIT (the
//! Model T head ODE, too long to write out). METHODS is a comma-separated
//! list of `bdf`, `esdirk34`, `tr_bdf2`, `tsit45`.
//!
//! For each method and each RTOL (ATOL = RTOL * ATOL_OVER_RTOL): one untimed
//! solve, whose end state is printed for the driver to check against the
//! reference, then timed solves (at least 3, more while the total stays under
//! 0.5 s, at most MAX_REPEATS; each builds the problem, creates the solver and
//! solves), reported as the medians of wall and process CPU time: one JSON
//! object per line. A method that exceeds BUDGET_S is not tried at tighter
//! tolerances (one that fails otherwise is).
use std::time::Instant;

use serde_json::json;

#[path = "peers/cpu_time.rs"]
mod cpu_time;
#[path = "peers/diffsol_solve.rs"]
mod diffsol_solve;
#[path = "peers/stiff_problems.rs"]
mod stiff_problems;

use cpu_time::process_cpu_seconds;
use diffsol_solve::{solve_fn, DiffsolMethod};
use faer::MatMut;
use repcollapse::engine::VectorField;
use repcollapse::symbolic::SymbolicModel;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.len() < 6 {
        eprintln!("usage: diffsol_peer PROBLEM METHODS ATOL_OVER_RTOL MAX_REPEATS BUDGET_S RTOL...");
        std::process::exit(2);
    }
    let num = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {s}"));
    let methods: Vec<DiffsolMethod> =
        args[1].split(',').map(|m| DiffsolMethod::from_name(m).unwrap_or_else(|| panic!("unknown diffsol method {m}"))).collect();
    let (atol_over_rtol, max_repeats, budget) = (num(&args[2]), num(&args[3]) as usize, num(&args[4]));
    let rtols: Vec<f64> = args[5..].iter().map(|s| num(s)).collect();
    // The problem: hand-written, or a model file through the JIT.
    let model = args[0].split_once('@').map(|(path, _)| SymbolicModel::from_path(path).expect("model file parses"));
    type Field<'a> = Box<dyn Fn(&[f64], &mut [f64]) + 'a>;
    let (name, n, t_end, y0, rhs, jacobian): (String, usize, f64, Vec<f64>, Field, Field);
    if let (Some(model), Some((path, t))) = (&model, args[0].split_once('@')) {
        let p = model.default_params();
        let (m, p2) = (model, p.clone());
        name = path.to_string();
        n = model.dim();
        t_end = num(t);
        y0 = model.initial_state();
        rhs = Box::new(move |x: &[f64], out: &mut [f64]| m.rhs(x, &p, out));
        jacobian = Box::new(move |x: &[f64], j: &mut [f64]| m.jacobian(x, &p2, MatMut::from_row_major_slice_mut(j, m.dim(), m.dim())));
    } else {
        let pb = stiff_problems::problem(&args[0]).unwrap_or_else(|| panic!("unknown problem {}", args[0]));
        (name, n, t_end, y0) = (pb.name.to_string(), pb.n, pb.t_end, pb.y0.to_vec());
        (rhs, jacobian) = (Box::new(pb.rhs), Box::new(pb.jacobian));
    }
    let solve = |method, rtol, atol, budget| solve_fn(n, t_end, &y0, &*rhs, &*jacobian, method, rtol, atol, budget);
    for &method in &methods {
        for &rtol in &rtols {
            let atol = rtol * atol_over_rtol;
            let head = json!({"problem": name, "method": method.name(), "rtol": rtol, "atol": atol});
            let checked = match solve(method, rtol, atol, budget) {
                Ok(o) => o,
                Err(e) => {
                    let over_budget = e.starts_with("budget");
                    let mut row = head;
                    row["error"] = json!(e);
                    println!("{row}");
                    // A Newton or step-size failure at one tolerance says
                    // nothing about the next; the budget does.
                    if over_budget {
                        break;
                    }
                    continue;
                }
            };
            let (mut secs, mut cpu) = (Vec::new(), Vec::new());
            let mut total = 0.0;
            while secs.len() < max_repeats.max(3) && (secs.len() < 3 || total < 0.5) {
                let (c0, t0) = (process_cpu_seconds(), Instant::now());
                let o = solve(method, rtol, atol, f64::INFINITY).expect("a solve that passed once passes again");
                let (s, c) = (t0.elapsed().as_secs_f64(), process_cpu_seconds() - c0);
                assert_eq!(o.end, checked.end, "timed solves reproduce the checked one");
                total += s;
                secs.push(s);
                cpu.push(c);
            }
            secs.sort_by(f64::total_cmp);
            cpu.sort_by(f64::total_cmp);
            let mut row = head;
            row["seconds"] = json!(secs[secs.len() / 2]);
            row["cpu_seconds"] = json!(cpu[cpu.len() / 2]);
            row["repeats"] = json!(secs.len());
            row["steps"] = json!(checked.steps);
            row["error_test_fails"] = json!(checked.error_test_fails);
            row["nonlinear_iterations"] = json!(checked.nonlinear_iterations);
            row["factorizations"] = json!(checked.factorizations);
            row["end"] = json!(checked.end);
            println!("{row}");
        }
    }
}

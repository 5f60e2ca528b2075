//! repcollapse's side of the work-precision diagrams
//! (`benches/peers/work_precision.py`): one model file integrated to its end
//! point with `auto`, `radau5` and `dop853` over a range of tolerances, each
//! solve timed in-process.
//!
//! ```text
//! cargo bench --bench work_precision -- MODEL.toml T_END ATOL_OVER_RTOL MAX_REPEATS BUDGET_S RTOL...
//! cargo bench --bench work_precision -- export-teacher-head OUT.toml KEY=VALUE...
//! ```
//!
//! The second form writes the Model T head ODE of the diagrams as a model
//! file: the symmetric-head ODE (`d = K = 3`) with its symmetry divided out
//! (`reduced_model_text`, `docs/teacher.md` section 9.1, 29 states), for the
//! teacher-student config given by the `--set`-style pairs. It is the one
//! model-file text of a head ODE the crate writes; every peer then solves
//! that file.
//!
//! For each method and each RTOL (with ATOL = RTOL * ATOL_OVER_RTOL) it runs
//! one untimed solve, whose end state is printed for the driver to check
//! against the reference, then timed solves (at least 3, more while the total
//! stays under 0.5 s, at most MAX_REPEATS) and prints the medians of the
//! wall time (`seconds`) and of the process CPU time (`cpu_seconds`,
//! clock_gettime(CLOCK_PROCESS_CPUTIME_ID), as in cvode_peer.c): one JSON
//! object per line. Only the end point is requested (`Grid::Times([T_END])`),
//! as from CVODE. A method that fails (DOP853 stopping on stiffness, or the
//! BUDGET_S wall-time budget) prints the error and is not tried at tighter
//! tolerances, where it would cost at least as much.
use std::time::Instant;

use repcollapse::engine::{integrate, Grid, IntegrateOptions, Method, Trajectory, VectorField};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::reduced::slice::reduced_model_text;
use repcollapse::symbolic::SymbolicModel;
use serde_json::json;

#[path = "peers/cpu_time.rs"]
mod cpu_time;
use cpu_time::process_cpu_seconds;

fn main() {
    // `cargo bench` appends `--bench`; ignore flags.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.first().map(String::as_str) == Some("export-teacher-head") && args.len() >= 2 {
        let cfg = TeacherConfig::from_sets(&args[2..]).expect("teacher-student config");
        let header = format!(
            "# The Model T head ODE of the work-precision diagrams (docs/work-precision.md), written by\n\
             # cargo bench --bench work_precision -- export-teacher-head {} {}\n",
            args[1],
            args[2..].iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(" ")
        );
        let text = reduced_model_text(&cfg, None).expect("head ODE model file");
        std::fs::write(&args[1], header + &text).expect("writes the model file");
        return;
    }
    if args.len() < 6 {
        eprintln!("usage: work_precision MODEL.toml T_END ATOL_OVER_RTOL MAX_REPEATS BUDGET_S RTOL...");
        std::process::exit(2);
    }
    let num = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {s}"));
    let model = SymbolicModel::from_path(&args[0]).expect("model file parses");
    let (t_end, atol_over_rtol, max_repeats, budget) = (num(&args[1]), num(&args[2]), num(&args[3]) as usize, num(&args[4]));
    let rtols: Vec<f64> = args[5..].iter().map(|s| num(s)).collect();
    let (x0, p) = (model.initial_state(), model.default_params());
    for method in [Method::Auto, Method::Radau5, Method::Dop853] {
        for &rtol in &rtols {
            let atol = rtol * atol_over_rtol;
            let opts = IntegrateOptions {
                method,
                rtol,
                atol,
                t_max: t_end,
                grid: Grid::Times(vec![t_end]),
                max_steps: u32::MAX,
                max_seconds: budget,
            };
            let solve = || -> Result<(f64, f64, Trajectory), String> {
                let (c0, t0) = (process_cpu_seconds(), Instant::now());
                let tr = integrate(&model, &x0, &p, &opts).map_err(|e| e.to_string())?;
                Ok((t0.elapsed().as_secs_f64(), process_cpu_seconds() - c0, tr))
            };
            let head = json!({"method": method.name(), "rtol": rtol, "atol": atol});
            let checked = match solve() {
                Ok((_, _, tr)) => tr,
                Err(e) => {
                    let mut row = head;
                    row["error"] = json!(e);
                    println!("{row}");
                    break;
                }
            };
            let (mut secs, mut cpu) = (Vec::new(), Vec::new());
            let mut total = 0.0;
            while secs.len() < max_repeats.max(3) && (secs.len() < 3 || total < 0.5) {
                let (s, c, tr) = solve().expect("a solve that passed once passes again");
                assert_eq!(tr.last(), checked.last(), "timed solves reproduce the checked one");
                total += s;
                secs.push(s);
                cpu.push(c);
            }
            secs.sort_by(f64::total_cmp);
            cpu.sort_by(f64::total_cmp);
            let st = &checked.stats.steps;
            let mut row = head;
            row["seconds"] = json!(secs[secs.len() / 2]);
            row["cpu_seconds"] = json!(cpu[cpu.len() / 2]);
            row["repeats"] = json!(secs.len());
            row["steps"] = json!(st.accepted);
            row["rejected"] = json!(st.rejected);
            row["rhs"] = json!(st.rhs);
            row["jacobians"] = json!(st.jacobians);
            row["factorizations"] = json!(st.factorizations);
            row["switches"] = json!(checked.stats.switches.len());
            row["end"] = json!(checked.last());
            println!("{row}");
        }
    }
}

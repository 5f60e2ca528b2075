//! In-process timing of one integration of a model file, for the side-by-side
//! comparison with scipy in `benches/peers/scipy_dop853.py` (which runs this
//! with `cargo bench --bench integrator_peer -- MODEL.toml T_MAX RTOL ATOL POINTS REPEATS`).
//!
//! Prints one JSON line: median wall time per solve over the repeats, steps
//! and right-hand-side evaluations, for DOP853 with a `POINTS`-point output
//! grid and with the end point only, and for the other methods.
use std::time::Instant;

use repcollapse::engine::{integrate, Grid, IntegrateOptions, Method, Trajectory, VectorField};
use repcollapse::symbolic::SymbolicModel;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` appends `--bench`; ignore flags.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.len() < 6 {
        eprintln!("usage: integrator_peer MODEL.toml T_MAX RTOL ATOL POINTS REPEATS");
        return;
    }
    let model = SymbolicModel::from_path(&args[0]).expect("model file parses");
    let num = |i: usize| args[i].parse::<f64>().expect("number");
    let (t_max, rtol, atol, points, repeats) = (num(1), num(2), num(3), num(4) as usize, num(5) as usize);
    let x0 = model.initial_state();
    let p = model.default_params();
    let run = |method: Method, grid: Grid| -> Result<(f64, Trajectory), String> {
        let opts = IntegrateOptions { method, rtol, atol, t_max, grid, max_steps: 10_000_000, max_seconds: f64::INFINITY };
        let mut times = Vec::with_capacity(repeats);
        let mut last = None;
        for _ in 0..repeats.max(1) {
            let t0 = Instant::now();
            let tr = integrate(&model, &x0, &p, &opts).map_err(|e| e.to_string())?;
            times.push(t0.elapsed().as_secs_f64());
            last = Some(tr);
        }
        Ok((median(times), last.expect("one run")))
    };
    let mut out = serde_json::Map::new();
    for (label, method, grid) in [
        ("dop853_grid", Method::Dop853, Grid::Linear { points }),
        ("dop853_end", Method::Dop853, Grid::Times(vec![t_max])),
        ("dopri5_grid", Method::Dopri5, Grid::Linear { points }),
        ("radau5_grid", Method::Radau5, Grid::Linear { points }),
        ("auto_grid", Method::Auto, Grid::Linear { points }),
    ] {
        let (secs, tr) = match run(method, grid) {
            Ok(x) => x,
            Err(e) => {
                out.insert(label.into(), serde_json::json!({"error": e}));
                continue;
            }
        };
        out.insert(
            label.into(),
            serde_json::json!({"seconds": secs, "steps": tr.stats.steps.accepted, "rejected": tr.stats.steps.rejected,
                "rhs": tr.stats.steps.rhs, "jacobians": tr.stats.steps.jacobians, "switches": tr.stats.switches.len(),
                "end": tr.last()}),
        );
    }
    println!("{}", serde_json::Value::Object(out));
}

//! Explicit, implicit and automatic integration on the stiff problems of the
//! engine issue, timed in-process (median over repeats):
//!
//! - Robertson's kinetics (`examples/models/robertson.toml`) to t = 40 and to
//!   t = 4e10;
//! - Van der Pol with mu = 1000 (`examples/models/van-der-pol.toml`) over two
//!   periods (t = 3300);
//! - the Model T head ODEs (symmetric and asymmetric head, default config)
//!   to t = 2000.
//!
//! Run with `cargo bench --bench stiff [-- REPEATS]`. Prints one JSON object:
//! per problem and method (`dop853`, `radau5`, `auto`) the median seconds,
//! steps, right-hand-side and Jacobian evaluations and the end state, or the
//! error (the explicit method stops on stiffness, naming the time) with the
//! time it took to fail. `benches/peers/scipy_stiff.py` runs this and times
//! scipy's Radau, BDF and LSODA on the same model files in the same go.
use std::time::Instant;

use repcollapse::engine::{integrate, Grid, IntegrateOptions, Method, VectorField};
use repcollapse::models::teacher::config::TeacherConfig;
use repcollapse::models::teacher::head::theory::head_ode_from_config;
use repcollapse::symbolic::SymbolicModel;
use serde_json::{json, Map, Value};

/// One problem: a field with its start, parameters and tolerances.
struct Problem {
    label: String,
    field: Box<dyn VectorField>,
    x0: Vec<f64>,
    p: Vec<f64>,
    t_max: f64,
    rtol: f64,
    atol: f64,
}

fn model_file(label: &str, file: &str, t_max: f64, rtol: f64, atol: f64) -> Problem {
    let path = format!("{}/examples/models/{file}", env!("CARGO_MANIFEST_DIR"));
    let m = SymbolicModel::from_path(&path).expect("example model parses");
    Problem { label: label.into(), x0: m.initial_state(), p: m.default_params(), field: Box::new(m), t_max, rtol, atol }
}

fn head(variant: &str) -> Problem {
    let cfg = TeacherConfig::from_sets(&[format!("head=\"{variant}\""), "t_max=2000".into()]).expect("valid config");
    let ode = head_ode_from_config(&cfg).expect("head ODE");
    Problem {
        label: format!("model T {variant} head, t = 2000"),
        x0: ode.initial.clone(),
        p: ode.params.clone(),
        field: Box::new(ode),
        t_max: 2000.0,
        rtol: cfg.rtol,
        atol: cfg.atol,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time_method(pb: &Problem, method: Method, repeats: usize) -> Value {
    let opts = IntegrateOptions {
        method,
        rtol: pb.rtol,
        atol: pb.atol,
        t_max: pb.t_max,
        grid: Grid::Times(vec![pb.t_max]),
        max_steps: 20_000_000,
        max_seconds: 120.0,
    };
    let mut secs = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        let r = integrate(pb.field.as_ref(), &pb.x0, &pb.p, &opts);
        secs.push(t0.elapsed().as_secs_f64());
        match r {
            Ok(tr) => last = Some(tr),
            // A failure is deterministic: once is enough.
            Err(e) => return json!({"error": e.to_string(), "seconds_to_failure": secs[0]}),
        }
    }
    let tr = last.expect("at least one repeat");
    json!({
        "seconds": median(secs),
        "steps": tr.stats.steps.accepted,
        "rejected": tr.stats.steps.rejected,
        "rhs": tr.stats.steps.rhs,
        "jacobians": tr.stats.steps.jacobians,
        "factorizations": tr.stats.steps.factorizations,
        "switches": tr.stats.switches,
        "end": tr.last(),
    })
}

fn main() {
    // `cargo bench` appends `--bench`; ignore flags.
    let repeats = std::env::args().skip(1).find(|a| !a.starts_with("--")).map_or(5, |a| a.parse().expect("REPEATS is a count"));
    let problems = [
        model_file("robertson, t = 40", "robertson.toml", 40.0, 1e-8, 1e-14),
        model_file("robertson, t = 4e10", "robertson.toml", 4e10, 1e-8, 1e-14),
        model_file("van der pol mu = 1000, t = 3300", "van-der-pol.toml", 3300.0, 1e-8, 1e-8),
        head("symmetric"),
        head("asymmetric"),
    ];
    let mut out = Map::new();
    for pb in &problems {
        let mut row = Map::new();
        row.insert("t_max".into(), json!(pb.t_max));
        row.insert("rtol".into(), json!(pb.rtol));
        row.insert("atol".into(), json!(pb.atol));
        for method in [Method::Dop853, Method::Radau5, Method::Auto] {
            row.insert(method.name().into(), time_method(pb, method, repeats));
        }
        eprintln!("{}: done", pb.label);
        out.insert(pb.label.clone(), Value::Object(row));
    }
    out.insert("repeats".into(), json!(repeats));
    println!("{}", Value::Object(out));
}

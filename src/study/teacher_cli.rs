//! `repcollapse theory|simulate|export teacher-student`: Model T on the
//! command line (kept here so the CLI files only dispatch).
use std::path::Path;

use crate::error::Result;
use crate::model::teacher_config::TeacherConfig;
use crate::report::atomic::write_json;
use crate::study::teacher_experiment::TeacherExperiment;
use crate::study::teacher_finite::FiniteExperiment;
use crate::theory::teacher_ode::model_file_strings;
use crate::theory::teacher_theory::TeacherTheory;

fn print_json(v: &serde_json::Value) {
    crate::cli::emit(&serde_json::to_string_pretty(v).expect("JSON serialises"));
}

/// ODE trajectory summary, rates, slow rate, fixed point with stability
/// (online); for `samples > 0` the finite-data gradient-flow theory.
pub fn theory(sets: &[String], json: bool) -> Result<()> {
    let cfg = TeacherConfig::from_sets(sets)?;
    if cfg.samples.is_some() {
        let v = FiniteExperiment::run(&cfg, false)?.summary_json();
        return emit_text_or_json(&v, json);
    }
    let th = TeacherTheory::from_config(&cfg)?;
    let v = th.to_json()?;
    if json {
        print_json(&v);
    } else {
        println!("Model T theory ({} teacher, K = {}, d = {})", cfg.teacher.name(), cfg.classes, cfg.dim);
        println!("  C - G (separating, common) = {}", v["statistics"]["C_minus_G_separating"]);
        println!("  slow separating rate      = {:.6}", th.slow_rate());
        println!("  rates                     = {:?}", th.rates);
        let fp = &v["fixed_points"][0];
        println!("  attractor: {} ({}), {} zero modes", fp["kind"], fp["stability"], fp["zero_modes"]);
        println!("  final separation ratio    = {:.4e}", v["separation_ratio_final"].as_f64().unwrap_or(f64::NAN));
    }
    Ok(())
}

fn emit_text_or_json(v: &serde_json::Value, _json: bool) -> Result<()> {
    print_json(v);
    Ok(())
}

/// Ensemble of online SGD (or finite-data gradient descent) against the ODE.
pub fn simulate(sets: &[String], json: bool, out: Option<&Path>) -> Result<()> {
    let cfg = TeacherConfig::from_sets(sets)?;
    let v = if cfg.samples.is_some() {
        FiniteExperiment::run(&cfg, true)?.summary_json()
    } else {
        TeacherExperiment::run(&cfg)?.summary_json()?
    };
    if let Some(path) = out {
        write_json(path, &v)?;
    }
    if json {
        print_json(&v);
    } else {
        println!("Model T ensemble: {} seeds, D = {}", cfg.seeds, cfg.input_dim);
        for key in ["theory_slow_rate", "fitted_slow_rate", "max_deviation_from_ode", "final_accuracy", "final_separation_to_spread", "final_separation_ratio"] {
            println!("  {key:28} = {}", v[key]);
        }
    }
    Ok(())
}

/// Model-file text of the ODE (small `d`, `K`).
pub fn model_file(sets: &[String]) -> Result<String> {
    let cfg = TeacherConfig::from_sets(sets)?;
    let th = TeacherTheory::from_config(&cfg)?;
    let m = model_file_strings(&th.ode)?;
    let obs: Vec<(String, String)> = Vec::new();
    Ok(crate::symbolic::to_toml_string(&m.name, &m.params, &m.states, &m.equations, &obs))
}

//! `repcollapse theory|simulate|export teacher-student`: Model T on the
//! command line (kept here so the CLI files only dispatch).
use std::path::Path;

use crate::error::Result;
use crate::model::teacher_config::{HeadKind, TeacherConfig};
use crate::study::teacher_head::{head_spectrum, head_theory_json, HeadExperiment};

/// Random starts of the head fixed-point search (besides the trajectory end and the origin).
const HEAD_FIXED_POINT_STARTS: usize = 16;
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
    if cfg.head != HeadKind::None {
        let v = head_theory_json(&cfg, HEAD_FIXED_POINT_STARTS)?;
        if json {
            print_json(&v);
        } else {
            println!("Model T theory with {} head ({} teacher, K = {}, d = {})", cfg.head.name(), cfg.teacher.name(), cfg.classes, cfg.dim);
            println!("  asymptotic slow rate      = {}", v["slow_rate"]);
            println!("  final separation ratio    = {:.4e}", v["separation_ratio_final"].as_f64().unwrap_or(f64::NAN));
            if !v["critical_frustration"].is_null() {
                println!("  critical frustration f_c  = {} (existence, ends by {}), {} (engine fold)", v["critical_frustration"]["existence"], v["critical_frustration"]["branch_ends_by"], v["critical_frustration"]["engine_fold"]);
            }
            for fp in v["fixed_points"].as_array().into_iter().flatten() {
                println!("  fixed point: {} ({}), {} zero modes ({} unexplained){}", fp["kind"], fp["stability"], fp["zero_modes"], fp["unexplained_zero_modes"],
                    if fp["reached_from_initial_state"].as_bool() == Some(true) { ", reached from the initial state" } else { "" });
            }
        }
        return Ok(());
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
    let v = if cfg.head != HeadKind::None && cfg.samples.is_none() {
        head_summary(&cfg)?
    } else if cfg.samples.is_some() {
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
        for key in ["theory_slow_rate", "fitted_slow_rate", "max_deviation_from_ode", "final_accuracy", "final_separation_to_spread", "final_separation_ratio", "collapsed", "collapsed_fraction"] {
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

/// Summary of a head ensemble: final measures (SGD and head ODE) and head spectra.
fn head_summary(cfg: &TeacherConfig) -> Result<serde_json::Value> {
    let e = HeadExperiment::run(cfg)?;
    let times = e.runs[0].times.clone();
    let last = times.len() - 1;
    let traj: Vec<serde_json::Value> = (0..times.len())
        .map(|k| {
            serde_json::json!({"t": times[k],
                "min_label_distance": e.metric_at(k, false, |m| m.base.min_label_distance),
                "min_label_distance_ode": e.metric_at(k, true, |m| m.base.min_label_distance).mean,
                "separation_to_spread": e.metric_at(k, false, |m| m.base.separation_to_spread),
                "accuracy": e.metric_at(k, false, |m| m.base.accuracy),
                "accuracy_ode": e.metric_at(k, true, |m| m.base.accuracy).mean})
        })
        .collect();
    Ok(serde_json::json!({
        "model": "teacher-student with head",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "config": cfg.to_json(),
        "final_accuracy": e.metric_at(last, false, |m| m.base.accuracy),
        "final_separation_to_spread": e.metric_at(last, false, |m| m.base.separation_to_spread),
        "final_head_eigenvalues_seed0": head_spectrum(e.runs[0].heads.last().expect("non-empty"), cfg.dim),
        "final_head_eigenvalues_ode": head_spectrum(&e.final_head_ode, cfg.dim),
        "collapsed": e.collapsed_fraction() > 0.5,
        "collapsed_fraction": e.collapsed_fraction(),
        "collapsed_definition": "per seed: final min label distance below 1% of its peak over the run (stats::collapsed_by_peak); collapsed = more than half of the seeds",
        "trajectory": traj,
    }))
}

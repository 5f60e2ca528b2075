//! Model T's entry points for the registry: `theory` and `simulate`, each
//! from typed overrides, returning JSON and a text summary (`export` is in
//! [`super::export`]).
use crate::config::Overrides;
use crate::error::Result;
use crate::models::teacher::config::{HeadKind, TeacherConfig};
use crate::models::teacher::online::experiment::TeacherExperiment;
use crate::models::teacher::finite::experiment::FiniteExperiment;
use crate::models::teacher::head::experiment::HeadExperiment;
use crate::models::teacher::head::theory::{head_spectrum, head_theory_json};
use crate::models::teacher::online::theory::TeacherTheory;
use crate::model_api::{ModelOutput, RunOptions};

/// Random starts of the head fixed-point search (besides the trajectory end and the origin).
const HEAD_FIXED_POINT_STARTS: usize = 16;

/// ODE trajectory summary, rates, slow rate, fixed point with stability
/// (online); for `samples > 0` the finite-data gradient-flow theory, whose
/// text form is its JSON.
pub fn theory(overrides: &Overrides, _opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = TeacherConfig::from_overrides(overrides)?;
    if cfg.samples.is_some() {
        return Ok(ModelOutput::json_only(FiniteExperiment::run(&cfg, false)?.summary_json()));
    }
    if cfg.head != HeadKind::None {
        let v = head_theory_json(&cfg, HEAD_FIXED_POINT_STARTS)?;
        let mut lines = vec![
            format!("Model T theory with {} head ({} teacher, K = {}, d = {})", cfg.head.name(), cfg.teacher.name(), cfg.classes, cfg.dim),
            format!("  asymptotic slow rate      = {}", v["slow_rate"]),
            format!("  final separation ratio    = {:.4e}", v["separation_ratio_final"].as_f64().unwrap_or(f64::NAN)),
        ];
        if !v["critical_frustration"].is_null() {
            let c = &v["critical_frustration"];
            lines.push(format!("  critical frustration f_c  = {} (existence, ends by {}), {} (engine fold)", c["existence"], c["branch_ends_by"], c["engine_fold"]));
        }
        for fp in v["fixed_points"].as_array().into_iter().flatten() {
            lines.push(format!(
                "  fixed point: {} ({}), {} zero modes ({} unexplained){}",
                fp["kind"],
                fp["stability"],
                fp["zero_modes"],
                fp["unexplained_zero_modes"],
                if fp["reached_from_initial_state"].as_bool() == Some(true) { ", reached from the initial state" } else { "" }
            ));
        }
        return Ok(ModelOutput { json: v, text: lines.join("\n") });
    }
    let th = TeacherTheory::from_config(&cfg)?;
    let v = th.to_json()?;
    let fp = &v["fixed_points"][0];
    let text = [
        format!("Model T theory ({} teacher, K = {}, d = {})", cfg.teacher.name(), cfg.classes, cfg.dim),
        format!("  C - G (separating, common) = {}", v["statistics"]["C_minus_G_separating"]),
        format!("  slow separating rate      = {:.6}", th.slow_rate()),
        format!("  rates                     = {:?}", th.rates),
        format!("  attractor: {} ({}), {} zero modes", fp["kind"], fp["stability"], fp["zero_modes"]),
        format!("  final separation ratio    = {:.4e}", v["separation_ratio_final"].as_f64().unwrap_or(f64::NAN)),
    ]
    .join("\n");
    Ok(ModelOutput { json: v, text })
}

/// Ensemble of online SGD (or finite-data gradient descent) against the ODE.
pub fn simulate(overrides: &Overrides, opts: &RunOptions) -> Result<ModelOutput> {
    let cfg = TeacherConfig::from_overrides(overrides)?;
    let v = if cfg.head != HeadKind::None && cfg.samples.is_none() {
        head_summary(&cfg, opts.progress)?
    } else if cfg.samples.is_some() {
        FiniteExperiment::run_keeping_finished_seeds(&cfg, opts.progress)?.summary_json()
    } else {
        TeacherExperiment::run_keeping_simulation(&cfg, opts.progress)?.summary_json()?
    };
    let mut lines = vec![format!("Model T ensemble: {} seeds, D = {}", cfg.seeds, cfg.input_dim)];
    for key in ["theory_slow_rate", "fitted_slow_rate", "max_deviation_from_ode", "final_accuracy", "final_separation_to_spread", "final_separation_ratio", "collapsed", "collapsed_fraction"] {
        if v.get(key).is_some() {
            lines.push(format!("  {key:28} = {}", v[key]));
        }
    }
    lines.extend(crate::model_api::comparison_line(v["theory_comparison"]["reason"].as_str()));
    lines.extend(crate::limits::PartialEnsemble::text_line_of(&v));
    Ok(ModelOutput { json: v, text: lines.join("\n") })
}

/// Summary of a head ensemble: final measures (SGD and head ODE) and head spectra.
fn head_summary(cfg: &TeacherConfig, progress: bool) -> Result<serde_json::Value> {
    let e = HeadExperiment::run_keeping_simulation(cfg, progress)?;
    let times = e.runs[0].times.clone();
    let last = times.len() - 1;
    let ok = e.comparison_unavailable.is_none();
    // ODE values, or null when the comparison is unavailable (the reason is
    // in `theory_comparison`).
    let ode = |k: usize, f: fn(&crate::models::teacher::metrics::TeacherMetrics) -> f64| {
        if ok {
            serde_json::json!(e.metric_at(k, true, f).mean)
        } else {
            serde_json::Value::Null
        }
    };
    let traj: Vec<serde_json::Value> = (0..times.len())
        .map(|k| {
            serde_json::json!({"t": times[k],
                "min_label_distance": e.metric_at(k, false, |m| m.base.min_label_distance),
                "min_label_distance_ode": ode(k, |m| m.base.min_label_distance),
                "separation_to_spread": e.metric_at(k, false, |m| m.base.separation_to_spread),
                "accuracy": e.metric_at(k, false, |m| m.base.accuracy),
                "accuracy_ode": ode(k, |m| m.base.accuracy)})
        })
        .collect();
    let mut v = serde_json::json!({
        "model": "teacher-student with head",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "config": cfg.to_json(),
        "final_accuracy": e.metric_at(last, false, |m| m.base.accuracy),
        "final_separation_to_spread": e.metric_at(last, false, |m| m.base.separation_to_spread),
        "final_head_eigenvalues_seed0": head_spectrum(e.runs[0].heads.last().expect("non-empty"), cfg.dim),
        "final_head_eigenvalues_ode": if ok { serde_json::json!(head_spectrum(&e.final_head_ode, cfg.dim)) } else { serde_json::Value::Null },
        "theory_comparison": crate::model_api::comparison_json(e.comparison_unavailable.as_deref()),
        "collapsed": e.collapsed_fraction() > 0.5,
        "collapsed_fraction": e.collapsed_fraction(),
        "collapsed_definition": "per seed: final min label distance below 1% of its peak over the run (stats::collapsed_by_peak); collapsed = more than half of the seeds",
        "trajectory": traj,
    });
    crate::limits::PartialEnsemble::mark(e.partial.as_ref(), &mut v);
    Ok(v)
}

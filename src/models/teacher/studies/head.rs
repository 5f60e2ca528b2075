//! Study (l): Model T with a projection head and stop-gradient (Model H
//! variants) against the head-free student: online SGD ensembles with the
//! head ODE started from each run's initial state.
use std::path::Path;

use serde_json::json;

use crate::error::Result;
use crate::models::teacher::config::{HeadKind, TeacherConfig};
use crate::models::teacher::online::experiment::TeacherExperiment;
use crate::models::teacher::head::experiment::HeadExperiment;
use crate::models::teacher::head::theory::head_spectrum;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::estimate;
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["long_dims", "long_t_max", "long_weight_decay", "long_seeds"])?;
    super::head_long::long_settings(study)?;
    let base = study.params();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("mixture, f = 0.1", vec!["teacher=\"mixture\"".into(), "label_noise=0.1".into()]),
        ("argmax, f = 0", vec!["teacher=\"argmax\"".into(), "label_noise=0".into()]),
    ];
    let mut panels = Vec::new();
    let mut table = String::from("| case | head | final sep. ratio SGD / ODE | final sep./spread SGD / ODE | final accuracy SGD (held-out) / ODE | final head eigenvalues SGD (seed 0) / ODE |\n|---|---|---|---|---|---|\n");
    let mut results = Vec::new();
    let mut rows = Vec::new();
    for (case, sets) in &cases {
        let mut sep = Panel::new(&format!("Label separation ({case})"), "time t", "min inter-label distance").log_x().log_y().legend(Legend::LowerLeft);
        for (vi, head) in HeadKind::NAMES.iter().enumerate() {
            let started = std::time::Instant::now();
            let mut s = sets.clone();
            s.push(format!("head=\"{head}\""));
            let cfg = TeacherConfig::from_table(&base, &s, &study.name)?;
            let (times, th, sm, sep_ratio, s2s, acc, heads): (Vec<f64>, Vec<(f64, f64)>, Vec<(f64, f64, f64, f64)>, (f64, f64), (f64, f64), (f64, f64, f64), String);
            if cfg.head == HeadKind::None {
                let e = TeacherExperiment::run(&cfg)?;
                times = e.times();
                let last = times.len() - 1;
                th = (1..times.len()).map(|k| (times[k], e.metric_at(k, true, |m| m.base.min_label_distance).mean)).collect();
                sm = (1..times.len()).step_by(2).map(|k| { let v = e.metric_at(k, false, |m| m.base.min_label_distance); (times[k], v.mean, v.ci95[0].max(v.mean * 1e-3), v.ci95[1]) }).collect();
                let mx = |th: bool| (0..times.len()).map(|k| e.metric_at(k, th, |m| m.base.min_label_distance).mean).fold(0.0, f64::max);
                sep_ratio = (e.metric_at(last, false, |m| m.base.min_label_distance).mean / mx(false), e.metric_at(last, true, |m| m.base.min_label_distance).mean / mx(true));
                s2s = (e.metric_at(last, false, |m| m.base.separation_to_spread).mean, e.metric_at(last, true, |m| m.base.separation_to_spread).mean);
                acc = (e.metric_at(last, false, |m| m.base.accuracy).mean, e.empirical_accuracy_at(last).mean, e.metric_at(last, true, |m| m.base.accuracy).mean);
                heads = "- (no head)".into();
            } else {
                let e = HeadExperiment::run(&cfg)?;
                times = e.runs[0].times.clone();
                let last = times.len() - 1;
                th = (1..times.len()).map(|k| (times[k], e.metric_at(k, true, |m| m.base.min_label_distance).mean)).collect();
                sm = (1..times.len()).step_by(2).map(|k| { let v = e.metric_at(k, false, |m| m.base.min_label_distance); (times[k], v.mean, v.ci95[0].max(v.mean * 1e-3), v.ci95[1]) }).collect();
                let mx = |th: bool| (0..times.len()).map(|k| e.metric_at(k, th, |m| m.base.min_label_distance).mean).fold(0.0, f64::max);
                sep_ratio = (e.metric_at(last, false, |m| m.base.min_label_distance).mean / mx(false), e.metric_at(last, true, |m| m.base.min_label_distance).mean / mx(true));
                s2s = (e.metric_at(last, false, |m| m.base.separation_to_spread).mean, e.metric_at(last, true, |m| m.base.separation_to_spread).mean);
                let emp = estimate(&e.runs.iter().map(|r| r.empirical_accuracy[last]).collect::<Vec<_>>()).mean;
                acc = (e.metric_at(last, false, |m| m.base.accuracy).mean, emp, e.metric_at(last, true, |m| m.base.accuracy).mean);
                let fmt = |v: Vec<(f64, f64)>| v.iter().map(|(r, i)| if i.abs() > 1e-9 { format!("{r:.3}{:+.3}i", i) } else { format!("{r:.3}") }).collect::<Vec<_>>().join(", ");
                heads = format!("{} / {}", fmt(head_spectrum(e.runs[0].heads.last().expect("non-empty"), cfg.dim)), fmt(head_spectrum(&e.final_head_ode, cfg.dim)));
            }
            if progress {
                eprintln!("  {case}, head {head}: {:.1} s", started.elapsed().as_secs_f64());
            }
            sep = sep.line(&format!("head = {head} (ODE)"), th, vi).markers("", sm, vi, Shape::Circle);
            table += &format!("| {case} | {head} | {:.3e} / {:.3e} | {:.3} / {:.3} | {:.4} ({:.4}) / {:.4} | {heads} |\n", sep_ratio.0, sep_ratio.1, s2s.0, s2s.1, acc.0, acc.1, acc.2);
            rows.push(vec![vi as f64, sep_ratio.0, sep_ratio.1, s2s.0, s2s.1, acc.0, acc.2]);
            results.push(json!({"case": case, "head": head, "final_separation_ratio": sep_ratio, "final_separation_to_spread": s2s, "final_accuracy": acc, "head_eigenvalues": heads}));
        }
        panels.push(sep);
    }
    Figure::new(panels).save(dir, "teacher_head")?;
    let (long_panel, long_md, long_json) = super::head_long::long_horizon(study, progress)?;
    Figure::new(long_panel).save(dir, "teacher_head_long")?;
    write_csv(&dir.join("teacher_head.csv"), &["head_index", "sep_ratio_sgd", "sep_ratio_ode", "sep_to_spread_sgd", "sep_to_spread_ode", "accuracy_sgd", "accuracy_ode"], &rows)?;
    let markdown = format!(
        "{}\nLines: order-parameter ODE (with head: `models::teacher::head::reduced::order_params`, exact Jacobian by forward-mode differentiation); markers: online \
         SGD (95% CI). Separation ratio: final over maximum. Head eigenvalues at t_max.\n\n{table}",
        figure_md(&study.name, "teacher_head", "Model T with a projection head and stop-gradient"),
    );
    let markdown = format!("{markdown}\n{}\n{long_md}", figure_md(&study.name, "teacher_head_long", "Model T with a head: label distance to t = 2000, with and without weight decay"));
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"runs": results, "long_horizon": long_json}) })
}

//! Study (f): the head spectrum on the label subspace against frustration.
//! Theory lines: `W^2 = M` (symmetric, eigenvalue `sqrt(1-phi)`) and `W = M`
//! (asymmetric, `1-phi`) without weight decay, and the upper root `w+` of the
//! reduced fixed-point equations with weight decay (ending at the fold).
//! Markers: long full-batch simulations, 95% CI over seeds.
use std::path::Path;

use serde_json::json;

use crate::config::Kind;
use crate::error::Result;
use crate::models::head::config::{HeadConfig, Variant};
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::estimate;
use crate::models::head::experiment::HeadExperiment;
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::models::head::theory::fixed_points::closed_form_branches;

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["frustrated", "weight_decays"])?;
    let fs = study.reals_in("frustrated", &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?;
    let lams = study.reals_in("weight_decays", &[0.0, 0.05], Kind::NON_NEGATIVE)?;
    let base = study.params();
    let probe = HeadConfig::from_table(&base, &[], &study.name)?;
    let (rho, k) = (probe.base.design.rho, probe.base.design.classes as f64);
    let f_max = fs.iter().cloned().fold(0.0, f64::max);
    let mut panels = Vec::new();
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    let mut table = String::from("| lambda | variant | f | phi | theory head eigenvalue | measured (mean of label-subspace eigenvalues, 95% CI) | measured sqrt(eig W^2) (symmetric) |\n|---|---|---|---|---|---|---|\n");
    for &lam in &lams {
        let mut panel = Panel::new(
            &format!("Head spectrum on the label subspace, weight decay {lam}"),
            "frustrated fraction f",
            "head eigenvalue",
        )
        .legend(Legend::LowerLeft);
        for (ci, v) in [Variant::Symmetric, Variant::Asymmetric].into_iter().enumerate() {
            let line: Vec<(f64, f64)> = (0..=80)
                .filter_map(|j| {
                    let f = f_max * j as f64 / 80.0;
                    let p = [f, rho, k, probe.base.eta_x, probe.base.eta_y, probe.eta_w, lam];
                    closed_form_branches(v, &p, 1.0).first().map(|(_, z)| (f, z[4]))
                })
                .collect();
            let label = match (v, lam == 0.0) {
                (Variant::Symmetric, true) => "theory symmetric: sqrt(1-phi) (W^2 = M)".to_string(),
                (Variant::Asymmetric, true) => "theory asymmetric: 1-phi (W = M)".to_string(),
                _ => format!("theory {}: upper root w+", v.name()),
            };
            panel = panel.line(&label, line, ci);
            let (mut pts, mut pts2) = (Vec::new(), Vec::new());
            for &f in &fs {
                let cfg = HeadConfig::from_table(&base, &[format!("variant={}", v.name()), format!("frustrated={f}"), format!("weight_decay={lam}")], &study.name)?;
                let exp = HeadExperiment::run(&cfg)?;
                // With weight decay single label directions can collapse from a
                // random start (their head eigenvalue decays to 0): report the
                // leading eigenvalue there, all eigenvalues without.
                let take = |s: &[[f64; 2]]| -> Vec<f64> { if lam > 0.0 { s.iter().take(1).map(|e| e[0]).collect() } else { s.iter().map(|e| e[0]).collect() } };
                let vals: Vec<f64> = exp.runs.iter().flat_map(|r| take(&r.metrics.last().expect("non-empty").head_spectrum)).collect();
                let vals2: Vec<f64> = exp.runs.iter().flat_map(|r| take(&r.metrics.last().expect("non-empty").head_squared_spectrum)).map(|x| x.max(0.0).sqrt()).collect();
                let (e, e2) = (estimate(&vals), estimate(&vals2));
                let theory = exp.theory.head_spectrum.first().copied().unwrap_or(f64::NAN);
                pts.push((f, e.mean, e.ci95[0], e.ci95[1]));
                if v == Variant::Symmetric {
                    pts2.push((f, e2.mean, e2.ci95[0], e2.ci95[1]));
                }
                rows.push(vec![lam, ci as f64, f, exp.theory.operator.frustration_index, theory, e.mean, e.ci95[0], e.ci95[1], e2.mean]);
                table += &format!(
                    "| {lam} | {} | {f} | {:.4} | {:.6} | {:.6} [{:.6}, {:.6}] | {} |\n",
                    v.name(),
                    exp.theory.operator.frustration_index,
                    theory,
                    e.mean,
                    e.ci95[0],
                    e.ci95[1],
                    if v == Variant::Symmetric { format!("{:.6}", e2.mean) } else { "-".into() }
                );
                summary.push(json!({"weight_decay": lam, "variant": v.name(), "frustrated": f, "theory": theory, "measured": e, "measured_sqrt_w2": e2,
                    "collapsed_fraction": exp.collapsed_fraction()}));
            }
            panel = panel.markers(&format!("simulation {} (eigenvalues of W)", v.name()), pts, ci, Shape::Circle);
            if v == Variant::Symmetric {
                panel = panel.markers("simulation symmetric (sqrt of eigenvalues of W^2)", pts2, 2, Shape::Cross);
            }
        }
        panels.push(panel);
    }
    Figure::new(panels).save(dir, "head_spectrum")?;
    write_csv(&dir.join("head_spectrum.csv"), &["weight_decay", "variant_symmetric0_asymmetric1", "f", "phi", "theory", "measured_mean", "measured_lo", "measured_hi", "measured_sqrt_w2"], &rows)?;
    let markdown = format!(
        "{}\nLines: the closed-form head eigenvalue on the label subspace at the non-collapsed fixed point of the \
         reduced theory. Markers: final eigenvalues of the compression of W to the label subspace (circles) \
         and, for `symmetric`, the square roots of the eigenvalues of the compression of W^2 (crosses; W^2 = M is \
         what the fixed point fixes), pooled over label-subspace directions and seeds, 95% CI. With weight decay \
         only the leading eigenvalue is shown: from a random start single directions of the label subspace can \
         fall into the collapsed basin.\n\n{table}",
        figure_md(&study.name, "head_spectrum", "Head spectrum against frustration: theory and simulation")
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"points": summary}) })
}

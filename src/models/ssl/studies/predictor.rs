//! Study (s2): the linear predictor against the representation's
//! correlation F (DirectPred). After training, in F's eigenbasis, the
//! predictor's diagonal `u_k^T W_p u_k` against `sqrt(lambda_k(F))`
//! (markers: means over seeds with 95% CIs, per eigen-index k), with the
//! relation `W_p = s F^{1/2}` as a line (its one scale `s` is fitted by
//! least squares through the origin; the shape, a straight line through 0,
//! is the prediction); and the eigenvector alignment and relation residual
//! `||W_p^2 - c F|| / ||W_p^2||` against epoch.
use std::path::Path;

use serde_json::json;

use crate::error::Result;
use crate::models::ssl::experiment::Experiment;
use crate::models::ssl::simulation::{PredictorDiagnostics, Prepared};
use crate::models::ssl::studies::ablation::base_config;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::estimate;
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["full", "variants"])?;
    let variants = study.choices("variants", &["simsiam", "byol"], &["simsiam", "byol"])?;
    let base = base_config(study)?.with_sets(&["predictor=linear".into()])?;
    let prep = Prepared::new(&base)?;
    let mut spec = Panel::new("Predictor in F's eigenbasis (final epoch)", "sqrt(lambda_k(F)) (representation units)", "u_k^T W_p u_k (dimensionless gain)").legend(Legend::UpperLeft);
    let x = "epoch (passes over the training images)";
    let mut align = Panel::new("Eigenvector alignment", x, "mean |cos(u_k, W_p u_k)| (1 = aligned)").y_range(0.0, 1.02).legend(Legend::LowerRight);
    let mut resid = Panel::new("DirectPred residual", x, "||W_p^2 - c F|| / ||W_p^2|| (best c)").legend(Legend::UpperRight);
    let mut rows = Vec::new();
    let mut runs = Vec::new();
    let mut table = String::from("| variant | final alignment (95% CI) | final residual (95% CI) | off-diagonal fraction | fitted s | R^2 of the line |\n|---|---|---|---|---|---|\n");
    let epochs = base.epochs;
    for (vi, name) in variants.iter().enumerate() {
        let cfg = base.with_sets(&[format!("variant={name}")])?;
        let exp = Experiment::run_prepared(&cfg, &prep)?;
        let finals: Vec<&PredictorDiagnostics> = exp.runs.iter().filter_map(|r| r.records[epochs].predictor.as_ref()).collect();
        let d = cfg.dim;
        let mut pts = Vec::new();
        for k in 0..d {
            let xs = estimate(&finals.iter().map(|p| p.f_eigenvalues[k].max(0.0).sqrt()).collect::<Vec<_>>());
            let ys = estimate(&finals.iter().map(|p| p.predictor_in_f_basis[k]).collect::<Vec<_>>());
            pts.push((xs.mean, ys.mean, ys.ci95[0], ys.ci95[1]));
            rows.push(vec![vi as f64, k as f64, xs.mean, ys.mean, ys.ci95[0], ys.ci95[1]]);
        }
        // Least squares through the origin over every seed's points.
        let (sxy, sxx, syy) = finals.iter().flat_map(|p| (0..d).map(move |k| (p.f_eigenvalues[k].max(0.0).sqrt(), p.predictor_in_f_basis[k]))).fold((0.0, 0.0, 0.0), |a, (x, y)| (a.0 + x * y, a.1 + x * x, a.2 + y * y));
        let s = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let r2 = if syy > 0.0 { 1.0 - (syy - 2.0 * s * sxy + s * s * sxx) / syy } else { f64::NAN };
        let xmax = pts.iter().map(|p| p.0).fold(0.0, f64::max);
        spec = spec.markers(name, pts, vi, if vi == 0 { Shape::Circle } else { Shape::Square });
        spec = spec.line(&format!("{name}: W_p = s F^(1/2), s = {s:.3}"), vec![(0.0, 0.0), (xmax, s * xmax)], vi);
        let series = |f: fn(&PredictorDiagnostics) -> f64| -> Vec<(f64, f64, f64, f64)> {
            (1..=epochs).map(|e| {
                let est = exp.at(e, |r| r.predictor.as_ref().map(f));
                (e as f64, est.mean, est.ci95[0], est.ci95[1])
            }).collect()
        };
        align = align.markers(name, series(|p| p.alignment), vi, if vi == 0 { Shape::Circle } else { Shape::Square });
        resid = resid.markers(name, series(|p| p.directpred_residual), vi, if vi == 0 { Shape::Circle } else { Shape::Square });
        let fa = exp.at(epochs, |r| r.predictor.as_ref().map(|p| p.alignment));
        let fr = exp.at(epochs, |r| r.predictor.as_ref().map(|p| p.directpred_residual));
        let fo = exp.at(epochs, |r| r.predictor.as_ref().map(|p| p.offdiag_fraction));
        table += &format!("| {name} | {:.3} [{:.3}, {:.3}] | {:.3} [{:.3}, {:.3}] | {:.3} | {s:.3} | {r2:.3} |\n", fa.mean, fa.ci95[0], fa.ci95[1], fr.mean, fr.ci95[0], fr.ci95[1], fo.mean);
        runs.push(json!({"variant": name, "fitted_scale": s, "r_squared": r2, "summary": exp.summary_json()}));
    }
    align = align.dashed("perfect alignment (DirectPred)", vec![(1.0, 1.0), (epochs as f64, 1.0)], 7);
    resid = resid.dashed("DirectPred relation holds", vec![(1.0, 0.0), (epochs as f64, 0.0)], 7);
    Figure::new(vec![spec, align, resid]).save(dir, "ssl_predictor")?;
    write_csv(&dir.join("ssl_predictor.csv"), &["variant_index", "k", "sqrt_f_eigenvalue", "predictor_diag_mean", "predictor_diag_lo", "predictor_diag_hi"], &rows)?;
    let markdown = format!(
        "{}\nVariants (index in the CSV): {}. Linear predictor, {} epochs, {} seeds, d = {}. DirectPred (Tian et al. 2021) \
         predicts that the trained linear predictor commutes with F = E[z z^T] and that its eigenvalues are \
         proportional to sqrt of F's (W_p^2 = c F); the line's one scale s is fitted (least squares through the \
         origin over every seed's points), so the test is the shape and the residuals, not the scale. Alignment 1 \
         and residual 0 would be the relation exactly.\n\n{table}",
        figure_md(&study.name, "ssl_predictor", "Predictor eigenvalues against sqrt of F's eigenvalues; alignment and residual against epoch"),
        variants.iter().enumerate().map(|(i, n)| format!("{i} = {n}")).collect::<Vec<_>>().join(", "),
        epochs,
        base.seeds,
        base.dim,
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"runs": runs}) })
}

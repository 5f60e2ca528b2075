//! Study (d): the simulation converges to the reduced theory. Full-batch GD
//! approaches gradient flow as `dt -> 0` (error O(dt)); SGD approaches it as
//! the batch grows to all (sample, label) pairs.
use std::path::Path;

use serde_json::json;

use crate::config::Kind;
use crate::error::Result;
use crate::models::embedding::config::EmbeddingConfig;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Panel, Shape};
use crate::stats::{estimate, Estimate};
use crate::models::embedding::experiment::EmbeddingExperiment;
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

/// Least-squares slope of `ln y` against `ln x`.
pub fn log_log_slope(pts: &[(f64, f64)]) -> Option<f64> {
    let p: Vec<(f64, f64)> = pts.iter().filter(|(x, y)| *x > 0.0 && *y > 0.0).map(|(x, y)| (x.ln(), y.ln())).collect();
    if p.len() < 2 {
        return None;
    }
    let n = p.len() as f64;
    let (mx, my) = (p.iter().map(|q| q.0).sum::<f64>() / n, p.iter().map(|q| q.1).sum::<f64>() / n);
    let sxy: f64 = p.iter().map(|q| (q.0 - mx) * (q.1 - my)).sum();
    let sxx: f64 = p.iter().map(|q| (q.0 - mx).powi(2)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

fn errors(exp: &EmbeddingExperiment) -> Estimate {
    estimate(&exp.seeds.iter().map(|s| s.max_relative_error).collect::<Vec<_>>())
}

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["dts", "batches", "sgd_dt"])?;
    let dts = study.reals_in("dts", &[0.4, 0.2, 0.1, 0.05, 0.025, 0.0125], Kind::POSITIVE)?;
    let batch_fracs = study.reals_in("batches", &[0.01, 0.03, 0.1, 0.3, 1.0], Kind::Real { min: 0.0, max: 1.0, open_min: true, open_max: false })?;
    let sgd_dt = study.real_in("sgd_dt", 0.05, Kind::POSITIVE)?;
    let base = study.params();
    let mut rows = Vec::new();
    let (mut gd_pts, mut gd_line) = (Vec::new(), Vec::new());
    let mut table = String::from("| run | value | max rel. error of separation (mean, 95% CI) | fitted slow rate | exact slow rate |\n|---|---|---|---|---|\n");
    let mut res = Vec::new();
    for &dt in &dts {
        let cfg = EmbeddingConfig::from_table(&base, &[format!("dt={dt}")], &study.name)?;
        let exp = EmbeddingExperiment::run(&cfg, progress)?;
        let e = errors(&exp);
        gd_pts.push((dt, e.mean, e.ci95[0].max(e.mean * 1e-3), e.ci95[1]));
        gd_line.push((dt, e.mean));
        rows.push(vec![0.0, dt, e.mean, e.ci95[0], e.ci95[1]]);
        table += &format!("| GD | dt = {dt} | {:.3e} [{:.3e}, {:.3e}] | {:.5} | {:.5} |\n", e.mean, e.ci95[0], e.ci95[1], exp.fitted_rate().map_or(f64::NAN, |r| r.mean), exp.spectrum.slow_rate);
        res.push(json!({"mode": "gd", "dt": dt, "max_relative_error": e, "fitted_slow_rate": exp.fitted_rate(), "exact_slow_rate": exp.spectrum.slow_rate}));
    }
    let gd_slope = log_log_slope(&gd_line);
    let probe = EmbeddingConfig::from_table(&base, &[], &study.name)?;
    let pairs = probe.label_weights()?.pairs();
    let mut sgd_pts = Vec::new();
    let mut sgd_line = Vec::new();
    for &frac in &batch_fracs {
        let b = ((frac * pairs as f64).round() as usize).clamp(1, pairs);
        let cfg = EmbeddingConfig::from_table(&base, &[format!("dt={sgd_dt}"), format!("batch={b}")], &study.name)?;
        let exp = EmbeddingExperiment::run(&cfg, progress)?;
        let e = errors(&exp);
        let x = b as f64 / pairs as f64;
        sgd_pts.push((x, e.mean, e.ci95[0].max(e.mean * 1e-3), e.ci95[1]));
        sgd_line.push((x, e.mean));
        rows.push(vec![1.0, x, e.mean, e.ci95[0], e.ci95[1]]);
        table += &format!("| SGD (dt = {sgd_dt}) | batch = {b} of {pairs} pairs | {:.3e} [{:.3e}, {:.3e}] | {:.5} | {:.5} |\n", e.mean, e.ci95[0], e.ci95[1], exp.fitted_rate().map_or(f64::NAN, |r| r.mean), exp.spectrum.slow_rate);
        res.push(json!({"mode": "sgd", "batch": b, "batch_fraction": x, "max_relative_error": e, "fitted_slow_rate": exp.fitted_rate()}));
    }
    let left = Panel::new("Gradient descent: step size", "step dt", "max relative error of separation")
        .log_x()
        .log_y()
        .markers("simulation vs ODE (95% CI)", gd_pts, 0, Shape::Circle)
        .dashed("fitted power law", fit_line(&gd_line, gd_slope), 0);
    let right = Panel::new(&format!("SGD: batch size (dt = {sgd_dt})"), "batch / number of pairs", "max relative error of separation")
        .log_x()
        .log_y()
        .markers("simulation vs ODE (95% CI)", sgd_pts, 1, Shape::Triangle)
        .line("", sgd_line, 1);
    Figure::new(vec![left, right]).save(dir, "convergence")?;
    write_csv(&dir.join("convergence.csv"), &["sgd", "dt_or_batch_fraction", "err_mean", "err_lo", "err_hi"], &rows)?;
    let markdown = format!(
        "{}\nError: the largest relative deviation of the simulated minimum inter-label distance from the class-level \
         ODE (started from the same initial state) over the fit range. Measured GD convergence order: {}.\n\n{table}",
        figure_md(&study.name, "convergence", "Convergence of simulation to theory"),
        gd_slope.map(|s| format!("error ~ dt^{s:.3}")).unwrap_or("n/a".into()),
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"gd_order": gd_slope, "runs": res}) })
}

fn fit_line(pts: &[(f64, f64)], slope: Option<f64>) -> Vec<(f64, f64)> {
    let (Some(s), Some(&(x0, y0))) = (slope, pts.last()) else { return Vec::new() };
    let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let (lo, hi) = (xs.iter().cloned().fold(f64::INFINITY, f64::min), xs.iter().cloned().fold(0.0, f64::max));
    [lo, hi].iter().map(|&x| (x, y0 * (x / x0).powf(s))).collect()
}

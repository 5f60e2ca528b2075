//! Study (k): Model T on a finite training set, collapse against
//! `(alpha = N/D, f)`. The exact gradient flow (spectral) gives the final
//! separation, the separation-to-spread ratio and the slow rate; the
//! adiabatic hat-matrix rate and induced frustration explain them; one
//! point is checked against microscopic full-batch gradient descent.
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Kind;
use crate::error::{Error, Result};
use crate::models::teacher::config::TeacherConfig;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::Estimate;
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::study::sweep::{self, Cell, CellSpec, Sweep};
use crate::models::teacher::finite::experiment::FiniteExperiment;
use crate::models::teacher::online::reduced::row_rates;
use crate::models::teacher::statistics::Teacher;

/// The sweep: one cell per (label noise f, alpha), then the gradient-descent check.
pub const SWEEP: Sweep = Sweep { cells, run_cell, assemble };

#[derive(Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
enum Spec {
    /// Exact flow at `samples = max(round(alpha D), 2K)` and label noise `f`.
    Grid { f: f64, alpha: f64 },
    /// Microscopic gradient descent against the exact flow at one point.
    Check { alpha: f64, noise: f64 },
}

/// One grid point of the map.
#[derive(Serialize, Deserialize)]
struct GridPoint {
    samples: usize,
    alpha: f64,
    rate: Estimate,
    adiabatic: Estimate,
    induced: Estimate,
    separation_ratio: Estimate,
    separation_to_spread: Estimate,
    accuracy: Estimate,
}

/// The gradient-descent check: seed 0's curves, the deviation and the summary.
#[derive(Serialize, Deserialize)]
struct CheckResult {
    dt: f64,
    exact: Vec<(f64, f64)>,
    gd: Vec<(f64, f64, f64, f64)>,
    deviation: Option<f64>,
    summary: serde_json::Value,
}

struct Lists {
    alphas: Vec<f64>,
    noises: Vec<f64>,
    check_alpha: f64,
    check_noise: f64,
}

fn lists(study: &StudyFile) -> Result<Lists> {
    study.check_keys(&["alphas", "noises", "check_alpha", "check_noise"])?;
    Ok(Lists {
        alphas: study.reals_in("alphas", &[0.25, 0.5, 1.0, 1.5, 2.0, 4.0], Kind::POSITIVE)?,
        noises: study.reals_in("noises", &[0.0, 0.1, 0.2, 0.3], Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?,
        check_alpha: study.real_in("check_alpha", 2.0, Kind::POSITIVE)?,
        check_noise: study.real_in("check_noise", 0.2, Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?,
    })
}

fn cells(study: &StudyFile) -> Result<Vec<CellSpec>> {
    let l = lists(study)?;
    let mut cells = Vec::new();
    for &f in &l.noises {
        for &alpha in &l.alphas {
            cells.push(CellSpec::new(format!("f = {f} alpha = {alpha}"), Spec::Grid { f, alpha }));
        }
    }
    cells.push(CellSpec::new(format!("GD check alpha = {} f = {}", l.check_alpha, l.check_noise), Spec::Check { alpha: l.check_alpha, noise: l.check_noise }));
    Ok(cells)
}

fn run_cell(cell: &Cell, _progress: bool) -> Result<serde_json::Value> {
    let base = &cell.params;
    let probe = TeacherConfig::from_table(base, &[], &cell.study)?;
    let dd = probe.input_dim as f64;
    let value = match cell.spec()? {
        Spec::Grid { f, alpha } => {
            let n = ((alpha * dd).round() as usize).max(2 * probe.classes);
            let cfg = TeacherConfig::from_table(base, &[format!("samples={n}"), format!("label_noise={f}")], &cell.study)?;
            let exp = FiniteExperiment::run(&cfg, false)?;
            let last = exp.times.len() - 1;
            serde_json::to_value(GridPoint {
                samples: n,
                alpha: n as f64 / dd,
                rate: exp.slow_rate(),
                adiabatic: crate::stats::estimate(&exp.seeds.iter().map(|s| s.spectrum.adiabatic_slow_rate).collect::<Vec<_>>()),
                induced: crate::stats::estimate(&exp.seeds.iter().map(|s| s.spectrum.induced_frustration).collect::<Vec<_>>()),
                separation_ratio: exp.separation_ratio(),
                separation_to_spread: exp.metric_at(last, |m| m.separation_to_spread),
                accuracy: exp.metric_at(last, |m| m.accuracy),
            })
        }
        Spec::Check { alpha, noise } => {
            let n = (alpha * dd).round() as usize;
            let cfg = TeacherConfig::from_table(base, &[format!("samples={n}"), format!("label_noise={noise}")], &cell.study)?;
            let check = FiniteExperiment::run(&cfg, true)?;
            let s0 = &check.seeds[0];
            serde_json::to_value(CheckResult {
                dt: cfg.dt,
                exact: s0.exact.iter().skip(1).map(|m| (m.t, m.min_label_distance)).collect(),
                gd: s0.gd.as_ref().map(|g| g.iter().skip(1).step_by(2).map(|m| (m.t, m.min_label_distance, m.min_label_distance, m.min_label_distance)).collect()).unwrap_or_default(),
                deviation: check.gd_deviation(),
                summary: check.summary_json(),
            })
        }
    };
    Ok(value.expect("cell results serialise"))
}

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    sweep::run_all(&SWEEP, study, dir, progress)
}

fn assemble(study: &StudyFile, cells: &[Cell], results: &[serde_json::Value], dir: &Path, progress: bool) -> Result<StudyOutput> {
    let l = lists(study)?;
    let (alphas, noises, check_alpha, check_noise) = (&l.alphas, &l.noises, l.check_alpha, l.check_noise);
    let base = study.params();
    let probe = TeacherConfig::from_table(&base, &[], &study.name)?;
    let dd = probe.input_dim as f64;
    let mut next = cells.iter().zip(results);
    let mut take = || next.next().ok_or_else(|| Error::numerical("teacher-finite-data merge", "fewer cell results than cells"));
    let mut rate_panel = Panel::new("Slow rate of the label separation", "alpha = N / D", "slow rate").legend(Legend::UpperLeft);
    let mut sep_panel = Panel::new("Final separation (relative to its maximum)", "alpha = N / D", "separation ratio at t_max").log_y().legend(Legend::LowerLeft);
    let mut rows = Vec::new();
    let mut results = Vec::new();
    let mut online_rates = Vec::new();
    let mut table = String::from("| f | alpha | slow rate (exact flow, 95% CI) | adiabatic hat-matrix rate | induced frustration | final separation ratio | final sep./spread | final train accuracy |\n|---|---|---|---|---|---|---|---|\n");
    for (fi, &f) in noises.iter().enumerate() {
        let (mut rate_pts, mut adiabatic, mut sep_pts) = (Vec::new(), Vec::new(), Vec::new());
        for _ in alphas {
            let (c, r) = take()?;
            let g: GridPoint = sweep::result(c, r)?;
            let (n, a, rate, ad, ind, sr, s2s, acc) = (g.samples, g.alpha, g.rate, g.adiabatic, g.induced, g.separation_ratio, g.separation_to_spread, g.accuracy);
            rate_pts.push((a, rate.mean, rate.ci95[0], rate.ci95[1]));
            adiabatic.push((a, ad.mean));
            sep_pts.push((a, sr.mean.max(1e-12), sr.ci95[0].max(1e-12), sr.ci95[1].max(1e-12)));
            rows.push(vec![f, a, rate.mean, ad.mean, ind.mean, sr.mean, s2s.mean, acc.mean]);
            table += &format!(
                "| {f} | {a:.2} | {:.5} [{:.5}, {:.5}] | {:.5} | {:.4} | {:.3e} | {:.3} | {:.3} |\n",
                rate.mean, rate.ci95[0], rate.ci95[1], ad.mean, ind.mean, sr.mean, s2s.mean, acc.mean
            );
            results.push(json!({"f": f, "alpha": a, "samples": n, "slow_rate": rate, "adiabatic_slow_rate": ad,
                "induced_frustration": ind, "final_separation_ratio": sr, "final_separation_to_spread": s2s, "final_accuracy": acc}));
        }
        if progress {
            eprintln!("  f = {f} done");
        }
        // alpha -> infinity: the empirical gradient flow becomes the
        // population flow, i.e. the (R, y) block of the online ODE.
        let online = {
            let c = TeacherConfig::from_table(&base, &[format!("label_noise={f}")], &study.name)?;
            row_rates(&Teacher::new(c.teacher, c.classes), &c.ode_params()).separating.0
        };
        let amax = alphas.iter().cloned().fold(0.0, f64::max);
        online_rates.push(json!({"f": f, "online_slow_rate": online}));
        rate_panel = rate_panel
            .markers(&format!("exact flow, f = {f}"), rate_pts, fi, Shape::Circle)
            .dashed("", adiabatic, fi)
            .line("", vec![(0.75 * amax, online), (amax, online)], fi);
        sep_panel = sep_panel.markers(&format!("f = {f}"), sep_pts.clone(), fi, Shape::Circle).line("", sep_pts.iter().map(|p| (p.0, p.1)).collect(), fi);
    }
    // One point against microscopic gradient descent.
    let (c, r) = take()?;
    let check: CheckResult = sweep::result(c, r)?;
    let (th, gd) = (check.exact, check.gd);
    let check_panel = Panel::new(&format!("Gradient descent vs exact flow (alpha = {check_alpha}, f = {check_noise})"), "time t", "min inter-label distance")
        .log_x()
        .log_y()
        .line("exact gradient flow", th, 0)
        .markers(&format!("gradient descent, dt = {}", check.dt), gd, 1, Shape::Triangle);
    Figure::new(vec![rate_panel, sep_panel, check_panel]).save(dir, "teacher_finite_data")?;
    write_csv(&dir.join("teacher_finite_data.csv"), &["f", "alpha", "slow_rate", "adiabatic_rate", "induced_frustration", "separation_ratio", "sep_to_spread", "accuracy"], &rows)?;
    let markdown = format!(
        "{}\nFinite training set of N = alpha D samples, full-batch gradient flow of the encoder (D = {dd}). For alpha <= 1 \
         the hat matrix is the identity, the student fits every (noisy) label and the separation is conserved (slow rate 0, \
         Model E with one-hot weights). For alpha > 1 a linear student cannot fit noisy labels: the hat-matrix operator \
         M_Pi = diag(m)^-1 A^T Pi A has eigenvalues below 1 (induced frustration) and the labels contract. Dashed: \
         adiabatic rate (eta_y/n) min eig(diag(m) - A^T Pi A) on label differences. Short solid segments at the right: the \
         online (alpha -> infinity) slow rate of the order-parameter ODE, which the finite-data rate approaches. GD check: max relative deviation {:.2e}.\n\n{table}",
        figure_md(&study.name, "teacher_finite_data", "Model T with finite data: collapse against alpha and label noise"),
        check.deviation.unwrap_or(f64::NAN),
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"grid": results, "online_limit": online_rates, "gd_check": check.summary}) })
}

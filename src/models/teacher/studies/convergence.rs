//! Study (i): online SGD of Model T converges to the order-parameter ODE as
//! `D` grows. Every run starts from the same initial `R`, `Y` (the
//! orthogonal weights differ per seed); the ODE starts from each run's
//! measured initial order parameters. The deviation is
//! `max_t |(R, Y, Q)_sim - (R, Y, Q)_ode|_F`; its ensemble mean is fitted to
//! `D^s` on log-log axes (expected `s = -1/2`: order-parameter fluctuations).
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Result;
use crate::models::teacher::config::TeacherConfig;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::models::embedding::studies::convergence::log_log_slope;
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::models::teacher::online::experiment::TeacherExperiment;
use crate::stats::Estimate;
use crate::study::sweep::{self, Cell, CellSpec, Sweep};

/// The sweep: one cell per input dimension D.
pub const SWEEP: Sweep = Sweep { cells, run_cell, assemble };

/// What the study keeps of one D: the table row and the trajectories.
#[derive(Serialize, Deserialize)]
struct DimResult {
    input_dim: usize,
    seeds: usize,
    deviation: Estimate,
    fitted_rate: Option<Estimate>,
    ode_slow_rate: f64,
    final_accuracy_formula: f64,
    final_accuracy_held_out: f64,
    times: Vec<f64>,
    /// Per output time: ODE mean and SGD estimate of the minimum inter-label distance.
    separation_ode: Vec<f64>,
    separation_sgd: Vec<Estimate>,
    /// Per output time: ODE accuracy formula and held-out accuracy of SGD.
    accuracy_ode: Vec<f64>,
    accuracy_held_out: Vec<Estimate>,
}

fn dims(study: &StudyFile) -> Result<(Vec<f64>, bool)> {
    study.check_keys(&["dims", "full", "full_dims"])?;
    let mut dims = study.ints("dims", &[100, 400, 1600], 2, i64::MAX)?.into_iter().map(|n| n as f64).collect::<Vec<f64>>();
    let full = study.bool("full", false)?;
    // Validated even when `full` is off, so a bad value never hides.
    let full_dims = study.ints("full_dims", &[6400], 2, i64::MAX)?;
    if full {
        dims.extend(full_dims.into_iter().map(|n| n as f64));
    }
    Ok((dims, full))
}

fn cells(study: &StudyFile) -> Result<Vec<CellSpec>> {
    Ok(dims(study)?.0.into_iter().map(|d| CellSpec::new(format!("D = {d}"), d)).collect())
}

fn run_cell(cell: &Cell, progress: bool) -> Result<serde_json::Value> {
    let dd: f64 = cell.spec()?;
    let started = std::time::Instant::now();
    let cfg = TeacherConfig::from_table(&cell.params, &[format!("input_dim={}", dd as usize)], &cell.study)?;
    let exp = TeacherExperiment::run(&cfg)?;
    if progress {
        eprintln!("  D = {dd}: {:.1} s", started.elapsed().as_secs_f64());
    }
    let t = exp.times();
    let last = t.len() - 1;
    let r = DimResult {
        input_dim: cfg.input_dim,
        seeds: cfg.seeds,
        deviation: exp.deviation(),
        fitted_rate: exp.fitted_rate(),
        ode_slow_rate: exp.theory.slow_rate(),
        final_accuracy_formula: exp.metric_at(last, false, |m| m.base.accuracy).mean,
        final_accuracy_held_out: exp.empirical_accuracy_at(last).mean,
        separation_ode: (0..t.len()).map(|k| exp.metric_at(k, true, |m| m.base.min_label_distance).mean).collect(),
        separation_sgd: (0..t.len()).map(|k| exp.metric_at(k, false, |m| m.base.min_label_distance)).collect(),
        accuracy_ode: (0..t.len()).map(|k| exp.metric_at(k, true, |m| m.base.accuracy).mean).collect(),
        accuracy_held_out: (0..t.len()).map(|k| exp.empirical_accuracy_at(k)).collect(),
        times: t,
    };
    Ok(serde_json::to_value(r).expect("results serialise"))
}

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    sweep::run_all(&SWEEP, study, dir, progress)
}

fn assemble(study: &StudyFile, cells: &[Cell], results: &[serde_json::Value], dir: &Path, _progress: bool) -> Result<StudyOutput> {
    let (dims, full) = dims(study)?;
    let mut pts = Vec::new();
    let mut line = Vec::new();
    let mut rows = Vec::new();
    let mut runs = Vec::new();
    let mut table = String::from("| D | seeds | max deviation from ODE (mean, 95% CI) | fitted slow rate (95% CI) | ODE slow rate | final accuracy: formula / held-out |\n|---|---|---|---|---|---|\n");
    let mut exps = Vec::new();
    for ((cell, r), &dd) in cells.iter().zip(results).zip(&dims) {
        let x: DimResult = sweep::result(cell, r)?;
        let e = x.deviation;
        let fr = x.fitted_rate;
        pts.push((dd, e.mean, e.ci95[0].max(e.mean * 1e-3), e.ci95[1]));
        line.push((dd, e.mean));
        rows.push(vec![dd, e.mean, e.ci95[0], e.ci95[1]]);
        table += &format!(
            "| {dd} | {} | {:.4} [{:.4}, {:.4}] | {} | {:.5} | {:.4} / {:.4} |\n",
            x.seeds,
            e.mean,
            e.ci95[0],
            e.ci95[1],
            fr.map_or("n/a".into(), |r| format!("{:.5} [{:.5}, {:.5}]", r.mean, r.ci95[0], r.ci95[1])),
            x.ode_slow_rate,
            x.final_accuracy_formula,
            x.final_accuracy_held_out
        );
        // Wall time goes to stderr only, so summary.json is reproducible bit for bit.
        runs.push(json!({"input_dim": dd, "deviation": e, "fitted_slow_rate": fr, "ode_slow_rate": x.ode_slow_rate}));
        exps.push(x);
    }
    let slope = log_log_slope(&line);
    let reference: Vec<(f64, f64)> = {
        let (d0, e0) = line[0];
        dims.iter().map(|&d| (d, e0 * (d / d0).powf(-0.5))).collect()
    };
    let dev = Panel::new("Deviation from the ODE", "input dimension D", "max_t |order params sim - ODE|")
        .log_x()
        .log_y()
        .markers("simulation (95% CI over seeds)", pts, 0, Shape::Circle)
        .dashed("D^-1/2", reference, 1);
    // Trajectories of the smallest and largest D against the ODE.
    let mut sep = Panel::new("Label separation", "time t = steps / D", "min inter-label distance").log_x().legend(Legend::UpperLeft);
    let mut acc = Panel::new("Accuracy (teacher class)", "time t = steps / D", "accuracy").log_x().legend(Legend::LowerRight);
    for (ci, idx) in [0usize, exps.len() - 1].into_iter().enumerate() {
        let x = &exps[idx];
        let t = &x.times;
        let nz: Vec<usize> = (1..t.len()).collect();
        let d = x.input_dim;
        let th: Vec<(f64, f64)> = nz.iter().map(|&k| (t[k], x.separation_ode[k])).collect();
        let sm: Vec<(f64, f64, f64, f64)> = nz
            .iter()
            .map(|&k| {
                let e = x.separation_sgd[k];
                (t[k], e.mean, e.ci95[0], e.ci95[1])
            })
            .collect();
        sep = sep.line(&format!("ODE (D = {d} start)"), th, ci).markers(&format!("SGD, D = {d}"), sm, ci, Shape::Circle);
        let tha: Vec<(f64, f64)> = nz.iter().map(|&k| (t[k], x.accuracy_ode[k])).collect();
        let ea: Vec<(f64, f64, f64, f64)> = nz
            .iter()
            .map(|&k| {
                let e = x.accuracy_held_out[k];
                (t[k], e.mean, e.ci95[0], e.ci95[1])
            })
            .collect();
        acc = acc.line(&format!("ODE formula (D = {d})"), tha, ci).markers(&format!("held-out, D = {d}"), ea, ci, Shape::Triangle);
    }
    Figure::new(vec![dev, sep, acc]).save(dir, "teacher_convergence")?;
    write_csv(&dir.join("teacher_convergence.csv"), &["input_dim", "deviation_mean", "deviation_lo", "deviation_hi"], &rows)?;
    let markdown = format!(
        "{}\nOnline SGD against the D -> infinity order-parameter ODE (every run starts from the same R(0), y(0); \
         the ODE from each run's measured initial order parameters). Measured exponent: deviation ~ D^{}{}.\n\n{table}",
        figure_md(&study.name, "teacher_convergence", "Model T: simulation converges to the order-parameter ODE"),
        slope.map_or("n/a".into(), |s| format!("{s:.3}")),
        if full { "" } else { " (default sizes; set `full = true` to add D = 6400)" },
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"exponent": slope, "runs": runs}) })
}

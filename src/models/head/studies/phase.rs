//! Study (g): the weight-decay phase diagram in (f, lambda). Theory: the
//! saddle-node `f_c(lambda)` of the non-collapsed branch, traced by the
//! engine's fold continuation ([`engine_boundary`]) and checked point by point
//! against [`critical_frustration`] (independent of the rates), and, per rate ratio
//! `eta_w/eta_x`, the edge of the basin of the non-collapsed state seen from
//! the matched symmetric start (reduced ODE integrated to the simulation
//! horizon). Markers: outcomes of long microscopic full-batch runs.
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Kind;
use crate::engine::{integrate, Grid, IntegrateOptions, Method};
use crate::error::{Error, Result};
use crate::models::head::simulation::simulate;
use crate::models::head::config::{HeadConfig, Variant};
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::models::head::theory::boundary::engine_boundary;
use crate::models::head::theory::fixed_points::critical_frustration;
use crate::models::head::reduced::simplex::HeadSimplex;
use crate::study::sweep::{self, Cell, CellSpec, Sweep};

/// One seed's outcome: survived, collapse time, settled.
type SeedOutcome = (bool, Option<f64>, bool);

/// `f_c` for the reduced parameters `p` (`p[0]` ignored): `1` when the branch
/// reaches `f = 1`, `0` when it does not exist even at `f = 0`.
pub fn f_c_or_edge(v: Variant, p: &[f64; 7]) -> f64 {
    match critical_frustration(v, p) {
        Ok(Some(fold)) => fold.critical_frustration,
        Ok(None) => 1.0,
        Err(_) => 0.0,
    }
}

/// Whether the reduced ODE started at `z0` keeps `|s| > 1%` of `|s(0)|` at `t_max`.
pub fn reduced_survives(v: Variant, p: &[f64; 7], z0: &[f64; 6], t_max: f64) -> bool {
    let sys = HeadSimplex::new(v, *p);
    let opts = IntegrateOptions { method: Method::Dop853, rtol: 1e-8, atol: 1e-12, t_max, grid: Grid::Times(vec![0.0, t_max]), max_steps: 1_000_000, max_seconds: crate::limits::remaining_seconds() };
    integrate(&sys, z0, p, &opts).map(|tr| tr.states.last().is_some_and(|z| z[3].abs() > 0.01 * z0[3].abs())).unwrap_or(false)
}

/// The sweep: per variant one fold-boundary cell, per (variant, rate ratio)
/// one basin-edge cell, and one microscopic cell per (variant, rate ratio,
/// lambda, f) with all its seeds.
pub const SWEEP: Sweep = Sweep { cells, run_cell, assemble };

/// What a cell computes.
#[derive(Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
enum Spec {
    /// The engine's fold curve `f_c(lambda)` on `[lam_lo, lam_hi]`, with its check.
    Boundary { variant: Variant, lam_lo: f64, lam_hi: f64, lam_mid: f64 },
    /// The reduced ODE's basin edge at every third lambda of `lam_grid`.
    Basin { variant: Variant, ratio: f64, lam_grid: Vec<f64> },
    /// Microscopic runs (all seeds) at one point of the diagram.
    Simulation { variant: Variant, ratio: f64, weight_decay: f64, f: f64 },
}

/// Result of a boundary cell.
#[derive(Serialize, Deserialize)]
struct BoundaryResult {
    report: String,
    summary: serde_json::Value,
    /// The fold curve where `f_c <= 1`.
    fold_line: Vec<(f64, f64)>,
}

/// The study-file lists, with their defaults.
struct Lists {
    lams_sym: Vec<f64>,
    lams_asym: Vec<f64>,
    fs: Vec<f64>,
    ratios: Vec<f64>,
}

fn lists(study: &StudyFile) -> Result<Lists> {
    study.check_keys(&["weight_decays", "frustrated", "rate_ratios", "asymmetric_weight_decays"])?;
    Ok(Lists {
        lams_sym: study.reals_in("weight_decays", &[0.08, 0.12, 0.16, 0.2], Kind::NON_NEGATIVE)?,
        lams_asym: study.reals_in("asymmetric_weight_decays", &[0.02, 0.05, 0.08, 0.11], Kind::NON_NEGATIVE)?,
        fs: study.reals_in("frustrated", &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?,
        ratios: study.reals_in("rate_ratios", &[0.25, 1.0, 4.0], Kind::POSITIVE)?,
    })
}

/// `(variant, its lambdas, lam_lo, lam_hi, lambda grid of the theory lines)`.
fn variants(l: &Lists) -> Vec<(Variant, &Vec<f64>, f64, f64, Vec<f64>)> {
    [(Variant::Symmetric, &l.lams_sym), (Variant::Asymmetric, &l.lams_asym)]
        .into_iter()
        .map(|(v, lams)| {
            let lam_hi = lams.iter().cloned().fold(0.0, f64::max) * 1.1;
            // Below half the smallest simulated lambda the collapse is too slow for
            // the finite horizon to decide the reduced ODE's outcome.
            let lam_lo = 0.5 * lams.iter().cloned().fold(f64::INFINITY, f64::min);
            let lam_grid: Vec<f64> = (0..=39).map(|j| lam_lo + (lam_hi - lam_lo) * j as f64 / 39.0).collect();
            (v, lams, lam_lo, lam_hi, lam_grid)
        })
        .collect()
}

fn cells(study: &StudyFile) -> Result<Vec<CellSpec>> {
    let l = lists(study)?;
    let mut cells = Vec::new();
    for (v, lams, lam_lo, lam_hi, lam_grid) in variants(&l) {
        let lam_mid = lam_grid[lam_grid.len() / 2];
        cells.push(CellSpec::new(format!("{} fold boundary", v.name()), Spec::Boundary { variant: v, lam_lo, lam_hi, lam_mid }));
        for &ratio in &l.ratios {
            cells.push(CellSpec::new(format!("{} basin edge, eta_w/eta_x = {ratio}", v.name()), Spec::Basin { variant: v, ratio, lam_grid: lam_grid.clone() }));
            for &lam in lams.iter() {
                for &f in &l.fs {
                    cells.push(CellSpec::new(
                        format!("{} eta_w/eta_x = {ratio} lambda = {lam} f = {f}", v.name()),
                        Spec::Simulation { variant: v, ratio, weight_decay: lam, f },
                    ));
                }
            }
        }
    }
    Ok(cells)
}

/// `(rho, K, d, eta_x, eta_y, t_max, z0)` of the study's `[params]`.
fn base_of(params: &toml::Table, name: &str) -> Result<(HeadConfig, [f64; 6])> {
    let probe = HeadConfig::from_table(params, &[], name)?;
    let (k, d) = (probe.base.design.classes as f64, probe.base.dim as f64);
    let z0 = [0.0, 0.0, 0.0, (d * (k - 1.0) / k).sqrt(), 1.0, probe.base.init_scale.powi(2)];
    Ok((probe, z0))
}

fn run_cell(cell: &Cell, _progress: bool) -> Result<serde_json::Value> {
    let (probe, z0) = base_of(&cell.params, &cell.study)?;
    let (rho, k) = (probe.base.design.rho, probe.base.design.classes as f64);
    let t_max = probe.base.t_max;
    let value = match cell.spec()? {
        Spec::Boundary { variant: v, lam_lo, lam_hi, lam_mid } => {
            // Theory line: the engine's fold curve in (f, lambda), checked point by
            // point against the independent bisection/Newton `critical_frustration`.
            let p_mid = [0.0, rho, k, probe.base.eta_x, probe.base.eta_y, 1.0, lam_mid];
            let engine = engine_boundary(v, &p_mid, lam_lo, lam_hi, 0.02)?;
            let engine_pts: Vec<(f64, f64)> = engine.curve.points.iter().map(|pt| (pt.p1, pt.p2)).collect();
            // critical_frustration searches f in [0, 1] only: compare where f_c <= 1.
            let physical: Vec<(f64, f64)> = engine_pts.iter().copied().filter(|(f, _)| *f <= 1.0).collect();
            let deviation = physical
                .par_iter()
                .map(|&(f, lam)| (f - f_c_or_edge(v, &[0.0, rho, k, probe.base.eta_x, probe.base.eta_y, 1.0, lam])).abs())
                .reduce(|| 0.0, f64::max);
            let report = format!(
                "{}: {} points on lambda in [{lam_lo:.4}, {lam_hi:.4}] (ends: {} / {:?}), {} of them with f_c <= 1, where \
                 max |f_c(engine) - f_c(critical_frustration)| = {deviation:.2e}. ",
                v.name(),
                engine_pts.len(),
                engine.curve.stop_backward.map_or("-".to_string(), |b| format!("{b:?}")),
                engine.curve.stop_forward,
                physical.len()
            );
            let summary = json!({"variant": v.name(), "points": engine_pts.len(), "lambda_range": [lam_lo, lam_hi],
                "points_with_f_c_le_1": physical.len(), "max_abs_deviation_from_critical_frustration": deviation, "curve": engine_pts});
            serde_json::to_value(BoundaryResult { report, summary, fold_line: physical })
        }
        Spec::Basin { variant: v, ratio, lam_grid } => {
            let eta_w = ratio * probe.base.eta_x;
            let p_of = |f: f64, lam: f64| [f, rho, k, probe.base.eta_x, probe.base.eta_y, eta_w, lam];
            // Basin edge: bisection in f on the reduced ODE's outcome.
            let basin: Vec<(f64, f64)> = lam_grid
                .par_iter()
                .step_by(3)
                .map(|&lam| {
                    let fc = f_c_or_edge(v, &p_of(0.0, lam));
                    let (mut lo, mut hi) = (0.0, fc);
                    if !reduced_survives(v, &p_of(lo, lam), &z0, t_max) {
                        return (0.0, lam);
                    }
                    for _ in 0..12 {
                        let mid = 0.5 * (lo + hi);
                        if reduced_survives(v, &p_of(mid, lam), &z0, t_max) { lo = mid } else { hi = mid }
                    }
                    (lo, lam)
                })
                .collect();
            serde_json::to_value(basin)
        }
        Spec::Simulation { variant: v, ratio, weight_decay: lam, f } => {
            let eta_w = ratio * probe.base.eta_x;
            let cfg = HeadConfig::from_table(&cell.params, &[format!("variant={}", v.name()), format!("frustrated={f}"), format!("weight_decay={lam}"), format!("eta_w={eta_w}")], &cell.study)?;
            let a = cfg.base.label_weights()?;
            let outcomes: Vec<SeedOutcome> = (0..cfg.base.seeds as u64)
                .map(|s| {
                    let run = simulate(&cfg, &a, cfg.base.design.seed + s)?;
                    let peak = run.metrics.iter().map(|m| m.base.mean_label_distance).fold(0.0, f64::max);
                    let t_collapse = run.metrics.iter().find(|m| m.base.mean_label_distance < 0.01 * peak).map(|m| m.base.t);
                    // Settled survivor: leading head eigenvalue changed by < 1e-3 over the last output interval.
                    let lead = |m: &crate::models::head::simulation::HeadMetrics| m.head_spectrum.first().map_or(0.0, |e| e[0]);
                    let n = run.metrics.len();
                    let settled = t_collapse.is_some() || (lead(&run.metrics[n - 1]) - lead(&run.metrics[n - 2])).abs() < 1e-3;
                    Ok((!run.fully_collapsed(), t_collapse, settled))
                })
                .collect::<Result<_>>()?;
            serde_json::to_value(outcomes)
        }
    };
    Ok(value.expect("cell results serialise"))
}

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    sweep::run_all(&SWEEP, study, dir, progress)
}

fn assemble(study: &StudyFile, cells: &[Cell], results: &[serde_json::Value], dir: &Path, _progress: bool) -> Result<StudyOutput> {
    let l = lists(study)?;
    let (probe, _) = base_of(&study.params(), &study.name)?;
    let (rho, k) = (probe.base.design.rho, probe.base.design.classes as f64);
    // Cells in the order `cells` made them.
    let mut next = cells.iter().zip(results);
    let mut take = || next.next().ok_or_else(|| Error::numerical("head-phase merge", "fewer cell results than cells"));
    let mut panels = Vec::new();
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    let mut slowing = String::new();
    let mut engine_report = String::new();
    let mut engine_summary = Vec::new();
    let mut table = String::from("| variant | eta_w/eta_x | lambda | f_c (theory) | largest f with a surviving seed | smallest f with all seeds collapsed | basin edge (reduced ODE) |\n|---|---|---|---|---|---|---|\n");
    for (v, lams, _, lam_hi, _) in variants(&l) {
        let (c, r) = take()?;
        let b: BoundaryResult = sweep::result(c, r)?;
        engine_report += &b.report;
        engine_summary.push(b.summary);
        let fold_line = b.fold_line;
        for &ratio in &l.ratios {
            let eta_w = ratio * probe.base.eta_x;
            let p_of = |f: f64, lam: f64| [f, rho, k, probe.base.eta_x, probe.base.eta_y, eta_w, lam];
            let (c, r) = take()?;
            let basin: Vec<(f64, f64)> = sweep::result(c, r)?;
            // Headroom above the data for the legend.
            let mut panel = Panel::new(&format!("{}, eta_w/eta_x = {ratio}", v.name()), "frustrated fraction f", "weight decay lambda")
                .legend(Legend::UpperRight)
                .y_range(0.0, 1.6 * lam_hi);
            panel = panel.line("saddle-node f_c: fold continuation (engine)", fold_line.clone(), 6).dashed("basin edge, reduced ODE", basin.clone(), 5);
            let (mut all, mut none, mut mixed) = (Vec::new(), Vec::new(), Vec::new());
            for &lam in lams.iter() {
                let fc = f_c_or_edge(v, &p_of(0.0, lam));
                let mut outcomes: Vec<(f64, Vec<SeedOutcome>)> = Vec::new();
                for &f in &l.fs {
                    let (c, r) = take()?;
                    outcomes.push((f, sweep::result(c, r)?));
                }
                let mut largest_survive: Option<f64> = None;
                let mut smallest_all_collapsed: Option<f64> = None;
                let mut worst_tc: f64 = 0.0;
                let mut unsettled = 0;
                for (f, o) in &outcomes {
                    let n_surv = o.iter().filter(|x| x.0).count();
                    let pt = (*f, lam, lam, lam);
                    match n_surv {
                        0 => none.push(pt),
                        n if n == o.len() => all.push(pt),
                        _ => mixed.push(pt),
                    }
                    if n_surv > 0 {
                        largest_survive = Some(largest_survive.map_or(*f, |x: f64| x.max(*f)));
                    } else if smallest_all_collapsed.is_none_or(|x| *f < x) && *f > largest_survive.unwrap_or(0.0) {
                        smallest_all_collapsed = Some(*f);
                    }
                    for x in o {
                        if let Some(tc) = x.1 {
                            if *f > fc {
                                worst_tc = worst_tc.max(tc);
                            }
                        }
                        unsettled += usize::from(!x.2);
                    }
                    rows.push(vec![usize::from(v == Variant::Asymmetric) as f64, ratio, lam, *f, n_surv as f64 / o.len() as f64, fc]);
                }
                let edge = basin.iter().min_by(|a, b| (a.1 - lam).abs().total_cmp(&(b.1 - lam).abs())).map_or(f64::NAN, |b| b.0);
                table += &format!(
                    "| {} | {ratio} | {lam} | {fc:.4} | {} | {} | {edge:.3} (at lambda {:.3}) |\n",
                    v.name(),
                    largest_survive.map_or("-".into(), |x| format!("{x}")),
                    smallest_all_collapsed.map_or("-".into(), |x| format!("{x}")),
                    basin.iter().min_by(|a, b| (a.1 - lam).abs().total_cmp(&(b.1 - lam).abs())).map_or(f64::NAN, |b| b.1)
                );
                slowing += &format!("{}/{ratio}/lambda {lam}: latest collapse above f_c at t = {worst_tc:.1}; unsettled survivors: {unsettled}. ", v.name());
                let outcomes_json: Vec<serde_json::Value> = outcomes
                    .iter()
                    .map(|(f, o)| {
                        let mut p = json!({"f": f, "survived": o.iter().map(|x| x.0).collect::<Vec<_>>(), "collapse_time": o.iter().map(|x| x.1).collect::<Vec<_>>()});
                        if o.iter().any(|x| x.1.is_none()) {
                            p["collapse_time_note"] = json!("null for a seed that did not collapse by t_max (see survived)");
                        }
                        p
                    })
                    .collect();
                let mut point = json!({"variant": v.name(), "rate_ratio": ratio, "weight_decay": lam, "critical_frustration": fc,
                    "largest_f_surviving": largest_survive, "smallest_f_all_collapsed": smallest_all_collapsed,
                    "latest_collapse_time_above_fc": worst_tc, "unsettled_survivors": unsettled,
                    "outcomes": outcomes_json});
                if largest_survive.is_none() {
                    point["largest_f_surviving_note"] = json!("null: at no f of the sweep did any seed survive");
                }
                if smallest_all_collapsed.is_none() {
                    point["smallest_f_all_collapsed_note"] = json!("null: at no f of the sweep above the largest surviving f did every seed collapse");
                }
                summary.push(point);
            }
            panel = panel
                .markers("simulation: all seeds keep separation", all, 2, Shape::Circle)
                .markers("simulation: some seeds collapse", mixed, 4, Shape::Triangle)
                .markers("simulation: all seeds collapse", none, 1, Shape::Cross);
            panels.push(panel);
        }
    }
    Figure::new(panels).save(dir, "head_phase")?;
    write_csv(&dir.join("head_phase.csv"), &["variant_symmetric0_asymmetric1", "rate_ratio", "weight_decay", "f", "surviving_fraction", "f_c_theory"], &rows)?;
    let markdown = format!(
        "{}\nSolid line: the saddle-node f_c(lambda) where the non-collapsed branch disappears, traced by the \
         generic engine on the reduced system (`models::head::theory::boundary::engine_boundary`: pseudo-arclength \
         continuation of the non-collapsed fixed point in f locates the fold, two-parameter continuation of the \
         fold in (f, lambda) traces the curve). Cross-check against the independent \
         `models::head::theory::fixed_points::critical_frustration` (bisection on branch existence, Newton on F = 0, \
         det J = 0), evaluated at every point of the engine curve: {engine_report}The boundary does not depend on \
         the rates (weight decay is scaled by each parameter's rate, so the fixed-point equations contain no \
         rate). Dashed: the edge of the basin of the non-collapsed \
         state seen from the matched symmetric start (labels at the random start's scale, unit within-class \
         variance, W = I), from the reduced ODE integrated to the same horizon; this edge does depend on \
         eta_w/eta_x. Markers: long full-batch microscopic runs (random starts); a run collapses when its mean \
         inter-label distance falls below 1% of its peak. Above f_c every run must collapse; below it, runs can \
         still fall into the collapsed state's basin (which exists for every lambda > 0). Critical slowing down: \
         {slowing}\n\n{table}",
        figure_md(&study.name, "head_phase", "Weight-decay phase diagram: theory boundary and simulation outcomes")
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"points": summary, "engine_boundary": engine_summary}) })
}

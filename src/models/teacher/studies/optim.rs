//! Study (p4): Model T's slow collapse rate and SGD-noise spread against the
//! momentum `beta` (`docs/optimisers.md` section 8). Theory lines: the online
//! limit, online SGD at rates `eta/(1-beta)` (slow rate `lambda/(1-beta)`,
//! the spread from the order-parameter ODE at those rates), and the mean
//! map's rate at the study's `D`; markers: online SGD with heavy ball (and
//! Nesterov with `full = true`), and Adam at `beta1 = beta` as empirical
//! markers (no closure, section 5).
use std::path::Path;

use serde_json::json;

use crate::config::Kind;
use crate::error::Result;
use crate::models::common::optimizer::Optimizer;
use crate::models::teacher::config::TeacherConfig;
use crate::models::teacher::online::experiment::{TeacherExperiment, FAST_EFOLDS};
use crate::models::teacher::online::momentum::{critical_momentum, mean_map_slow_rate, online_slow_rate};
use crate::models::teacher::online::reduced::OrderParams;
use crate::models::teacher::online::theory::TeacherTheory;
use crate::models::teacher::statistics::Teacher;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::{estimate, fit_decay_rate, Estimate};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

/// Slow e-folds (at the online rate) covered by a momentum run.
const EFOLDS: f64 = 5.0;

/// `tr Sigma` of a state.
fn spread(o: &OrderParams) -> f64 {
    (0..o.dim).map(|i| o.s[i * o.dim + i]).sum()
}

/// One measured point.
struct Point {
    rule: &'static str,
    beta: f64,
    theory: f64,
    mean_map: f64,
    fit: Estimate,
    spread: Estimate,
    spread_theory: f64,
}

/// Adam's empirical collapse rate of one run: the log-linear slope of the
/// minimum label distance after its peak, over the points between 1/1.5
/// and 1/20 of the peak (Adam's decay need not be exponential; this is the
/// mean e-folding rate over that range).
fn post_peak_rate(t: &[f64], sep: &[f64]) -> Option<f64> {
    let (ip, &peak) = sep.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let pts: Vec<(f64, f64)> = t[ip..].iter().zip(&sep[ip..]).take_while(|(_, &s)| s >= peak / 20.0).filter(|(_, &s)| s <= peak / 1.5).map(|(a, b)| (*a, *b)).collect();
    let (tt, ss): (Vec<f64>, Vec<f64>) = pts.into_iter().unzip();
    fit_decay_rate(&tt, &ss, f64::NEG_INFINITY, f64::INFINITY)
}

fn measure(base: &toml::Table, study: &str, rule: &'static str, beta: f64, sgd_rate: f64) -> Result<Point> {
    let key = if rule == "adam" { "beta1" } else { "momentum" };
    let probe = TeacherConfig::from_table(base, &[format!("optimizer={rule}"), format!("{key}={beta}")], study)?;
    let teacher = Teacher::new(probe.teacher, probe.classes);
    let raw = [probe.eta_x, probe.eta_y, probe.label_noise, probe.sigma, probe.a];
    let (theory, mean_map) = match probe.optimizer {
        Optimizer::Adam { .. } => (f64::NAN, f64::NAN),
        opt => (online_slow_rate(&teacher, &raw, beta), mean_map_slow_rate(opt, &teacher, &raw, probe.input_dim).unwrap_or(f64::NAN)),
    };
    // Adam's time scale is not known in advance: its runs get the SGD horizon.
    let t_max = if rule == "adam" { EFOLDS / sgd_rate } else { EFOLDS / theory };
    let cfg = TeacherConfig::from_table(base, &[format!("optimizer={rule}"), format!("{key}={beta}"), format!("t_max={t_max}")], study)?;
    let exp = TeacherExperiment::run(&cfg)?;
    let fits: Vec<f64> = if rule == "adam" {
        exp.seeds.iter().filter_map(|s| post_peak_rate(&s.run.times, &s.run.metrics.iter().map(|m| m.base.min_label_distance).collect::<Vec<_>>())).collect()
    } else {
        exp.seeds.iter().filter_map(|s| s.fitted_rate).collect()
    };
    // The spread at the end of the fast phase, where it is quasi-static
    // (Sigma* = k E_res); by the end of a collapse E_res and Sigma vanish.
    let k = exp.fast_index();
    let spreads: Vec<f64> = exp.seeds.iter().map(|s| spread(&s.run.order[k])).collect();
    let spread_theory = if rule == "adam" { f64::NAN } else { exp.seeds.iter().map(|s| spread(&s.theory_states[k])).sum::<f64>() / exp.seeds.len() as f64 };
    Ok(Point { rule, beta, theory, mean_map, fit: estimate(&fits), spread: estimate(&spreads), spread_theory })
}

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["betas", "adam_beta1", "full", "full_betas", "full_input_dim", "full_seeds"])?;
    let unit = Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: true };
    let full = study.bool("full", false)?;
    let mut base = study.params();
    // Every key is read (and range-checked) whether or not `full` selects it,
    // so a bad paper-size value is an error at default size too.
    let full_input_dim = study.real_in("full_input_dim", 800.0, Kind::POSITIVE)? as i64;
    let full_seeds = study.real_in("full_seeds", 8.0, Kind::POSITIVE)? as i64;
    let full_betas = study.reals_in("full_betas", &[0.0, 0.25, 0.5, 0.65, 0.75, 0.8, 0.85], unit)?;
    let default_betas = study.reals_in("betas", &[0.0, 0.5, 0.75], unit)?;
    let (betas, rules): (Vec<f64>, Vec<&'static str>) = if full {
        base.insert("input_dim".into(), toml::Value::Integer(full_input_dim));
        base.insert("seeds".into(), toml::Value::Integer(full_seeds));
        (full_betas, vec!["momentum", "nesterov"])
    } else {
        (default_betas, vec!["momentum"])
    };
    let adam_b1 = study.reals_in("adam_beta1", &[0.5, 0.9], unit)?;
    let probe = TeacherConfig::from_table(&base, &[], &study.name)?;
    let teacher = Teacher::new(probe.teacher, probe.classes);
    let raw = probe.ode_params();
    let sgd_rate = online_slow_rate(&teacher, &raw, 0.0);
    let mut pts = Vec::new();
    for &rule in &rules {
        for &b in &betas {
            pts.push(measure(&base, &study.name, rule, b, sgd_rate)?);
        }
    }
    for &b in &adam_b1 {
        pts.push(measure(&base, &study.name, "adam", b, sgd_rate)?);
    }
    // Theory lines over beta up to the stability bound beta < 1 - eta_x/2.
    let top = (critical_momentum(probe.eta_x) - 0.02).min(0.95).max(betas.iter().cloned().fold(0.0, f64::max));
    let grid: Vec<f64> = (0..=40).map(|i| top * i as f64 / 40.0).collect();
    let online: Vec<(f64, f64)> = grid.iter().map(|&b| (b, online_slow_rate(&teacher, &raw, b))).collect();
    let mapped: Vec<(f64, f64)> = grid.iter().map(|&b| (b, mean_map_slow_rate(Optimizer::Momentum { beta: b }, &teacher, &raw, probe.input_dim).unwrap_or(f64::NAN))).collect();
    let mut left = Panel::new(&format!("Slow collapse rate (D = {})", probe.input_dim), "momentum beta (Adam: beta1)", "slow collapse rate per unit time").log_y().legend(Legend::UpperLeft);
    left = left.line("online limit lambda/(1-beta)", online, 0).dashed(&format!("mean map at D = {}", probe.input_dim), mapped, 1);
    for (ci, rule) in rules.iter().enumerate() {
        let m = pts.iter().filter(|p| p.rule == *rule).map(|p| (p.beta, p.fit.mean, p.fit.ci95[0], p.fit.ci95[1])).collect();
        left = left.markers(&format!("{rule}: SGD (95% CI)"), m, ci, if ci == 0 { Shape::Circle } else { Shape::Triangle });
    }
    let am = pts.iter().filter(|p| p.rule == "adam").map(|p| (p.beta, p.fit.mean, p.fit.ci95[0], p.fit.ci95[1])).collect();
    left = left.markers("Adam (empirical, post-peak slope)", am, 3, Shape::Square);
    // Spread: the ODE at the online rates, from the config's expected start,
    // at the first grid time after the fast phase (as the markers).
    let spread_line: Vec<(f64, f64)> = grid
        .iter()
        .filter_map(|&b| {
            let c = TeacherConfig::from_table(&base, &["optimizer=momentum".into(), format!("momentum={b}"), format!("t_max={}", EFOLDS / online_slow_rate(&teacher, &raw, b))], &study.name).ok()?;
            let th = TeacherTheory::from_config(&c).ok()?;
            let t_from = (FAST_EFOLDS / th.fast_rate()).min(0.5 * c.t_max);
            let t = c.time_grid().into_iter().find(|&t| t >= t_from)?;
            let states = th.trajectory(&[0.0, t]).ok()?;
            Some((b, spread(states.last()?)))
        })
        .collect();
    let mut right = Panel::new("SGD-noise spread after the fast phase", "momentum beta", "tr Sigma").log_y().legend(Legend::UpperLeft);
    right = right.line("ODE at rates eta/(1-beta)", spread_line, 0);
    for (ci, rule) in rules.iter().enumerate() {
        let m = pts.iter().filter(|p| p.rule == *rule).map(|p| (p.beta, p.spread.mean, p.spread.ci95[0], p.spread.ci95[1])).collect();
        right = right.markers(&format!("{rule}: SGD (95% CI)"), m, ci, if ci == 0 { Shape::Circle } else { Shape::Triangle });
    }
    Figure::new(vec![left, right]).save(dir, "optim_teacher")?;

    let mut table = String::from("| rule | beta (Adam: beta1) | online theory lambda/(1-beta) | mean map at D | fitted (95% CI, seeds) | fitted / theory | tr Sigma after the fast phase: SGD (95% CI) | ODE |\n|---|---|---|---|---|---|---|---|\n");
    let mut rows = Vec::new();
    let mut res = Vec::new();
    let na = |v: f64| if v.is_finite() { format!("{v:.5}") } else { "none (empirical)".into() };
    for p in &pts {
        table += &format!(
            "| {} | {} | {} | {} | {:.5} [{:.5}, {:.5}] ({}) | {} | {:.4} [{:.4}, {:.4}] | {} |\n",
            p.rule, p.beta, na(p.theory), na(p.mean_map), p.fit.mean, p.fit.ci95[0], p.fit.ci95[1], p.fit.n,
            if p.theory.is_finite() { format!("{:.4}", p.fit.mean / p.theory) } else { "-".into() },
            p.spread.mean, p.spread.ci95[0], p.spread.ci95[1], if p.spread_theory.is_finite() { format!("{:.4}", p.spread_theory) } else { "-".into() }
        );
        rows.push(vec![["momentum", "nesterov", "adam"].iter().position(|r| *r == p.rule).unwrap_or(0) as f64, p.beta, p.theory, p.mean_map, p.fit.mean, p.fit.ci95[0], p.fit.ci95[1], p.spread.mean, p.spread_theory]);
        let th = |v: f64| if v.is_finite() { json!(v) } else { serde_json::Value::Null };
        let mut o = json!({"rule": p.rule, "beta": p.beta, "online_slow_rate": th(p.theory), "mean_map_slow_rate": th(p.mean_map), "fitted_slow_rate": p.fit,
            "spread": p.spread, "spread_theory": th(p.spread_theory)});
        if p.rule == "adam" {
            let note = "Adam has no closed order-parameter theory (docs/optimisers.md section 5): simulation only";
            o["online_slow_rate_note"] = json!(note);
            o["mean_map_slow_rate_note"] = json!(note);
            o["spread_theory_note"] = json!(note);
        }
        res.push(o);
    }
    write_csv(&dir.join("optim_teacher.csv"), &["rule_momentum0_nesterov1_adam2", "beta", "online_rate", "mean_map_rate", "fit_mean", "fit_lo", "fit_hi", "spread_sgd", "spread_ode"], &rows)?;
    let markdown = format!(
        "{}\nModel T, online SGD, mixture teacher with label noise. In the online limit at fixed beta, heavy ball and Nesterov \
         are online SGD at the rates eta/(1-beta), drift and noise (docs/optimisers.md section 8): the slow collapse rate is \
         lambda/(1-beta) (line; dashed: the mean map's rate at the study's D), and the SGD-noise spread is the ODE's at \
         eta_x/(1-beta) (right, at the first grid time after the fast phase, where it is quasi-static, `Sigma* = k E_res` with \
         `k = eta'/(2 - eta')`, `eta' = eta_x/(1-beta)`; momentum is stable only for eta_x/(1-beta) < 2, i.e. beta < {:.3}). Momentum markers: \
         log-linear fit of the minimum label distance after the fast phase over {EFOLDS} slow e-folds, 95% Student-t \
         intervals over seeds. Adam (squares, at beta1 = the x value, beta2 and eps from the config): empirical, the \
         post-peak log-slope of the label distance between 1/1.5 and 1/20 of its peak; no theory.\n\n{table}",
        figure_md(&study.name, "optim_teacher", "Slow collapse rate and spread against momentum (Model T)"),
        critical_momentum(probe.eta_x)
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"sgd_slow_rate": sgd_rate, "critical_momentum": critical_momentum(probe.eta_x), "points": res}) })
}

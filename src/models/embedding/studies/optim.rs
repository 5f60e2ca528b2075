//! Study (p1): Model E's slow collapse rate under heavy-ball momentum and
//! Nesterov against the momentum `beta` (theory lines: the exact per-mode
//! recursion and its small-step limit `lambda/(1-beta)`, `docs/optimisers.md`
//! section 2), and the approach of the simulated rate to that limit as the
//! step goes to zero.
use std::path::Path;

use rayon::prelude::*;
use serde_json::json;

use crate::config::Kind;
use crate::error::Result;
use crate::models::embedding::config::EmbeddingConfig;
use crate::models::embedding::optimizer::Optimizer;
use crate::models::embedding::reduced::class_level::ClassLevelSystem;
use crate::models::embedding::reduced::momentum::{self, continuum_rate, discrete_rate};
use crate::models::embedding::simulation::simulate;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::stats::{estimate, fit_decay_rate, Estimate};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

/// E-folds of the slow mode inside the fit window: enough for a clean
/// slope, few enough that the separation stays far above the round-off
/// floor of nearly equal labels (`docs/embedding.md` section 5).
const FIT_EFOLDS: f64 = 10.0;
/// E-folds of the fast contamination (relative to the slow mode) before the window opens.
const FAST_EFOLDS: f64 = 6.0;

/// One measured point.
struct Point {
    rule: &'static str,
    beta: f64,
    dt: f64,
    lambda: f64,
    exact: f64,
    continuum: f64,
    fit: Estimate,
    window: [f64; 2],
}

/// Per-unit-time decay rate of the slower root of the slow mode's partner
/// and of every faster mode: the contamination the fit window must outwait.
fn slowest_other_rate(opt: Optimizer, rates: &[f64], lambda: f64, dt: f64) -> f64 {
    let (a, c) = momentum::recursion(opt, dt * lambda).expect("linear rule");
    let disc = a * a - 4.0 * c;
    // The slow mode's second root (|r_-| = c/|r_+| for real roots, equal modulus otherwise).
    let partner = if disc >= 0.0 && c > 0.0 { -(c / momentum::dominant_root(a, c)).ln() / dt } else if c > 0.0 { -c.sqrt().ln() / dt } else { f64::INFINITY };
    rates.iter().filter(|&&l| l > lambda * (1.0 + 1e-9)).filter_map(|&l| discrete_rate(opt, l, dt)).fold(partner, f64::min)
}

fn measure(base: &toml::Table, study: &str, rule: &'static str, beta: f64, dt: f64) -> Result<Point> {
    let probe = EmbeddingConfig::from_table(base, &[format!("dt={dt}"), format!("optimizer={rule}"), format!("momentum={beta}")], study)?;
    let a = probe.label_weights()?;
    let spectrum = ClassLevelSystem::new(&a, probe.eta_x, probe.eta_y, 1)?.spectrum()?;
    let lambda = spectrum.slow_rate;
    let opt = probe.optimizer;
    let exact = discrete_rate(opt, lambda, dt).expect("linear rule");
    let rates: Vec<f64> = spectrum.modes.iter().map(|m| m.rate).filter(|&r| r > 0.0).collect();
    let other = slowest_other_rate(opt, &rates, lambda, dt);
    let t_from = (FAST_EFOLDS / (other - exact)).max(5.0 / other);
    let t_to = t_from + FIT_EFOLDS / exact;
    let cfg = EmbeddingConfig::from_table(
        base,
        &[format!("dt={dt}"), format!("optimizer={rule}"), format!("momentum={beta}"), format!("t_max={t_to}"), format!("t_min={}", (t_from / 50.0).min(0.1))],
        study,
    )?;
    let first = cfg.design.seed;
    let fits: Vec<f64> = (0..cfg.seeds as u64)
        .into_par_iter()
        .map(|s| {
            let run = simulate(&cfg, &a, spectrum.max_stable_dt(), first + s)?;
            let t: Vec<f64> = run.metrics.iter().map(|m| m.t).collect();
            let sep: Vec<f64> = run.metrics.iter().map(|m| m.min_label_distance).collect();
            Ok(fit_decay_rate(&t, &sep, t_from, t_to).unwrap_or(f64::NAN))
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(Point { rule, beta, dt, lambda, exact, continuum: continuum_rate(beta, lambda), fit: estimate(&fits), window: [t_from, t_to] })
}

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["betas", "dt", "convergence_betas", "convergence_dts", "adam_dts", "adam_frustrated"])?;
    let unit = Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: true };
    let betas = study.reals_in("betas", &[0.0, 0.3, 0.5, 0.7, 0.8, 0.9], unit)?;
    let dt = study.real_in("dt", 0.025, Kind::POSITIVE)?;
    let conv_betas = study.reals_in("convergence_betas", &[0.0, 0.5, 0.9], unit)?;
    let conv_dts = study.reals_in("convergence_dts", &[0.05, 0.025, 0.0125], Kind::POSITIVE)?;
    let adam_dts = study.reals_in("adam_dts", &[0.004, 0.002, 0.001, 0.0005], Kind::POSITIVE)?;
    let adam_fs = study.reals_in("adam_frustrated", &[0.1, 0.3], Kind::Real { min: 0.0, max: 1.0, open_min: true, open_max: false })?;
    let base = study.params();
    let mut sweep = Vec::new();
    for rule in ["momentum", "nesterov"] {
        for &beta in &betas {
            sweep.push(measure(&base, &study.name, rule, beta, dt)?);
        }
    }
    let mut conv = Vec::new();
    for &beta in &conv_betas {
        for &h in &conv_dts {
            conv.push(measure(&base, &study.name, "momentum", beta, h)?);
        }
    }
    let lambda = sweep.first().map_or(f64::NAN, |p| p.lambda);
    let grid: Vec<f64> = (0..=90).map(|i| i as f64 * 0.01).filter(|b| *b <= betas.iter().cloned().fold(0.0, f64::max) + 1e-12).collect();
    let mut left = Panel::new(&format!("Slow collapse rate against momentum (dt = {dt})"), "momentum beta", "slow rate per unit time").log_y().legend(Legend::UpperLeft);
    for (ci, (rule, opt)) in [("momentum", Optimizer::Momentum { beta: 0.0 }), ("nesterov", Optimizer::Nesterov { beta: 0.0 })].into_iter().enumerate() {
        let line: Vec<(f64, f64)> = grid
            .iter()
            .map(|&b| {
                let o = match opt {
                    Optimizer::Momentum { .. } => Optimizer::Momentum { beta: b },
                    _ => Optimizer::Nesterov { beta: b },
                };
                (b, discrete_rate(o, lambda, dt).expect("linear"))
            })
            .collect();
        let pts = sweep.iter().filter(|p| p.rule == rule).map(|p| (p.beta, p.fit.mean, p.fit.ci95[0], p.fit.ci95[1])).collect();
        left = left.line(&format!("{rule}: exact map rate"), line, ci).markers(&format!("{rule}: simulation (95% CI)"), pts, ci, if ci == 0 { Shape::Circle } else { Shape::Triangle });
    }
    left = left.dashed("small-step limit lambda/(1-beta)", grid.iter().map(|&b| (b, continuum_rate(b, lambda))).collect(), 2);
    let mut right = Panel::new("Approach to the small-step limit (heavy ball)", "step dt", "|rate / [lambda/(1-beta)] - 1|").log_x().log_y().legend(Legend::LowerRight);
    for (ci, &beta) in conv_betas.iter().enumerate() {
        let pts: Vec<_> = conv.iter().filter(|p| p.beta == beta).collect();
        let lo = conv_dts.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = conv_dts.iter().cloned().fold(0.0, f64::max);
        let line = (0..=20)
            .map(|i| lo * (hi / lo).powf(i as f64 / 20.0))
            .map(|h| (h, (discrete_rate(Optimizer::Momentum { beta }, lambda, h).expect("linear") / continuum_rate(beta, lambda) - 1.0).abs()))
            .collect();
        let marks = pts
            .iter()
            .map(|p| {
                let rel = |v: f64| (v / p.continuum - 1.0).abs();
                let (a, b) = (rel(p.fit.ci95[0]), rel(p.fit.ci95[1]));
                (p.dt, rel(p.fit.mean), a.min(b), a.max(b))
            })
            .collect();
        right = right.line(&format!("beta = {beta}: exact map"), line, ci).markers(&format!("beta = {beta}: simulation"), marks, ci, Shape::Circle);
    }
    let (adam_panel, adam_table, adam_json) = adam_check(study, &adam_dts, &adam_fs)?;
    Figure::new(vec![left, right, adam_panel]).save(dir, "optim_embedding")?;
    let mut rows = Vec::new();
    let mut table = String::from("| rule | beta | dt | lambda (flow) | lambda/(1-beta) | exact map rate | fitted (95% CI, seeds) | fitted / exact - 1 | fit window |\n|---|---|---|---|---|---|---|---|---|\n");
    let mut res = Vec::new();
    for (set, pts) in [("beta sweep", &sweep), ("dt convergence", &conv)] {
        for p in pts.iter() {
            table += &format!(
                "| {} | {} | {} | {:.6} | {:.6} | {:.6} | {:.6} [{:.6}, {:.6}] ({}) | {:+.1e} | [{:.1}, {:.1}] |\n",
                p.rule, p.beta, p.dt, p.lambda, p.continuum, p.exact, p.fit.mean, p.fit.ci95[0], p.fit.ci95[1], p.fit.n, p.fit.mean / p.exact - 1.0, p.window[0], p.window[1]
            );
            rows.push(vec![f64::from(u8::from(p.rule == "nesterov")), p.beta, p.dt, p.lambda, p.continuum, p.exact, p.fit.mean, p.fit.ci95[0], p.fit.ci95[1]]);
            res.push(json!({"set": set, "rule": p.rule, "beta": p.beta, "dt": p.dt, "flow_slow_rate": p.lambda, "continuum_rate": p.continuum,
                "exact_map_rate": p.exact, "fitted_slow_rate": p.fit, "fit_window": p.window}));
        }
    }
    write_csv(&dir.join("optim_embedding.csv"), &["nesterov", "beta", "dt", "flow_rate", "continuum_rate", "exact_map_rate", "fit_mean", "fit_lo", "fit_hi"], &rows)?;
    let markdown = format!(
        "{}\nModel E under full-batch heavy-ball momentum and Nesterov. The slow rate is the log-linear decay rate of \
         the minimum inter-label distance. Lines: the exact per-step decay of the slowest separating mode, \
         `-ln|r_max|/dt` with `r_max` the dominant root of `r^2 - a r + c = 0` (heavy ball `a = 1 + beta - dt lambda`, \
         `c = beta`; Nesterov `a = (1 - dt lambda)(1 + beta)`, `c = (1 - dt lambda) beta`), and its small-step limit \
         `lambda/(1-beta)` (dashed). Right: the distance of the simulated rate from that limit shrinks linearly in dt, \
         as the map's expansion `lambda/(1-beta) + dt lambda^2 (1+beta)/(2(1-beta)^3)` says. Seeds differ only in the \
         initial state, so the intervals measure fast-mode contamination of the window, not noise.\n\n{table}\n\
         **Adam (third panel).** Two classes, `eta_y = eta_x/4`, samples started near 0, `beta1 = 0.9`, `beta2 = 0.99`: \
         from `t0 = 1.5` (samples on their targets) the sign flow predicts that the labels approach each other in every \
         coordinate at speed `2 eta_y`, whatever the frustration. Error: the largest deviation of the simulated label \
         distance from that prediction over `[t0, t0 + 0.8 T]` (`T` the predicted merging time), relative to the distance \
         at `t0`, mean and 95% CI over seeds; it shrinks as dt -> 0 at fixed betas (the moment windows `dt/(1-beta)` shrink).\n\n{adam_table}",
        figure_md(&study.name, "optim_embedding", "Slow collapse rate against momentum")
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"points": res, "adam_sign_flow": adam_json}) })
}

/// Full-batch steps of Model E under `cfg`'s optimiser from seed `seed`'s
/// random start: the labels at `t0` and the minimum label distance at
/// `t0 + tau` for each `tau` (sorted). Used for Adam's sign-flow check,
/// which needs the state at `t0`, not only the metrics.
pub fn labels_then_separations(cfg: &EmbeddingConfig, a: &crate::models::common::frustration::LabelWeights, seed: u64, t0: f64, taus: &[f64]) -> (Vec<f64>, Vec<f64>) {
    use crate::models::embedding::optimizer::OptimizerState;
    use crate::models::embedding::simulation::{gd_step, Embeddings, Rates};
    let mut e = Embeddings::random(a, cfg.dim, cfg.init_scale, seed);
    let r = Rates { eta_x: cfg.eta_x, eta_y: cfg.eta_y, per_class: a.per_class() };
    let nx = e.x.len();
    let mut opt = OptimizerState::new(cfg.optimizer, nx + e.y.len());
    let mut scratch = Vec::new();
    let mut step = |e: &mut Embeddings| {
        opt.next_step();
        opt.begin(0, &mut e.x);
        opt.begin(nx, &mut e.y);
        gd_step(a, e, r, cfg.dt, &mut scratch);
        opt.finish(0, &mut e.x, cfg.dt * cfg.eta_x, 0.0);
        opt.finish(nx, &mut e.y, cfg.dt * cfg.eta_y, 0.0);
    };
    let k0 = (t0 / cfg.dt).round() as u64;
    for _ in 0..k0 {
        step(&mut e);
    }
    let y0 = e.y.clone();
    let mut done = 0u64;
    let d = cfg.dim;
    let k = a.classes();
    let seps = taus
        .iter()
        .map(|&tau| {
            let target = (tau / cfg.dt).round() as u64;
            while done < target {
                step(&mut e);
                done += 1;
            }
            let mut best = f64::INFINITY;
            for c in 0..k {
                for b in c + 1..k {
                    best = best.min((0..d).map(|j| (e.y[c * d + j] - e.y[b * d + j]).powi(2)).sum::<f64>().sqrt());
                }
            }
            best
        })
        .collect();
    (y0, seps)
}

/// Adam against the two-class sign flow (`reduced::sign_flow`): for each
/// frustration and step, the worst relative deviation of the simulated label
/// distance from the prediction started at the simulated labels at `t0`.
fn adam_check(study: &StudyFile, dts: &[f64], fs: &[f64]) -> Result<(Panel, String, serde_json::Value)> {
    use crate::models::embedding::reduced::sign_flow::{two_class_collapse_time, two_class_separation};
    let (t0, eta_y, d, seeds) = (1.5, 0.25, 6usize, 4u64);
    let mut panel = Panel::new("Adam: sign-flow limit (K = 2)", "step dt", "max |sep - sign flow| / sep(t0)").log_x().log_y().legend(Legend::LowerRight);
    let mut table = String::from("| f | dt | error (mean, 95% CI over seeds) | predicted merging time after t0 (seed mean) |\n|---|---|---|---|\n");
    let mut out = Vec::new();
    for (ci, &f) in fs.iter().enumerate() {
        let mut pts = Vec::new();
        for &dt in dts {
            let cfg = EmbeddingConfig::from_sets(&[
                "classes=2".into(), "per_class=40".into(), format!("dim={d}"), format!("frustrated={f}"), format!("eta_y={eta_y}"), "init_scale=0.1".into(),
                "optimizer=adam".into(), "beta1=0.9".into(), "beta2=0.99".into(), format!("dt={dt}"),
            ])?;
            let a = cfg.label_weights()?;
            let per_seed: Vec<(f64, f64)> = (0..seeds)
                .into_par_iter()
                .map(|s| {
                    let (y0, _) = labels_then_separations(&cfg, &a, s, t0, &[]);
                    let tc = two_class_collapse_time(&y0, d, eta_y);
                    let taus: Vec<f64> = (1..=8).map(|i| 0.1 * i as f64 * tc).collect();
                    let (y0, seps) = labels_then_separations(&cfg, &a, s, t0, &taus);
                    let s0 = two_class_separation(&y0, d, eta_y, 0.0);
                    let err = taus.iter().zip(&seps).map(|(t, v)| (v - two_class_separation(&y0, d, eta_y, *t)).abs() / s0).fold(0.0, f64::max);
                    (err, tc)
                })
                .collect();
            let e = estimate(&per_seed.iter().map(|p| p.0).collect::<Vec<_>>());
            let tc = per_seed.iter().map(|p| p.1).sum::<f64>() / per_seed.len() as f64;
            pts.push((dt, e.mean, e.ci95[0].max(e.mean * 1e-3), e.ci95[1]));
            table += &format!("| {f} | {dt} | {:.4} [{:.4}, {:.4}] | {tc:.3} |\n", e.mean, e.ci95[0], e.ci95[1]);
            out.push(json!({"frustrated": f, "dt": dt, "relative_error": e, "merging_time": tc}));
        }
        panel = panel.markers(&format!("Adam, f = {f} (95% CI)"), pts.clone(), ci, Shape::Circle).line("", pts.iter().map(|p| (p.0, p.1)).collect(), ci);
    }
    let _ = study;
    Ok((panel, table, json!(out)))
}

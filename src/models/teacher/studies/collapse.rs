//! Study (j): collapse in Model T without a head. Cases: the realizable
//! mixture (`sigma = f = 0`, no collapse), label noise `f` (collapse at the
//! slow separating rate of the ODE, compared with fits to the simulation),
//! the argmax teacher (intrinsic frustration at `f = 0`) and a noisy mixture
//! (`sigma > 0`). Each case reports the fixed point its ODE reaches and the
//! stability of that fixed point.
use std::path::Path;

use serde_json::json;

use crate::config::Kind;
use crate::error::Result;
use crate::models::teacher::config::{TeacherConfig, TeacherKind};
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};
use crate::models::teacher::online::experiment::TeacherExperiment;
use crate::models::teacher::online::reduced::row_rates;
use crate::models::teacher::statistics::Teacher;

/// `t_max` of a case: ~12 e-folds of its slow rate within `[20, t_cap]`.
fn horizon(base: &toml::Table, sets: &[String], ctx: &str, t_cap: f64) -> Result<TeacherConfig> {
    let probe = TeacherConfig::from_table(base, sets, ctx)?;
    let slow = row_rates(&Teacher::new(probe.teacher, probe.classes), &probe.ode_params()).separating.0;
    let t = if slow > 1e-9 { (12.0 / slow).clamp(20.0, t_cap) } else { 60.0f64.min(t_cap) };
    let mut s = sets.to_vec();
    s.push(format!("t_max={t}"));
    TeacherConfig::from_table(base, &s, ctx)
}

pub fn run(study: &StudyFile, dir: &Path, progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["noises", "sigma_case", "t_cap"])?;
    let noises = study.reals_in("noises", &[0.05, 0.1, 0.2], Kind::Real { min: 0.0, max: 1.0, open_min: false, open_max: false })?;
    let sigma_case = study.real_in("sigma_case", 0.5, Kind::NON_NEGATIVE)?;
    let t_cap = study.real_in("t_cap", 400.0, Kind::POSITIVE)?;
    let base = study.params();
    let mut cases: Vec<(String, Vec<String>)> = vec![("mixture, sigma = 0, f = 0".into(), vec!["teacher=\"mixture\"".into(), "sigma=0".into(), "label_noise=0".into()])];
    for &f in &noises {
        cases.push((format!("mixture, sigma = 0, f = {f}"), vec!["teacher=\"mixture\"".into(), "sigma=0".into(), format!("label_noise={f}")]));
    }
    cases.push(("argmax, f = 0".into(), vec!["teacher=\"argmax\"".into(), "label_noise=0".into()]));
    cases.push((format!("mixture, sigma = {sigma_case}, f = 0"), vec!["teacher=\"mixture\"".into(), format!("sigma={sigma_case}"), "label_noise=0".into()]));

    let mut sep = Panel::new("Label separation", "time t", "min inter-label distance").log_x().log_y().legend(Legend::LowerLeft);
    let mut ratio = Panel::new("Separation relative to within-class spread", "time t", "separation / spread").log_x().log_y().legend(Legend::UpperLeft);
    let mut acc = Panel::new("Accuracy (teacher class)", "time t", "accuracy").log_x().legend(Legend::LowerRight);
    let mut rate_pts = Vec::new();
    let mut rows = Vec::new();
    let mut results = Vec::new();
    let mut table = String::from(
        "| case | ODE slow rate | fitted: SGD (95% CI) | fitted: ODE | attractor (stability, zero modes) | final sep. ratio | final sep./spread SGD / ODE | final accuracy SGD / ODE |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (ci, (name, sets)) in cases.iter().enumerate() {
        let started = std::time::Instant::now();
        let cfg = horizon(&base, sets, &study.name, t_cap)?;
        let exp = TeacherExperiment::run(&cfg)?;
        if progress {
            eprintln!("  {name}: {:.1} s", started.elapsed().as_secs_f64());
        }
        let fp = exp.theory.attractor()?;
        let t = exp.times();
        let last = t.len() - 1;
        let series = |f: &dyn Fn(&crate::models::teacher::metrics::TeacherMetrics) -> f64| -> (Vec<(f64, f64)>, Vec<(f64, f64, f64, f64)>) {
            let th = (1..t.len()).map(|k| (t[k], exp.metric_at(k, true, f).mean)).collect();
            let sm = (1..t.len())
                .step_by(2)
                .map(|k| {
                    let e = exp.metric_at(k, false, f);
                    (t[k], e.mean, e.ci95[0].max(e.mean * 1e-3), e.ci95[1])
                })
                .collect();
            (th, sm)
        };
        let (th, sm) = series(&|m| m.base.min_label_distance);
        sep = sep.line(name, th, ci).markers("", sm, ci, Shape::Circle);
        let (th, sm) = series(&|m| m.base.separation_to_spread);
        ratio = ratio.line(name, th, ci).markers("", sm, ci, Shape::Circle);
        let (th, sm) = series(&|m| m.base.accuracy);
        acc = acc.line(name, th, ci).markers("", sm, ci, Shape::Triangle);
        let fr = exp.fitted_rate();
        let slow = exp.theory.slow_rate();
        if cfg.teacher == TeacherKind::Mixture && cfg.sigma == 0.0 {
            if let Some(r) = fr {
                rate_pts.push((cfg.label_noise, r.mean, r.ci95[0], r.ci95[1]));
            }
        }
        let s2s_sim = exp.metric_at(last, false, |m| m.base.separation_to_spread);
        let s2s_th = exp.metric_at(last, true, |m| m.base.separation_to_spread).mean;
        let acc_sim = exp.metric_at(last, false, |m| m.base.accuracy);
        let acc_th = exp.metric_at(last, true, |m| m.base.accuracy).mean;
        table += &format!(
            "| {name} | {slow:.5} | {} | {} | {} ({}, {}) | {:.3e} | {:.3} / {:.3} | {:.4} / {:.4} |\n",
            fr.map_or("n/a".into(), |r| format!("{:.5} [{:.5}, {:.5}]", r.mean, r.ci95[0], r.ci95[1])),
            exp.fitted_rate_theory().map_or("n/a".into(), |r| format!("{r:.5}")),
            fp.kind,
            fp.stability,
            fp.zero_modes,
            exp.separation_ratio(),
            s2s_sim.mean,
            s2s_th,
            acc_sim.mean,
            acc_th
        );
        rows.push(vec![ci as f64, cfg.label_noise, cfg.sigma, slow, fr.map_or(f64::NAN, |r| r.mean), exp.separation_ratio(), s2s_sim.mean, s2s_th]);
        // The attractor's metrics have no time, and separation/spread is not
        // a number where the spread is 0: explain those nulls (and the ODE's
        // final separation/spread) next to them.
        let mut fp_json = json!(fp);
        if let Some(m) = fp_json.get_mut("metrics").and_then(|m| m.as_object_mut()) {
            if m.get("t").is_some_and(|t| t.is_null()) {
                m.insert("t_note".into(), json!("null: a fixed point has no time"));
            }
            if m.get("separation_to_spread").is_some_and(|x| x.is_null()) {
                m.insert("separation_to_spread_note".into(), json!("null: the within-class spread is 0 at the fixed point, so separation/spread is not a number"));
            }
        }
        let mut case = json!({"case": name, "config": cfg.to_json(), "ode_slow_rate": slow, "rates": exp.theory.rates,
            "fitted_slow_rate": fr, "fitted_slow_rate_ode": exp.fitted_rate_theory(), "fixed_point": fp_json,
            "final_separation_ratio": exp.separation_ratio(), "final_separation_to_spread": s2s_sim,
            "final_separation_to_spread_ode": s2s_th, "final_accuracy": acc_sim, "final_accuracy_ode": acc_th,
            "max_deviation_from_ode": exp.deviation()});
        if !s2s_th.is_finite() {
            case["final_separation_to_spread_ode_note"] = json!("null: the ODE's within-class spread at t_max is 0, so separation/spread is not a number");
        }
        if exp.fitted_rate_theory().is_none() {
            case["fitted_slow_rate_ode_note"] = json!("null: no decay could be fitted to the ODE's separation over the fit window");
        }
        if fr.is_none() {
            case["fitted_slow_rate_note"] = json!("null: no decay could be fitted to the simulated separation over the fit window");
        }
        results.push(case);
    }
    Figure::new(vec![sep, ratio, acc]).save(dir, "teacher_collapse")?;
    // Slow rate against label noise: closed form (2 x 2 block) and fits.
    let probe = TeacherConfig::from_table(&base, &["sigma=0".into()], &study.name)?;
    let curve = |kind: TeacherKind| -> Vec<(f64, f64)> {
        let t = Teacher::new(kind, probe.classes);
        let fmax = (probe.classes - 1) as f64 / probe.classes as f64;
        (0..=60)
            .map(|i| {
                let f = 0.5 * fmax * i as f64 / 60.0;
                let mut p = probe.ode_params();
                p[2] = f;
                (f, row_rates(&t, &p).separating.0)
            })
            .collect()
    };
    let mix = curve(TeacherKind::Mixture);
    let arg = curve(TeacherKind::Argmax);
    let curve_rows: Vec<Vec<f64>> = mix.iter().zip(&arg).map(|(m, a)| vec![m.0, m.1, a.1]).collect();
    let rate_panel = Panel::new("Slow separating rate against label noise", "label noise f", "slow rate")
        .legend(Legend::LowerRight)
        .line("ODE: mixture (sigma = 0)", mix, 0)
        .dashed("ODE: argmax", arg, 1)
        .markers("SGD fit, mixture (95% CI)", rate_pts, 0, Shape::Circle);
    Figure::new(vec![rate_panel]).save(dir, "teacher_slow_rate")?;
    write_csv(&dir.join("teacher_collapse.csv"), &["case", "f", "sigma", "ode_slow_rate", "fitted_rate", "separation_ratio", "sep_to_spread_sim", "sep_to_spread_ode"], &rows)?;
    write_csv(&dir.join("teacher_slow_rate.csv"), &["f", "ode_rate_mixture", "ode_rate_argmax"], &curve_rows)?;
    let markdown = format!(
        "{}\n{}\nSlow rate: smallest eigenvalue of the separating 2 x 2 block of the (R, y) operator; fitted: log-linear fit \
         of the minimum label distance after the fast phase. The separation-to-spread ratio of the ODE tends to a \
         constant when the slowest surviving mode is separating: the model is linear, so the SGD-noise spread \
         (sourced by the residual, itself proportional to the geometry) contracts together with the separation.\n\n{table}",
        figure_md(&study.name, "teacher_collapse", "Model T: collapse cases (lines ODE, markers SGD with 95% CI)"),
        figure_md(&study.name, "teacher_slow_rate", "Model T: slow rate against label noise"),
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"cases": results}) })
}

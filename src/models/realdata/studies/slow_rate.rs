//! Study: slow rate of the label separation against the frustration index on
//! real data, measured (trained encoder) against predicted (exact
//! finite-data flow), for symmetric and pair-flip label noise; the MLP's
//! measured rates for the ordering in phi; and the capacity sweep: encoders
//! on both sides of alpha = N / D = 1.
use std::path::Path;

use serde_json::json;

use crate::models::realdata::config::RealConfig;
use crate::models::realdata::experiment::Experiment;
use super::figure::{ci, MAX_SEEDS, MAX_WIDTH, NOISE_RATE};
use crate::models::realdata::simulation::Prepared;
use crate::config::Kind;
use crate::error::Result;
use crate::report::atomic::write_csv;
use crate::report::plot::{Figure, Legend, Panel, Shape};
use crate::study::runner::{figure_md, StudyFile, StudyOutput};

pub fn run(study: &StudyFile, dir: &Path, _progress: bool) -> Result<StudyOutput> {
    study.check_keys(&["noise_rates", "noise_kinds", "mlp_width", "mlp_noise_rates", "mlp_seeds", "capacity_samples", "capacity_widths", "capacity_mlp_samples", "capacity_noise", "mlp_dt"])?;
    let rates = study.reals_in("noise_rates", &[0.0, 0.1, 0.2, 0.3, 0.4], NOISE_RATE)?;
    let kinds: Vec<String> = study.choices("noise_kinds", &["symmetric", "pair-flip"], &crate::models::realdata::noise::NoiseKind::NAMES)?;
    let mlp_width = study.int("mlp_width", 0, 0, MAX_WIDTH)?;
    let mlp_rates = study.reals_in("mlp_noise_rates", &[0.0, 0.2, 0.4], NOISE_RATE)?;
    let mlp_seeds = study.int("mlp_seeds", 3, 1, MAX_SEEDS)?;
    // Sample counts and widths are integers (a fraction was truncated
    // silently); they stay f64 below because the summary records them so.
    let cap_samples: Vec<f64> = study.ints("capacity_samples", &[], 1, i64::MAX)?.into_iter().map(|n| n as f64).collect();
    let cap_widths: Vec<f64> = study.ints("capacity_widths", &[], 1, MAX_WIDTH)?.into_iter().map(|n| n as f64).collect();
    let cap_mlp_n = study.int("capacity_mlp_samples", 200, 1, i64::MAX)?;
    let cap_noise = study.real_in("capacity_noise", 0.2, NOISE_RATE)?;
    let base = RealConfig::from_table(&study.params(), &study.name)?;
    // The MLP's kernel has a large constant mode (ReLU features have a mean), so it needs a smaller step.
    let mlp_dt = study.real_in("mlp_dt", base.dt, Kind::POSITIVE)?;
    let prep = Prepared::new(&base)?;

    let mut rate_panel = Panel::new("Slow rate against encoder-induced frustration", "phi_Pi = 1 - mu_max(M_Pi) (hat-matrix frustration)", "slow rate of min label distance (1/time)").legend(Legend::LowerRight);
    let mut noise_panel = Panel::new("Against the noise's own frustration index", "phi_T (Model E operator of A = T rows)", "fitted slow rate (1/time)").legend(Legend::UpperLeft);
    let mut rows = Vec::new();
    let mut out = Vec::new();
    let mut table = String::from(
        "| noise | f | phi_T | phi_Pi (95% CI) | adiabatic eta_y phi_Pi | exact slowest rate | exact flow, fitted | measured, fitted (95% CI) | measured / exact-fitted |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (ki, kind) in kinds.iter().enumerate() {
        let mut pts = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for &f in &rates {
            let cfg = base.with("noise_kind", kind.as_str())?.with("noise_rate", f)?;
            let exp = Experiment::run_prepared(&cfg, &prep)?;
            let phi = exp.est(|s| Some(s.induced.frustration));
            let (fr, th, sl, ad) = (exp.fitted_rate(), exp.theory_fitted_rate(), exp.theory_slow_rate(), exp.est(|s| Some(s.induced.adiabatic_slow_rate)));
            pts.0.push(ci(phi.mean, fr));
            pts.1.push((phi.mean, th.mean, th.mean, th.mean));
            pts.2.push((phi.mean, sl.mean));
            pts.3.push((phi.mean, ad.mean));
            pts.4.push(ci(exp.noise_phi, fr));
            rows.push(vec![ki as f64, f, exp.noise_phi, phi.mean, ad.mean, sl.mean, th.mean, fr.mean, fr.ci95[0], fr.ci95[1]]);
            table += &format!(
                "| {kind} | {f} | {:.4} | {:.4} [{:.4}, {:.4}] | {:.4} | {:.4} | {:.4} | {:.4} [{:.4}, {:.4}] | {:.4} |\n",
                exp.noise_phi, phi.mean, phi.ci95[0], phi.ci95[1], ad.mean, sl.mean, th.mean, fr.mean, fr.ci95[0], fr.ci95[1], fr.mean / th.mean
            );
            out.push(json!({"encoder": "linear", "noise_kind": kind, "noise_rate": f, "noise_phi": exp.noise_phi, "induced_frustration": phi,
                "adiabatic_slow_rate": ad, "theory_slow_rate": sl, "theory_fitted_slow_rate": th, "fitted_slow_rate": fr,
                "fitted_per_seed": exp.seeds.iter().map(|s| s.fitted_rate).collect::<Vec<_>>(),
                "theory_fitted_per_seed": exp.seeds.iter().map(|s| s.theory_fitted_rate).collect::<Vec<_>>()}));
        }
        let (m, th, sl, ad, vs_t) = pts;
        rate_panel = rate_panel
            .markers(&format!("{kind}: trained linear encoder"), m, ki, if ki == 0 { Shape::Circle } else { Shape::Square })
            .markers(&format!("{kind}: exact flow, same fit"), th, ki, Shape::Cross)
            .line(&format!("{kind}: exact slowest separating rate"), sl, ki)
            .dashed(&format!("{kind}: adiabatic eta_y phi_Pi"), ad, ki);
        noise_panel = noise_panel.markers(&format!("{kind}: linear"), vs_t, ki, if ki == 0 { Shape::Circle } else { Shape::Square });
    }
    let mut mlp_rows = String::new();
    if mlp_width > 0 {
        let mut m = Vec::new();
        let mut mt = Vec::new();
        for &f in &mlp_rates {
            let cfg = base.with("noise_rate", f)?.with("encoder", "mlp")?.with("width", mlp_width)?.with("seeds", mlp_seeds)?.with("dt", mlp_dt)?;
            let exp = Experiment::run_prepared(&cfg, &prep)?;
            let phi = exp.est(|s| Some(s.induced.frustration));
            let fr = exp.fitted_rate();
            m.push(ci(phi.mean, fr));
            mt.push(ci(exp.noise_phi, fr));
            let sr = exp.separation_ratio();
            mlp_rows += &format!("| symmetric | {f} | {:.4} | {:.4} [{:.4}, {:.4}] | {:.3} | {:.3} | {:.3} |\n", exp.noise_phi, fr.mean, fr.ci95[0], fr.ci95[1], sr.mean,
                exp.at(exp.times.len() - 1, |r| r.noisy_label_fit).mean, exp.at(exp.times.len() - 1, |r| r.test_accuracy).mean);
            rows.push(vec![10.0, f, exp.noise_phi, phi.mean, f64::NAN, f64::NAN, f64::NAN, fr.mean, fr.ci95[0], fr.ci95[1]]);
            out.push(json!({"encoder": "mlp", "width": mlp_width, "noise_rate": f, "noise_phi": exp.noise_phi, "fitted_slow_rate": fr, "final_separation_ratio": sr}));
        }
        rate_panel = rate_panel.markers(&format!("MLP m = {mlp_width} (measured)"), m, 2, Shape::Triangle);
        noise_panel = noise_panel.markers(&format!("MLP m = {mlp_width}"), mt, 2, Shape::Triangle);
    }
    // Capacity: alpha = N / D on both sides of 1.
    let mut cap_panel = Panel::new(&format!("Capacity at noise f = {cap_noise}"), "alpha = N d / P (P encoder weights; linear: N / D)", "final separation / separation at accuracy peak").log_x().log_y().legend(Legend::LowerLeft);
    let mut cap_rows = String::new();
    let mut cap_lin = Vec::new();
    for &n in &cap_samples {
        let cfg = base.with("noise_rate", cap_noise)?.with("train_samples", n as i64)?;
        let p = Prepared::new(&cfg)?;
        let exp = Experiment::run_prepared(&cfg, &p)?;
        let alpha = n / p.split.informative_features as f64; // N d / P with P = d D
        let sr = exp.separation_ratio();
        cap_lin.push(ci(alpha, sr));
        cap_rows += &format!("| linear | N = {n} | {alpha:.3} | {:.4} | {:.3e} [{:.3e}, {:.3e}] | {:.4} | {:.3} |\n", exp.est(|s| Some(s.induced.frustration)).mean, sr.mean, sr.ci95[0], sr.ci95[1], exp.fitted_rate().mean, exp.at(exp.times.len() - 1, |r| r.noisy_label_fit).mean);
        out.push(json!({"capacity": "linear", "train_samples": n, "alpha": alpha, "induced_frustration": exp.est(|s| Some(s.induced.frustration)), "final_separation_ratio": sr, "fitted_slow_rate": exp.fitted_rate()}));
    }
    let mut cap_mlp = Vec::new();
    if !cap_widths.is_empty() {
        let cfg0 = base.with("noise_rate", cap_noise)?.with("train_samples", cap_mlp_n)?;
        let p = Prepared::new(&cfg0)?;
        for &w in &cap_widths {
            let cfg = cfg0.with("encoder", "mlp")?.with("width", w as i64)?.with("seeds", mlp_seeds)?.with("dt", mlp_dt)?;
            let exp = Experiment::run_prepared(&cfg, &p)?;
            // Targets per trainable weight: N d values to fit with
            // P = m (D + d) weights (for the linear encoder P = d D, so this is N / D).
            let alpha = (cap_mlp_n as usize * cfg.dim) as f64 / (w * (p.input_dim() + cfg.dim) as f64);
            let sr = exp.separation_ratio();
            cap_mlp.push(ci(alpha, sr));
            cap_rows += &format!("| MLP, N = {cap_mlp_n} | m = {w} | {alpha:.3} | - | {:.3e} [{:.3e}, {:.3e}] | {:.4} | {:.3} |\n", sr.mean, sr.ci95[0], sr.ci95[1], exp.fitted_rate().mean, exp.at(exp.times.len() - 1, |r| r.noisy_label_fit).mean);
            out.push(json!({"capacity": "mlp", "train_samples": cap_mlp_n, "width": w, "alpha": alpha, "final_separation_ratio": sr, "fitted_slow_rate": exp.fitted_rate()}));
        }
    }
    let mut panels = vec![rate_panel, noise_panel];
    if !cap_lin.is_empty() || !cap_mlp.is_empty() {
        cap_panel = cap_panel.markers("linear encoder (vary N)", cap_lin, 0, Shape::Circle).markers("MLP (vary width)", cap_mlp, 2, Shape::Triangle);
        panels.push(cap_panel);
    }
    Figure::new(panels).save(dir, "realdata_slow_rate")?;
    write_csv(&dir.join("realdata_slow_rate.csv"), &["series", "noise_rate", "phi_T", "phi_Pi", "adiabatic", "exact_slowest", "exact_fitted", "measured_mean", "measured_lo", "measured_hi"], &rows)?;
    let markdown = format!(
        "{}\nSeries index in the CSV: position in `noise_kinds` (linear encoder), 10 = MLP. Every point is an \
         ensemble over seeds (each its own noise draw and initialisation), 95% CIs. The prediction for the \
         linear encoder is the exact finite-data flow on the real design: its slowest separating rate (line), the \
         same log-linear fit applied to its own trajectory from each seed's start (crosses), and the adiabatic \
         first-order rate `eta_y phi_Pi` (dashed). The fit window is the second half of the run; where the slow \
         band of rates is not resolved within it, the fitted rate lies above the slowest one, for theory and \
         training alike.\n\n{table}\n{}{}",
        figure_md(&study.name, "realdata_slow_rate", "Slow rate against phi: measured against predicted; capacity"),
        if mlp_rows.is_empty() { String::new() } else {
            format!("MLP (width {mlp_width}, no exact theory: compared for the ordering in phi only):\n\n| noise | f | phi_T | fitted late rate (95% CI) | final sep / sep at peak | fit of noisy labels | held-out acc |\n|---|---|---|---|---|---|---|\n{mlp_rows}\n")
        },
        if cap_rows.is_empty() { String::new() } else {
            format!("Capacity (noise f = {cap_noise}): a model that can fit every noisy label resolves the frustration instead of collapsing. alpha = N d / P counts targets per trainable encoder weight (linear: N / D with D the varying input features; the whitened rank is at most N - 1, so the linear encoder fits any labels for N <= D + 1).\n\n| encoder | size | alpha | phi_Pi | final sep / sep at peak (95% CI) | fitted late rate | fit of noisy labels |\n|---|---|---|---|---|---|---|\n{cap_rows}")
        },
    );
    Ok(StudyOutput { name: study.name.clone(), title: study.title.clone(), markdown, summary: json!({"runs": out}) })
}
